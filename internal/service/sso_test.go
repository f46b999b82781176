package service_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

const ssoSvc = "/authsvc.b2b.v1.SSOService/"

// SSO end to end through each transport, offline: a service creates a SAML connection and points
// it at the emulator's stand-in IdP by metadata URL; a new person signs in through the IdP (a real
// signed assertion), is provisioned with the mapped name, and the token works once; an OIDC
// connection signs an existing member in; a forged assertion, a wrong PKCE verifier and a member
// without stytch.sso are refused.
func TestSSORoundTrips(t *testing.T) {
	e := startEnvNoLimits(t)
	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			svc := orgsToken(t, e, "read:sso", "write:sso")
			org := e.org(t, stytchemu.OrganizationParams{})

			// A stytch_member may not create connections.
			plain := e.member(t, org.ID, stytchemu.MemberParams{})
			st := call(t, e.session(t, org.ID, plain.ID).Token, ssoSvc+"CreateSAMLConnection", "POST", "/v1/b2b/sso/saml/"+org.ID,
				&b2bv1.SSOServiceCreateSAMLConnectionRequest{OrganizationId: org.ID}, &b2bv1.SSOServiceCreateSAMLConnectionResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
			// Bad input names the field.
			st = call(t, svc, ssoSvc+"UpdateSAMLConnectionByURL", "PUT", "/v1/b2b/sso/saml/"+org.ID+"/connections/saml-connection-test-x/url",
				&b2bv1.SSOServiceUpdateSAMLConnectionByURLRequest{OrganizationId: org.ID, ConnectionId: "saml-connection-test-x", MetadataUrl: "not a url"}, nil)
			assert.Equal(t, codes.InvalidArgument, st.Code())

			cr := &b2bv1.SSOServiceCreateSAMLConnectionResponse{}
			st = call(t, svc, ssoSvc+"CreateSAMLConnection", "POST", "/v1/b2b/sso/saml/"+org.ID,
				&b2bv1.SSOServiceCreateSAMLConnectionRequest{OrganizationId: org.ID, DisplayName: "Okta", IdentityProvider: b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_OKTA}, cr)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			conn := cr.GetConnection()
			assert.Equal(t, b2bv1.SSOConnectionStatus_SSO_CONNECTION_STATUS_PENDING, conn.GetStatus())
			assert.Equal(t, b2bv1.SSOIdentityProvider_SSO_IDENTITY_PROVIDER_OKTA, conn.GetIdentityProvider())
			id := conn.GetConnectionId()

			ur := &b2bv1.SSOServiceUpdateSAMLConnectionByURLResponse{}
			st = call(t, svc, ssoSvc+"UpdateSAMLConnectionByURL", "PUT", "/v1/b2b/sso/saml/"+org.ID+"/connections/"+id+"/url",
				&b2bv1.SSOServiceUpdateSAMLConnectionByURLRequest{OrganizationId: org.ID, ConnectionId: id, MetadataUrl: e.Emu.URL + stytchemu.IdPSAMLMetadataPath}, ur)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, b2bv1.SSOConnectionStatus_SSO_CONNECTION_STATUS_ACTIVE, ur.GetConnection().GetStatus())
			require.Len(t, ur.GetConnection().GetVerificationCertificates(), 1)

			list := &b2bv1.SSOServiceGetConnectionsResponse{}
			st = call(t, svc, ssoSvc+"GetConnections", "GET", "/v1/b2b/sso/"+org.ID, &b2bv1.SSOServiceGetConnectionsRequest{OrganizationId: org.ID}, list)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			require.Len(t, list.GetSamlConnections(), 1)

			verifier := strings.Repeat("k", 50)
			sum := sha256.Sum256([]byte(verifier))
			start := &b2bv1.SSOServiceStartURLResponse{}
			st = call(t, "", ssoSvc+"StartURL", "POST", "/v1/b2b/sso/start_url",
				&b2bv1.SSOServiceStartURLRequest{ConnectionId: id, PkceCodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:])}, start)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			addr := email("sso")
			status, back, body := testkit.SSOSignIn(t, start.GetUrl(), testkit.SSOIdentity{Email: addr, Name: "Sam Sso"}, nil)
			require.Equal(t, http.StatusFound, status, body)
			tok := back.Query().Get("token")

			auth := &b2bv1.SSOServiceAuthenticateResponse{}
			st = call(t, "", ssoSvc+"Authenticate", "POST", "/v1/b2b/sso/authenticate",
				&b2bv1.SSOServiceAuthenticateRequest{SsoToken: tok, PkceCodeVerifier: strings.Repeat("z", 50)}, auth)
			assert.NotEqual(t, codes.OK, st.Code(), "a wrong PKCE verifier is refused")
			st = call(t, "", ssoSvc+"Authenticate", "POST", "/v1/b2b/sso/authenticate",
				&b2bv1.SSOServiceAuthenticateRequest{SsoToken: tok, PkceCodeVerifier: verifier}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.True(t, auth.GetMemberAuthenticated())
			assert.NotEmpty(t, auth.GetSessionToken())
			assert.Equal(t, addr, auth.GetMember().GetEmailAddress())
			assert.Equal(t, "Sam Sso", auth.GetMember().GetName(), "JIT provisioning takes the mapped name")
			assert.Equal(t, org.ID, auth.GetOrganizationId())

			st = call(t, "", ssoSvc+"Authenticate", "POST", "/v1/b2b/sso/authenticate",
				&b2bv1.SSOServiceAuthenticateRequest{SsoToken: tok, PkceCodeVerifier: verifier}, &b2bv1.SSOServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, st.Code(), "the token is single use")

			// A forged assertion is refused at the ACS: no token reaches the application.
			st = call(t, "", ssoSvc+"StartURL", "POST", "/v1/b2b/sso/start_url", &b2bv1.SSOServiceStartURLRequest{OrganizationId: org.ID}, start)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			status, back, _ = testkit.SSOSignIn(t, start.GetUrl(), testkit.SSOIdentity{Email: "forger@example.com"}, func(r string) string {
				raw, err := base64.StdEncoding.DecodeString(r)
				require.NoError(t, err)
				return base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(string(raw), "forger@example.com", addr)))
			})
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Nil(t, back)

			// OIDC: an existing member signs in.
			oc := &b2bv1.SSOServiceCreateOIDCConnectionResponse{}
			st = call(t, svc, ssoSvc+"CreateOIDCConnection", "POST", "/v1/b2b/sso/oidc/"+org.ID, &b2bv1.SSOServiceCreateOIDCConnectionRequest{OrganizationId: org.ID}, oc)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			oid := oc.GetConnection().GetConnectionId()
			iss := e.Emu.URL + stytchemu.IdPOIDCIssuerPath
			s := func(v string) *string { return &v }
			ou := &b2bv1.SSOServiceUpdateOIDCConnectionResponse{}
			st = call(t, svc, ssoSvc+"UpdateOIDCConnection", "PUT", "/v1/b2b/sso/oidc/"+org.ID+"/connections/"+oid, &b2bv1.SSOServiceUpdateOIDCConnectionRequest{
				OrganizationId: org.ID, ConnectionId: oid, ClientId: s("client"), ClientSecret: s("client-secret-value"), Issuer: s(iss),
				AuthorizationUrl: s(iss + "/authorize"), TokenUrl: s(iss + "/token"), JwksUrl: s(iss + "/jwks"), UserinfoUrl: s(iss + "/userinfo"),
			}, ou)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.True(t, ou.GetConnection().GetClientSecretSet())
			assert.Equal(t, b2bv1.SSOConnectionStatus_SSO_CONNECTION_STATUS_ACTIVE, ou.GetConnection().GetStatus())
			st = call(t, "", ssoSvc+"StartURL", "POST", "/v1/b2b/sso/start_url", &b2bv1.SSOServiceStartURLRequest{ConnectionId: oid}, start)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			status, back, body = testkit.SSOSignIn(t, start.GetUrl(), testkit.SSOIdentity{Email: plain.Email}, nil)
			require.Equal(t, http.StatusFound, status, body)
			st = call(t, "", ssoSvc+"Authenticate", "POST", "/v1/b2b/sso/authenticate", &b2bv1.SSOServiceAuthenticateRequest{SsoToken: back.Query().Get("token")}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, plain.ID, auth.GetMemberId())

			dr := &b2bv1.SSOServiceDeleteConnectionResponse{}
			st = call(t, svc, ssoSvc+"DeleteConnection", "DELETE", "/v1/b2b/sso/"+org.ID+"/connections/"+oid,
				&b2bv1.SSOServiceDeleteConnectionRequest{OrganizationId: org.ID, ConnectionId: oid}, dr)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, oid, dr.GetConnectionId())
		})
	}
}
