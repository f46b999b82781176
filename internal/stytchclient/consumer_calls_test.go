package stytchclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	someEmail    = "someone@example.com"
	somePhone    = "+15555550177"
	somePassword = "marble Otter 81 quietly"
	someWallet   = "0x52908400098527886E0F7030069857D2E4169EE7"
)

// endUserCredentialCalls are the methods whose 401 unauthorized_credentials is taken as the end
// user's wrong password, not authsvc's wrong secret (Error.EndUserCredentials).
var endUserCredentialCalls = map[string]bool{"ConsumerPasswordAuthenticate": true, "ConsumerPasswordExistingPasswordReset": true}

// consumerCalls is every consumer method with minimal arguments, by name.
func consumerCalls(c *sc.Client) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"ConsumerMagicLinkSend": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: someEmail})
			return err
		},
		"ConsumerMagicLinkLoginOrCreate": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: someEmail})
			return err
		},
		"ConsumerMagicLinkInvite": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkInvite(ctx, sc.ConsumerMagicLinkInviteParams{Email: someEmail})
			return err
		},
		"ConsumerMagicLinkRevokeInvite": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkRevokeInvite(ctx, sc.ConsumerMagicLinkRevokeInviteParams{Email: someEmail})
			return err
		},
		"ConsumerMagicLinkCreate": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkCreate(ctx, sc.ConsumerMagicLinkCreateParams{UserID: "u"})
			return err
		},
		"ConsumerMagicLinkAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: "t"})
			return err
		},
		"ConsumerOTPSMSSend": func(ctx context.Context) error {
			_, err := c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: somePhone})
			return err
		},
		"ConsumerOTPSMSLoginOrCreate": func(ctx context.Context) error {
			_, err := c.ConsumerOTPSMSLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: somePhone})
			return err
		},
		"ConsumerOTPWhatsAppSend": func(ctx context.Context) error {
			_, err := c.ConsumerOTPWhatsAppSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: somePhone})
			return err
		},
		"ConsumerOTPWhatsAppLoginOrCreate": func(ctx context.Context) error {
			_, err := c.ConsumerOTPWhatsAppLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: somePhone})
			return err
		},
		"ConsumerOTPEmailSend": func(ctx context.Context) error {
			_, err := c.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: someEmail})
			return err
		},
		"ConsumerOTPEmailLoginOrCreate": func(ctx context.Context) error {
			_, err := c.ConsumerOTPEmailLoginOrCreate(ctx, sc.ConsumerOTPEmailLoginOrCreateParams{Email: someEmail})
			return err
		},
		"ConsumerOTPAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: "m", Code: "123456"})
			return err
		},
		"ConsumerSessionsGet": func(ctx context.Context) error {
			_, err := c.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: "u"})
			return err
		},
		"ConsumerSessionsAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: "t"})
			return err
		},
		"ConsumerSessionsRevoke": func(ctx context.Context) error {
			_, err := c.ConsumerSessionsRevoke(ctx, sc.ConsumerSessionsRevokeParams{SessionToken: "t"})
			return err
		},
		"ConsumerSessionsMigrate": func(ctx context.Context) error {
			_, err := c.ConsumerSessionsMigrate(ctx, sc.ConsumerSessionsMigrateParams{SessionToken: "t"})
			return err
		},
		"ConsumerSessionsExchangeAccessToken": func(ctx context.Context) error {
			_, err := c.ConsumerSessionsExchangeAccessToken(ctx, sc.ConsumerSessionsExchangeAccessTokenParams{AccessToken: "t"})
			return err
		},
		"ConsumerPasswordCreate": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: someEmail, Password: somePassword})
			return err
		},
		"ConsumerPasswordAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: someEmail, Password: somePassword})
			return err
		},
		"ConsumerPasswordStrengthCheck": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordStrengthCheck(ctx, sc.ConsumerPasswordStrengthCheckParams{Password: somePassword})
			return err
		},
		"ConsumerPasswordMigrate": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordMigrate(ctx, sc.ConsumerPasswordMigrateParams{Email: someEmail, Hash: "h", HashType: "bcrypt"})
			return err
		},
		"ConsumerPasswordEmailResetStart": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordEmailResetStart(ctx, sc.ConsumerPasswordEmailResetStartParams{Email: someEmail})
			return err
		},
		"ConsumerPasswordEmailReset": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{Token: "t", Password: somePassword})
			return err
		},
		"ConsumerPasswordExistingPasswordReset": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordExistingPasswordReset(ctx, sc.ConsumerPasswordExistingPasswordResetParams{
				Email: someEmail, ExistingPassword: somePassword, NewPassword: somePassword + "!",
			})
			return err
		},
		"ConsumerPasswordSessionReset": func(ctx context.Context) error {
			_, err := c.ConsumerPasswordSessionReset(ctx, sc.ConsumerPasswordSessionResetParams{SessionToken: "t", Password: somePassword})
			return err
		},
		"ConsumerTOTPCreate": func(ctx context.Context) error {
			_, err := c.ConsumerTOTPCreate(ctx, sc.ConsumerTOTPCreateParams{UserID: "u"})
			return err
		},
		"ConsumerTOTPAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerTOTPAuthenticate(ctx, sc.ConsumerTOTPAuthenticateParams{UserID: "u", TOTPCode: "123456"})
			return err
		},
		"ConsumerTOTPRecoveryCodes": func(ctx context.Context) error {
			_, err := c.ConsumerTOTPRecoveryCodes(ctx, "u")
			return err
		},
		"ConsumerTOTPRecover": func(ctx context.Context) error {
			_, err := c.ConsumerTOTPRecover(ctx, sc.ConsumerTOTPRecoverParams{UserID: "u", RecoveryCode: "abcd-efgh-ijkl"})
			return err
		},
		"ConsumerCryptoWalletAuthenticateStart": func(ctx context.Context) error {
			_, err := c.ConsumerCryptoWalletAuthenticateStart(ctx, sc.ConsumerCryptoWalletStartParams{Type: "ethereum", Address: someWallet})
			return err
		},
		"ConsumerCryptoWalletAuthenticate": func(ctx context.Context) error {
			_, err := c.ConsumerCryptoWalletAuthenticate(ctx, sc.ConsumerCryptoWalletAuthenticateParams{Type: "ethereum", Address: someWallet, Signature: "0x00"})
			return err
		},
		"UserCreate": func(ctx context.Context) error {
			_, err := c.UserCreate(ctx, sc.UserCreateParams{Email: someEmail})
			return err
		},
		"UserGet": func(ctx context.Context) error {
			_, err := c.UserGet(ctx, "u")
			return err
		},
		"UserUpdate": func(ctx context.Context) error {
			_, err := c.UserUpdate(ctx, sc.UserUpdateParams{UserID: "u"})
			return err
		},
		"UserDelete": func(ctx context.Context) error {
			_, err := c.UserDelete(ctx, "u")
			return err
		},
		"UserSearch": func(ctx context.Context) error {
			_, err := c.UserSearch(ctx, sc.UserSearchParams{})
			return err
		},
		"UserExchangePrimaryFactor": func(ctx context.Context) error {
			_, err := c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: "u", EmailAddress: someEmail})
			return err
		},
		"UserDeleteEmail": func(ctx context.Context) error {
			_, err := c.UserDeleteEmail(ctx, "e")
			return err
		},
		"UserDeletePhoneNumber": func(ctx context.Context) error {
			_, err := c.UserDeletePhoneNumber(ctx, "p")
			return err
		},
		"UserDeletePassword": func(ctx context.Context) error {
			_, err := c.UserDeletePassword(ctx, "p")
			return err
		},
		"UserDeleteTOTP": func(ctx context.Context) error {
			_, err := c.UserDeleteTOTP(ctx, "t")
			return err
		},
		"UserDeleteWebAuthnRegistration": func(ctx context.Context) error {
			_, err := c.UserDeleteWebAuthnRegistration(ctx, "w")
			return err
		},
		"UserDeleteOAuthRegistration": func(ctx context.Context) error {
			_, err := c.UserDeleteOAuthRegistration(ctx, "o")
			return err
		},
		"UserDeleteCryptoWallet": func(ctx context.Context) error {
			_, err := c.UserDeleteCryptoWallet(ctx, "c")
			return err
		},
		"UserDeleteBiometricRegistration": func(ctx context.Context) error {
			_, err := c.UserDeleteBiometricRegistration(ctx, "b")
			return err
		},
	}
}

