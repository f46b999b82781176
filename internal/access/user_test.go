package access

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

// The test service's methods for user sessions (see testFiles).
const (
	userOwn     = "/authsvc.test.v1.Svc/M0" // user_session, user_field user_id
	userAny     = "/authsvc.test.v1.Svc/M1" // user_session
	memberOnly  = "/authsvc.test.v1.Svc/M2" // member_session
	userOrScope = "/authsvc.test.v1.Svc/M3" // user_session or read:users
)

func userRules() []*accessv1.AccessRule {
	return []*accessv1.AccessRule{
		{UserSession: true, UserField: "user_id"},
		{UserSession: true},
		{MemberSession: true},
		{UserSession: true, ServiceScopes: []string{"read:users"}},
	}
}

// userHarness is the B2B harness plus a consumer project: its emulator, client and session checker,
// wired as production wires them, and an interceptor over the test service's user rules.
type userHarness struct {
	*harness
	cemu  *stytchemu.Server
	users *session.Checker
	files *protoregistry.Files
	logs  *bytes.Buffer
}

func newUserHarness(t *testing.T) *userHarness {
	t.Helper()
	h := &userHarness{harness: newHarness(t), logs: &bytes.Buffer{}}
	h.cemu = testkit.Emulator(t, stytchemu.WithConsumer())
	client := testkit.Client(t, h.cemu, func(c *stytchclient.Config) { c.ProjectType = stytchclient.ProjectConsumer })
	h.users = sessionkit.Checker(t, h.cemu, client, sessionkit.JWKS(t, h.cemu, client), sessionkit.Consumer(client))
	h.files = testFiles(t, userRules())
	var err error
	h.acc, err = New(Config{Checker: h.checker, UserChecker: h.users, Files: h.files, Logger: slog.New(slog.NewTextHandler(h.logs, nil))})
	require.NoError(t, err)
	return h
}

// req is a request of the test service naming userID ("" leaves the field unset).
func (h *userHarness) req(t *testing.T, userID string) *dynamicpb.Message {
	t.Helper()
	d, err := h.files.FindDescriptorByName("authsvc.test.v1.Req")
	require.NoError(t, err)
	md, ok := d.(protoreflect.MessageDescriptor)
	require.True(t, ok)
	m := dynamicpb.NewMessage(md)
	if userID != "" {
		m.Set(md.Fields().ByName("user_id"), protoreflect.ValueOfString(userID))
	}
	return m
}

func (h *userHarness) user(t *testing.T, email string) stytchemu.UserSession {
	t.Helper()
	return sessionkit.UserSession(t, h.cemu, email, time.Hour)
}

