package access

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const sandboxOrg = stytchemu.SandboxOrganizationID

var (
	membersGet    = b2bv1.MembersService_Get_FullMethodName    // member stytch_admin + org, or read:members
	membersUpdate = b2bv1.MembersService_Update_FullMethodName // any member + org, or write:members
	membersSearch = b2bv1.MembersService_Search_FullMethodName // list organization field
	revoke        = b2bv1.SessionsService_Revoke_FullMethodName
	createClient  = m2mv1.M2MService_CreateClient_FullMethodName // service only
	authenticate  = b2bv1.SessionsService_Authenticate_FullMethodName
)

func getReq(org string) *b2bv1.MembersServiceGetRequest {
	return &b2bv1.MembersServiceGetRequest{OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: "member-test-x"}}
}

func updateReq(org string) *b2bv1.MembersServiceUpdateRequest {
	return &b2bv1.MembersServiceUpdateRequest{OrganizationId: org, MemberId: "member-test-x"}
}

// requireRefused checks the code and that the refusal says nothing but the generic message.
func requireRefused(t *testing.T, c call, code codes.Code) {
	t.Helper()
	require.Error(t, c.err)
	assert.False(t, c.reached, "the handler must not run")
	st := status.Convert(c.err)
	assert.Equal(t, code, st.Code())
	wantReason := ReasonCredentialsMissing
	if code == codes.PermissionDenied {
		wantReason = ReasonAccessDenied
	}
	require.Len(t, st.Details(), 1)
	ei, ok := st.Details()[0].(*errdetails.ErrorInfo)
	require.True(t, ok)
	assert.Equal(t, wantReason, ei.GetReason())
	assert.Equal(t, rpcerr.Domain, ei.GetDomain())
	assert.Empty(t, ei.GetMetadata())
}

func TestNoCredentialsIsUnauthenticated(t *testing.T) {
	h := newHarness(t)
	c := h.call(t, membersGet, getReq(sandboxOrg))
	requireRefused(t, c, codes.Unauthenticated)
	assert.Equal(t, "none", c.field("caller.kind"))
	assert.Equal(t, "no_credentials", c.field("access.reason"))
}

func TestMalformedAuthorizationIsUnauthenticatedWithoutCallingStytch(t *testing.T) {
	h := newHarness(t)
	garbageJWT := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" // claims with neither session nor scope
	tests := []struct {
		name string
		md   []string
	}{
		{"basic scheme", []string{"authorization", "Basic dXNlcjpwYXNz"}},
		{"bearer without token", []string{"authorization", "Bearer "}},
		{"two tokens", []string{"authorization", "Bearer a b"}},
		{"two headers", []string{"authorization", "Bearer a", "authorization", "Bearer b"}},
		{"opaque token with bad characters", []string{"authorization", "Bearer tok%en"}},
		{"opaque token too long", []string{"authorization", "Bearer " + string(make([]byte, 300))}},
		{"jwt shape with junk", []string{"authorization", "Bearer a.b.c"}},
		{"jwt of no known kind", []string{"authorization", "Bearer " + garbageJWT}},
		{"jwt cookie with junk", []string{callmeta.CookieSessionJWT, "not-a-jwt"}},
		{"token cookie with junk", []string{callmeta.CookieSessionToken, "tok en"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.emu.Requests("*")
			c := h.call(t, membersGet, getReq(sandboxOrg), tt.md...)
			requireRefused(t, c, codes.Unauthenticated)
			assert.Equal(t, before, h.emu.Requests("*"), "junk must never reach Stytch")
		})
	}
}

func TestPublicRPCIgnoresCredentials(t *testing.T) {
	h := newHarness(t)
	req := &b2bv1.SessionsServiceAuthenticateRequest{Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: "x"}}
	for name, md := range map[string][]string{
		"none":             nil,
		"garbage bearer":   {"authorization", "Bearer a.b.c"},
		"stale jwt cookie": {callmeta.CookieSessionJWT, "x.y.z", callmeta.CookieSessionToken, "expired"},
	} {
		t.Run(name, func(t *testing.T) {
			before := h.emu.Requests("*")
			c := h.call(t, authenticate, req, md...)
			require.NoError(t, c.err)
			assert.True(t, c.reached)
			assert.Equal(t, KindPublic, c.principal.Kind)
			assert.Equal(t, "public", c.field("caller.kind"))
			assert.Equal(t, before, h.emu.Requests("*"), "a public RPC does not verify what it ignores")
		})
	}
}