// TestEveryConsumerMethodReportsStytchErrors calls every consumer method with a wrong secret: each
// must return *Error with 401 unauthorized_credentials (INTERNAL for callers: authsvc's own
// credentials are wrong), Stytch's request ID, and a message free of the request's inputs. The two
// password-checking methods cannot tell a wrong secret from a wrong password (Stytch answers both
// alike) and report UNAUTHENTICATED.
func TestEveryConsumerMethodReportsStytchErrors(t *testing.T) {
	h := newConsumerHarness(t, func(c *sc.Config) { c.Secret = "secret-test-wrong" })
	calls := consumerCalls(h.client)
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())
			want := codes.Internal
			if endUserCredentialCalls[name] {
				want = codes.Unauthenticated
			}
			requireStytchError(t, err, http.StatusUnauthorized, "unauthorized_credentials", want)
			e, _ := sc.AsError(err)
			assert.NotEmpty(t, e.ErrorURL)
			assert.True(t, sc.IsUnauthorized(err))
			assert.False(t, sc.IsUnavailable(err))
			assert.NotContains(t, err.Error(), someEmail)
			assert.NotContains(t, err.Error(), somePhone)
			assert.NotContains(t, err.Error(), somePassword)
			assert.NotContains(t, status.Convert(err).Message(), somePassword)
			assert.NotContains(t, err.Error(), "secret-test-wrong")
			assert.NotContains(t, status.Convert(err).Message(), someEmail)
		})
	}
	// Every consumer endpoint the emulator routes, the JWKS aside, was called exactly once.
	assert.Equal(t, len(calls), h.emu.Requests("*"))
	assert.Len(t, calls, 46)
}

