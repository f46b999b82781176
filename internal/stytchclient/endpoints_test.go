package stytchclient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// TestB2BEndpoints walks every B2B method through the emulator over real
// HTTP, in the order a product would call them. Steps depend on earlier
// ones, so a failure stops the walk.
func TestB2BEndpoints(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	c := h.client
	emu := h.emu

	var (
		org        sc.Organization
		admin      sc.Member // active member with a session
		adminJWT   string
		adminToken string
		other      sc.Member
	)

	t.Run("OrganizationCreate", func(t *testing.T) {
		res, err := c.OrganizationCreate(ctx, sc.OrganizationCreateParams{
			OrganizationName:    "Acme",
			OrganizationSlug:    uniqueSlug(t, "acme"),
			EmailAllowedDomains: []string{"example.com"},
			EmailInvites:        "ALL_ALLOWED",
		})
		require.NoError(t, err)
		assert.NotEmpty(t, res.RequestID)
		assert.Equal(t, "Acme", res.Organization.OrganizationName)
		assert.Equal(t, []string{"example.com"}, res.Organization.EmailAllowedDomains)
		org = res.Organization
	})
	require.NotEmpty(t, org.OrganizationID)

	t.Run("OrganizationGet", func(t *testing.T) {
		res, err := c.OrganizationGet(ctx, org.OrganizationID)
		require.NoError(t, err)
		assert.Equal(t, org.OrganizationID, res.Organization.OrganizationID)
	})

	t.Run("OrganizationUpdate clears a list with an empty slice and leaves nil fields alone", func(t *testing.T) {
		res, err := c.OrganizationUpdate(ctx, sc.OrganizationUpdateParams{
			OrganizationID:      org.OrganizationID,
			OrganizationName:    new("Acme Inc"),
			EmailAllowedDomains: []string{},
		})
		require.NoError(t, err)
		assert.Equal(t, "Acme Inc", res.Organization.OrganizationName)
		assert.Empty(t, res.Organization.EmailAllowedDomains)
		assert.Equal(t, org.OrganizationSlug, res.Organization.OrganizationSlug)
	})

	t.Run("OrganizationSearch", func(t *testing.T) {
		res, err := c.OrganizationSearch(ctx, sc.SearchParams{Limit: 10})
		require.NoError(t, err)
		assert.NotEmpty(t, res.Organizations)
	})

	t.Run("OrganizationMetrics", func(t *testing.T) {
		res, err := c.OrganizationMetrics(ctx, org.OrganizationID)
		require.NoError(t, err)
		assert.NotEmpty(t, res.RequestID)
		assert.Zero(t, res.MemberCount, "no members yet")
	})

	t.Run("MemberCreate", func(t *testing.T) {
		res, err := c.MemberCreate(ctx, sc.MemberCreateParams{
			OrganizationID: org.OrganizationID,
			EmailAddress:   "admin@example.com",
			Name:           "Ada",
			Roles:          []string{stytchemu.RoleAdmin},
		})
		require.NoError(t, err)
		assert.Equal(t, "admin@example.com", res.Member.EmailAddress)
		assert.Equal(t, "active", res.Member.Status)
		admin = res.Member

		res, err = c.MemberCreate(ctx, sc.MemberCreateParams{
			OrganizationID: org.OrganizationID,
			EmailAddress:   "bob@example.com",
			MFAPhoneNumber: "+15555550123",
		})
		require.NoError(t, err)
		other = res.Member
	})
	require.NotEmpty(t, admin.MemberID)

	t.Run("MemberGet by ID and by email", func(t *testing.T) {
		byID, err := c.MemberGet(ctx, sc.MemberGetParams{OrganizationID: org.OrganizationID, MemberID: admin.MemberID})
		require.NoError(t, err)
		assert.Equal(t, admin.MemberID, byID.Member.MemberID)
		byEmail, err := c.MemberGet(ctx, sc.MemberGetParams{OrganizationID: org.OrganizationID, EmailAddress: "admin@example.com"})
		require.NoError(t, err)
		assert.Equal(t, admin.MemberID, byEmail.MemberID)

		_, err = c.MemberGet(ctx, sc.MemberGetParams{OrganizationID: org.OrganizationID})
		require.Error(t, err, "neither ID nor email must fail before any request")
	})

	t.Run("MemberDangerouslyGet", func(t *testing.T) {
		res, err := c.MemberDangerouslyGet(ctx, admin.MemberID, false)
		require.NoError(t, err)
		assert.Equal(t, org.OrganizationID, res.Member.OrganizationID)
	})

	t.Run("MemberUpdate clears roles with an empty list", func(t *testing.T) {
		res, err := c.MemberUpdate(ctx, sc.MemberUpdateParams{
			OrganizationID: org.OrganizationID, MemberID: other.MemberID,
			Name: new("Bob"), Roles: []string{stytchemu.RoleAdmin},
		})
		require.NoError(t, err)
		assert.Equal(t, "Bob", res.Member.Name)
		assert.True(t, hasRole(res.Member, stytchemu.RoleAdmin))

		res, err = c.MemberUpdate(ctx, sc.MemberUpdateParams{
			OrganizationID: org.OrganizationID, MemberID: other.MemberID, Roles: []string{},
		})
		require.NoError(t, err)
		assert.False(t, hasRole(res.Member, stytchemu.RoleAdmin))
		assert.Equal(t, "Bob", res.Member.Name, "a nil Name must leave the name alone")
	})

	t.Run("MemberSearch", func(t *testing.T) {
		res, err := c.MemberSearch(ctx, sc.MemberSearchParams{OrganizationIDs: []string{org.OrganizationID}})
		require.NoError(t, err)
		assert.Len(t, res.Members, 2)
		assert.Contains(t, res.Organizations, org.OrganizationID)
	})

	t.Run("MemberDeleteMFAPhoneNumber", func(t *testing.T) {
		res, err := c.MemberDeleteMFAPhoneNumber(ctx, org.OrganizationID, other.MemberID, sc.MemberSession{})
		require.NoError(t, err)
		assert.Empty(t, res.Member.MFAPhoneNumber)
	})

	t.Run("MagicLinkLoginOrSignup then MagicLinkAuthenticate", func(t *testing.T) {
		res, err := c.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{
			OrganizationID: org.OrganizationID, EmailAddress: "admin@example.com",
		})
		require.NoError(t, err)
		assert.False(t, res.MemberCreated)
		msg, ok := emu.LastMessage("admin@example.com")
		require.True(t, ok)

		auth, err := c.MagicLinkAuthenticate(ctx, sc.MagicLinkAuthenticateParams{
			MagicLinksToken: msg.Token, SessionDurationMinutes: 60,
		})
		require.NoError(t, err)
		assert.True(t, auth.MemberAuthenticated)
		require.NotNil(t, auth.MemberSession)
		assert.Equal(t, admin.MemberID, auth.MemberSession.MemberID)
		assert.False(t, auth.MemberSession.ExpiresAt.IsZero())
		adminJWT, adminToken = auth.SessionJWT, auth.SessionToken
	})
	require.NotEmpty(t, adminJWT)
	acting := sc.MemberSession{Token: adminToken}

	t.Run("MagicLinkInvite with an acting member", func(t *testing.T) {
		res, err := c.MagicLinkInvite(ctx, sc.MagicLinkInviteParams{
			OrganizationID: org.OrganizationID, EmailAddress: "carol@example.com", ActingMember: acting,
		})
		require.NoError(t, err)
		assert.Equal(t, "invited", res.Member.Status)
	})

	t.Run("SessionsGet", func(t *testing.T) {
		res, err := c.SessionsGet(ctx, sc.SessionsGetParams{OrganizationID: org.OrganizationID, MemberID: admin.MemberID})
		require.NoError(t, err)
		require.Len(t, res.MemberSessions, 1)
	})

	t.Run("SessionsAuthenticate", func(t *testing.T) {
		res, err := c.SessionsAuthenticate(ctx, sc.SessionsAuthenticateParams{SessionToken: adminToken})
		require.NoError(t, err)
		assert.Equal(t, admin.MemberID, res.Member.MemberID)
		assert.NotEmpty(t, res.SessionJWT)
	})

	t.Run("GetJWKS and FetchJWKS", func(t *testing.T) {
		res, err := c.GetJWKS(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, res.Keys)
		assert.Equal(t, "RS256", res.Keys[0].Alg)
		raw, err := c.FetchJWKS(ctx)
		require.NoError(t, err)
		assert.Contains(t, string(raw), res.Keys[0].KID)
		before := emu.Requests("GET /v1/sessions/jwks/{project_id}")
		raw, err = c.FetchConsumerJWKS(ctx)
		require.NoError(t, err)
		assert.Contains(t, string(raw), `"keys"`)
		assert.Equal(t, before+1, emu.Requests("GET /v1/sessions/jwks/{project_id}"), "the consumer JWKS path")
	})

	t.Run("OTPEmailLoginOrSignup then OTPEmailAuthenticate", func(t *testing.T) {
		_, err := c.OTPEmailLoginOrSignup(ctx, sc.OTPEmailLoginOrSignupParams{
			OrganizationID: org.OrganizationID, EmailAddress: "admin@example.com",
		})
		require.NoError(t, err)
		msg, ok := emu.LastMessage("admin@example.com")
		require.True(t, ok)
		require.NotEmpty(t, msg.Code)
		res, err := c.OTPEmailAuthenticate(ctx, sc.OTPEmailAuthenticateParams{
			OrganizationID: org.OrganizationID, EmailAddress: "admin@example.com", Code: msg.Code,
		})
		require.NoError(t, err)
		assert.True(t, res.MemberAuthenticated)
	})

	t.Run("OTPSMSSend then OTPSMSAuthenticate", func(t *testing.T) {
		_, err := c.OTPSMSSend(ctx, sc.OTPSMSSendParams{
			OrganizationID: org.OrganizationID, MemberID: admin.MemberID,
			MFAPhoneNumber: "+15555550199", SessionToken: adminToken,
		})
		require.NoError(t, err)
		msg, ok := emu.LastMessage("+15555550199")
		require.True(t, ok)
		res, err := c.OTPSMSAuthenticate(ctx, sc.OTPSMSAuthenticateParams{
			OrganizationID: org.OrganizationID, MemberID: admin.MemberID, Code: msg.Code, SessionToken: adminToken,
		})
		require.NoError(t, err)
		assert.Equal(t, admin.MemberID, res.MemberID)
	})

	var ist string
	t.Run("MagicLinkDiscoverySend then MagicLinkDiscoveryAuthenticate", func(t *testing.T) {
		_, err := c.MagicLinkDiscoverySend(ctx, sc.MagicLinkDiscoverySendParams{EmailAddress: "admin@example.com"})
		require.NoError(t, err)
		msg, ok := emu.LastMessage("admin@example.com")
		require.True(t, ok)
		res, err := c.MagicLinkDiscoveryAuthenticate(ctx, sc.MagicLinkDiscoveryAuthenticateParams{DiscoveryMagicLinksToken: msg.Token})
		require.NoError(t, err)
		assert.NotEmpty(t, res.IntermediateSessionToken)
		assert.NotEmpty(t, res.DiscoveredOrganizations)
	})

	t.Run("OTPEmailDiscoverySend then OTPEmailDiscoveryAuthenticate", func(t *testing.T) {
		_, err := c.OTPEmailDiscoverySend(ctx, sc.OTPEmailDiscoverySendParams{EmailAddress: "admin@example.com"})
		require.NoError(t, err)
		msg, ok := emu.LastMessage("admin@example.com")
		require.True(t, ok)
		res, err := c.OTPEmailDiscoveryAuthenticate(ctx, sc.OTPEmailDiscoveryAuthenticateParams{EmailAddress: "admin@example.com", Code: msg.Code})
		require.NoError(t, err)
		ist = res.IntermediateSessionToken
	})
	require.NotEmpty(t, ist)

	t.Run("DiscoveryListOrganizations", func(t *testing.T) {
		res, err := c.DiscoveryListOrganizations(ctx, sc.DiscoveryListOrganizationsParams{IntermediateSessionToken: ist})
		require.NoError(t, err)
		assert.Equal(t, "admin@example.com", res.EmailAddress)
		require.NotEmpty(t, res.DiscoveredOrganizations)
	})

	t.Run("DiscoveryCreateOrganization", func(t *testing.T) {
		_, err := c.OTPEmailDiscoverySend(ctx, sc.OTPEmailDiscoverySendParams{EmailAddress: "founder@example.org"})
		require.NoError(t, err)
		msg, _ := emu.LastMessage("founder@example.org")
		d, err := c.OTPEmailDiscoveryAuthenticate(ctx, sc.OTPEmailDiscoveryAuthenticateParams{EmailAddress: "founder@example.org", Code: msg.Code})
		require.NoError(t, err)
		res, err := c.DiscoveryCreateOrganization(ctx, sc.DiscoveryCreateOrganizationParams{
			IntermediateSessionToken: d.IntermediateSessionToken,
			OrganizationName:         "Founded",
			OrganizationSlug:         uniqueSlug(t, "founded"),
		})
		require.NoError(t, err)
		assert.True(t, res.MemberAuthenticated)
		assert.Equal(t, "Founded", res.Organization.OrganizationName)
	})

	t.Run("DiscoveryExchangeIntermediateSession", func(t *testing.T) {
		res, err := c.DiscoveryExchangeIntermediateSession(ctx, sc.DiscoveryExchangeIntermediateSessionParams{
			IntermediateSessionToken: ist, OrganizationID: org.OrganizationID,
		})
		require.NoError(t, err)
		assert.Equal(t, admin.MemberID, res.MemberID)
		assert.NotEmpty(t, res.SessionJWT)
	})

	t.Run("SessionsExchange", func(t *testing.T) {
		second, err := c.OrganizationCreate(ctx, sc.OrganizationCreateParams{
			OrganizationName: "Second", OrganizationSlug: uniqueSlug(t, "second"),
		})
		require.NoError(t, err)
		_, err = c.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: second.Organization.OrganizationID, EmailAddress: "admin@example.com"})
		require.NoError(t, err)
		res, err := c.SessionsExchange(ctx, sc.SessionsExchangeParams{
			OrganizationID: second.Organization.OrganizationID, SessionToken: adminToken,
		})
		require.NoError(t, err)
		assert.Equal(t, second.Organization.OrganizationID, res.Organization.OrganizationID)
	})

	t.Run("SessionsRevoke", func(t *testing.T) {
		_, err := c.SessionsRevoke(ctx, sc.SessionsRevokeParams{MemberID: other.MemberID})
		require.NoError(t, err)
	})

	t.Run("MemberDelete then MemberReactivate", func(t *testing.T) {
		del, err := c.MemberDelete(ctx, org.OrganizationID, other.MemberID, acting)
		require.NoError(t, err)
		assert.Equal(t, other.MemberID, del.MemberID)
		res, err := c.MemberReactivate(ctx, org.OrganizationID, other.MemberID, acting)
		require.NoError(t, err)
		assert.Equal(t, "active", res.Member.Status)
	})

	t.Run("MemberDeletePassword of a member without one is a Stytch error", func(t *testing.T) {
		_, err := c.MemberDeletePassword(ctx, org.OrganizationID, "member-password-test-does-not-exist", sc.MemberSession{})
		require.Error(t, err)
		e, ok := sc.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusNotFound, e.StatusCode)
	})

	t.Run("OrganizationDelete", func(t *testing.T) {
		res, err := c.OrganizationDelete(ctx, org.OrganizationID, sc.MemberSession{JWT: adminJWT})
		require.NoError(t, err)
		assert.Equal(t, org.OrganizationID, res.OrganizationID)
		_, err = c.OrganizationGet(ctx, org.OrganizationID)
		assert.True(t, sc.IsNotFound(err), "got %v", err)
	})
}

