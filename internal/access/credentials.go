package access

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// maxOpaqueToken bounds an opaque session token, as the API does for session_token fields. Anything
// longer is not a Stytch token and is refused without a call to Stytch.
const maxOpaqueToken = 256

const claimSession = "https://stytch.com/session"

// credentialFrom reads the caller's credential, the one place that does: the authorization header
// when present (it wins, so an API client's explicit choice is never overridden by a stray
// cookie), else the session cookies, which only this process's REST gateway can assert
// (callmeta.ForwardedFrom).
func credentialFrom(ctx context.Context) Credential {
	// The one key, not metadata.FromIncomingContext's copy of every key and value of the call.
	f, _ := callmeta.ForwardedFrom(ctx)
	return ReadCredential(metadata.ValueFromIncomingContext(ctx, "authorization"), f.SessionToken, f.SessionJWT)
}

// ReadCredential classifies, without verifying it, the credential of a request from its
// Authorization values and its session cookies (token, jwtCookie; empty when absent): the
// Authorization header wins when present; else the JWT cookie, with the token cookie as its
// fallback; else the token cookie. The access interceptor and the edge (internal/edge) read
// credentials through it, so both classify alike.
func ReadCredential(authorization []string, token, jwtCookie string) Credential {
	if len(authorization) > 0 {
		if len(authorization) > 1 {
			return Credential{Kind: CredentialMalformed}
		}
		tok, ok := bearerToken(authorization[0])
		if !ok {
			return Credential{Kind: CredentialMalformed}
		}
		return Credential{Kind: classifyBearer(tok), Token: tok}
	}
	switch {
	case jwtCookie != "" && looksLikeJWT(jwtCookie):
		c := Credential{Kind: CredentialSessionJWT, Token: jwtCookie, Cookie: true}
		if opaqueTokenOK(token) {
			c.FallbackToken = token
		}
		return c
	case token != "":
		if !opaqueTokenOK(token) {
			return Credential{Kind: CredentialMalformed, Cookie: true}
		}
		return Credential{Kind: CredentialSessionToken, Token: token, Cookie: true}
	case jwtCookie != "":
		return Credential{Kind: CredentialMalformed, Cookie: true}
	}
	return Credential{Kind: CredentialNone}
}

// BearerJWT returns the token of an Authorization header that is one bearer JWT (three segments,
// at most verify.MaxTokenBytes), without reading its claims: for a caller that hands the token to a
// verifier that checks its kind anyway (the edge, whose rule says which kind it expects), the
// claims scan of ReadCredential is work done twice on the hot path.
func BearerJWT(authorization []string) (string, bool) {
	if len(authorization) != 1 {
		return "", false
	}
	tok, ok := bearerToken(authorization[0])
	if !ok || !looksLikeJWT(tok) {
		return "", false
	}
	return tok, true
}

// bearerToken takes the token out of an authorization header value. The scheme is matched without
// regard to case (RFC 9110 11.1); anything but exactly one token after it is refused.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.Trim(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}

// classifyBearer decides, WITHOUT verifying anything, which verifier a Bearer token goes to. The
// decision only routes: the chosen verifier checks the signature and the token kind again, so a
// forged claim set gains nothing but a refusal. A JWT-shaped token whose claims cannot be read is
// malformed, never "opaque": junk must not turn into calls to Stytch.
func classifyBearer(tok string) CredentialKind {
	if tok == "" || len(tok) > verify.MaxTokenBytes {
		return CredentialMalformed
	}
	if strings.Count(tok, ".") != 2 {
		if opaqueTokenOK(tok) {
			return CredentialSessionToken
		}
		return CredentialMalformed
	}
	session, scope, ok := unverifiedClaims(tok)
	switch {
	case !ok:
		return CredentialMalformed
	case session:
		return CredentialSessionJWT
	case scope:
		return CredentialM2M
	}
	return CredentialMalformed
}

// unverifiedClaims says which of the routing claims (the Stytch session claim, "scope") a JWT
// carries, without verifying anything. It refuses what jwt.Parser.ParseUnverified refuses (a header
// or claims segment that is not base64url JSON, an "alg" that is not a known signing method, a
// signature that is not base64url) but reads only the names of the top-level members instead of
// decoding every value into a map of interfaces, which was ~8% of the CPU of an M2M-authenticated
// RPC. The one difference is deliberate: a claim value encoding/json cannot hold (a number beyond
// float64) no longer makes the token malformed here; the verifier it is routed to refuses it.
// credentials_test.go compares the two.
func unverifiedClaims(tok string) (session, scope, ok bool) {
	header, rest, _ := strings.Cut(tok, ".")
	payload, signature, _ := strings.Cut(rest, ".")
	h, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil || !json.Valid(h) {
		return false, false, false
	}
	var alg []byte
	if !objectMembers(h, func(key, value []byte) {
		if jsonKeyIs(key, "alg") {
			alg = value // the last one wins, as in a decoded map
		}
	}) || alg == nil {
		return false, false, false
	}
	var name string
	if json.Unmarshal(alg, &name) != nil || jwt.GetSigningMethod(name) == nil {
		return false, false, false
	}
	c, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || !json.Valid(c) {
		return false, false, false
	}
	if !objectMembers(c, func(key, _ []byte) {
		session = session || jsonKeyIs(key, claimSession)
		scope = scope || jsonKeyIs(key, "scope")
	}) {
		return false, false, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(signature); err != nil {
		return false, false, false
	}
	return session, scope, true
}

// objectMembers calls fn with the key (quoted, as written) and value (raw JSON) of each top-level
// member of b, one valid JSON document (json.Valid), and reports whether b is an object. Hand-written
// because encoding/json can only get at the names by decoding every value.
func objectMembers(b []byte, fn func(key, value []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kEnd := stringEnd(b, i)
		key := b[i:kEnd]
		i = skipSpace(b, kEnd) + 1 // past ':'
		i = skipSpace(b, i)
		vEnd := valueEnd(b, i)
		fn(key, b[i:vEnd])
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true
}

// jsonKeyIs reports whether the quoted JSON string key decodes to name.
func jsonKeyIs(key []byte, name string) bool {
	if !bytes.ContainsRune(key, '\\') && utf8.Valid(key) {
		return string(key[1:len(key)-1]) == name
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that starts (with its quote) at i.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped character
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value that starts at i.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default: // a number, true, false or null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

func looksLikeJWT(tok string) bool {
	return len(tok) <= verify.MaxTokenBytes && strings.Count(tok, ".") == 2
}

// opaqueTokenOK accepts what a Stytch session token can look like: URL-safe or standard base64
// text of bounded length.
func opaqueTokenOK(tok string) bool {
	if tok == "" || len(tok) > maxOpaqueToken {
		return false
	}
	for i := range len(tok) {
		c := tok[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return true
}
