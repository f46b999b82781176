package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// CSRF refuses cross-origin browser requests that would ride on the session cookies: a request that
// changes state (any method but GET, HEAD and OPTIONS), carries a session cookie and no Authorization
// header must not come from a foreign origin. Those are answered 403 before the gateway runs.
//
// The check itself is the standard library's http.CrossOriginProtection: it trusts a browser's
// Sec-Fetch-Site header (every browser since 2023), else compares the Origin header with the request's
// Host, and lets through requests that carry neither (non-browser clients such as curl or a service,
// which a malicious page cannot make a browser send). Origins in allowedOrigins (AUTHSVC_CORS_ORIGINS,
// the frontends allowed to call this API with credentials) are trusted as well.
//
// SameSite=Lax cookies already stop most cross-site POSTs; this also covers what Lax lets through
// (same-site but cross-origin pages such as another subdomain). Requests authenticated by an
// Authorization header, or without a session cookie, are not cookie-authenticated and are not checked.
//
// cookieNames are the session cookies of every served project (config's cookie names); none means
// Stytch's default names.
func CSRF(allowedOrigins []string, cookieNames ...string) (func(http.Handler) http.Handler, error) {
	if len(cookieNames) == 0 {
		cookieNames = []string{SessionTokenCookie, SessionJWTCookie}
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range allowedOrigins {
		if err := cop.AddTrustedOrigin(strings.TrimRight(o, "/")); err != nil {
			return nil, fmt.Errorf("CSRF: trusted origin %q: %w", o, err)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" || !hasSessionCookie(r, cookieNames) {
				next.ServeHTTP(w, r)
				return
			}
			if err := cop.Check(r); err != nil {
				// The google.rpc.Status shape every other API error has.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"code":7,"message":"cross-site request refused: the Origin is not allowed","details":[]}` + "\n"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

func hasSessionCookie(r *http.Request, names []string) bool {
	for _, name := range names {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return true
		}
	}
	return false
}
