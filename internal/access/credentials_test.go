package access

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
)

// classifyWithParser is the classification as jwt.Parser.ParseUnverified into jwt.MapClaims would
// make it: the reference unverifiedClaims must agree with.
func classifyWithParser(tok string) CredentialKind {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return CredentialMalformed
	}
	if _, ok := claims[claimSession]; ok {
		return CredentialSessionJWT
	}
	if _, ok := claims["scope"]; ok {
		return CredentialM2M
	}
	return CredentialMalformed
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// The cheap unverified classification routes every token as the JWT library's full parse does.
func TestClassifyBearerAgreesWithTheJWTParser(t *testing.T) {
	rs256 := seg(`{"alg":"RS256","kid":"jwk-test-1","typ":"JWT"}`)
	sig := seg(strings.Repeat("s", 256))
	session := seg(`{"sub":"member-test-1","https://stytch.com/session":{"id":"member-session-test-1","roles":["stytch_member"]},"exp":1796407839,"aud":["project-test-1"]}`)
	m2m := seg(`{"sub":"m2m-client-test-1","scope":"read:members write:members","exp":1796407839}`)
	tokens := map[string]string{
		"session JWT":               rs256 + "." + session + "." + sig,
		"M2M token":                 rs256 + "." + m2m + "." + sig,
		"neither claim":             rs256 + "." + seg(`{"sub":"x"}`) + "." + sig,
		"scope null":                rs256 + "." + seg(`{"scope":null}`) + "." + sig,
		"session null":              rs256 + "." + seg(`{"https://stytch.com/session":null}`) + "." + sig,
		"claim name in other case":  rs256 + "." + seg(`{"SCOPE":"read:members"}`) + "." + sig,
		"claims null":               rs256 + "." + seg(`null`) + "." + sig,
		"claims array":              rs256 + "." + seg(`[{"scope":"a"}]`) + "." + sig,
		"claims string":             rs256 + "." + seg(`"scope"`) + "." + sig,
		"claims not JSON":           rs256 + "." + seg(`{"scope":`) + "." + sig,
		"claims trailing data":      rs256 + "." + seg(`{"scope":"a"} x`) + "." + sig,
		"claims not base64url":      rs256 + ".e30+/." + sig,
		"claims padded":             rs256 + "." + base64.URLEncoding.EncodeToString([]byte(`{"scope":"ab"}`)) + "." + sig,
		"no alg":                    seg(`{"typ":"JWT"}`) + "." + m2m + "." + sig,
		"alg not a string":          seg(`{"alg":256}`) + "." + m2m + "." + sig,
		"alg null":                  seg(`{"alg":null}`) + "." + m2m + "." + sig,
		"alg unknown":               seg(`{"alg":"XS999"}`) + "." + m2m + "." + sig,
		"alg none":                  seg(`{"alg":"none"}`) + "." + m2m + ".",
		"alg in other case key":     seg(`{"ALG":"RS256"}`) + "." + m2m + "." + sig,
		"header null":               seg(`null`) + "." + m2m + "." + sig,
		"header array":              seg(`["RS256"]`) + "." + m2m + "." + sig,
		"header not base64url":      "e30=." + m2m + "." + sig,
		"header not JSON":           seg(`alg=RS256`) + "." + m2m + "." + sig,
		"empty signature":           rs256 + "." + m2m + ".",
		"signature not base64url":   rs256 + "." + m2m + ".a+b/",
		"empty header":              "." + m2m + "." + sig,
		"empty claims":              rs256 + ".." + sig,
		"segments with newlines":    rs256 + "." + m2m[:10] + "\n" + m2m[10:] + "." + sig,
		"duplicate claim":           rs256 + "." + seg(`{"scope":"a","scope":"b"}`) + "." + sig,
		"deep claims":               rs256 + "." + seg(`{"scope":"a","x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`) + "." + sig,
		"invalid UTF-8 in a string": rs256 + "." + seg("{\"scope\":\"\xff\"}") + "." + sig,
	}
	for name, tok := range tokens {
		assert.Equal(t, classifyWithParser(tok), classifyBearer(tok), name)
	}
	assert.Equal(t, CredentialSessionJWT, classifyBearer(tokens["session JWT"]))
	assert.Equal(t, CredentialM2M, classifyBearer(tokens["M2M token"]))

	// The documented difference: a value encoding/json cannot hold in a float64 is refused by the
	// library's map of interfaces but left to the verifier here.
	huge := rs256 + "." + seg(`{"scope":"a","exp":1e400}`) + "." + sig
	assert.Equal(t, CredentialMalformed, classifyWithParser(huge))
	assert.Equal(t, CredentialM2M, classifyBearer(huge))
}

func BenchmarkClassifyBearer(b *testing.B) {
	tok := seg(`{"alg":"RS256","kid":"jwk-test-1","typ":"JWT"}`) + "." +
		seg(`{"sub":"m2m-client-test-1","scope":"read:members write:members","exp":1796407839,"iat":1796404239,"nbf":1796404239,"iss":"stytch.com/project-test-1","aud":["project-test-1"]}`) + "." +
		seg(strings.Repeat("s", 256))
	b.ReportAllocs()
	for b.Loop() {
		if classifyBearer(tok) != CredentialM2M {
			b.Fatal("not M2M")
		}
	}
}

// objectMembers finds the members encoding/json finds in any valid JSON document: the same names,
// each with the raw value a decoded map would hold (the last of duplicates). Seeds:
// testdata/fuzz/FuzzObjectMembers.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"a":1,"b":[1,{"c":"}"}],"a":"\"q\\"}`, ` { "alg" : "RS256" , "k\u0069d":null } `,
		`{"https:\/\/stytch.com\/session":{"x":[]},"scope":"a b"}`, `{"n":-1.5e+10,"t":true,"f":false}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var want map[string]json.RawMessage
		isObject := json.Unmarshal(b, &want) == nil && want != nil
		got := map[string]json.RawMessage{}
		ok := objectMembers(b, func(key, value []byte) {
			var k string
			if err := json.Unmarshal(key, &k); err != nil {
				t.Fatalf("key %q of %q is not a JSON string", key, b)
			}
			got[k] = value
			if !jsonKeyIs(key, k) {
				t.Fatalf("jsonKeyIs(%q, %q) = false", key, k)
			}
		})
		if ok != isObject {
			t.Fatalf("objectMembers(%q) = %v, encoding/json says object %v", b, ok, isObject)
		}
		if ok && !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Fatalf("objectMembers(%q) = %q, encoding/json %q", b, got, want)
		}
	})
}
