package gateway

import (
	"net/http"
	"net/url"
	"strings"
)

// CSRF refuses cross-site requests that would ride on the browser's session cookies: a request that
// changes state (any method but GET, HEAD and OPTIONS), carries a session cookie and no Authorization
// header must come with an Origin (or, when a browser sends none, a Referer) that is the request's own
// origin or one of allowedOrigins (AUTHSVC_CORS_ORIGINS). Anything else is answered 403 before the
// gateway runs.
//
// SameSite=Lax cookies already stop most cross-site POSTs; this check also covers what Lax lets
// through (same-site but cross-origin pages, such as another subdomain, and older browsers).
// Requests authenticated by an Authorization header, or without a session cookie, are not
// cookie-authenticated: a page on another origin cannot make a browser add that header, and without
// a cookie there is nothing to ride on.
func CSRF(allowedOrigins []string) func(http.Handler) http.Handler {
	allowed := make(map[string]bool, len(allowedOrigins))
	for _, o := range allowedOrigins {
		allowed[normalizeOrigin(o)] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if safeMethod(r.Method) || r.Header.Get("Authorization") != "" || !hasSessionCookie(r) {
				next.ServeHTTP(w, r)
				return
			}
			origin := requestOrigin(r)
			if origin != "" && (allowed[origin] || sameOrigin(r, origin)) {
				next.ServeHTTP(w, r)
				return
			}
			// The google.rpc.Status shape every other API error has.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"code":7,"message":"cross-site request refused: the Origin is not allowed","details":[]}` + "\n"))
		})
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func hasSessionCookie(r *http.Request) bool {
	for _, name := range []string{SessionTokenCookie, SessionJWTCookie} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return true
		}
	}
	return false
}

// requestOrigin returns the normalized origin the browser declared: Origin, or the origin part of
// Referer when Origin is absent. "null" (sandboxed frames, some redirects) is no origin.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" {
			return ""
		}
		return normalizeOrigin(o)
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return ""
	}
	return normalizeOrigin(u.Scheme + "://" + u.Host)
}

func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
}

// sameOrigin reports whether origin names the host the request was sent to. Behind a
// TLS-terminating proxy the request arrives over plain HTTP while the browser saw https, so https is
// always accepted for the request's host; http only when authsvc itself serves plain HTTP.
func sameOrigin(r *http.Request, origin string) bool {
	host := strings.ToLower(r.Host)
	if host == "" {
		return false
	}
	if origin == "https://"+host {
		return true
	}
	return r.TLS == nil && origin == "http://"+host
}
