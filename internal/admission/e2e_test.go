package admission_test

// End-to-end tests: the production app (internal/app through apptest) in process against the Stytch
// emulator, with budgets in memory or in a real redis-server (internal/redistest). The emulator's
// outbox and request counters are the evidence that a refused call never reached Stytch.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/telemetry"
	"github.com/authsvc/authsvc/internal/testkit"
)

const (
	upstreamOTPSend = "POST /v1/b2b/otps/email/login_or_signup"
	upstreamOTPAuth = "POST /v1/b2b/otps/email/authenticate"
	upstreamSession = "POST /v1/b2b/sessions/authenticate"
)

var uniq atomic.Int64

func newEmail(prefix string) string {
	return fmt.Sprintf("%s-%d@example.com", prefix, uniq.Add(1))
}

// world is one emulator with its sandbox, an organization and a member in it.
type world struct {
	emu    *stytchemu.Server
	org    stytchemu.Organization
	member stytchemu.Member
}

func newWorld(t *testing.T) *world {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: fmt.Sprintf("Org %d", uniq.Add(1))})
	require.NoError(t, err)
	m, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: newEmail("member")})
	require.NoError(t, err)
	return &world{emu: emu, org: org, member: m}
}

// replica starts one authsvc on the world's emulator, with Redis when url is set.
func (w *world) replica(t *testing.T, redisURL string) *apptest.Env {
	t.Helper()
	env := map[string]string{}
	if redisURL != "" {
		env["AUTHSVC_REDIS_URL"] = redisURL
	}
	return apptest.Start(t, apptest.WithEmulator(w.emu), apptest.WithEnv(env))
}

func otpSend(ctx context.Context, env *apptest.Env, org, email string, opts ...grpc.CallOption) (*b2bv1.OTPsServiceEmailLoginOrSignupResponse, error) {
	return b2bv1.NewOTPsServiceClient(env.Conn).EmailLoginOrSignup(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org, EmailAddress: email}, opts...)
}

func otpCheck(ctx context.Context, env *apptest.Env, org, email, code string) error {
	_, err := b2bv1.NewOTPsServiceClient(env.Conn).EmailAuthenticate(ctx, &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org, EmailAddress: email, Code: code})
	return err
}

// requireRateLimited checks a refusal: RESOURCE_EXHAUSTED naming the limit, with a retry delay.
func requireRateLimited(t *testing.T, err error, limit string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), "%v", err)
	var info *errdetails.ErrorInfo
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	require.NotNil(t, info, "ErrorInfo detail")
	assert.Equal(t, admission.ReasonRateLimited, info.GetReason())
	assert.Equal(t, limit, info.GetMetadata()["limit"])
	require.NotNil(t, retry, "RetryInfo detail")
	assert.Positive(t, retry.GetRetryDelay().AsDuration())
}

func wrongCode(code string) string {
	if code == "000001" {
		return "000002"
	}
	return "000001"
}

func backends(t *testing.T) map[string]func(t *testing.T) string {
	t.Helper()
	return map[string]func(t *testing.T) string{
		"memory": func(*testing.T) string { return "" },
		"redis":  func(t *testing.T) string { return redistest.Start(t).URL() },
	}
}

