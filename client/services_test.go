package client

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The client knows every service the API's proto files declare (the M2M token is attached to their
// RPCs and their safe reads are retried): counted from proto/, independently of the registry the
// client reads. Consumer OAuth and WebAuthn were once left out of a hand-kept list.
func TestAllServicesAreEveryDeclaredService(t *testing.T) {
	decl := regexp.MustCompile(`(?m)^service (\w+) \{`)
	var want []string
	for _, pkg := range []string{"b2b", "consumer", "m2m"} {
		files, err := filepath.Glob(filepath.Join("..", "proto", "authsvc", pkg, "v1", "*.proto"))
		require.NoError(t, err)
		require.NotEmpty(t, files, pkg)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, m := range decl.FindAllSubmatch(b, -1) {
				want = append(want, "authsvc."+pkg+".v1."+string(m[1]))
			}
		}
	}
	var got []string
	for _, sd := range allServices() {
		got = append(got, string(sd.FullName()))
	}
	slices.Sort(want)
	assert.Equal(t, want, got)
	assert.Contains(t, got, "authsvc.consumer.v1.OAuthService")
	assert.Contains(t, got, "authsvc.consumer.v1.WebAuthnService")
}
