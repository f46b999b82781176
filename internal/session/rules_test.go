package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// revocations is an in-memory revocation list (the production one, internal/revocation, has its
// own tests; here only the checker's use of it matters).
type revocations struct {
	mu       sync.Mutex
	sessions map[string]bool
	members  map[string]time.Time
}

func (r *revocations) IsRevoked(_ context.Context, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[id]
}

func (r *revocations) IsMemberRevoked(_ context.Context, id string, iat time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.members[id]
	return ok && iat.Before(at)
}

func TestRevokedSessionIsRefusedLocallyOnEveryPath(t *testing.T) {
	revs := &revocations{sessions: map[string]bool{}, members: map[string]time.Time{}}
	s := newSessionHarness(t, func(c *session.Config) { c.Revocations = revs })
	res, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.NoError(t, err, "valid before the revocation (and now in the verified-token cache)")

	revs.mu.Lock()
	revs.sessions[res.Session.MemberSessionID] = true
	revs.mu.Unlock()
	for name, req := range map[string]session.Request{
		"cached JWT":                      {JWT: s.jwt},
		"JWT with an authorization check": {JWT: s.jwt, AuthorizationCheck: &sc.AuthorizationCheck{OrganizationID: s.orgID, ResourceID: "stytch.member", Action: "read"}},
		"JWT asking for a fresh check":    {JWT: s.jwt, Fresh: true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.auth.Check(t.Context(), req)
			require.ErrorIs(t, err, verify.ErrRevoked)
			assert.Equal(t, codes.Unauthenticated, status.Code(err))
			assert.Equal(t, 0, s.emu.Requests("*"), "a revoked JWT costs no call to Stytch")
		})
	}
}

func TestMemberRevocationCutsOffOlderJWTs(t *testing.T) {
	revs := &revocations{sessions: map[string]bool{}, members: map[string]time.Time{}}
	s := newSessionHarness(t, func(c *session.Config) { c.Revocations = revs })
	revs.mu.Lock()
	revs.members[s.memberID] = s.emu.Now().Add(time.Second)
	revs.mu.Unlock()
	_, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.ErrorIs(t, err, verify.ErrRevoked)
}

func TestFallbackTokenWhenTheJWTNoLongerVerifies(t *testing.T) {
	s := newSessionHarness(t)
	forged := resign(t, s.jwt, mustKey(t))

	res, err := s.auth.Check(t.Context(), session.Request{JWT: forged, FallbackToken: s.token})
	require.NoError(t, err, "the browser's session lives: its token cookie proves it")
	assert.Equal(t, session.PathRemote, res.Path)
	assert.Equal(t, "opaque_token", res.Reason)
	assert.Equal(t, sc.MemberSession{Token: s.token}, res.Credential, "the token that proved the session is what is forwarded")

	_, err = s.auth.Check(t.Context(), session.Request{JWT: forged})
	require.ErrorIs(t, err, verify.ErrBadSignature, "without a fallback the JWT's rejection stands")
}

func TestRejectedCredentialIsAnsweredFromTheNegativeCache(t *testing.T) {
	s := newSessionHarness(t, func(c *session.Config) { c.RejectedTTL = 30 * time.Second })
	req := session.Request{Token: "not-a-live-session-token-0123456789"}

	_, first := s.auth.Check(t.Context(), req)
	require.Error(t, first)
	assert.Equal(t, "session_not_found", sc.ErrorType(first))
	require.Equal(t, 1, s.emu.Requests("POST /v1/b2b/sessions/authenticate"))

	for range 5 {
		res, err := s.auth.Check(t.Context(), req)
		require.Error(t, err)
		assert.Equal(t, status.Convert(first).Proto(), status.Convert(err).Proto(), "the same answer as Stytch gave")
		assert.Equal(t, session.PathRemote, res.Path)
	}
	assert.Equal(t, 1, s.emu.Requests("POST /v1/b2b/sessions/authenticate"), "answered without asking Stytch again")

	s.emu.Advance(31 * time.Second)
	_, err := s.auth.Check(t.Context(), req)
	require.Error(t, err)
	assert.Equal(t, 2, s.emu.Requests("POST /v1/b2b/sessions/authenticate"), "asked again once the entry expired")

	_, err = s.auth.Check(t.Context(), session.Request{Token: s.token})
	require.NoError(t, err, "a live token is never refused by the cache")
}

// budget records what the checker asked of it and refuses once spent.
type budget struct {
	mu      sync.Mutex
	left    int
	results []bool // failed, per settled check
}

func (b *budget) Admit(context.Context) (func(bool), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return nil, rpcerr.New(codes.ResourceExhausted, "rate_limited", "too many requests; retry later").WithRetry(time.Minute)
	}
	b.left--
	return func(failed bool) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.results = append(b.results, failed)
	}, nil
}

func TestRemoteChecksSpendTheBudget(t *testing.T) {
	b := &budget{left: 2}
	s := newSessionHarness(t, func(c *session.Config) { c.Budget = b; c.RejectedTTL = -1 })

	_, err := s.auth.Check(t.Context(), session.Request{JWT: s.jwt})
	require.NoError(t, err, "a local check spends nothing")
	_, err = s.auth.Check(t.Context(), session.Request{Token: s.token})
	require.NoError(t, err)
	_, err = s.auth.Check(t.Context(), session.Request{Token: "unknown-token-abcdefghijklmnop"})
	require.Error(t, err)
	assert.Equal(t, []bool{false, true}, b.results, "a valid session is no failure; a rejected one is")

	_, err = s.auth.Check(t.Context(), session.Request{Token: s.token})
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "refused once the budget is spent")
	assert.Equal(t, 2, s.emu.Requests("*"), "the refused check never reached Stytch")
}