// The brute-force guard: after 5 wrong codes for a member, the 6th check is refused by authsvc
// and Stytch never sees it.
func TestBruteForceRefusedBeforeStytch(t *testing.T) {
	for name, redisURL := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			env := w.replica(t, redisURL(t))
			ctx := t.Context()
			_, err := otpSend(ctx, env, w.org.ID, w.member.Email)
			require.NoError(t, err)
			msg, ok := w.emu.LastMessage(w.member.Email)
			require.True(t, ok)
			bad := wrongCode(msg.Code)

			max := admission.DefaultPolicy().CheckFailuresPerTarget.Max
			for i := range max {
				err := otpCheck(ctx, env, w.org.ID, w.member.Email, bad)
				require.Error(t, err)
				require.NotEqual(t, codes.ResourceExhausted, status.Code(err), "attempt %d refused early", i+1)
			}
			require.Equal(t, max, w.emu.Requests(upstreamOTPAuth), "each wrong code reached Stytch")

			err = otpCheck(ctx, env, w.org.ID, w.member.Email, bad)
			requireRateLimited(t, err, admission.LimitCheckFailuresTarget)
			// Locked: even the right code waits for the window; the email case or +tag does not help.
			err = otpCheck(ctx, env, w.org.ID, "  "+upper(w.member.Email), msg.Code)
			requireRateLimited(t, err, admission.LimitCheckFailuresTarget)
			assert.Equal(t, max, w.emu.Requests(upstreamOTPAuth), "refused checks must not reach Stytch")
			assert.Equal(t, int64(2), testkit.CounterSum(t, env.Metrics, telemetry.MetricAdmissionRejections, telemetry.AttrLimit.String(admission.LimitCheckFailuresTarget)))

			// Another member of the same organization is not affected.
			other, err := w.emu.CreateMember(w.org.ID, stytchemu.MemberParams{Email: newEmail("other")})
			require.NoError(t, err)
			err = otpCheck(ctx, env, w.org.ID, other.Email, bad)
			require.NotEqual(t, codes.ResourceExhausted, status.Code(err))
			assert.Equal(t, max+1, w.emu.Requests(upstreamOTPAuth))
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Two replicas on one Redis spend one budget: 5 emails to one address in all, whichever replica
// is asked, and the 6th is refused on either, over gRPC (RESOURCE_EXHAUSTED) and REST (429 with
// Retry-After), without reaching Stytch.
func TestReplicasShareOneBudget(t *testing.T) {
	redis := redistest.Start(t)
	w := newWorld(t)
	a, b := w.replica(t, redis.URL()), w.replica(t, redis.URL())
	ctx := t.Context()

	budget := admission.DefaultPolicy().SendPerEmail.Events
	for i := range budget {
		env := a
		if i%2 == 1 {
			env = b
		}
		_, err := otpSend(ctx, env, w.org.ID, w.member.Email)
		require.NoError(t, err, "send %d", i+1)
	}
	_, err := otpSend(ctx, a, w.org.ID, w.member.Email)
	requireRateLimited(t, err, admission.LimitSendEmail)
	_, err = otpSend(ctx, b, w.org.ID, w.member.Email)
	requireRateLimited(t, err, admission.LimitSendEmail)

	resp := b.REST(t, http.MethodPost, "/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": w.org.ID, "email_address": w.member.Email})
	require.Equal(t, http.StatusTooManyRequests, resp.Status, "%s", resp.Body)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	assert.Positive(t, secs)

	assert.Equal(t, budget, w.emu.Requests(upstreamOTPSend), "refused sends must not reach Stytch")
	n := 0
	for _, m := range w.emu.Outbox() {
		if m.To == w.member.Email {
			n++
		}
	}
	assert.Equal(t, budget, n, "outbox messages to the address")
}

// A session revoked through one replica stops verifying locally on the other, which never had it
// in memory: the revocation travels through Redis.
func TestReplicasShareOneRevocationList(t *testing.T) {
	w, a, _, sess, authB := twoReplicasOneSession(t)
	ctx := t.Context()

	_, err := b2bv1.NewSessionsServiceClient(a.Conn).Revoke(ctx, &b2bv1.SessionsServiceRevokeRequest{
		Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: sess.JWT},
	})
	require.NoError(t, err)

	// B trusted its "not revoked" answer for at most revocation.DefaultSubscribedRecheckAfter (the
	// published revocation usually reaches it before that, but under load the message may still be
	// on its way); once that has passed it asks Redis whatever the subscription did.
	w.emu.Advance(revocation.DefaultSubscribedRecheckAfter + time.Second)
	w.emu.ResetRequests()
	_, err = authB()
	require.Error(t, err)
	assert.Contains(t, []codes.Code{codes.Unauthenticated, codes.NotFound}, status.Code(err), "%v", err)
	assert.Zero(t, w.emu.Requests(upstreamSession), "the revoked JWT was refused locally, without asking Stytch")
}

