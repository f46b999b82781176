package access

import (
	"context"
	"strings"

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
	if vals := metadata.ValueFromIncomingContext(ctx, "authorization"); len(vals) > 0 {
		if len(vals) > 1 {
			return Credential{Kind: CredentialMalformed}
		}
		tok, ok := bearerToken(vals[0])
		if !ok {
			return Credential{Kind: CredentialMalformed}
		}
		return Credential{Kind: classifyBearer(tok), Token: tok}
	}
	f, _ := callmeta.ForwardedFrom(ctx)
	token, jwtCookie := f.SessionToken, f.SessionJWT
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
