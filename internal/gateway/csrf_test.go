package gateway_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authsvc/authsvc/internal/gateway"
)

func TestCSRF(t *testing.T) {
	h := gateway.CSRF([]string{"https://app.example.com"})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
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
		{"POST with cookie, no origin", http.MethodPost, cookie, nil, false, false},
		{"POST with token cookie, no origin", http.MethodPost, &http.Cookie{Name: gateway.SessionTokenCookie, Value: "t"}, nil, false, false},
		{"POST same origin", http.MethodPost, cookie, map[string]string{"Origin": "http://authsvc.test"}, false, true},
		{"POST same host https (TLS proxy)", http.MethodPost, cookie, map[string]string{"Origin": "https://authsvc.test"}, false, true},
		{"POST same host http over TLS", http.MethodPost, cookie, map[string]string{"Origin": "http://authsvc.test"}, true, false},
		{"POST allowed origin", http.MethodPost, cookie, map[string]string{"Origin": "https://APP.example.com/"}, false, true},
		{"PUT foreign origin", http.MethodPut, cookie, map[string]string{"Origin": "https://evil.example.com"}, false, false},
		{"DELETE foreign origin", http.MethodDelete, cookie, map[string]string{"Origin": "https://app.example.com.evil.com"}, false, false},
		{"POST null origin", http.MethodPost, cookie, map[string]string{"Origin": "null"}, false, false},
		{"POST referer of allowed origin", http.MethodPost, cookie, map[string]string{"Referer": "https://app.example.com/settings?x=1"}, false, true},
		{"POST referer of foreign origin", http.MethodPost, cookie, map[string]string{"Referer": "https://evil.example.com/app.example.com"}, false, false},
		{"POST origin wins over referer", http.MethodPost, cookie, map[string]string{"Origin": "https://evil.example.com", "Referer": "https://app.example.com/"}, false, false},
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
