package session_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/session"
	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/telemetry"
	"github.com/authsvc/authsvc/internal/testkit"
	"github.com/authsvc/authsvc/internal/testkit/sessionkit"
)

// The consumer checker is the member checker configured with a consumer project: these tests pin
// that user sessions take the same path (local JWT, revocations, Stytch only where the rules
// require it, budget, negative cache), against the consumer endpoint.

const userAuthenticate = "POST /v1/sessions/authenticate"

type userHarness struct {
	emu    *stytchemu.Server
	client *sc.Client
	auth   *session.Checker
	s      stytchemu.UserSession
}

func newUserHarness(t *testing.T, cfg ...func(*session.Config)) *userHarness {
	t.Helper()
	emu := testkit.Emulator(t, stytchemu.WithConsumer(), stytchemu.WithStartTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	client := testkit.Client(t, emu, func(c *sc.Config) { c.ProjectType = sc.ProjectConsumer })
	keys := sessionkit.JWKS(t, emu, client)
	checker := sessionkit.Checker(t, emu, client, keys, append([]func(*session.Config){sessionkit.Consumer(client)}, cfg...)...)
	s := sessionkit.UserSession(t, emu, "uma@example.com", time.Hour)
	emu.ResetRequests()
	return &userHarness{emu: emu, client: client, auth: checker, s: s}
}

func TestUserSessionJWTIsCheckedLocally(t *testing.T) {
	h := newUserHarness(t)
	assert.Equal(t, verify.ProjectConsumer, h.auth.ProjectType())
	res, err := h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT})
	require.NoError(t, err)
	assert.Equal(t, session.PathLocal, res.Path)
	assert.Equal(t, h.s.UserID, res.UserSession.UserID)
	assert.Equal(t, h.s.ID, res.UserSession.SessionID)
	assert.Equal(t, h.s.ID, res.SessionID())
	assert.Contains(t, res.UserSession.Roles, stytchemu.RoleUser)
	assert.Zero(t, res.Session, "a user session is not a member session")
	require.NotNil(t, res.Claims)
	assert.Equal(t, h.s.UserID, res.Claims.UserID)
	assert.Equal(t, sc.MemberSession{JWT: h.s.JWT}, res.Credential)
	assert.Equal(t, 0, h.emu.Requests("*"))
}

func TestUserSessionGoesToStytchOnlyWhereTheRulesRequire(t *testing.T) {
	h := newUserHarness(t)

	res, err := h.auth.Check(t.Context(), session.Request{Token: h.s.Token})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, "opaque_token", res.Reason)
	assert.Equal(t, h.s.UserID, res.UserSession.UserID)
	require.NotNil(t, res.UserStytch)
	assert.Equal(t, h.s.UserID, res.UserStytch.User.UserID)
	assert.Nil(t, res.Stytch)
	assert.Equal(t, sc.MemberSession{Token: h.s.Token}, res.Credential)
	assert.Equal(t, 1, h.emu.Requests(userAuthenticate))

	res, err = h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT, UserAuthorizationCheck: &sc.ConsumerAuthorizationCheck{ResourceID: "stytch.self", Action: "update.info.name"}})
	require.NoError(t, err)
	assert.Equal(t, "authorization_check", res.Reason)
	require.NotNil(t, res.UserStytch.Verdict)
	assert.True(t, res.UserStytch.Verdict.Authorized)
	assert.Equal(t, 2, h.emu.Requests(userAuthenticate))

	h.emu.Advance(6 * time.Minute) // past the JWT's 5 minutes; the session lives an hour
	res, err = h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT})
	require.NoError(t, err)
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, "expired", res.Reason)
	require.NotEmpty(t, res.Credential.JWT)
	assert.NotEqual(t, h.s.JWT, res.Credential.JWT, "Stytch's refreshed JWT is forwarded")
	assert.Equal(t, 3, h.emu.Requests(userAuthenticate))
	assert.Equal(t, 3, h.emu.Requests("*"), "only the consumer endpoint was asked")
}