// With Redis stopped mid-test: sends fail closed (UNAVAILABLE, Stytch not called), checks still
// reach Stytch (per-replica limits), the failure is logged and counted, and nothing crashes. When
// Redis is back, sends work again.
func TestRedisDown(t *testing.T) {
	redis := redistest.Start(t)
	w := newWorld(t)
	env := w.replica(t, redis.URL())
	ctx := t.Context()
	_, err := otpSend(ctx, env, w.org.ID, w.member.Email)
	require.NoError(t, err)
	code, ok := w.emu.LastMessage(w.member.Email)
	require.True(t, ok)

	redis.Stop(t)
	w.emu.ResetRequests()

	_, err = otpSend(ctx, env, w.org.ID, w.member.Email)
	require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
	assert.Zero(t, w.emu.Requests(upstreamOTPSend), "a send refused for want of Redis must not reach Stytch")

	err = otpCheck(ctx, env, w.org.ID, w.member.Email, wrongCode(code.Code))
	require.Error(t, err)
	assert.NotEqual(t, codes.Unavailable, status.Code(err), "checks keep working: %v", err)
	assert.NotEqual(t, codes.ResourceExhausted, status.Code(err), "checks keep working: %v", err)
	assert.Equal(t, 1, w.emu.Requests(upstreamOTPAuth))
	require.NoError(t, otpCheck(ctx, env, w.org.ID, w.member.Email, code.Code), "the right code still logs in")

	assert.Contains(t, env.Logs(), "admission: shared store unavailable")
	assert.Equal(t, int64(1), testkit.CounterSum(t, env.Metrics, admission.MetricStoreErrors, attribute.String("class", "send"), attribute.String("mode", "closed")))
	assert.GreaterOrEqual(t, testkit.CounterSum(t, env.Metrics, admission.MetricStoreErrors, attribute.String("class", "check"), attribute.String("mode", "local")), int64(2))
	assert.Equal(t, int64(1), testkit.CounterSum(t, env.Metrics, telemetry.MetricAdmissionRejections, telemetry.AttrLimit.String("store_unavailable")))

	redis.Restart(t)
	w.emu.Advance(2 * time.Second) // past the client's one-second breaker cooldown
	_, err = otpSend(ctx, env, w.org.ID, w.member.Email)
	require.NoError(t, err, "sends work again once Redis is back")
}

// A send repeated with the same idempotency key sends one email and returns the first response;
// the same key with another request is refused. Over REST the Idempotency-Key header does the same.
// With Redis the replay works across replicas.
func TestIdempotentSendReplays(t *testing.T) {
	for name, redisURL := range backends(t) {
		t.Run(name, func(t *testing.T) {
			url := redisURL(t)
			w := newWorld(t)
			a := w.replica(t, url)
			b := a
			if url != "" {
				b = w.replica(t, url)
			}
			email := newEmail("idem")
			keyed := metadata.AppendToOutgoingContext(t.Context(), "idempotency-key", fmt.Sprintf("key-%d", uniq.Add(1)))

			first, err := otpSend(keyed, a, w.org.ID, email)
			require.NoError(t, err)
			// More repeats than the per-email budget: replays spend no budget.
			for range admission.DefaultPolicy().SendPerEmail.Events + 1 {
				var hdr metadata.MD
				again, err := otpSend(keyed, b, w.org.ID, email, grpc.Header(&hdr))
				require.NoError(t, err)
				assert.Equal(t, first.GetMemberId(), again.GetMemberId())
				assert.Equal(t, []string{"true"}, hdr.Get("idempotent-replayed"))
			}
			assert.Equal(t, 1, w.emu.Requests(upstreamOTPSend))
			assert.Len(t, messagesTo(w.emu, email), 1)

			_, err = otpSend(keyed, b, w.org.ID, newEmail("other"))
			require.Equal(t, codes.InvalidArgument, status.Code(err), "same key, different request: %v", err)

			restKey := http.Header{"Idempotency-Key": {fmt.Sprintf("rest-%d", uniq.Add(1))}}
			body := map[string]any{"organization_id": w.org.ID, "email_address": email}
			r1 := a.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/otps/email/login_or_signup", body, restKey)
			require.Equal(t, http.StatusOK, r1.Status, "%s", r1.Body)
			r2 := b.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/otps/email/login_or_signup", body, restKey)
			require.Equal(t, http.StatusOK, r2.Status, "%s", r2.Body)
			assert.JSONEq(t, string(r1.Body), string(r2.Body))
			assert.Len(t, messagesTo(w.emu, email), 2, "one more email for the REST key, not two")

			bad := a.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/otps/email/login_or_signup", body, http.Header{"Idempotency-Key": {"no spaces allowed"}})
			assert.Equal(t, http.StatusBadRequest, bad.Status)
		})
	}
}

func messagesTo(emu *stytchemu.Server, to string) []stytchemu.Message {
	var out []stytchemu.Message
	for _, m := range emu.Outbox() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// A REST client cannot pick its own IP key: with no trusted proxy configured, X-Forwarded-For
// values it sends are ignored and every call counts against its connection's address.
func TestSpoofedForwardedForDoesNotEscapeTheIPBudget(t *testing.T) {
	w := newWorld(t)
	env := w.replica(t, "")
	budget := admission.DefaultPolicy().SendPerIP.Events
	send := func(i int) apptest.Response {
		return env.RESTWithHeaders(t, http.MethodPost, "/v1/b2b/magic_links/email/discovery/send",
			map[string]any{"email_address": newEmail("spoof")},
			http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i%250+1)}})
	}
	for i := range budget {
		r := send(i)
		require.Equal(t, http.StatusOK, r.Status, "send %d: %s", i+1, r.Body)
	}
	r := send(budget)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), admission.LimitSendIP)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
}