// A consumer path parameter that is not exactly one segment never leaves the client.
func TestConsumerPathParametersThatAreNotOneSegmentAreRefused(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithStartTime(testStart))
	base, paths := rawPathRecorder(t, emu)
	h := newHarnessFor(t, emu, base, consumer)
	ctx := t.Context()
	c := h.client

	calls := []struct {
		name  string
		param string
		call  func(ctx context.Context, v string) error
	}{
		{"UserGet", "user_id", func(ctx context.Context, v string) error { _, err := c.UserGet(ctx, v); return err }},
		{"UserUpdate", "user_id", func(ctx context.Context, v string) error {
			_, err := c.UserUpdate(ctx, sc.UserUpdateParams{UserID: v, Name: &sc.UserName{FirstName: "x"}})
			return err
		}},
		{"UserDelete", "user_id", func(ctx context.Context, v string) error { _, err := c.UserDelete(ctx, v); return err }},
		{"UserExchangePrimaryFactor", "user_id", func(ctx context.Context, v string) error {
			_, err := c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: v, EmailAddress: someEmail})
			return err
		}},
		{"UserDeleteEmail", "email_id", func(ctx context.Context, v string) error { _, err := c.UserDeleteEmail(ctx, v); return err }},
		{"UserDeletePhoneNumber", "phone_id", func(ctx context.Context, v string) error { _, err := c.UserDeletePhoneNumber(ctx, v); return err }},
		{"UserDeletePassword", "password_id", func(ctx context.Context, v string) error { _, err := c.UserDeletePassword(ctx, v); return err }},
		{"UserDeleteTOTP", "totp_id", func(ctx context.Context, v string) error { _, err := c.UserDeleteTOTP(ctx, v); return err }},
		{"UserDeleteWebAuthnRegistration", "webauthn_registration_id", func(ctx context.Context, v string) error {
			_, err := c.UserDeleteWebAuthnRegistration(ctx, v)
			return err
		}},
		{"UserDeleteOAuthRegistration", "oauth_user_registration_id", func(ctx context.Context, v string) error {
			_, err := c.UserDeleteOAuthRegistration(ctx, v)
			return err
		}},
		{"UserDeleteCryptoWallet", "crypto_wallet_id", func(ctx context.Context, v string) error { _, err := c.UserDeleteCryptoWallet(ctx, v); return err }},
		{"UserDeleteBiometricRegistration", "biometric_registration_id", func(ctx context.Context, v string) error {
			_, err := c.UserDeleteBiometricRegistration(ctx, v)
			return err
		}},
	}
	bad := []string{"", ".", "..", "x/emails", `a\b`, "/", "%2e", "%2E%2E", "%2F", "a%2fb", "%5C", "a\x00b", "a\nb", "a\x7fb", "%0A"}
	for _, cl := range calls {
		for _, v := range bad {
			err := cl.call(ctx, v)
			var pe *sc.PathParamError
			require.ErrorAs(t, err, &pe, "%s(%q)", cl.name, v)
			assert.Equal(t, cl.param, pe.Param, "%s(%q)", cl.name, v)
			assert.Equal(t, codes.InvalidArgument, status.Code(err))
			if len(v) > 1 {
				assert.NotContains(t, err.Error(), v, "the error must not echo the value")
			}
		}
	}
	assert.Empty(t, paths(), "no refused value may reach Stytch")
	assert.Empty(t, h.spans.GetSpans(), "no request, so no client span")

	// A value that needs escaping but is one segment is sent escaped, to the right endpoint.
	_, err := c.UserGet(ctx, "x?y#z")
	requireStytchError(t, err, http.StatusNotFound, "user_not_found", codes.NotFound)
	_, err = c.UserDeleteTOTP(ctx, "a b")
	requireStytchError(t, err, http.StatusNotFound, "totp_not_found", codes.NotFound)
	assert.Equal(t, []string{"GET /v1/users/x%3Fy%23z", "DELETE /v1/users/totps/a%20b"}, paths())
}

// recorded is one request as it reached the wire.
type recorded struct {
	method, path, query string
	body                []byte
}

// bodyRecorder serves emu through a hop that records every request's method, path, query and body.
func bodyRecorder(t *testing.T, emu *stytchemu.Server) (string, func() []recorded) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []recorded
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen = append(seen, recorded{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, body: b})
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), seen...)
	}
}