func TestUserCheckerRefusesMemberJWTsAndB2BChecks(t *testing.T) {
	h := newUserHarness(t)
	// A B2B project's JWT signed with the consumer project's own key (the emulator signs what it is
	// given): only its shape tells it apart.
	now := h.emu.Now()
	memberJWT, err := h.emu.SignJWT(map[string]any{
		"iss": "stytch.com/" + h.emu.ProjectID(), "aud": []string{h.emu.ProjectID()}, "sub": "member-test-1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"https://stytch.com/session":      map[string]any{"id": "member-session-test-1"},
		"https://stytch.com/organization": map[string]any{"organization_id": "organization-test-1", "slug": "o"},
	})
	require.NoError(t, err)
	res, err := h.auth.Check(t.Context(), session.Request{JWT: memberJWT})
	require.ErrorIs(t, err, verify.ErrWrongProjectType)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.Equal(t, session.PathLocal, res.Path)

	_, err = h.auth.Check(t.Context(), session.Request{Token: h.s.Token, AuthorizationCheck: &sc.AuthorizationCheck{OrganizationID: "o", ResourceID: "r", Action: "a"}})
	require.ErrorIs(t, err, session.ErrAuthorizationCheckOfOtherProject)
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Equal(t, 0, h.emu.Requests("*"))
}

func TestUserRevocationsApplyOnEveryPath(t *testing.T) {
	revs := &revocations{sessions: map[string]bool{}, members: map[string]time.Time{}}
	h := newUserHarness(t, func(c *session.Config) { c.Revocations = revs })
	_, err := h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT})
	require.NoError(t, err)

	revs.mu.Lock()
	revs.members[h.s.UserID] = h.emu.Now().Add(time.Second) // "log out everywhere", by user ID
	revs.mu.Unlock()
	_, err = h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT, Fresh: true})
	require.ErrorIs(t, err, verify.ErrRevoked)

	revs.mu.Lock()
	delete(revs.members, h.s.UserID)
	revs.sessions[h.s.ID] = true
	revs.mu.Unlock()
	_, err = h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT})
	require.ErrorIs(t, err, verify.ErrRevoked)
	assert.Equal(t, 0, h.emu.Requests("*"), "a revoked user JWT costs no call to Stytch")
}

func TestUserRemoteChecksSpendTheBudgetAndTheNegativeCache(t *testing.T) {
	b := &budget{left: 3}
	h := newUserHarness(t, func(c *session.Config) { c.Budget = b; c.RejectedTTL = 30 * time.Second })
	bad := session.Request{Token: "not-a-live-user-session-token-0123"}

	_, first := h.auth.Check(t.Context(), bad)
	require.Error(t, first)
	assert.Equal(t, "session_not_found", sc.ErrorType(first))
	for range 3 {
		_, err := h.auth.Check(t.Context(), bad)
		assert.Equal(t, status.Convert(first).Proto(), status.Convert(err).Proto())
	}
	assert.Equal(t, 1, h.emu.Requests(userAuthenticate), "the rejection is remembered")

	_, err := h.auth.Check(t.Context(), session.Request{Token: h.s.Token})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false}, b.results, "a rejected user session is a failure, a valid one is not")
}

func TestNewRequiresTheRemoteOfItsProjectType(t *testing.T) {
	_, err := session.New(session.Config{ProjectID: "p", ProjectType: verify.ProjectConsumer, Remote: &sc.Client{}})
	require.ErrorContains(t, err, "UserRemote")
	_, err = session.New(session.Config{ProjectID: "p", UserRemote: &sc.Client{}})
	require.ErrorContains(t, err, "Remote")
}

// A consumer checker's decisions are counted in the same metric, with kind user_session.
func TestUserSessionsAreCountedApart(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	metrics, err := telemetry.NewAuthMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test"))
	require.NoError(t, err)
	h := newUserHarness(t, func(c *session.Config) { c.Metrics = metrics })

	_, err = h.auth.Check(t.Context(), session.Request{JWT: h.s.JWT})
	require.NoError(t, err)
	_, err = h.auth.Check(t.Context(), session.Request{Token: h.s.Token})
	require.NoError(t, err)

	kind := telemetry.AttrKind.String(telemetry.KindUserSession)
	local := testkit.CounterSum(t, reader, telemetry.MetricSessionVerifications, kind, telemetry.AttrPath.String(string(telemetry.PathLocal)))
	remote := testkit.CounterSum(t, reader, telemetry.MetricSessionVerifications, kind, telemetry.AttrPath.String(string(telemetry.PathRemote)))
	assert.Equal(t, int64(1), local)
	assert.Equal(t, int64(1), remote)
	assert.Zero(t, testkit.CounterSum(t, reader, telemetry.MetricSessionVerifications, telemetry.AttrKind.String(telemetry.KindSession)))
}