func hasRole(m sc.Member, role string) bool {
	for _, r := range m.Roles {
		if r.RoleID == role {
			return true
		}
	}
	return false
}

// TestM2MEndpoints walks the M2M client lifecycle and the token endpoint.
func TestM2MEndpoints(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	c := h.client

	created, err := c.M2MClientCreate(ctx, sc.M2MClientCreateParams{
		Scopes: []string{"read:users", "write:users"}, ClientName: "billing",
	})
	require.NoError(t, err)
	id, secret := created.M2MClient.ClientID, created.M2MClient.ClientSecret
	require.NotEmpty(t, secret)

	t.Run("M2MClientGet", func(t *testing.T) {
		res, err := c.M2MClientGet(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "billing", res.M2MClient.ClientName)
	})
	t.Run("M2MClientUpdate", func(t *testing.T) {
		res, err := c.M2MClientUpdate(ctx, sc.M2MClientUpdateParams{ClientID: id, Scopes: []string{"read:users"}})
		require.NoError(t, err)
		assert.Equal(t, []string{"read:users"}, res.M2MClient.Scopes)
		assert.Equal(t, "billing", res.M2MClient.ClientName)
	})
	t.Run("M2MClientSearch", func(t *testing.T) {
		res, err := c.M2MClientSearch(ctx, sc.SearchParams{})
		require.NoError(t, err)
		require.Len(t, res.M2MClients, 1)
	})
	t.Run("M2MTokenRaw", func(t *testing.T) {
		tok, err := c.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: id, ClientSecret: secret, Scopes: []string{"read:users"}})
		require.NoError(t, err)
		assert.NotEmpty(t, tok.AccessToken)
		assert.Equal(t, 3600, tok.ExpiresIn)
	})
	t.Run("M2MTokenRaw with a wrong secret is an OAuth2 error", func(t *testing.T) {
		_, err := c.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: id, ClientSecret: "wrong-secret-123"})
		require.Error(t, err)
		e, ok := sc.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusUnauthorized, e.StatusCode)
		assert.Equal(t, "invalid_client", e.ErrorType)
		assert.NotEmpty(t, e.ErrorMessage)
		assert.True(t, sc.IsUnauthorized(err))
	})
	t.Run("rotation start, cancel, start, rotate", func(t *testing.T) {
		start, err := c.M2MSecretRotateStart(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, start.M2MClient.NextClientSecret)
		cancelled, err := c.M2MSecretRotateCancel(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, cancelled.M2MClient.NextClientSecretLastFour)

		start, err = c.M2MSecretRotateStart(ctx, id)
		require.NoError(t, err)
		next := start.M2MClient.NextClientSecret
		_, err = c.M2MSecretRotate(ctx, id)
		require.NoError(t, err)
		_, err = c.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: id, ClientSecret: next})
		require.NoError(t, err, "the promoted secret must work")
		_, err = c.M2MTokenRaw(ctx, sc.M2MTokenParams{ClientID: id, ClientSecret: secret})
		assert.True(t, sc.IsUnauthorized(err), "the old secret must not: %v", err)
	})
	t.Run("M2MClientDelete", func(t *testing.T) {
		res, err := c.M2MClientDelete(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, id, res.ClientID)
		_, err = c.M2MClientGet(ctx, id)
		assert.True(t, sc.IsNotFound(err))
		assert.Equal(t, "m2m_client_not_found", sc.ErrorType(err))
	})
}

