package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// A full login flow with debug logs and every span captured: magic link send, the link from the
// outbox, authenticate, session checks (JWT and token, gRPC and REST), an email OTP (a wrong code,
// then the right one), an M2M token issued and used, junk credentials, and a logout. Afterwards the
// whole log text and every span name, attribute, event and status are searched for each secret that
// passed through: none may appear.
func TestNoSecretReachesLogsOrSpans(t *testing.T) {
	env := startKeepingTelemetry(t)
	secrets := map[string]string{}
	// Registered after start, so it runs after the app has shut down: every span has ended and every
	// log line is written.
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		env.stop()
		spans := env.spans.GetSpans()
		require.NotEmpty(t, spans)
		dump := env.logs.String() + "\n" + spanDump(spans)
		require.Contains(t, dump, "finished call", "the access log is part of the dump")
		require.Contains(t, dump, "caller.kind", "the access decision is part of the dump")
		for name, v := range secrets {
			require.NotEmpty(t, v, name)
			if loc := secretPattern(v).FindStringIndex(dump); loc != nil {
				t.Errorf("%s leaked: ...%s...", name, excerpt(dump, loc, v))
			}
		}
	})
	ctx := t.Context()
	// A browser sends Origin with every POST; the cookie jar makes these cookie requests (CSRF check).
	post := func(path string, body any) apptest.Response {
		return env.RESTWithHeaders(t, http.MethodPost, path, body, http.Header{"Origin": {env.BaseURL}})
	}
	secrets["project secret"] = env.Emu.Secret()

	org, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Redaction Org"})
	require.NoError(t, err)
	email := "dana.redaction@example.com"
	secrets["email address"] = email
	_, err = env.Emu.CreateMember(org.ID, stytchemu.MemberParams{Email: email})
	require.NoError(t, err)

	// Magic link over REST, as a browser would.
	r := post("/v1/b2b/magic_links/email/login_or_signup", map[string]any{"organization_id": org.ID, "email_address": email})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	msg, ok := env.Emu.LastMessage(email)
	require.True(t, ok)
	secrets["magic link token"] = msg.Token
	r = post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": msg.Token})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	login := r.JSON(t)
	secrets["session token"], _ = login["session_token"].(string)
	secrets["session JWT"], _ = login["session_jwt"].(string)

	// Session checks: gRPC with the JWT, REST with the token, REST with the cookies alone.
	sessions := b2bv1.NewSessionsServiceClient(env.Conn)
	_, err = sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: secrets["session JWT"]}})
	require.NoError(t, err)
	r = post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": secrets["session token"]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = post("/v1/b2b/sessions/authenticate", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "cookies: %s", r.Body)

	// The session as a caller credential (access layer) on a member RPC, over gRPC and REST.
	members := b2bv1.NewMembersServiceClient(env.Conn)
	memberCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secrets["session JWT"])
	_, _ = members.Search(memberCtx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{org.ID}})
	tokenCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secrets["session token"])
	_, _ = members.Search(tokenCtx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{org.ID}})

	// Email OTP: a wrong code first (the failure path logs too), then the right one.
	otps := b2bv1.NewOTPsServiceClient(env.Conn)
	_, err = otps.EmailLoginOrSignup(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: email})
	require.NoError(t, err)
	otp, ok := env.Emu.LastMessage(email)
	require.True(t, ok)
	require.NotEmpty(t, otp.Code)
	secrets["OTP code"] = otp.Code
	wrong := "000001"
	if wrong == otp.Code {
		wrong = "000002"
	}
	_, err = otps.EmailAuthenticate(ctx, &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: email, Code: wrong})
	require.Error(t, err)
	otpRes, err := otps.EmailAuthenticate(ctx, &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org.ID, EmailAddress: email, Code: otp.Code})
	require.NoError(t, err)
	secrets["OTP session token"] = otpRes.GetSessionToken()
	secrets["OTP session JWT"] = otpRes.GetSessionJwt()

	// M2M: issue a token through authsvc, then use it as a caller credential.
	client, err := env.Emu.CreateM2MClient("billing", []string{"read:members", "write:members"})
	require.NoError(t, err)
	secrets["M2M client secret"] = client.ClientSecret
	m2m := m2mv1.NewM2MServiceClient(env.Conn)
	issued, err := m2m.IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: client.ClientID, ClientSecret: client.ClientSecret})
	require.NoError(t, err)
	secrets["M2M access token"] = issued.GetAccessToken()
	_, err = m2m.AuthenticateToken(ctx, &m2mv1.AuthenticateTokenRequest{AccessToken: issued.GetAccessToken(), RequiredScopes: []string{"read:members"}})
	require.NoError(t, err)
	serviceCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+issued.GetAccessToken())
	_, err = members.Search(serviceCtx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{org.ID}})
	require.NoError(t, err)
	_, err = m2m.IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: client.ClientID, ClientSecret: "wrong-" + client.ClientSecret})
	require.Error(t, err)

	// Junk credentials a caller might send: refused, never echoed.
	secrets["junk bearer token"] = "junkSessionToken0123456789abcdefJUNK"
	junkCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secrets["junk bearer token"])
	_, err = members.Search(junkCtx, &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{org.ID}})
	require.Error(t, err)
	secrets["junk magic link token"] = "junkMagicLinkToken0123456789abcdefJUNK"
	r = post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": secrets["junk magic link token"]})
	require.NotEqual(t, http.StatusOK, r.Status)

	// Logout with the cookies (same-origin browser request), then a check of the revoked JWT.
	r = post("/v1/b2b/sessions/revoke", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	_, err = sessions.Revoke(ctx, &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: secrets["OTP session JWT"]}})
	require.NoError(t, err)
	_, _ = sessions.Authenticate(context.Background(), &b2bv1.SessionsServiceAuthenticateRequest{Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: secrets["session JWT"]}})
}