// Request bodies carry exactly the fields set: zero values are left out, an explicitly empty list
// or map is sent, and path parameters never leak into the body.
func TestConsumerRequestBodiesCarryExactlyTheFieldsSet(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithStartTime(testStart))
	base, seen := bodyRecorder(t, emu)
	h := newHarnessFor(t, emu, base, consumer)
	c := h.client
	attrs := &sc.Attributes{IPAddress: "203.0.113.7"}

	tests := []struct {
		name     string
		call     func(ctx context.Context) error
		endpoint string // method and escaped path
		query    string
		body     string // JSON, or "" for none
	}{
		{"ConsumerMagicLinkSend", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkSend(ctx, sc.ConsumerMagicLinkSendParams{Email: someEmail, CodeChallenge: "ch", SessionToken: "st", Attributes: attrs})
			return err
		}, "POST /v1/magic_links/email/send", "", `{"email":"someone@example.com","code_challenge":"ch","session_token":"st","attributes":{"ip_address":"203.0.113.7"}}`},
		{"ConsumerMagicLinkLoginOrCreate", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: someEmail, CreateUserAsPending: true, SignupExpirationMinutes: 60})
			return err
		}, "POST /v1/magic_links/email/login_or_create", "", `{"email":"someone@example.com","create_user_as_pending":true,"signup_expiration_minutes":60}`},
		{"ConsumerMagicLinkInvite", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkInvite(ctx, sc.ConsumerMagicLinkInviteParams{Email: someEmail, Name: &sc.UserName{LastName: "L"}, TrustedMetadata: sc.Metadata{}})
			return err
		}, "POST /v1/magic_links/email/invite", "", `{"email":"someone@example.com","name":{"last_name":"L"},"trusted_metadata":{}}`},
		{"ConsumerMagicLinkRevokeInvite", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkRevokeInvite(ctx, sc.ConsumerMagicLinkRevokeInviteParams{Email: someEmail})
			return err
		}, "POST /v1/magic_links/email/revoke_invite", "", `{"email":"someone@example.com"}`},
		{"ConsumerMagicLinkCreate", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkCreate(ctx, sc.ConsumerMagicLinkCreateParams{UserID: "u-1", ExpirationMinutes: 5})
			return err
		}, "POST /v1/magic_links", "", `{"user_id":"u-1","expiration_minutes":5}`},
		{"ConsumerMagicLinkAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{
				Token: "tok", CodeVerifier: "ver", SessionDurationMinutes: 60, SessionCustomClaims: sc.Metadata{"k": nil},
				Options: &sc.AuthenticateOptions{IPMatchRequired: true},
			})
			return err
		}, "POST /v1/magic_links/authenticate", "", `{"token":"tok","code_verifier":"ver","session_duration_minutes":60,"session_custom_claims":{"k":null},"options":{"ip_match_required":true,"user_agent_match_required":false}}`},
		{"ConsumerOTPSMSSend", func(ctx context.Context) error {
			_, err := c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: somePhone, UserID: "u-1", Locale: "es"})
			return err
		}, "POST /v1/otps/sms/send", "", `{"phone_number":"+15555550177","user_id":"u-1","locale":"es"}`},
		{"ConsumerOTPSMSLoginOrCreate", func(ctx context.Context) error {
			_, err := c.ConsumerOTPSMSLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: somePhone, ExpirationMinutes: 3})
			return err
		}, "POST /v1/otps/sms/login_or_create", "", `{"phone_number":"+15555550177","expiration_minutes":3}`},
		{"ConsumerOTPWhatsAppSend", func(ctx context.Context) error {
			_, err := c.ConsumerOTPWhatsAppSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: somePhone, SessionJWT: "jwt"})
			return err
		}, "POST /v1/otps/whatsapp/send", "", `{"phone_number":"+15555550177","session_jwt":"jwt"}`},
		{"ConsumerOTPWhatsAppLoginOrCreate", func(ctx context.Context) error {
			_, err := c.ConsumerOTPWhatsAppLoginOrCreate(ctx, sc.ConsumerOTPPhoneLoginOrCreateParams{PhoneNumber: somePhone, CreateUserAsPending: true})
			return err
		}, "POST /v1/otps/whatsapp/login_or_create", "", `{"phone_number":"+15555550177","create_user_as_pending":true}`},
		{"ConsumerOTPEmailSend", func(ctx context.Context) error {
			_, err := c.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: someEmail, LoginTemplateID: "tpl"})
			return err
		}, "POST /v1/otps/email/send", "", `{"email":"someone@example.com","login_template_id":"tpl"}`},
		{"ConsumerOTPEmailLoginOrCreate", func(ctx context.Context) error {
			_, err := c.ConsumerOTPEmailLoginOrCreate(ctx, sc.ConsumerOTPEmailLoginOrCreateParams{Email: someEmail})
			return err
		}, "POST /v1/otps/email/login_or_create", "", `{"email":"someone@example.com"}`},
		{"ConsumerOTPAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: "m-1", Code: "123456", TelemetryID: "tel"})
			return err
		}, "POST /v1/otps/authenticate", "", `{"method_id":"m-1","code":"123456","telemetry_id":"tel"}`},
		{"ConsumerSessionsGet", func(ctx context.Context) error {
			_, err := c.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: "u-1"})
			return err
		}, "GET /v1/sessions", "user_id=u-1", ""},
		{"ConsumerSessionsAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{
				SessionJWT: "jwt", AuthorizationCheck: &sc.ConsumerAuthorizationCheck{ResourceID: "r", Action: "a"},
			})
			return err
		}, "POST /v1/sessions/authenticate", "", `{"session_jwt":"jwt","authorization_check":{"resource_id":"r","action":"a"}}`},
		{"ConsumerSessionsRevoke", func(ctx context.Context) error {
			_, err := c.ConsumerSessionsRevoke(ctx, sc.ConsumerSessionsRevokeParams{SessionID: "s-1"})
			return err
		}, "POST /v1/sessions/revoke", "", `{"session_id":"s-1"}`},
		{"ConsumerSessionsMigrate", func(ctx context.Context) error {
			_, err := c.ConsumerSessionsMigrate(ctx, sc.ConsumerSessionsMigrateParams{SessionToken: "ext", SessionDurationMinutes: 30})
			return err
		}, "POST /v1/sessions/migrate", "", `{"session_token":"ext","session_duration_minutes":30}`},
		{"ConsumerSessionsExchangeAccessToken", func(ctx context.Context) error {
			_, err := c.ConsumerSessionsExchangeAccessToken(ctx, sc.ConsumerSessionsExchangeAccessTokenParams{AccessToken: "at"})
			return err
		}, "POST /v1/sessions/exchange_access_token", "", `{"access_token":"at"}`},
		{"ConsumerPasswordCreate", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordCreate(ctx, sc.ConsumerPasswordCreateParams{Email: someEmail, Password: "pw", SessionDurationMinutes: 30, UntrustedMetadata: sc.Metadata{}})
			return err
		}, "POST /v1/passwords", "", `{"email":"someone@example.com","password":"pw","session_duration_minutes":30,"untrusted_metadata":{}}`},
		{"ConsumerPasswordAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordAuthenticate(ctx, sc.ConsumerPasswordAuthenticateParams{Email: someEmail, Password: "pw", SessionJWT: "jwt"})
			return err
		}, "POST /v1/passwords/authenticate", "", `{"email":"someone@example.com","password":"pw","session_jwt":"jwt"}`},
		{"ConsumerPasswordStrengthCheck", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordStrengthCheck(ctx, sc.ConsumerPasswordStrengthCheckParams{Password: "pw"})
			return err
		}, "POST /v1/passwords/strength_check", "", `{"password":"pw"}`},
		{"ConsumerPasswordMigrate", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordMigrate(ctx, sc.ConsumerPasswordMigrateParams{
				Email: someEmail, Hash: "h", HashType: "md_5", MD5Config: &sc.PasswordSaltConfig{PrependSalt: "a"}, SetEmailVerified: true,
			})
			return err
		}, "POST /v1/passwords/migrate", "", `{"email":"someone@example.com","hash":"h","hash_type":"md_5","md_5_config":{"prepend_salt":"a","append_salt":""},"set_email_verified":true}`},
		{"ConsumerPasswordEmailResetStart", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordEmailResetStart(ctx, sc.ConsumerPasswordEmailResetStartParams{Email: someEmail, ResetPasswordExpirationMinutes: 15, CodeChallenge: "ch"})
			return err
		}, "POST /v1/passwords/email/reset/start", "", `{"email":"someone@example.com","reset_password_expiration_minutes":15,"code_challenge":"ch"}`},
		{"ConsumerPasswordEmailReset", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordEmailReset(ctx, sc.ConsumerPasswordEmailResetParams{Token: "tok", Password: "pw", CodeVerifier: "ver"})
			return err
		}, "POST /v1/passwords/email/reset", "", `{"token":"tok","password":"pw","code_verifier":"ver"}`},
		{"ConsumerPasswordExistingPasswordReset", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordExistingPasswordReset(ctx, sc.ConsumerPasswordExistingPasswordResetParams{Email: someEmail, ExistingPassword: "old", NewPassword: "new"})
			return err
		}, "POST /v1/passwords/existing_password/reset", "", `{"email":"someone@example.com","existing_password":"old","new_password":"new"}`},
		{"ConsumerPasswordSessionReset", func(ctx context.Context) error {
			_, err := c.ConsumerPasswordSessionReset(ctx, sc.ConsumerPasswordSessionResetParams{Password: "pw", SessionToken: "st", SessionDurationMinutes: 60})
			return err
		}, "POST /v1/passwords/session/reset", "", `{"password":"pw","session_token":"st","session_duration_minutes":60}`},
		{"ConsumerTOTPCreate", func(ctx context.Context) error {
			_, err := c.ConsumerTOTPCreate(ctx, sc.ConsumerTOTPCreateParams{UserID: "u", ExpirationMinutes: 10})
			return err
		}, "POST /v1/totps", "", `{"user_id":"u","expiration_minutes":10}`},
		{"ConsumerTOTPAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerTOTPAuthenticate(ctx, sc.ConsumerTOTPAuthenticateParams{UserID: "u", TOTPCode: "123456", SessionJWT: "j"})
			return err
		}, "POST /v1/totps/authenticate", "", `{"user_id":"u","totp_code":"123456","session_jwt":"j"}`},
		{"ConsumerTOTPRecoveryCodes", func(ctx context.Context) error {
			_, err := c.ConsumerTOTPRecoveryCodes(ctx, "u")
			return err
		}, "POST /v1/totps/recovery_codes", "", `{"user_id":"u"}`},
		{"ConsumerTOTPRecover", func(ctx context.Context) error {
			_, err := c.ConsumerTOTPRecover(ctx, sc.ConsumerTOTPRecoverParams{UserID: "u", RecoveryCode: "r", SessionDurationMinutes: 5})
			return err
		}, "POST /v1/totps/recover", "", `{"user_id":"u","recovery_code":"r","session_duration_minutes":5}`},
		{"ConsumerCryptoWalletAuthenticateStart", func(ctx context.Context) error {
			_, err := c.ConsumerCryptoWalletAuthenticateStart(ctx, sc.ConsumerCryptoWalletStartParams{
				Type: "ethereum", Address: someWallet, SessionToken: "st", SIWEParams: &sc.SIWEParams{Domain: "d.example", URI: "https://d.example", Resources: []string{}},
			})
			return err
		}, "POST /v1/crypto_wallets/authenticate/start", "", `{"crypto_wallet_type":"ethereum","crypto_wallet_address":"` + someWallet + `","session_token":"st","siwe_params":{"domain":"d.example","uri":"https://d.example","resources":[]}}`},
		{"ConsumerCryptoWalletAuthenticate", func(ctx context.Context) error {
			_, err := c.ConsumerCryptoWalletAuthenticate(ctx, sc.ConsumerCryptoWalletAuthenticateParams{Type: "solana", Address: "a", Signature: "s", SessionDurationMinutes: 5})
			return err
		}, "POST /v1/crypto_wallets/authenticate", "", `{"crypto_wallet_type":"solana","crypto_wallet_address":"a","signature":"s","session_duration_minutes":5}`},
		{"UserCreate", func(ctx context.Context) error {
			_, err := c.UserCreate(ctx, sc.UserCreateParams{PhoneNumber: somePhone, Roles: []string{}})
			return err
		}, "POST /v1/users", "", `{"phone_number":"+15555550177","roles":[]}`},
		{"UserGet", func(ctx context.Context) error {
			_, err := c.UserGet(ctx, "u-1")
			return err
		}, "GET /v1/users/u-1", "", ""},
		{"UserUpdate with nothing set", func(ctx context.Context) error {
			_, err := c.UserUpdate(ctx, sc.UserUpdateParams{UserID: "u-1"})
			return err
		}, "PUT /v1/users/u-1", "", `{}`},
		{"UserUpdate clearing", func(ctx context.Context) error {
			_, err := c.UserUpdate(ctx, sc.UserUpdateParams{UserID: "u-1", ExternalID: new(""), Roles: []string{}, UntrustedMetadata: sc.Metadata{}})
			return err
		}, "PUT /v1/users/u-1", "", `{"external_id":"","roles":[],"untrusted_metadata":{}}`},
		{"UserDelete", func(ctx context.Context) error {
			_, err := c.UserDelete(ctx, "u-1")
			return err
		}, "DELETE /v1/users/u-1", "", ""},
		{"UserSearch", func(ctx context.Context) error {
			_, err := c.UserSearch(ctx, sc.UserSearchParams{Cursor: "cur", Limit: 10, Query: &sc.SearchQuery{Operator: "AND", Operands: []map[string]any{
				{"filter_name": "status", "filter_value": []string{"active"}},
			}}})
			return err
		}, "POST /v1/users/search", "", `{"cursor":"cur","limit":10,"query":{"operator":"AND","operands":[{"filter_name":"status","filter_value":["active"]}]}}`},
		{"UserExchangePrimaryFactor", func(ctx context.Context) error {
			_, err := c.UserExchangePrimaryFactor(ctx, sc.UserExchangePrimaryFactorParams{UserID: "u-1", PhoneNumber: somePhone})
			return err
		}, "PUT /v1/users/u-1/exchange_primary_factor", "", `{"phone_number":"+15555550177"}`},
		{"UserDeleteEmail", func(ctx context.Context) error {
			_, err := c.UserDeleteEmail(ctx, "e-1")
			return err
		}, "DELETE /v1/users/emails/e-1", "", ""},
		{"UserDeletePhoneNumber", func(ctx context.Context) error {
			_, err := c.UserDeletePhoneNumber(ctx, "p-1")
			return err
		}, "DELETE /v1/users/phone_numbers/p-1", "", ""},
		{"UserDeletePassword", func(ctx context.Context) error {
			_, err := c.UserDeletePassword(ctx, "pw-1")
			return err
		}, "DELETE /v1/users/passwords/pw-1", "", ""},
		{"UserDeleteTOTP", func(ctx context.Context) error {
			_, err := c.UserDeleteTOTP(ctx, "t-1")
			return err
		}, "DELETE /v1/users/totps/t-1", "", ""},
		{"UserDeleteWebAuthnRegistration", func(ctx context.Context) error {
			_, err := c.UserDeleteWebAuthnRegistration(ctx, "w-1")
			return err
		}, "DELETE /v1/users/webauthn_registrations/w-1", "", ""},
		{"UserDeleteOAuthRegistration", func(ctx context.Context) error {
			_, err := c.UserDeleteOAuthRegistration(ctx, "o-1")
			return err
		}, "DELETE /v1/users/oauth/o-1", "", ""},
		{"UserDeleteCryptoWallet", func(ctx context.Context) error {
			_, err := c.UserDeleteCryptoWallet(ctx, "c-1")
			return err
		}, "DELETE /v1/users/crypto_wallets/c-1", "", ""},
		{"UserDeleteBiometricRegistration", func(ctx context.Context) error {
			_, err := c.UserDeleteBiometricRegistration(ctx, "b-1")
			return err
		}, "DELETE /v1/users/biometric_registrations/b-1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(seen())
			_ = tt.call(t.Context()) // most fail at the emulator (unknown IDs); only the request matters
			all := seen()
			require.Len(t, all, n+1, "one request")
			got := all[n]
			assert.Equal(t, tt.endpoint, got.method+" "+got.path)
			assert.Equal(t, tt.query, got.query)
			if tt.body == "" {
				assert.Empty(t, got.body)
				return
			}
			assert.JSONEq(t, tt.body, string(got.body))
		})
	}
	// Every consumer method is in the table above (UserUpdate twice).
	names := map[string]bool{}
	for _, tt := range tests {
		names[tt.endpoint] = true
	}
	assert.Len(t, names, len(consumerCalls(c)))
}

