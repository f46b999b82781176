package setting_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/config/setting"
)

// section is a section of one text setting; Validate refuses "bad".
type section struct {
	key, env, flag string
	value          string
}

func (s *section) Key() string { return s.key }
func (s *section) Vars() []setting.Var {
	return []setting.Var{{Env: s.env, Flag: s.flag, Set: func(v string) error {
		if v == "unparsable" {
			return errors.New("not a value")
		}
		s.value = v
		return nil
	}}}
}
func (s *section) SetDefaults() { s.value = "default" }
func (s *section) Validate() error {
	if s.value == "bad" {
		return errors.New(s.env + ": bad")
	}
	return nil
}

func TestCheckRefusesDuplicates(t *testing.T) {
	a := &section{key: "a", env: "A", flag: "a"}
	require.NoError(t, setting.Check(a, &section{key: "b", env: "B", flag: "b"}))

	err := setting.Check(a, &section{key: "b", env: "A", flag: "b"})
	require.ErrorIs(t, err, setting.ErrDuplicate)
	assert.Contains(t, err.Error(), `A in sections "a" and "b"`)
	err = setting.Check(a, &section{key: "b", env: "B", flag: "a"})
	require.ErrorIs(t, err, setting.ErrDuplicate)
	assert.Contains(t, err.Error(), `-a in sections "a" and "b"`)
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{}
	s := &section{key: "a", env: "A", flag: "a"}
	require.NoError(t, setting.FromEnv(s, func(k string) string { return env[k] }))
	assert.Equal(t, "default", s.value, "unset: the default")

	env["A"] = "x"
	require.NoError(t, setting.FromEnv(s, func(k string) string { return env[k] }))
	assert.Equal(t, "x", s.value)

	env["A"] = "unparsable"
	require.EqualError(t, setting.FromEnv(s, func(k string) string { return env[k] }), "A: not a value", "Set's error, named")
	env["A"] = "bad"
	require.EqualError(t, setting.FromEnv(s, func(k string) string { return env[k] }), "A: bad", "Validate's error")
}

func TestList(t *testing.T) {
	assert.Equal(t, []string{"a", "b c"}, setting.List(" a ,, b c ,"))
	assert.Empty(t, setting.List(" , "))
}
