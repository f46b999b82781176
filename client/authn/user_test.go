package authn_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/client/authn"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// userFixture is the B2B fixture plus a consumer project whose keys and remote checks come from its
// emulator (authsvc's consumer SessionsService stands between them in production).
type userFixture struct {
	*fixture
	cemu *stytchemu.Server
}

func newUserFixture(t *testing.T) *userFixture {
	t.Helper()
	cemu := testkit.Emulator(t, stytchemu.WithConsumer())
	cc := testkit.Client(t, cemu, func(c *stytchclient.Config) { c.ProjectType = stytchclient.ProjectConsumer })
	f := newFixture(t, authn.WithConsumerFrom(cemu.ProjectID(), cc.FetchJWKS, cc))
	return &userFixture{fixture: f, cemu: cemu}
}

func (f *userFixture) userSession(t *testing.T, email string) stytchemu.UserSession {
	t.Helper()
	u, err := f.cemu.CreateUser(stytchemu.UserParams{Email: email, Verified: true})
	require.NoError(t, err)
	s, err := f.cemu.CreateUserSession(u.ID, time.Hour)
	require.NoError(t, err)
	return s
}

func TestConsumerUserSessions(t *testing.T) {
	f := newUserFixture(t)
	require.True(t, f.auth.Ready(), "both projects' keys are loaded")
	uma := f.userSession(t, "uma@example.com")

	t.Run("a user JWT is a user, verified locally", func(t *testing.T) {
		before := f.calls.snapshot()
		p, err := f.auth.Authenticate(t.Context(), uma.JWT)
		require.NoError(t, err)
		assert.Equal(t, authn.KindUser, p.Kind)
		assert.Equal(t, "user", p.Kind.String())
		assert.Equal(t, uma.UserID, p.UserID)
		assert.Equal(t, uma.ID, p.SessionID)
		assert.Empty(t, p.MemberID)
		assert.Empty(t, p.OrganizationID)
		assert.Contains(t, p.Roles, stytchemu.RoleUser)
		assert.Equal(t, authn.VerifiedLocally, p.VerifiedBy)
		assert.Empty(t, f.calls.since(before), "no call to authsvc")
	})
	t.Run("rules tell users and members apart", func(t *testing.T) {
		p, err := f.auth.Authenticate(t.Context(), uma.JWT)
		require.NoError(t, err)
		require.NoError(t, authn.Authorize(p, authn.Users()))
		require.NoError(t, authn.Authorize(p, authn.Users(stytchemu.RoleUser)))
		require.ErrorIs(t, authn.Authorize(p, authn.Users("admin")), authn.ErrPermissionDenied)
		require.ErrorIs(t, authn.Authorize(p, authn.Members()), authn.ErrPermissionDenied)
		assert.False(t, p.HasRoles(stytchemu.RoleUser), "a user is no member")

		s, err := f.env.Emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
		require.NoError(t, err)
		m, err := f.auth.Authenticate(t.Context(), s.JWT)
		require.NoError(t, err)
		assert.Equal(t, authn.KindMember, m.Kind, "member JWTs are still members")
		require.ErrorIs(t, authn.Authorize(m, authn.Users()), authn.ErrPermissionDenied)
	})
	t.Run("an expired user JWT of a live session is asked remotely", func(t *testing.T) {
		f.cemu.Advance(6 * time.Minute)
		f.env.Emu.Advance(6 * time.Minute) // the authenticator's clock
		f.cemu.ResetRequests()
		p, err := f.auth.Authenticate(t.Context(), uma.JWT)
		require.NoError(t, err)
		assert.Equal(t, authn.KindUser, p.Kind)
		assert.Equal(t, uma.UserID, p.UserID)
		assert.Equal(t, authn.VerifiedRemotely, p.VerifiedBy)
		assert.Equal(t, 1, f.cemu.Requests("POST /v1/sessions/authenticate"))
	})
	t.Run("a forged user JWT is refused", func(t *testing.T) {
		fresh := f.userSession(t, "ugo@example.com")
		_, err := f.auth.Authenticate(t.Context(), tamper(t, fresh.JWT))
		require.ErrorIs(t, err, authn.ErrUnauthenticated)
	})
}

// Without a consumer project, a user's JWT is refused (for what it is, never as a member).
func TestUserJWTWithoutConsumerSessionsIsRefused(t *testing.T) {
	f := newFixture(t)
	cemu := testkit.Emulator(t, stytchemu.WithConsumer())
	u, err := cemu.CreateUser(stytchemu.UserParams{Email: "uma@example.com"})
	require.NoError(t, err)
	s, err := cemu.CreateUserSession(u.ID, time.Hour)
	require.NoError(t, err)
	_, err = f.auth.Authenticate(t.Context(), s.JWT)
	require.ErrorIs(t, err, authn.ErrUnauthenticated)
}

// A step-up rule (a factor within a window) is decided from the session the JWT carries, on both
// paths: the emulator's sessions are signed in by email magic link when they are created.
func TestFactorRulesAreDecidedFromTheSession(t *testing.T) {
	f := newUserFixture(t)
	uma := f.userSession(t, "uma@example.com")
	recent := authn.Users().WithFactor("magic_link", 10*time.Minute)
	passkey := authn.Users().WithFactor("webauthn", 0)

	check := func(t *testing.T, want authn.Verifier) {
		t.Helper()
		p, err := f.auth.Authenticate(t.Context(), uma.JWT)
		require.NoError(t, err)
		assert.Equal(t, want, p.VerifiedBy)
		require.Len(t, p.Factors, 1)
		assert.Equal(t, "magic_link", p.Factors[0].Type)
		assert.Equal(t, "email", p.Factors[0].DeliveryMethod)
		assert.True(t, p.HasFactor("magic_link", 10*time.Minute))
		require.NoError(t, authn.Authorize(p, recent))
		err = authn.Authorize(p, passkey)
		require.ErrorIs(t, err, authn.ErrPermissionDenied)
		var ae *authn.Error
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "session_factor_required", ae.Reason())
		// Any rule that admits wins, as for roles.
		require.NoError(t, authn.Authorize(p, passkey, recent))
		assert.False(t, p.HasFactor("magic_link", time.Minute), "signed in more than a minute ago")
	}
	f.cemu.Advance(2 * time.Minute)
	f.env.Emu.Advance(2 * time.Minute) // the authenticator's clock
	t.Run("local", func(t *testing.T) { check(t, authn.VerifiedLocally) })

	f.cemu.Advance(5 * time.Minute) // the JWT has expired: the session is asked for remotely
	f.env.Emu.Advance(5 * time.Minute)
	t.Run("remote", func(t *testing.T) { check(t, authn.VerifiedRemotely) })

	f.cemu.Advance(5 * time.Minute) // 12 minutes since the sign-in
	f.env.Emu.Advance(5 * time.Minute)
	t.Run("too long ago", func(t *testing.T) {
		p, err := f.auth.Authenticate(t.Context(), uma.JWT)
		require.NoError(t, err)
		require.ErrorIs(t, authn.Authorize(p, recent), authn.ErrPermissionDenied)
		require.NoError(t, authn.Authorize(p, authn.Users().WithFactor("magic_link", 0)))
	})
	t.Run("services hold no factors", func(t *testing.T) {
		assert.False(t, (&authn.Principal{Kind: authn.KindService}).HasFactor("magic_link", 0))
	})
}