// One client talks to one kind of project: the other kind's methods are refused before any
// request, the JWKS follows the project type, and M2M works on both.
func TestProjectTypes(t *testing.T) {
	t.Run("New", func(t *testing.T) {
		c, err := sc.New(sc.Config{ProjectID: "project-test-1", Secret: "s"})
		require.NoError(t, err)
		assert.Equal(t, sc.ProjectB2B, c.ProjectType(), "empty means B2B")
		c, err = sc.New(sc.Config{ProjectID: "project-test-1", Secret: "s", ProjectType: sc.ProjectConsumer})
		require.NoError(t, err)
		assert.Equal(t, sc.ProjectConsumer, c.ProjectType())
		_, err = sc.New(sc.Config{ProjectID: "project-test-1", Secret: "s", ProjectType: "B2C"})
		require.ErrorContains(t, err, "ProjectType")
	})

	t.Run("a B2B client refuses every consumer method", func(t *testing.T) {
		emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
		base, paths := rawPathRecorder(t, emu)
		h := newHarnessFor(t, emu, base)
		for name, call := range consumerCalls(h.client) {
			err := call(t.Context())
			var pe *sc.ProjectTypeError
			require.ErrorAs(t, err, &pe, name)
			assert.Equal(t, sc.ProjectConsumer, pe.EndpointType, name)
			assert.Equal(t, sc.ProjectB2B, pe.ClientType, name)
			assert.Equal(t, codes.Internal, status.Code(err), name)
			assert.NotContains(t, err.Error(), someEmail)
		}
		assert.Empty(t, paths(), "nothing reached Stytch")
		assert.Empty(t, h.spans.GetSpans())
	})

	t.Run("a consumer client refuses B2B methods and serves M2M and its own JWKS", func(t *testing.T) {
		emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithStartTime(testStart))
		base, paths := rawPathRecorder(t, emu)
		h := newHarnessFor(t, emu, base, consumer)
		ctx := t.Context()
		b2b := map[string]func() error{
			"MagicLinkAuthenticate": func() error {
				_, err := h.client.MagicLinkAuthenticate(ctx, sc.MagicLinkAuthenticateParams{MagicLinksToken: "t"})
				return err
			},
			"SessionsAuthenticate": func() error {
				_, err := h.client.SessionsAuthenticate(ctx, sc.SessionsAuthenticateParams{SessionToken: "t"})
				return err
			},
			"OrganizationGet": func() error { _, err := h.client.OrganizationGet(ctx, "o"); return err },
			"MemberSearch": func() error {
				_, err := h.client.MemberSearch(ctx, sc.MemberSearchParams{OrganizationIDs: []string{"o"}})
				return err
			},
			"DiscoveryListOrganizations": func() error {
				_, err := h.client.DiscoveryListOrganizations(ctx, sc.DiscoveryListOrganizationsParams{IntermediateSessionToken: "t"})
				return err
			},
		}
		for name, call := range b2b {
			err := call()
			var pe *sc.ProjectTypeError
			require.ErrorAs(t, err, &pe, name)
			assert.Equal(t, sc.ProjectB2B, pe.EndpointType, name)
			assert.Equal(t, sc.ProjectConsumer, pe.ClientType, name)
			assert.Contains(t, err.Error(), "no request was made")
		}
		assert.Empty(t, paths(), "nothing reached Stytch")

		created, err := h.client.M2MClientCreate(ctx, sc.M2MClientCreateParams{Scopes: []string{"read:users"}})
		require.NoError(t, err, "M2M exists in consumer projects")
		_, err = h.client.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: created.M2MClient.ClientID, ClientSecret: created.M2MClient.ClientSecret})
		require.NoError(t, err)
		_, err = h.client.FetchJWKS(ctx)
		require.NoError(t, err)
		_, err = h.client.FetchConsumerJWKS(ctx)
		require.NoError(t, err)
		got := paths()
		sort.Strings(got)
		assert.Equal(t, []string{
			"GET /v1/sessions/jwks/" + emu.ProjectID(),
			"GET /v1/sessions/jwks/" + emu.ProjectID(),
			"POST /v1/m2m/clients",
			"POST /v1/public/" + emu.ProjectID() + "/oauth2/token",
		}, got)
	})
}

