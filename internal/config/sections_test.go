package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// What -help shows as a setting's default (Var.Default) is what its section's SetDefaults sets:
// the text, parsed, changes nothing.
func TestHelpDefaultsAreTheDefaults(t *testing.T) {
	var c Config
	own := &core{c: &c}
	n := 0
	for _, s := range append([]setting.Section{own}, c.sections()...) {
		for _, v := range s.Vars() {
			if v.Default == "" {
				continue
			}
			s.SetDefaults()
			before, ownBefore := c, *own
			require.NoError(t, v.Set(v.Default), v.Env)
			assert.Equal(t, before, c, v.Env)
			assert.Equal(t, ownBefore, *own, v.Env)
			n++
		}
	}
	assert.Equal(t, 13, n, "AUTHSVC_ENV, AUTHSVC_DEV_LISTEN_PUBLIC, the four cookie names, AUTHSVC_LOG_LEVEL, AUTHSVC_SHUTDOWN_GRACE, AUTHSVC_ADMISSION, AUTHSVC_REDIS_FAIL_SENDS and _CHECKS, AUTHSVC_REDIS_TIMEOUT, AUTHSVC_SESSION_CACHE_SIZE")
}

// Every variable and flag belongs to one section.
func TestEachSettingRegisteredOnce(t *testing.T) {
	var c Config
	require.NoError(t, setting.Check(append([]setting.Section{&core{c: &c}}, c.sections()...)...))
}
