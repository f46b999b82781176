package access

import (
	"context"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// credKind is what a presented credential looks like before it is verified.
type credKind uint8

const (
	credNone         credKind = iota // nothing presented
	credMalformed                    // something presented that cannot be a Stytch credential
	credSessionToken                 // an opaque session token (only Stytch can check it)
	credSessionJWT                   // a JWT with the Stytch session claim
	credM2M                          // a JWT with scope and no session claim
)

func (k credKind) String() string {
	switch k {
	case credMalformed:
		return "malformed"
	case credSessionToken:
		return "session_token"
	case credSessionJWT:
		return "session_jwt"
	case credM2M:
		return "m2m_token"
	default:
		return "none"
	}
}

// credential is what the caller presented.
type credential struct {
	kind   credKind
	token  string
	cookie bool // from the REST session cookies, not an authorization header
	// fallbackToken is the stytch_session cookie when the JWT cookie was used first: a JWT cookie
	// that no longer verifies (a rotated key) must not lock out a browser whose session lives.
	fallbackToken string
}

// maxOpaqueToken bounds an opaque session token, as the API does for session_token fields. Anything
// longer is not a Stytch token and is refused without a call to Stytch.
const maxOpaqueToken = 256

const claimSession = "https://stytch.com/session"

// credentialFrom reads the caller's credential: the authorization header when present (it wins, so
// an API client's explicit choice is never overridden by a stray cookie), else the session cookies
// the gateway passed on.
func credentialFrom(ctx context.Context) credential {
	md, _ := metadata.FromIncomingContext(ctx)
	if vals := md.Get("authorization"); len(vals) > 0 {
		if len(vals) > 1 {
			return credential{kind: credMalformed}
		}
		tok, ok := bearerToken(vals[0])
		if !ok {
			return credential{kind: credMalformed}
		}
		return credential{kind: classifyBearer(tok), token: tok}
	}
	token, jwtCookie := callmeta.SessionCookies(ctx)
	switch {
	case jwtCookie != "" && looksLikeJWT(jwtCookie):
		c := credential{kind: credSessionJWT, token: jwtCookie, cookie: true}
		if opaqueTokenOK(token) {
			c.fallbackToken = token
		}
		return c
	case token != "":
		if !opaqueTokenOK(token) {
			return credential{kind: credMalformed, cookie: true}
		}
		return credential{kind: credSessionToken, token: token, cookie: true}
	case jwtCookie != "":
		return credential{kind: credMalformed, cookie: true}
	}
	return credential{kind: credNone}
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
func classifyBearer(tok string) credKind {
	if tok == "" || len(tok) > verify.MaxTokenBytes {
		return credMalformed
	}
	if strings.Count(tok, ".") != 2 {
		if opaqueTokenOK(tok) {
			return credSessionToken
		}
		return credMalformed
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return credMalformed
	}
	if _, ok := claims[claimSession]; ok {
		return credSessionJWT
	}
	if _, ok := claims["scope"]; ok {
		return credM2M
	}
	return credMalformed
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