// Retries follow the same rule as for B2B: reads (GETs and the users search) are retried on a 5xx,
// writes never once sent.
func TestConsumerRetries(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "retry@example.com"})
	require.NoError(t, err)

	reads := map[string]func() error{
		"GET /v1/users/{user_id}": func() error { _, err := h.client.UserGet(ctx, u.ID); return err },
		"GET /v1/sessions": func() error {
			_, err := h.client.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: u.ID})
			return err
		},
		"POST /v1/users/search":              func() error { _, err := h.client.UserSearch(ctx, sc.UserSearchParams{}); return err },
		"GET /v1/sessions/jwks/{project_id}": func() error { _, err := h.client.FetchJWKS(ctx); return err },
	}
	for pattern, call := range reads {
		t.Run(pattern, func(t *testing.T) {
			_, err := h.emu.AddFault(stytchemu.Fault{Pattern: pattern, Status: http.StatusServiceUnavailable, Times: 1})
			require.NoError(t, err)
			require.NoError(t, call(), "retried after the 503")
			assert.Equal(t, 2, h.emu.Requests(pattern))
		})
	}

	writes := map[string]func() error{
		"POST /v1/users": func() error {
			_, err := h.client.UserCreate(ctx, sc.UserCreateParams{Email: "new-retry@example.com"})
			return err
		},
		"POST /v1/otps/email/send": func() error {
			_, err := h.client.ConsumerOTPEmailSend(ctx, sc.ConsumerOTPEmailSendParams{Email: "retry@example.com"})
			return err
		},
		"POST /v1/otps/authenticate": func() error {
			_, err := h.client.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: u.EmailID, Code: "123456"})
			return err
		},
		"DELETE /v1/users/{user_id}": func() error { _, err := h.client.UserDelete(ctx, u.ID); return err },
	}
	for pattern, call := range writes {
		t.Run(pattern, func(t *testing.T) {
			_, err := h.emu.AddFault(stytchemu.Fault{Pattern: pattern, Status: http.StatusServiceUnavailable, Times: 1})
			require.NoError(t, err)
			err = call()
			require.Error(t, err)
			assert.True(t, sc.IsUnavailable(err), "got %v", err)
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.Equal(t, 1, h.emu.Requests(pattern), "never repeated")
		})
	}
}

