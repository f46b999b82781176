package authn

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// SessionJWTCookie is the cookie authsvc's REST gateway (and Stytch's frontend SDKs) keep the session
// JWT in.
const SessionJWTCookie = "stytch_session_jwt"

// Middleware returns net/http middleware that authenticates each request, admits it by rules (see
// [Authorize]) and puts the caller in the request context ([PrincipalFrom]). The credential is the
// Authorization header's Bearer token or, when there is no Authorization header, the
// stytch_session_jwt cookie. Refused requests get 401 (with a WWW-Authenticate challenge), 403 or
// 503 and a JSON body {"code": <gRPC code>, "message": "..."} in the shape authsvc's REST API uses.
func (a *Authenticator) Middleware(rules ...Rule) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := tokenFromRequest(r)
			var p *Principal
			if err == nil {
				p, err = a.Authenticate(r.Context(), token)
			}
			if err == nil {
				err = authorize(r.Context(), p, rules)
			}
			if err != nil {
				a.writeError(w, asError(err))
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}

func tokenFromRequest(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
			return "", newError(ErrUnauthenticated, "authorization is not a Bearer credential", true)
		}
		return strings.TrimSpace(token), nil
	}
	if c, err := r.Cookie(SessionJWTCookie); err == nil && c.Value != "" {
		return c.Value, nil
	}
	return "", newError(ErrUnauthenticated, "no credentials", false)
}

// writeError answers a refused request. The challenge follows RFC 6750: no error attribute when no
// credential was presented, invalid_token for a bad one, insufficient_scope (with the scopes that
// would do) for a service that lacks one.
func (a *Authenticator) writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	switch e.HTTPStatus() {
	case http.StatusUnauthorized:
		c := `Bearer realm="` + a.realm + `"`
		if e.presented {
			c += `, error="invalid_token"`
		}
		h.Set("WWW-Authenticate", c)
	case http.StatusForbidden:
		c := `Bearer realm="` + a.realm + `", error="insufficient_scope"`
		if len(e.scopes) > 0 {
			c += `, scope="` + strings.Join(e.scopes, " ") + `"`
		}
		h.Set("WWW-Authenticate", c)
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(1))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.HTTPStatus())
	_ = json.NewEncoder(w).Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{Code: int(e.Code()), Message: e.Error()})
}
