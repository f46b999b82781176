package telemetry

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The memoised redactor the log handler uses must decide exactly as RedactAttr, the first time a key
// is seen and from its cache afterwards.
func TestRedactorMatchesRedactAttr(t *testing.T) {
	attrs := []slog.Attr{
		slog.String("session_token", "s3cr3t"), slog.String("client_secret", "x"), slog.String("grpc.code", "OK"),
		slog.String("otp_code", "123456"), slog.String("member_email", "ada@example.com"), slog.Int("email_count", 3),
		slog.String("note", "write to bob@example.com"), slog.String("peer", "bob@example.com"),
		slog.String("grpc.method", "Authenticate"), slog.String("X-Api-Key", "k"), slog.Int("tokens_issued_total", 2),
	}
	r := &redactor{}
	for round := range 2 {
		for _, a := range attrs {
			assert.Equal(t, RedactAttr(nil, a).String(), r.replace(nil, a).String(), "round %d key %s", round, a.Key)
		}
	}
}

func TestRedactorWritesTheLevelAsAString(t *testing.T) {
	a := (&redactor{}).replace(nil, slog.Any(slog.LevelKey, slog.LevelWarn))
	assert.Equal(t, slog.KindString, a.Value.Kind())
	assert.Equal(t, "WARN", a.Value.String())
	// Inside a group "level" is an ordinary attribute.
	g := (&redactor{}).replace([]string{"req"}, slog.Any(slog.LevelKey, slog.LevelWarn))
	assert.Equal(t, slog.KindAny, g.Value.Kind())
}

func TestRedactorCacheIsBounded(t *testing.T) {
	r := &redactor{}
	for i := range maxCachedKeys + 10 {
		r.replace(nil, slog.Int("k"+string(rune('a'+i%26))+string(rune(i)), i))
	}
	assert.LessOrEqual(t, int(r.n.Load()), maxCachedKeys)
}