// AUTHSVC_ADMISSION_LIMITS changes a budget without a rebuild: with send_email=2/1h the third OTP
// to one address is refused (the default allows 5) and never reaches Stytch, and the Retry-After
// reflects the new period (one send back every 30 minutes, not every 2).
func TestBudgetsFromConfiguration(t *testing.T) {
	w := newWorld(t)
	env := apptest.Start(t, apptest.WithEmulator(w.emu), apptest.WithEnv(map[string]string{
		"AUTHSVC_ADMISSION_LIMITS": "send_email=2/1h",
	}))
	ctx := t.Context()
	for i := range 2 {
		_, err := otpSend(ctx, env, w.org.ID, w.member.Email)
		require.NoError(t, err, "send %d", i+1)
	}
	resp := env.REST(t, http.MethodPost, "/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": w.org.ID, "email_address": w.member.Email})
	require.Equal(t, http.StatusTooManyRequests, resp.Status, "%s", resp.Body)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
	assert.Greater(t, secs, int((2 * time.Minute).Seconds()), "the default period's wait")
	assert.LessOrEqual(t, secs, int((30 * time.Minute).Seconds()))
	assert.Equal(t, 2, w.emu.Requests(upstreamOTPSend), "the refused send must not reach Stytch")
}

// A member deleted through one replica: the other refuses the member's session JWT locally, both
// as the credential under test (Sessions.Authenticate) and as a caller's credential (the access
// layer), because the member revocation travels through Redis. No session had to be listed.
func TestReplicasShareMemberDeletion(t *testing.T) {
	w, a, b, sess, authB := twoReplicasOneSession(t)
	ctx := t.Context()
	admin, err := w.emu.CreateM2MClient("deleter", []string{"write:members"})
	require.NoError(t, err)
	tok, err := m2mv1.NewM2MServiceClient(a.Conn).IssueToken(ctx, &m2mv1.IssueTokenRequest{ClientId: admin.ClientID, ClientSecret: admin.ClientSecret})
	require.NoError(t, err)

	w.emu.ResetRequests()
	_, err = b2bv1.NewMembersServiceClient(a.Conn).Delete(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok.GetAccessToken()),
		&b2bv1.MembersServiceDeleteRequest{OrganizationId: w.org.ID, MemberId: w.member.ID})
	require.NoError(t, err)
	assert.Zero(t, w.emu.Requests("GET /v1/b2b/sessions"), "the deletion listed no sessions")

	// B trusted its "not revoked" answer for at most revocation.DefaultSubscribedRecheckAfter (the
	// published revocation usually reaches it before that, but under load the message may still be
	// on its way); once that has passed it asks Redis whatever the subscription did.
	w.emu.Advance(revocation.DefaultSubscribedRecheckAfter + time.Second)
	w.emu.ResetRequests()
	_, err = authB()
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
	_, err = b2bv1.NewSessionsServiceClient(b.Conn).Get(
		metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+sess.JWT),
		&b2bv1.SessionsServiceGetRequest{OrganizationId: w.org.ID, MemberId: w.member.ID})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "the access layer refuses the JWT as a caller credential: %v", err)
	assert.Zero(t, w.emu.Requests(upstreamSession), "refused locally, without asking Stytch")
}

// twoReplicasOneSession starts two replicas sharing one Redis and one emulator, and a member session
// whose JWT replica B has verified locally once; authB checks that JWT on B again.
func twoReplicasOneSession(t *testing.T) (w *world, a, b *apptest.Env, sess stytchemu.Session, authB func() (*b2bv1.SessionsServiceAuthenticateResponse, error)) {
	t.Helper()
	redis := redistest.Start(t)
	w = newWorld(t)
	a, b = w.replica(t, redis.URL()), w.replica(t, redis.URL())
	sess, err := w.emu.CreateSession(w.org.ID, w.member.ID, time.Hour)
	require.NoError(t, err)
	authB = func() (*b2bv1.SessionsServiceAuthenticateResponse, error) {
		return b2bv1.NewSessionsServiceClient(b.Conn).Authenticate(t.Context(), &b2bv1.SessionsServiceAuthenticateRequest{
			Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
		})
	}
	res, err := authB()
	require.NoError(t, err)
	require.Equal(t, b2bv1.SessionVerifier_SESSION_VERIFIER_LOCAL, res.GetVerifiedBy())
	return w, a, b, sess, authB
}