func TestUserSessions(t *testing.T) {
	h := newUserHarness(t)
	uma := h.user(t, "uma@example.com")
	ugo := h.user(t, "ugo@example.com")

	t.Run("user JWT is admitted locally as a user", func(t *testing.T) {
		h.cemu.ResetRequests()
		h.emu.ResetRequests()
		c := h.call(t, userOwn, h.req(t, ""), "authorization", "Bearer "+uma.JWT)
		require.NoError(t, c.err)
		assert.Zero(t, h.cemu.Requests("*")+h.emu.Requests("*"), "a fresh user JWT is verified without Stytch")
		p := c.principal
		assert.Equal(t, KindUser, p.Kind)
		assert.Equal(t, uma.UserID, p.UserID)
		assert.Equal(t, uma.ID, p.SessionID)
		assert.Contains(t, p.Roles, stytchemu.RoleUser)
		assert.Empty(t, p.MemberID)
		assert.Empty(t, p.OrganizationID)
		assert.Equal(t, stytchclient.MemberSession{JWT: uma.JWT}, p.Session)
		tok, jwt := p.OwnSession()
		assert.Equal(t, [2]string{"", uma.JWT}, [2]string{tok, jwt}, "the user's own session, for handlers acting on it")
		assert.Zero(t, c.acting, "no member session is forwarded for a user")
		assert.Equal(t, "user:"+uma.UserID, p.CallerKey())
		assert.Equal(t, "user", c.field("caller.kind"))
		assert.Equal(t, uma.UserID, c.field("caller.user_id"))
		assert.Nil(t, c.field("caller.member_id"))
		for it := c.fields.Iterator(); it.Next(); {
			_, v := it.At()
			assert.NotContains(t, v, uma.JWT[:40], "no token in the access log")
		}
	})
	t.Run("user field naming the caller, in any letter case", func(t *testing.T) {
		c := h.call(t, userOwn, h.req(t, strings.ToUpper(uma.UserID)), "authorization", "Bearer "+uma.JWT)
		require.NoError(t, c.err)
		assert.Equal(t, uma.UserID, c.principal.UserID)
	})
	t.Run("user field naming another user", func(t *testing.T) {
		c := h.call(t, userOwn, h.req(t, ugo.UserID), "authorization", "Bearer "+uma.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "user_mismatch", c.field("access.reason"))
		assert.Equal(t, uma.UserID, c.field("caller.user_id"))
	})
	t.Run("opaque user token is checked by the consumer project", func(t *testing.T) {
		h.cemu.ResetRequests()
		h.emu.ResetRequests()
		c := h.call(t, userAny, h.req(t, ""), "authorization", "Bearer "+uma.Token)
		require.NoError(t, c.err)
		assert.Equal(t, KindUser, c.principal.Kind)
		assert.Equal(t, uma.UserID, c.principal.UserID)
		assert.Equal(t, stytchclient.MemberSession{Token: uma.Token}, c.principal.Session)
		assert.Equal(t, 1, h.cemu.Requests("POST /v1/sessions/authenticate"))
		assert.Zero(t, h.emu.Requests("*"), "the B2B project is not asked")
	})
	t.Run("user session cookies", func(t *testing.T) {
		c := h.call(t, userAny, h.req(t, ""), callmeta.CookieSessionJWT, uma.JWT, callmeta.CookieSessionToken, uma.Token)
		require.NoError(t, c.err)
		assert.Equal(t, KindUser, c.principal.Kind)
		assert.Equal(t, "cookie", c.field("access.via"))
	})
	t.Run("a member session never satisfies user_session", func(t *testing.T) {
		admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
		h.cemu.ResetRequests()
		c := h.call(t, userAny, h.req(t, ""), "authorization", "Bearer "+admin.JWT)
		requireRefused(t, c, codes.Unauthenticated)
		assert.Equal(t, "user", c.field("caller.kind"))
		assert.Equal(t, "wrong_project_type", c.field("access.reason"))
		assert.Zero(t, h.cemu.Requests("*"), "refused locally, no call to Stytch")
	})
	t.Run("a user session never satisfies member_session", func(t *testing.T) {
		h.emu.ResetRequests()
		c := h.call(t, memberOnly, h.req(t, ""), "authorization", "Bearer "+uma.JWT)
		requireRefused(t, c, codes.Unauthenticated)
		assert.Equal(t, "wrong_project_type", c.field("access.reason"))
		assert.Zero(t, h.emu.Requests("*"), "refused locally, no call to Stytch")
	})
	t.Run("an M2M token on a rule with user_session and scopes", func(t *testing.T) {
		tok, clientID := h.m2m(t, "read:users")
		c := h.call(t, userOrScope, h.req(t, ""), "authorization", "Bearer "+tok)
		require.NoError(t, c.err)
		assert.Equal(t, KindService, c.principal.Kind)
		assert.Equal(t, clientID, c.principal.ClientID)
	})
	assert.NotContains(t, h.logs.String(), "no consumer project")
}

