package stytchclient_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// TestSessionsExchangeAccessToken turns a Connected Apps access token (created, authorized and
// redeemed over real HTTP against the emulator) back into a member session through the client.
func TestSessionsExchangeAccessToken(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	c := h.client
	org, err := h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Birch", Slug: "birch"})
	require.NoError(t, err)
	ses := testkit.MemberSession(t, h.emu, org.ID, stytchemu.MemberParams{Email: "bo@birch.test"})

	res, err := c.SessionsExchangeAccessToken(ctx, sc.SessionsExchangeAccessTokenParams{
		AccessToken:            testkit.ConnectedAppAccessToken(t, h.emu, ses.Token, true, "openid"),
		SessionDurationMinutes: 30,
		SessionCustomClaims:    sc.Metadata{"via": "connected-app"},
	})
	require.NoError(t, err)
	assert.Equal(t, ses.MemberID, res.MemberID)
	assert.Equal(t, org.ID, res.Organization.OrganizationID)
	require.NotEmpty(t, res.SessionToken)
	require.NotEmpty(t, res.SessionJWT)
	require.NotNil(t, res.MemberSession)
	assert.Equal(t, "connected-app", res.MemberSession.CustomClaims["via"])
	auth, err := c.SessionsAuthenticate(ctx, sc.SessionsAuthenticateParams{SessionToken: res.SessionToken})
	require.NoError(t, err)
	assert.Equal(t, ses.MemberID, auth.Member.MemberID)

	_, err = c.SessionsExchangeAccessToken(ctx, sc.SessionsExchangeAccessTokenParams{
		AccessToken: testkit.ConnectedAppAccessToken(t, h.emu, ses.Token, false, "openid"),
	})
	requireStytchError(t, err, http.StatusForbidden, "access_token_missing_full_access_scope", codes.PermissionDenied)
	_, err = c.SessionsExchangeAccessToken(ctx, sc.SessionsExchangeAccessTokenParams{AccessToken: "unknown-access-token"})
	requireStytchError(t, err, http.StatusNotFound, "idp_access_token_not_found", codes.NotFound)
	_, err = c.SessionsExchangeAccessToken(ctx, sc.SessionsExchangeAccessTokenParams{})
	requireStytchError(t, err, http.StatusBadRequest, "bad_request", codes.InvalidArgument)
}