// Consumer spans are named after the endpoint template (no IDs, nothing B2B) and the user ID in
// the sessions query is redacted (url.full keeps path IDs, as for B2B).
func TestConsumerSpans(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "spans@example.com"})
	require.NoError(t, err)
	got, err := h.client.UserGet(ctx, u.ID)
	require.NoError(t, err)
	_, err = h.client.ConsumerSessionsGet(ctx, sc.ConsumerSessionsGetParams{UserID: u.ID})
	require.NoError(t, err)

	spans := h.spanNamed("GET /v1/users/{user_id}")
	require.Len(t, spans, 1)
	reqID, _ := attrValue(spans[0], "stytch.request_id")
	assert.Equal(t, got.RequestID, reqID)
	tmpl, _ := attrValue(spans[0], "url.template")
	assert.Equal(t, "/v1/users/{user_id}", tmpl)

	spans = h.spanNamed("GET /v1/sessions")
	require.Len(t, spans, 1)
	full, _ := attrValue(spans[0], "url.full")
	assert.Contains(t, full, "user_id=REDACTED")

	for _, s := range h.spans.GetSpans() {
		assert.NotContains(t, s.Name, u.ID)
		assert.NotContains(t, s.Name, "b2b")
		for _, kv := range s.Attributes {
			assert.NotContains(t, kv.Value.String(), "@", "attribute %s", kv.Key)
			assert.NotContains(t, kv.Value.String(), h.emu.Secret(), "attribute %s", kv.Key)
		}
	}
}

