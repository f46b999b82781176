package gateway

import (
	"net/http"

	"github.com/rs/cors"
)

// CORS allows browser calls from the listed origins only; with none listed it answers no CORS
// preflight at all, so browsers enforce same-origin. Credentials (the session cookies) are allowed for
// the listed origins, which is why "*" is never used.
func CORS(origins []string) func(http.Handler) http.Handler {
	c := cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Idempotency-Key", "Traceparent", "Tracestate", "Baggage"},
		ExposedHeaders:   []string{"Retry-After", "WWW-Authenticate"},
		AllowCredentials: true,
		MaxAge:           600,
	})
	return c.Handler
}

// SecurityHeaders sets the headers every API response should carry: the API serves JSON, never pages,
// so browsers are told not to sniff, frame, cache or send referrers.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