// The consumer API's flows, as TestNoSecretReachesLogsOrSpans does for B2B: a magic-link sign-up,
// an email OTP (wrong code, then right), an SMS OTP, a password sign-up and login (a wrong password
// first), session checks by token, JWT and cookies, a
// user read by a service, junk credentials and a logout. No email address, phone number, code,
// token or secret may appear in the logs or spans.
func TestNoConsumerSecretReachesLogsOrSpans(t *testing.T) {
	env := startKeepingTelemetry(t)
	secrets := map[string]string{}
	checkNoSecretInDump(t, env, secrets, "authsvc.consumer.v1")
	ctx := t.Context()
	post := func(path string, body any) apptest.Response {
		return env.RESTWithHeaders(t, http.MethodPost, path, body, http.Header{"Origin": {env.BaseURL}})
	}
	secrets["consumer project secret"] = env.Consumer.Secret()
	email, phone := "casey.consumer@example.com", "+15557654321"
	secrets["email address"], secrets["phone number"] = email, phone

	// Magic-link sign-up over REST, as a browser.
	r := post("/v1/magic_links/email/login_or_create", map[string]any{"email": email})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	msg, ok := env.Consumer.LastMessage(email)
	require.True(t, ok)
	secrets["magic link token"] = msg.Token
	r = post("/v1/magic_links/authenticate", map[string]any{"token": msg.Token, "session_duration_minutes": 60})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	login := r.JSON(t)
	secrets["session token"], _ = login["session_token"].(string)
	secrets["session JWT"], _ = login["session_jwt"].(string)
	userID, _ := login["user_id"].(string)

	// Session checks: gRPC with the JWT, REST with the token, REST with the cookies alone.
	sessions := consumerv1.NewSessionsServiceClient(env.Conn)
	_, err := sessions.Authenticate(ctx, &consumerv1.SessionsServiceAuthenticateRequest{Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: secrets["session JWT"]}})
	require.NoError(t, err)
	r = post("/v1/sessions/authenticate", map[string]any{"session_token": secrets["session token"]})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = post("/v1/sessions/authenticate", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "cookies: %s", r.Body)

	// Email OTP: a wrong code, then the right one.
	otps := consumerv1.NewOTPsServiceClient(env.Conn)
	sent, err := otps.EmailLoginOrCreate(ctx, &consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: email})
	require.NoError(t, err)
	otp, ok := env.Consumer.LastMessage(email)
	require.True(t, ok)
	secrets["email OTP code"] = otp.Code
	wrong := "000001"
	if wrong == otp.Code {
		wrong = "000002"
	}
	_, err = otps.Authenticate(ctx, &consumerv1.OTPsServiceAuthenticateRequest{MethodId: sent.GetEmailId(), Code: wrong})
	require.Error(t, err)
	_, err = otps.Authenticate(ctx, &consumerv1.OTPsServiceAuthenticateRequest{MethodId: sent.GetEmailId(), Code: otp.Code})
	require.NoError(t, err)

	// SMS OTP over REST.
	r = post("/v1/otps/sms/login_or_create", map[string]any{"phone_number": phone})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	phoneID, _ := r.JSON(t)["phone_id"].(string)
	sms, ok := env.Consumer.LastMessage(phone)
	require.True(t, ok)
	secrets["SMS OTP code"] = sms.Code
	r = post("/v1/otps/authenticate", map[string]any{"method_id": phoneID, "code": sms.Code, "session_duration_minutes": 60})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	secrets["SMS session token"], _ = r.JSON(t)["session_token"].(string)

	// Password: sign up, a wrong password, the right one.
	const password = "tangerine-Kayak-47-orbit"
	secrets["password"], secrets["wrong password"] = password, "wrong-"+password
	pwEmail := "pat.password@example.com"
	secrets["password user's email address"] = pwEmail
	passwords := consumerv1.NewPasswordsServiceClient(env.Conn)
	_, err = passwords.Create(ctx, &consumerv1.PasswordsServiceCreateRequest{Email: pwEmail, Password: password})
	require.NoError(t, err)
	_, err = passwords.Authenticate(ctx, &consumerv1.PasswordsServiceAuthenticateRequest{Email: pwEmail, Password: secrets["wrong password"]})
	require.Error(t, err)
	r = post("/v1/passwords/authenticate", map[string]any{"email": pwEmail, "password": password, "session_duration_minutes": 60})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// A service reads and searches the user (the answers carry the address and number).
	client, err := env.Emu.CreateM2MClient("support", []string{"read:users"})
	require.NoError(t, err)
	issued, err := m2mv1.NewM2MServiceClient(env.Conn).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: client.ClientID, ClientSecret: client.ClientSecret})
	require.NoError(t, err)
	serviceCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+issued.GetAccessToken())
	users := consumerv1.NewUsersServiceClient(env.Conn)
	_, err = users.Get(serviceCtx, &consumerv1.UsersServiceGetRequest{UserId: userID})
	require.NoError(t, err)
	_, err = users.Search(serviceCtx, &consumerv1.UsersServiceSearchRequest{Query: &consumerv1.UserSearchQuery{Operands: []*consumerv1.UserSearchOperand{
		{Filter: &consumerv1.UserSearchOperand_PhoneNumbers{PhoneNumbers: &consumerv1.PhoneValues{Values: []string{phone}}}},
	}}})
	require.NoError(t, err)

	// Junk credentials: refused, never echoed.
	secrets["junk magic link token"] = "junkConsumerMagicLink0123456789abcdefJUNK"
	r = post("/v1/magic_links/authenticate", map[string]any{"token": secrets["junk magic link token"]})
	require.NotEqual(t, http.StatusOK, r.Status)

	// Logout with the session's own token.
	_, err = sessions.Revoke(ctx, &consumerv1.SessionsServiceRevokeRequest{Target: &consumerv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: secrets["session token"]}})
	require.NoError(t, err)
}