func TestCredentialFieldAdmitsWithoutOtherCredentials(t *testing.T) {
	h := newHarness(t)
	withToken := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: "t"}}
	c := h.call(t, revoke, withToken)
	require.NoError(t, c.err)
	assert.Equal(t, "credential_field", c.field("access.via"))

	byID := &b2bv1.SessionsServiceRevokeRequest{Target: &b2bv1.SessionsServiceRevokeRequest_MemberSessionId{MemberSessionId: "s"}}
	requireRefused(t, h.call(t, revoke, byID), codes.Unauthenticated)
}

func TestM2MTokens(t *testing.T) {
	h := newHarness(t)
	writeM2M, clientID := h.m2m(t, "write:m2m_clients")
	wildcard, _ := h.m2m(t, "write:*")
	readOnly, _ := h.m2m(t, "read:m2m_clients")
	superish, _ := h.m2m(t, "*:*")
	readMembers, _ := h.m2m(t, "read:members")

	c := h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "Bearer "+writeM2M)
	require.NoError(t, c.err)
	assert.Equal(t, Principal{Kind: KindService, Credential: Credential{Kind: CredentialM2M, Token: writeM2M}, ClientID: clientID, Scopes: []string{"write:m2m_clients"}}, c.principal)
	assert.Equal(t, "service", c.field("caller.kind"))
	assert.Equal(t, clientID, c.field("caller.client_id"))
	assert.Zero(t, c.acting, "a service has no member session to forward")

	require.NoError(t, h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "bearer "+wildcard).err, "scheme is case-insensitive; write:* meets write:m2m_clients")

	for name, tok := range map[string]string{"read scope": readOnly, "*:* is no superuser": superish, "other resource": readMembers} {
		t.Run(name, func(t *testing.T) {
			c := h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "Bearer "+tok)
			requireRefused(t, c, codes.PermissionDenied)
			assert.Equal(t, "insufficient_scope", c.field("access.reason"))
		})
	}

	t.Run("service on a members-only rule", func(t *testing.T) {
		// Sessions.Revoke admits write:sessions; Members.Update with a read token: insufficient.
		c := h.call(t, membersUpdate, updateReq(sandboxOrg), "authorization", "Bearer "+readMembers)
		requireRefused(t, c, codes.PermissionDenied)
	})

	t.Run("forged signature", func(t *testing.T) {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		now := h.emu.Now()
		forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": "stytch.com/" + h.emu.ProjectID(), "aud": h.emu.ProjectID(), "sub": "m2m-client-test-x",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "write:m2m_clients",
		})
		forged.Header["kid"] = h.emu.KeyIDs()[0]
		tok, err := forged.SignedString(key)
		require.NoError(t, err)
		c := h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "Bearer "+tok)
		requireRefused(t, c, codes.Unauthenticated)
		assert.Equal(t, "bad_signature", c.field("access.reason"))
	})

	t.Run("expired", func(t *testing.T) {
		h.emu.Advance(2 * time.Hour)
		defer h.emu.Advance(-2 * time.Hour)
		requireRefused(t, h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "Bearer "+writeM2M), codes.Unauthenticated)
	})
}

