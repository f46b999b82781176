package telemetry

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// keyClass is what RedactAttr does with an attribute key.
type keyClass uint8

const (
	keyPlain keyClass = iota + 1
	keySecret
	keyEmail
)

// redactor is RedactAttr with the key classification memoised: attribute keys are names written in
// code (a few dozen), while classifying one splits it into words and allocates, once per attribute
// per log line. The cache is bounded so keys built from data cannot grow it without limit.
type redactor struct {
	classes sync.Map // string -> keyClass
	n       atomic.Int32
}

const maxCachedKeys = 4096

func (r *redactor) class(key string) keyClass {
	if c, ok := r.classes.Load(key); ok {
		return c.(keyClass)
	}
	c := keyPlain
	switch {
	case IsSecretKey(key):
		c = keySecret
	case isEmailKey(key):
		c = keyEmail
	}
	if r.n.Load() < maxCachedKeys {
		r.n.Add(1)
		r.classes.Store(key, c)
	}
	return c
}

func (r *redactor) replace(groups []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	// With any ReplaceAttr set, slog hands the built-in level over as Any(Level), which the JSON
	// handler then encodes through encoding/json and Level.MarshalJSON; a string is written directly.
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String(slog.LevelKey, l.String())
		}
	}
	switch r.class(a.Key) {
	case keySecret:
		return slog.String(a.Key, Redacted)
	case keyEmail:
		if a.Value.Kind() == slog.KindString {
			return slog.String(a.Key, RedactEmail(a.Value.String()))
		}
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindString && looksLikeEmail(a.Value.String()) {
		return slog.String(a.Key, RedactEmail(a.Value.String()))
	}
	return durationWithUnit(a)
}

// Redacted replaces the value of an attribute whose key names a secret.
const Redacted = "[REDACTED]"

// secretWords are key words whose attribute value is replaced by [Redacted] wholesale. A key is
// split into words at '.', '_', '-', spaces and lower-to-upper case changes ("sessionJWT" → session,
// jwt), and compared case-insensitively, so "session_token", "client_secret", "X-Api-Key" and
// "magicLinkToken" all match while "tokens_issued_total"-style counts do not ("tokens" ≠ "token").
// "key" alone is deliberately absent (cache keys, JWKS kid); "api" followed by "key" is redacted.
var secretWords = map[string]bool{
	"secret":        true,
	"token":         true,
	"password":      true,
	"passwd":        true,
	"jwt":           true,
	"otp":           true,
	"authorization": true,
	"cookie":        true,
	"apikey":        true,
	"credential":    true,
	"credentials":   true,
}

// statusWords make a key ending in "code" a status code rather than a one-time code: "grpc.code",
// "status_code", "http.response.status_code", "error_code" and "exit_code" are logged as is, while
// "code", "otp_code" and "verification_code" are redacted.
var statusWords = map[string]bool{
	"grpc": true, "rpc": true, "status": true, "response": true, "error": true, "exit": true, "http": true,
}

// IsSecretKey reports whether an attribute key names a value that must never be logged (see
// secretWords and the "code" rule in statusWords).
func IsSecretKey(key string) bool {
	words := keyWords(key)
	for _, w := range words {
		if secretWords[w] {
			return true
		}
	}
	if len(words) > 0 && words[len(words)-1] == "code" {
		for _, w := range words[:len(words)-1] {
			if statusWords[w] {
				return false
			}
		}
		return true
	}
	// "api.key" / "api_key" / "apiKey" → api, key.
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "api" && words[i+1] == "key" {
			return true
		}
	}
	return false
}

// isEmailKey reports whether a key names an email address ("email", "member_email", "emailAddress").
func isEmailKey(key string) bool {
	for _, w := range keyWords(key) {
		if w == "email" || w == "emails" {
			return true
		}
	}
	return false
}

// RedactAttr is a slog HandlerOptions.ReplaceAttr that keeps secrets and full email addresses out of
// logs as defence in depth; code must still not log them. It replaces:
//   - the value of any attribute whose key [IsSecretKey] with [Redacted];
//   - the value of any attribute whose key contains the word "email" with [RedactEmail] of it, and
//     any other string value that is a bare email address with its redacted form.
//
// Groups are not inspected (slog calls ReplaceAttr for each leaf attribute with the group path).
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	switch {
	case IsSecretKey(a.Key):
		return slog.String(a.Key, Redacted)
	case isEmailKey(a.Key):
		if a.Value.Kind() == slog.KindString {
			return slog.String(a.Key, RedactEmail(a.Value.String()))
		}
		return slog.String(a.Key, Redacted)
	case a.Value.Kind() == slog.KindString && looksLikeEmail(a.Value.String()):
		return slog.String(a.Key, RedactEmail(a.Value.String()))
	}
	return a
}

// RedactEmail keeps the first character of the local part and the whole domain:
// "alice@example.com" → "a***@example.com". The domain is kept because it tells an operator which
// organization a failure concerns without identifying the person. A value that is not an address
// becomes "***"; the empty string stays empty.
func RedactEmail(email string) string {
	if email == "" {
		return ""
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "***"
	}
	first := []rune(email[:at])[0]
	return string(first) + "***" + email[at:]
}

// looksLikeEmail is a cheap shape test (local@domain.tld, no spaces), not validation: it only has to
// catch addresses logged under an innocent key.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsFunc(s, unicode.IsSpace) {
		return false
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

// keyWords splits an attribute key into lower-case words; see secretWords.
func keyWords(key string) []string {
	var (
		words []string
		cur   []rune
		prev  rune
	)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range key {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && prev != 0 && unicode.IsLower(prev):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return words
}