func TestUserSessionWithoutAConsumerProjectAdmitsNobody(t *testing.T) {
	h := newUserHarness(t)
	uma := h.user(t, "uma@example.com")
	var logs bytes.Buffer
	acc, err := New(Config{Checker: h.checker, Files: h.files, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	h.acc = acc
	assert.Equal(t, 1, strings.Count(logs.String(), "no consumer project is configured"), "said once, at startup")
	h.cemu.ResetRequests()
	h.emu.ResetRequests()

	c := h.call(t, userAny, h.req(t, ""), "authorization", "Bearer "+uma.JWT)
	requireRefused(t, c, codes.PermissionDenied)
	assert.Equal(t, "no_consumer_project", c.field("access.reason"))
	c = h.call(t, userAny, h.req(t, ""), "authorization", "Bearer "+uma.Token)
	requireRefused(t, c, codes.PermissionDenied)
	assert.Zero(t, h.cemu.Requests("POST /v1/sessions/authenticate")+h.emu.Requests("*"), "nothing is asked")
	assert.Equal(t, 1, strings.Count(logs.String(), "no consumer project is configured"), "not repeated per call")
}

// Checkers swapped by mistake in the wiring never admit a session without its subject.
func TestCheckerOfTheWrongProjectAdmitsNobody(t *testing.T) {
	h := newUserHarness(t)
	uma := h.user(t, "uma@example.com")
	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	acc, err := New(Config{Checker: h.checker, UserChecker: h.checker, Files: h.files})
	require.NoError(t, err)
	h.acc = acc
	c := h.call(t, userAny, h.req(t, ""), "authorization", "Bearer "+admin.JWT)
	requireRefused(t, c, codes.PermissionDenied)
	assert.Equal(t, "not_a_user_session", c.field("access.reason"))

	wrong := &m2mOnly{Checker: h.checker, sessions: h.users}
	acc, err = New(Config{Checker: wrong, UserChecker: h.users, Files: h.files})
	require.NoError(t, err)
	h.acc = acc
	c = h.call(t, memberOnly, h.req(t, ""), "authorization", "Bearer "+uma.Token)
	requireRefused(t, c, codes.PermissionDenied)
	assert.Equal(t, "not_a_member_session", c.field("access.reason"))
}

// m2mOnly is a Checker whose session checks go to another checker.
type m2mOnly struct {
	Checker
	sessions SessionChecker
}

func (m *m2mOnly) Check(ctx context.Context, req session.Request) (*session.Result, error) {
	return m.sessions.Check(ctx, req) //nolint:wrapcheck // test double
}

func TestCallerKey(t *testing.T) {
	assert.Equal(t, "member:member-test-1", Principal{Kind: KindMember, MemberID: "member-test-1"}.CallerKey())
	assert.Equal(t, "user:user-test-1", Principal{Kind: KindUser, UserID: "user-test-1"}.CallerKey())
	assert.Equal(t, "service:m2m-client-test-1", Principal{Kind: KindService, ClientID: "m2m-client-test-1"}.CallerKey())
	assert.Empty(t, Principal{Kind: KindPublic, UserID: "user-test-1"}.CallerKey())
}

// The RPC's span names the user (never a token).
func TestUserCallerOnTheSpan(t *testing.T) {
	h := newUserHarness(t)
	uma := h.user(t, "uma@example.com")
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, span := tp.Tracer("test").Start(t.Context(), "rpc")
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+uma.JWT))
	_, err := h.acc.Unary()(ctx, h.req(t, ""), &grpc.UnaryServerInfo{FullMethod: userAny}, func(context.Context, any) (any, error) { return "ok", nil })
	require.NoError(t, err)
	span.End()
	require.Len(t, rec.Ended(), 1)
	attrs := map[string]string{}
	for _, a := range rec.Ended()[0].Attributes() {
		attrs[string(a.Key)] = a.Value.String()
		assert.NotContains(t, a.Value.String(), uma.JWT[:40])
	}
	assert.Equal(t, "user", attrs["authsvc.caller.kind"])
	assert.Equal(t, uma.UserID, attrs["authsvc.caller.user_id"])
	assert.NotContains(t, attrs, "authsvc.caller.member_id")
}