func TestMemberSessions(t *testing.T) {
	h := newHarness(t)
	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	plain := h.member(t, sandboxOrg, "plain@stytch.com")
	other, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other"})
	require.NoError(t, err)
	foreign := h.member(t, other.ID, "foreign@example.com", "stytch_admin")

	t.Run("admin JWT is admitted locally and forwarded", func(t *testing.T) {
		before := h.emu.Requests("*")
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+admin.JWT)
		require.NoError(t, c.err)
		assert.Equal(t, before, h.emu.Requests("*"), "a fresh JWT is verified without Stytch")
		assert.Equal(t, KindMember, c.principal.Kind)
		assert.Equal(t, admin.MemberID, c.principal.MemberID)
		assert.Equal(t, sandboxOrg, c.principal.OrganizationID)
		assert.Equal(t, admin.ID, c.principal.SessionID)
		assert.Equal(t, stytchclient.MemberSession{JWT: admin.JWT}, c.acting)
		assert.Equal(t, "member", c.field("caller.kind"))
		assert.Equal(t, admin.MemberID, c.field("caller.member_id"))
	})
	t.Run("missing role", func(t *testing.T) {
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+plain.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "missing_role", c.field("access.reason"))
	})
	t.Run("no role needed: Stytch RBAC decides", func(t *testing.T) {
		c := h.call(t, membersUpdate, updateReq(sandboxOrg), "authorization", "Bearer "+plain.JWT)
		require.NoError(t, c.err)
		assert.Equal(t, stytchclient.MemberSession{JWT: plain.JWT}, c.acting)
	})
	t.Run("other organization", func(t *testing.T) {
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+foreign.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "organization_mismatch", c.field("access.reason"))
		requireRefused(t, h.call(t, membersGet, getReq(""), "authorization", "Bearer "+admin.JWT), codes.PermissionDenied)
	})
	t.Run("own organization ID in another letter case", func(t *testing.T) {
		// Stytch resolves an organization ID in any case to the same organization.
		require.NoError(t, h.call(t, membersGet, getReq(strings.ToUpper(sandboxOrg)), "authorization", "Bearer "+admin.JWT).err)
		search := &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{strings.ToUpper(sandboxOrg), sandboxOrg}}
		require.NoError(t, h.call(t, membersSearch, search, "authorization", "Bearer "+admin.JWT).err)
		c := h.call(t, membersGet, getReq(strings.ToUpper(other.ID)), "authorization", "Bearer "+admin.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "organization_mismatch", c.field("access.reason"))
	})
	t.Run("list organization field", func(t *testing.T) {
		search := func(orgs ...string) *b2bv1.MembersServiceSearchRequest {
			return &b2bv1.MembersServiceSearchRequest{OrganizationIds: orgs}
		}
		// Search names a permission (stytch.member search): tenancy is refused with the RBAC reason.
		require.NoError(t, h.call(t, membersSearch, search(sandboxOrg), "authorization", "Bearer "+admin.JWT).err)
		require.NoError(t, h.call(t, membersSearch, search(sandboxOrg, sandboxOrg), "authorization", "Bearer "+admin.JWT).err)
		for _, orgs := range [][]string{{sandboxOrg, other.ID}, {}} {
			c := h.call(t, membersSearch, search(orgs...), "authorization", "Bearer "+admin.JWT)
			assert.False(t, c.reached)
			code, reason := errorReason(t, c.err)
			assert.Equal(t, codes.PermissionDenied, code)
			assert.Equal(t, rbac.ReasonTenancy, reason)
		}
		// A stytch_member's roles do not grant stytch.member search.
		code, reason := errorReason(t, h.call(t, membersSearch, search(sandboxOrg), "authorization", "Bearer "+plain.JWT).err)
		assert.Equal(t, codes.PermissionDenied, code)
		assert.Equal(t, rbac.ReasonDenied, reason)
	})
	t.Run("member on a service-only rule", func(t *testing.T) {
		c := h.call(t, createClient, &m2mv1.CreateClientRequest{}, "authorization", "Bearer "+admin.JWT)
		requireRefused(t, c, codes.PermissionDenied)
		assert.Equal(t, "members_not_admitted", c.field("access.reason"))
	})
	t.Run("opaque session token goes to Stytch", func(t *testing.T) {
		before := h.emu.Requests("POST /v1/b2b/sessions/authenticate")
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+admin.Token)
		require.NoError(t, c.err)
		assert.Equal(t, before+1, h.emu.Requests("POST /v1/b2b/sessions/authenticate"))
		assert.Equal(t, stytchclient.MemberSession{Token: admin.Token}, c.acting)
		assert.Equal(t, admin.MemberID, c.principal.MemberID)
	})
	t.Run("unknown session token", func(t *testing.T) {
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+stytchemu.SandboxSessionTokenNotFound)
		requireRefused(t, c, codes.Unauthenticated)
	})
	t.Run("M2M token in a session cookie", func(t *testing.T) {
		tok, _ := h.m2m(t, "read:members")
		requireRefused(t, h.call(t, membersGet, getReq(sandboxOrg), callmeta.CookieSessionJWT, tok), codes.Unauthenticated)
	})
	t.Run("session cookies", func(t *testing.T) {
		c := h.call(t, membersGet, getReq(sandboxOrg), callmeta.CookieSessionJWT, admin.JWT, callmeta.CookieSessionToken, admin.Token)
		require.NoError(t, c.err)
		assert.Equal(t, "cookie", c.field("access.via"))
		assert.Equal(t, stytchclient.MemberSession{JWT: admin.JWT}, c.acting)
	})
	t.Run("bearer wins over cookies", func(t *testing.T) {
		c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+plain.JWT, callmeta.CookieSessionJWT, admin.JWT)
		requireRefused(t, c, codes.PermissionDenied)
	})
}