// A 429 reaches the caller as RESOURCE_EXHAUSTED and is never retried, whatever the method.
func TestConsumerRateLimitIsNotRetried(t *testing.T) {
	h := newConsumerHarness(t)
	ctx := t.Context()
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "limited@example.com"})
	require.NoError(t, err)
	for pattern, call := range map[string]func() error{
		"POST /v1/otps/sms/send": func() error {
			_, err := h.client.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: somePhone})
			return err
		},
		"GET /v1/users/{user_id}": func() error { _, err := h.client.UserGet(ctx, u.ID); return err },
	} {
		_, err := h.emu.AddFault(stytchemu.Fault{Pattern: pattern, Status: http.StatusTooManyRequests, Times: 1})
		require.NoError(t, err)
		err = call()
		requireStytchError(t, err, http.StatusTooManyRequests, "too_many_requests", codes.ResourceExhausted)
		assert.True(t, sc.IsRateLimited(err))
		assert.Equal(t, 1, h.emu.Requests(pattern), pattern)
	}
}

// The consumer sandbox values (docs/stytch.md) behave through the client as Stytch documents them.
func TestConsumerSandbox(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithSandbox(), stytchemu.WithStartTime(testStart))
	h := newHarnessFor(t, emu, emu.URL, consumer)
	ctx := t.Context()
	c := h.client

	send, err := c.ConsumerMagicLinkLoginOrCreate(ctx, sc.ConsumerMagicLinkLoginOrCreateParams{Email: stytchemu.SandboxEmail})
	require.NoError(t, err)
	assert.Equal(t, stytchemu.SandboxUserID, send.UserID)
	assert.False(t, send.UserCreated)
	_, sent := emu.LastMessage(stytchemu.SandboxEmail)
	assert.False(t, sent, "nothing is delivered to the sandbox address")

	auth, err := c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: stytchemu.SandboxMagicLinkToken})
	require.NoError(t, err)
	assert.Equal(t, stytchemu.SandboxUserID, auth.UserID)
	_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: stytchemu.SandboxMagicLinkTokenUnauth})
	requireStytchError(t, err, http.StatusUnauthorized, "unable_to_auth_magic_link", codes.Unauthenticated)
	_, err = c.ConsumerMagicLinkAuthenticate(ctx, sc.ConsumerMagicLinkAuthenticateParams{Token: stytchemu.SandboxMagicLinkTokenNotFound})
	requireStytchError(t, err, http.StatusNotFound, "magic_link_not_found", codes.NotFound)

	sms, err := c.ConsumerOTPSMSSend(ctx, sc.ConsumerOTPPhoneSendParams{PhoneNumber: stytchemu.SandboxPhoneNumber})
	require.NoError(t, err)
	otp, err := c.ConsumerOTPAuthenticate(ctx, sc.ConsumerOTPAuthenticateParams{MethodID: sms.PhoneID, Code: "000000"})
	require.NoError(t, err)
	assert.Equal(t, stytchemu.SandboxUserID, otp.UserID)

	sess, err := c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: stytchemu.SandboxSessionToken})
	require.NoError(t, err)
	assert.Equal(t, stytchemu.SandboxUserID, sess.User.UserID)
	_, err = c.ConsumerSessionsAuthenticate(ctx, sc.ConsumerSessionsAuthenticateParams{SessionToken: stytchemu.SandboxSessionTokenNotFound})
	requireStytchError(t, err, http.StatusNotFound, "session_not_found", codes.NotFound)
}

// A consumer client's FetchJWKS feeds the verify package's key cache exactly as a B2B client's
// does: a consumer session JWT then verifies locally (sub is the user ID, no organization).
func TestConsumerFetchJWKSFeedsTheKeyCache(t *testing.T) {
	h := newConsumerHarness(t)
	u, err := h.emu.CreateUser(stytchemu.UserParams{Email: "local@example.com"})
	require.NoError(t, err)
	s, err := h.emu.CreateUserSession(u.ID, time.Hour)
	require.NoError(t, err)

	cache, err := verify.NewJWKSCache(verify.JWKSCacheConfig{
		Fetch: h.client.FetchJWKS, Name: "consumer", Now: h.emu.Now,
		FetchTimeout: 5 * time.Second, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cache.Close()) })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, cache.WaitReady(ctx))
	assert.Positive(t, h.emu.Requests("GET /v1/sessions/jwks/{project_id}"))

	v, err := verify.NewVerifier(verify.VerifierConfig{
		ProjectID: h.emu.ProjectID(), ProjectType: verify.ProjectType(sc.ProjectConsumer), Keys: cache, Now: h.emu.Now,
	})
	require.NoError(t, err)
	claims, err := v.VerifySession(ctx, s.JWT)
	require.NoError(t, err)
	assert.Equal(t, u.ID, claims.UserID, "a consumer verifier names the subject UserID")
	assert.Empty(t, claims.MemberID)
	assert.Equal(t, s.ID, claims.SessionID)
	assert.Empty(t, claims.OrganizationID)

	// A verifier of the B2B kind refuses the consumer JWT for what it is, even with these keys.
	b2b, err := verify.NewVerifier(verify.VerifierConfig{ProjectID: h.emu.ProjectID(), Keys: cache, Now: h.emu.Now})
	require.NoError(t, err)
	_, err = b2b.VerifySession(ctx, s.JWT)
	require.ErrorIs(t, err, verify.ErrWrongProjectType)
}