// TestEveryMethodReportsStytchErrors calls every method with a client whose
// secret is wrong: each must return *Error with status 401, Stytch's error
// type and request ID, and a message free of the request's inputs.
func TestEveryMethodReportsStytchErrors(t *testing.T) {
	h := newHarness(t, func(c *sc.Config) { c.Secret = "secret-test-wrong" })
	c := h.client
	const email = "someone@example.com"
	acting := sc.MemberSession{Token: "tok"}

	calls := map[string]func(ctx context.Context) error{
		"MagicLinkLoginOrSignup": func(ctx context.Context) error {
			_, err := c.MagicLinkLoginOrSignup(ctx, sc.MagicLinkLoginOrSignupParams{OrganizationID: "o", EmailAddress: email})
			return err
		},
		"MagicLinkInvite": func(ctx context.Context) error {
			_, err := c.MagicLinkInvite(ctx, sc.MagicLinkInviteParams{OrganizationID: "o", EmailAddress: email, ActingMember: acting})
			return err
		},
		"MagicLinkDiscoverySend": func(ctx context.Context) error {
			_, err := c.MagicLinkDiscoverySend(ctx, sc.MagicLinkDiscoverySendParams{EmailAddress: email})
			return err
		},
		"MagicLinkAuthenticate": func(ctx context.Context) error {
			_, err := c.MagicLinkAuthenticate(ctx, sc.MagicLinkAuthenticateParams{MagicLinksToken: "t"})
			return err
		},
		"MagicLinkDiscoveryAuthenticate": func(ctx context.Context) error {
			_, err := c.MagicLinkDiscoveryAuthenticate(ctx, sc.MagicLinkDiscoveryAuthenticateParams{DiscoveryMagicLinksToken: "t"})
			return err
		},
		"OTPEmailLoginOrSignup": func(ctx context.Context) error {
			_, err := c.OTPEmailLoginOrSignup(ctx, sc.OTPEmailLoginOrSignupParams{OrganizationID: "o", EmailAddress: email})
			return err
		},
		"OTPEmailAuthenticate": func(ctx context.Context) error {
			_, err := c.OTPEmailAuthenticate(ctx, sc.OTPEmailAuthenticateParams{OrganizationID: "o", EmailAddress: email, Code: "123456"})
			return err
		},
		"OTPEmailDiscoverySend": func(ctx context.Context) error {
			_, err := c.OTPEmailDiscoverySend(ctx, sc.OTPEmailDiscoverySendParams{EmailAddress: email})
			return err
		},
		"OTPEmailDiscoveryAuthenticate": func(ctx context.Context) error {
			_, err := c.OTPEmailDiscoveryAuthenticate(ctx, sc.OTPEmailDiscoveryAuthenticateParams{EmailAddress: email, Code: "123456"})
			return err
		},
		"OTPSMSSend": func(ctx context.Context) error {
			_, err := c.OTPSMSSend(ctx, sc.OTPSMSSendParams{OrganizationID: "o", MemberID: "m"})
			return err
		},
		"OTPSMSAuthenticate": func(ctx context.Context) error {
			_, err := c.OTPSMSAuthenticate(ctx, sc.OTPSMSAuthenticateParams{OrganizationID: "o", MemberID: "m", Code: "123456"})
			return err
		},
		"SessionsGet": func(ctx context.Context) error {
			_, err := c.SessionsGet(ctx, sc.SessionsGetParams{OrganizationID: "o", MemberID: "m"})
			return err
		},
		"SessionsAuthenticate": func(ctx context.Context) error {
			_, err := c.SessionsAuthenticate(ctx, sc.SessionsAuthenticateParams{SessionToken: "t"})
			return err
		},
		"SessionsRevoke": func(ctx context.Context) error {
			_, err := c.SessionsRevoke(ctx, sc.SessionsRevokeParams{SessionToken: "t", ActingMember: acting})
			return err
		},
		"SessionsExchange": func(ctx context.Context) error {
			_, err := c.SessionsExchange(ctx, sc.SessionsExchangeParams{OrganizationID: "o", SessionToken: "t"})
			return err
		},
		"SessionsExchangeAccessToken": func(ctx context.Context) error {
			_, err := c.SessionsExchangeAccessToken(ctx, sc.SessionsExchangeAccessTokenParams{AccessToken: "t"})
			return err
		},
		"DiscoveryListOrganizations": func(ctx context.Context) error {
			_, err := c.DiscoveryListOrganizations(ctx, sc.DiscoveryListOrganizationsParams{IntermediateSessionToken: "t"})
			return err
		},
		"DiscoveryCreateOrganization": func(ctx context.Context) error {
			_, err := c.DiscoveryCreateOrganization(ctx, sc.DiscoveryCreateOrganizationParams{IntermediateSessionToken: "t"})
			return err
		},
		"DiscoveryExchangeIntermediateSession": func(ctx context.Context) error {
			_, err := c.DiscoveryExchangeIntermediateSession(ctx, sc.DiscoveryExchangeIntermediateSessionParams{IntermediateSessionToken: "t", OrganizationID: "o"})
			return err
		},
		"OrganizationCreate": func(ctx context.Context) error {
			_, err := c.OrganizationCreate(ctx, sc.OrganizationCreateParams{OrganizationName: "n"})
			return err
		},
		"OrganizationGet": func(ctx context.Context) error {
			_, err := c.OrganizationGet(ctx, "o")
			return err
		},
		"OrganizationUpdate": func(ctx context.Context) error {
			_, err := c.OrganizationUpdate(ctx, sc.OrganizationUpdateParams{OrganizationID: "o", ActingMember: acting})
			return err
		},
		"OrganizationDelete": func(ctx context.Context) error {
			_, err := c.OrganizationDelete(ctx, "o", acting)
			return err
		},
		"OrganizationSearch": func(ctx context.Context) error {
			_, err := c.OrganizationSearch(ctx, sc.SearchParams{})
			return err
		},
		"OrganizationMetrics": func(ctx context.Context) error {
			_, err := c.OrganizationMetrics(ctx, "o")
			return err
		},
		"MemberCreate": func(ctx context.Context) error {
			_, err := c.MemberCreate(ctx, sc.MemberCreateParams{OrganizationID: "o", EmailAddress: email, ActingMember: acting})
			return err
		},
		"MemberGet": func(ctx context.Context) error {
			_, err := c.MemberGet(ctx, sc.MemberGetParams{OrganizationID: "o", EmailAddress: email})
			return err
		},
		"MemberDangerouslyGet": func(ctx context.Context) error {
			_, err := c.MemberDangerouslyGet(ctx, "m", true)
			return err
		},
		"MemberUpdate": func(ctx context.Context) error {
			_, err := c.MemberUpdate(ctx, sc.MemberUpdateParams{OrganizationID: "o", MemberID: "m", ActingMember: acting})
			return err
		},
		"MemberDelete": func(ctx context.Context) error {
			_, err := c.MemberDelete(ctx, "o", "m", acting)
			return err
		},
		"MemberReactivate": func(ctx context.Context) error {
			_, err := c.MemberReactivate(ctx, "o", "m", acting)
			return err
		},
		"MemberDeleteMFAPhoneNumber": func(ctx context.Context) error {
			_, err := c.MemberDeleteMFAPhoneNumber(ctx, "o", "m", acting)
			return err
		},
		"MemberDeletePassword": func(ctx context.Context) error {
			_, err := c.MemberDeletePassword(ctx, "o", "p", acting)
			return err
		},
		"MemberSearch": func(ctx context.Context) error {
			_, err := c.MemberSearch(ctx, sc.MemberSearchParams{OrganizationIDs: []string{"o"}})
			return err
		},
		"M2MClientCreate": func(ctx context.Context) error {
			_, err := c.M2MClientCreate(ctx, sc.M2MClientCreateParams{})
			return err
		},
		"M2MClientGet": func(ctx context.Context) error {
			_, err := c.M2MClientGet(ctx, "c")
			return err
		},
		"M2MClientUpdate": func(ctx context.Context) error {
			_, err := c.M2MClientUpdate(ctx, sc.M2MClientUpdateParams{ClientID: "c"})
			return err
		},
		"M2MClientDelete": func(ctx context.Context) error {
			_, err := c.M2MClientDelete(ctx, "c")
			return err
		},
		"M2MClientSearch": func(ctx context.Context) error {
			_, err := c.M2MClientSearch(ctx, sc.SearchParams{})
			return err
		},
		"M2MSecretRotateStart": func(ctx context.Context) error {
			_, err := c.M2MSecretRotateStart(ctx, "c")
			return err
		},
		"M2MSecretRotate": func(ctx context.Context) error {
			_, err := c.M2MSecretRotate(ctx, "c")
			return err
		},
		"M2MSecretRotateCancel": func(ctx context.Context) error {
			_, err := c.M2MSecretRotateCancel(ctx, "c")
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context())
			require.Error(t, err)
			e, ok := sc.AsError(err)
			require.True(t, ok, "want *Error, got %T %v", err, err)
			assert.Equal(t, http.StatusUnauthorized, e.StatusCode)
			assert.Equal(t, "unauthorized_credentials", e.ErrorType)
			assert.NotEmpty(t, e.RequestID)
			assert.NotEmpty(t, e.ErrorURL)
			assert.True(t, sc.IsUnauthorized(err))
			assert.False(t, sc.IsUnavailable(err))
			assert.NotContains(t, err.Error(), email)
			assert.NotContains(t, err.Error(), "secret-test-wrong")
		})
	}
	// Every endpoint the emulator serves under basic auth is covered above
	// (the token and JWKS endpoints need none; they have their own tests).
	assert.Equal(t, len(calls), h.emu.Requests("*"))
}