func TestExpiredSessionJWTIsRefreshedByStytch(t *testing.T) {
	h := newHarness(t)
	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	h.emu.Advance(10 * time.Minute) // past the JWT's 5 minutes, within the session's hour
	before := h.emu.Requests("POST /v1/b2b/sessions/authenticate")
	c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+admin.JWT)
	require.NoError(t, c.err)
	assert.Equal(t, before+1, h.emu.Requests("POST /v1/b2b/sessions/authenticate"))
	assert.NotEmpty(t, c.acting.JWT)
	assert.NotEqual(t, admin.JWT, c.acting.JWT, "Stytch's fresh JWT is forwarded, not the expired one")
}

func TestStaleJWTCookieFallsBackToTheTokenCookie(t *testing.T) {
	h := newHarness(t)
	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	// A JWT cookie that no longer verifies (here: a broken signature, as after a key rotation the
	// browser missed) next to a live session token cookie.
	stale := admin.JWT[:len(admin.JWT)-4] + "AAAA"
	c := h.call(t, membersGet, getReq(sandboxOrg), callmeta.CookieSessionJWT, stale, callmeta.CookieSessionToken, admin.Token)
	require.NoError(t, c.err)
	assert.Equal(t, stytchclient.MemberSession{Token: admin.Token}, c.acting)

	// Without the token cookie the stale JWT is simply refused.
	requireRefused(t, h.call(t, membersGet, getReq(sandboxOrg), callmeta.CookieSessionJWT, stale), codes.Unauthenticated)
}

func TestStytchOutageIsUnavailableNotUnauthenticated(t *testing.T) {
	h := newHarness(t)
	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	_, err := h.emu.AddFault(stytchemu.Fault{Pattern: "POST /v1/b2b/sessions/authenticate", Status: http.StatusServiceUnavailable, Times: 1})
	require.NoError(t, err)
	c := h.call(t, membersGet, getReq(sandboxOrg), "authorization", "Bearer "+admin.Token)
	st := status.Convert(c.err)
	assert.Equal(t, codes.Unavailable, st.Code())
	assert.False(t, c.reached)
}

func TestOpenAndUnknownServices(t *testing.T) {
	h := newHarness(t)
	c := h.call(t, healthpb.Health_Check_FullMethodName, &healthpb.HealthCheckRequest{})
	require.NoError(t, c.err)
	assert.True(t, c.reached)

	c = h.call(t, "/other.v1.Thing/Do", &healthpb.HealthCheckRequest{})
	requireRefused(t, c, codes.PermissionDenied)
	assert.Equal(t, "no_rule", c.field("access.reason"))
}

func TestStreamInterceptorDecidesBeforeTheHandler(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.m2m(t, "read:members")
	run := func(ctx context.Context, method string) (bool, error) {
		reached := false
		err := h.acc.Stream()(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: method}, func(_ any, ss grpc.ServerStream) error { //nolint:contextcheck // the stream carries its context
			reached = true
			assert.Equal(t, KindService, From(ss.Context()).Kind)
			return nil
		})
		return reached, err
	}
	// A governed method called as a stream: the rule is enforced from the metadata alone.
	md := metadata.Pairs("authorization", "Bearer "+tok)
	reached, err := run(metadata.NewIncomingContext(t.Context(), md), b2bv1.MembersService_DangerouslyGet_FullMethodName)
	require.NoError(t, err)
	assert.True(t, reached)
	reached, err = run(t.Context(), b2bv1.MembersService_DangerouslyGet_FullMethodName)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	assert.False(t, reached)
}

// fakeStream is the smallest grpc.ServerStream: the stream interceptor only reads its context.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func statusCode(err error) codes.Code { return status.Code(err) }
