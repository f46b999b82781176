package telemetry_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authsvc/authsvc/internal/telemetry"
)

func TestRedactEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "a***@example.com"},
		{"é@example.org", "é***@example.org"},
		{"a@b.co", "a***@b.co"},
		{"", ""},
		{"not-an-address", "***"},
		{"@example.com", "***"},
		{"alice@", "***"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, telemetry.RedactEmail(tc.in))
		})
	}
}

func TestRedactAttr(t *testing.T) {
	tests := []struct {
		name string
		in   slog.Attr
		want slog.Value
	}{
		{"secret", slog.String("client_secret", "s3cr3t"), slog.StringValue(telemetry.Redacted)},
		{"session token", slog.String("session_token", "x"), slog.StringValue(telemetry.Redacted)},
		{"camel jwt", slog.String("sessionJWT", "eyJ"), slog.StringValue(telemetry.Redacted)},
		{"magic link token", slog.String("magicLinkToken", "x"), slog.StringValue(telemetry.Redacted)},
		{"authorization header", slog.String("Authorization", "Basic abc"), slog.StringValue(telemetry.Redacted)},
		{"api key header", slog.String("X-Api-Key", "k"), slog.StringValue(telemetry.Redacted)},
		{"password", slog.String("password", "hunter2"), slog.StringValue(telemetry.Redacted)},
		{"otp code", slog.String("otp_code", "123456"), slog.StringValue(telemetry.Redacted)},
		{"bare code", slog.String("code", "123456"), slog.StringValue(telemetry.Redacted)},
		{"numeric code", slog.Int("code", 123456), slog.StringValue(telemetry.Redacted)},
		{"grpc status code kept", slog.String("grpc.code", "OK"), slog.StringValue("OK")},
		{"http status code kept", slog.Int("http.response.status_code", 200), slog.IntValue(200)},
		{"status_code kept", slog.Int("status_code", 404), slog.IntValue(404)},
		{"email key", slog.String("member_email", "bob@corp.example"), slog.StringValue("b***@corp.example")},
		{"email key non string", slog.Any("emails", []string{"a@b.c"}), slog.StringValue(telemetry.Redacted)},
		{"email under innocent key", slog.String("subject", "carol@example.com"), slog.StringValue("c***@example.com")},
		{
			"plain value kept", slog.String("method", "/authsvc.b2b.v1.SessionsService/Authenticate"),
			slog.StringValue("/authsvc.b2b.v1.SessionsService/Authenticate"),
		},
		{"tokens count kept", slog.Int("tokens", 3), slog.IntValue(3)},
		{"kid kept", slog.String("key", "jwk-live-1"), slog.StringValue("jwk-live-1")},
		{"at sign in text kept", slog.String("ua", "curl/8 @ home"), slog.StringValue("curl/8 @ home")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := telemetry.RedactAttr(nil, tc.in)
			assert.Equal(t, tc.in.Key, got.Key)
			assert.True(t, tc.want.Equal(got.Value), "want %v, got %v", tc.want, got.Value)
		})
	}
}