// checkNoSecretInDump registers the check, run after the app has shut down (every span ended, every
// log line written), that the log text and the spans hold each of secrets (filled in by the test
// meanwhile) nowhere, and hold each of present, the proof that the calls are part of the dump.
func checkNoSecretInDump(t *testing.T, env *keptEnv, secrets map[string]string, present ...string) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		env.stop()
		dump := env.logs.String() + "\n" + spanDump(env.spans.GetSpans())
		for _, p := range present {
			require.Contains(t, dump, p, "the calls are part of the dump")
		}
		for name, v := range secrets {
			require.NotEmpty(t, v, name)
			if loc := secretPattern(v).FindStringIndex(dump); loc != nil {
				t.Errorf("%s leaked: ...%s...", name, excerpt(dump, loc, v))
			}
		}
	})
}

// keptEnv is an apptest.Env whose span exporter keeps its spans through the app's shutdown (the
// in-memory exporter apptest uses forgets them on Shutdown), so the dump can be taken after every
// span has ended rather than racing the last ones.
type keptEnv struct {
	*apptest.Env
	spans *tracetest.InMemoryExporter
	logs  *testkit.LogBuffer
	stop  func()
}

type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

// startKeepingTelemetry runs the production constructor as apptest does (dev mode, debug logs, the
// emulator's clock), with telemetry captured in memory until the test reads it.
func startKeepingTelemetry(t *testing.T) *keptEnv {
	t.Helper()
	vars := map[string]string{
		"AUTHSVC_ALLOWED_REDIRECT_URLS": apptest.DefaultRedirectURL, "AUTHSVC_INSECURE_COOKIES": "true",
		"AUTHSVC_SHUTDOWN_GRACE": "5s", "AUTHSVC_LOG_LEVEL": "debug",
	}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] }, io.Discard)
	require.NoError(t, err)
	apptest.EphemeralPorts(cfg)
	emu, consumer := apptest.DevEmulator(t)
	k := &keptEnv{spans: tracetest.NewInMemoryExporter(), logs: &testkit.LogBuffer{}}
	a, err := app.New(t.Context(), cfg, app.Options{
		Version: "test", LogOutput: k.logs, SpanExporter: keepSpans{k.spans}, Emulator: emu, ConsumerProject: consumer, Now: emu.Now,
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	k.Env = &apptest.Env{App: a, Emu: emu, Consumer: consumer, Config: cfg, Conn: conn, BaseURL: "http://" + a.HTTPAddr(), HTTP: &http.Client{Jar: jar}}
	var once sync.Once
	k.stop = func() {
		once.Do(func() {
			_ = conn.Close()
			k.HTTP.CloseIdleConnections()
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(k.stop)
	return k
}

// secretPattern matches v as a whole: a short numeric OTP code must not be "found" inside a longer
// number (a timestamp, a duration, a port), and an email address is matched without regard to case.
func secretPattern(v string) *regexp.Regexp {
	q := regexp.QuoteMeta(v)
	if regexp.MustCompile(`^[0-9]+$`).MatchString(v) {
		return regexp.MustCompile(`(^|[^0-9])` + q + `($|[^0-9])`)
	}
	return regexp.MustCompile(`(?i)` + q)
}

func excerpt(s string, loc []int, secret string) string {
	from, to := max(loc[0]-120, 0), min(loc[1]+40, len(s))
	return strings.ReplaceAll(s[from:to], secret, "<SECRET>")
}

// spanDump writes every part of every span that could carry data as text.
func spanDump(spans tracetest.SpanStubs) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "span %q status=%q %s\n", s.Name, s.Status.Description, s.InstrumentationScope.Name)
		for _, a := range s.Attributes {
			fmt.Fprintf(&b, "  attr %s=%s\n", a.Key, a.Value.String())
		}
		for _, e := range s.Events {
			fmt.Fprintf(&b, "  event %q\n", e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, "    attr %s=%s\n", a.Key, a.Value.String())
			}
		}
		for _, l := range s.Links {
			for _, a := range l.Attributes {
				fmt.Fprintf(&b, "  link attr %s=%s\n", a.Key, a.Value.String())
			}
		}
		if s.Resource != nil {
			for _, a := range s.Resource.Attributes() {
				fmt.Fprintf(&b, "  resource %s=%s\n", a.Key, a.Value.String())
			}
		}
	}
	return b.String()
}

// The search itself must work: a secret that is in the dump is found, and a code inside a longer
// number is not.
func TestSecretPattern(t *testing.T) {
	assert.True(t, secretPattern("123456").MatchString(`"code":"123456"`))
	assert.False(t, secretPattern("123456").MatchString(`"duration_ms":91234567`))
	assert.True(t, secretPattern("Dana@Example.com").MatchString("to=dana@example.com"))
}
