package gateway_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/gateway"
)

func TestCSRF(t *testing.T) {
	csrf, err := gateway.CSRF([]string{"https://app.example.com/"})
	require.NoError(t, err)
	h := csrf(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	cookie := &http.Cookie{Name: gateway.SessionJWTCookie, Value: "jwt"}
	tests := []struct {
		name    string
		method  string
		cookie  *http.Cookie
		header  map[string]string
		tls     bool
		allowed bool
	}{
		{"GET with cookie, no origin", http.MethodGet, cookie, nil, false, true},
		{"POST without cookie", http.MethodPost, nil, nil, false, true},
		{"POST with empty cookie", http.MethodPost, &http.Cookie{Name: gateway.SessionTokenCookie, Value: ""}, nil, false, true},
		{"POST with bearer and cookie", http.MethodPost, cookie, map[string]string{"Authorization": "Bearer x"}, false, true},
		// Neither Sec-Fetch-Site nor Origin: not a browser (curl, a service), which a page cannot forge.
		{"POST with cookie, no origin (non-browser)", http.MethodPost, cookie, nil, false, true},
		{"POST same origin", http.MethodPost, cookie, map[string]string{"Origin": "http://authsvc.test"}, false, true},
		{"POST same host https (TLS proxy)", http.MethodPost, cookie, map[string]string{"Origin": "https://authsvc.test"}, false, true},
		{"POST allowed origin", http.MethodPost, cookie, map[string]string{"Origin": "https://app.example.com"}, false, true},
		{"PUT foreign origin", http.MethodPut, cookie, map[string]string{"Origin": "https://evil.example.com"}, false, false},
		{"DELETE look-alike origin", http.MethodDelete, cookie, map[string]string{"Origin": "https://app.example.com.evil.com"}, false, false},
		{"POST null origin", http.MethodPost, cookie, map[string]string{"Origin": "null"}, false, false},
		{"POST Sec-Fetch-Site same-origin", http.MethodPost, cookie, map[string]string{"Sec-Fetch-Site": "same-origin"}, false, true},
		{"POST Sec-Fetch-Site none (typed URL, bookmark)", http.MethodPost, cookie, map[string]string{"Sec-Fetch-Site": "none"}, false, true},
		{"POST Sec-Fetch-Site cross-site", http.MethodPost, cookie, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example.com"}, false, false},
		{"POST Sec-Fetch-Site same-site subdomain", http.MethodPost, cookie, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other.authsvc.test"}, false, false},
		{"POST Sec-Fetch-Site cross-site from allowed origin", http.MethodPost, cookie, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), tt.method, "http://authsvc.test/v1/b2b/sessions/revoke", nil)
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.allowed {
				assert.Equal(t, http.StatusNoContent, w.Code)
				return
			}
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.JSONEq(t, `{"code":7,"message":"cross-site request refused: the Origin is not allowed","details":[]}`, w.Body.String())
		})
	}
}
