package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/gateway"
	"github.com/authsvc/authsvc/internal/policy"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// caller is one way of calling an RPC in the access table.
type caller struct {
	name string
	// Exactly one of these describes the credential.
	m2mScopes []string // an M2M token holding these scopes
	session   *stytchemu.Session
	roles     []string // the session's roles
	// user is a consumer user session (its JWT is presented like a member's).
	user *stytchemu.UserSession
	// bearer and cookie are filled per method (the right-scope token depends on the rule).
}

// accessFixtures are the objects the sample requests act on.
type accessFixtures struct {
	org           string
	target        stytchemu.Member // a member the member RPCs act on
	targetSession stytchemu.Session
	passwordID    string
	spareOrg      string              // an organization OrganizationsService.Delete may delete
	client        stytchemu.M2MClient // an M2M client the M2M RPCs act on
	accessToken   string              // some valid M2M access token (AuthenticateToken's input)
}

// sampleSCIMConnection is a well-formed SCIM connection ID (the access layer decides before
// Stytch looks it up).
const sampleSCIMConnection = "scim-connection-test-00000000-0000-4000-8000-000000000000"

// sampleRequests holds one valid request per RPC, keyed by full method name. The table test fails
// for an RPC that has none, so a new RPC cannot escape the access table.
func sampleRequests(f accessFixtures) map[string]proto.Message {
	const ssoConn = "saml-connection-test-00000000-0000-4000-8000-000000000000"
	org, sandbox := f.org, stytchemu.SandboxEmail
	ist := "intermediate-session-token-that-does-not-exist-00000"
	out := map[string]proto.Message{
		b2bv1.MagicLinksService_LoginOrSignup_FullMethodName:         &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: org, EmailAddress: sandbox},
		b2bv1.MagicLinksService_Invite_FullMethodName:                &b2bv1.MagicLinksServiceInviteRequest{OrganizationId: org, EmailAddress: sandbox},
		b2bv1.MagicLinksService_DiscoverySend_FullMethodName:         &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: sandbox},
		b2bv1.MagicLinksService_Authenticate_FullMethodName:          &b2bv1.MagicLinksServiceAuthenticateRequest{MagicLinksToken: stytchemu.SandboxMagicLinkToken},
		b2bv1.MagicLinksService_DiscoveryAuthenticate_FullMethodName: &b2bv1.MagicLinksServiceDiscoveryAuthenticateRequest{DiscoveryMagicLinksToken: stytchemu.SandboxMagicLinkTokenUnauth},

		b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName:         &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org, EmailAddress: sandbox},
		b2bv1.OTPsService_EmailAuthenticate_FullMethodName:          &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org, EmailAddress: sandbox, Code: "000000"},
		b2bv1.OTPsService_EmailDiscoverySend_FullMethodName:         &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: sandbox},
		b2bv1.OTPsService_EmailDiscoveryAuthenticate_FullMethodName: &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{EmailAddress: sandbox, Code: "000000"},
		b2bv1.OTPsService_SmsSend_FullMethodName: &b2bv1.OTPsServiceSmsSendRequest{
			OrganizationId: org, MemberId: stytchemu.SandboxMemberID,
			Credential: &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		},
		b2bv1.OTPsService_SmsAuthenticate_FullMethodName: &b2bv1.OTPsServiceSmsAuthenticateRequest{
			OrganizationId: org, MemberId: stytchemu.SandboxMemberID, Code: "000000",
			Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		},

		b2bv1.SessionsService_Authenticate_FullMethodName: &b2bv1.SessionsServiceAuthenticateRequest{
			Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: stytchemu.SandboxSessionToken},
		},
		b2bv1.SessionsService_Get_FullMethodName: &b2bv1.SessionsServiceGetRequest{OrganizationId: org, MemberId: f.target.ID},
		// By session ID, not by token: a credential field would admit every caller and hide the rule.
		b2bv1.SessionsService_Revoke_FullMethodName: &b2bv1.SessionsServiceRevokeRequest{
			Target: &b2bv1.SessionsServiceRevokeRequest_MemberSessionId{MemberSessionId: f.targetSession.ID},
		},
		b2bv1.SessionsService_Exchange_FullMethodName: &b2bv1.SessionsServiceExchangeRequest{
			OrganizationId: org, Credential: &b2bv1.SessionsServiceExchangeRequest_SessionToken{SessionToken: stytchemu.SandboxSessionToken},
		},
		b2bv1.SessionsService_GetJWKS_FullMethodName: &b2bv1.SessionsServiceGetJWKSRequest{},
		b2bv1.SessionsService_Attest_FullMethodName: &b2bv1.SessionsServiceAttestRequest{
			ProfileId: stytchemu.ExampleTrustedAuthProfileID, Token: "not-a-trusted-token", OrganizationId: org,
		},
		b2bv1.SessionsService_Migrate_FullMethodName: &b2bv1.SessionsServiceMigrateRequest{SessionToken: "external-token", OrganizationId: org},
		b2bv1.SessionsService_ExchangeAccessToken_FullMethodName: &b2bv1.SessionsServiceExchangeAccessTokenRequest{
			AccessToken: "not-a-connected-apps-token",
		},
		b2bv1.SessionsService_AuthenticateImpersonation_FullMethodName: &b2bv1.SessionsServiceAuthenticateImpersonationRequest{
			ImpersonationToken: "not-an-impersonation-token",
		},

		b2bv1.MembersService_Create_FullMethodName: &b2bv1.MembersServiceCreateRequest{OrganizationId: org, EmailAddress: "created@stytch.com"},
		b2bv1.MembersService_Get_FullMethodName: &b2bv1.MembersServiceGetRequest{
			OrganizationId: org, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: f.target.ID},
		},
		b2bv1.MembersService_Update_FullMethodName:               &b2bv1.MembersServiceUpdateRequest{OrganizationId: org, MemberId: f.target.ID, Name: proto.String("Target")},
		b2bv1.MembersService_Delete_FullMethodName:               &b2bv1.MembersServiceDeleteRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.MembersService_Search_FullMethodName:               &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{org}},
		b2bv1.MembersService_Reactivate_FullMethodName:           &b2bv1.MembersServiceReactivateRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.MembersService_DeleteMfaPhoneNumber_FullMethodName: &b2bv1.MembersServiceDeleteMfaPhoneNumberRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.MembersService_DeletePassword_FullMethodName:       &b2bv1.MembersServiceDeletePasswordRequest{OrganizationId: org, MemberPasswordId: f.passwordID},
		b2bv1.MembersService_DangerouslyGet_FullMethodName:       &b2bv1.MembersServiceDangerouslyGetRequest{MemberId: f.target.ID},
		b2bv1.MembersService_StartEmailUpdate_FullMethodName: &b2bv1.MembersServiceStartEmailUpdateRequest{
			OrganizationId: org, MemberId: f.target.ID, EmailAddress: sandbox,
		},
		b2bv1.MembersService_DeleteTotp_FullMethodName:       &b2bv1.MembersServiceDeleteTotpRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.MembersService_DeleteExternalId_FullMethodName: &b2bv1.MembersServiceDeleteExternalIdRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.MembersService_UnlinkRetiredEmail_FullMethodName: &b2bv1.MembersServiceUnlinkRetiredEmailRequest{
			OrganizationId: org, MemberId: f.target.ID, EmailAddress: "retired@stytch.com",
		},
		b2bv1.MembersService_OidcProviders_FullMethodName: &b2bv1.MembersServiceOidcProvidersRequest{OrganizationId: org, MemberId: f.target.ID},

		b2bv1.DiscoveryService_ListOrganizations_FullMethodName: &b2bv1.DiscoveryServiceListOrganizationsRequest{
			Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		},
		b2bv1.DiscoveryService_CreateOrganization_FullMethodName:          &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: ist, OrganizationName: "Acme"},
		b2bv1.DiscoveryService_ExchangeIntermediateSession_FullMethodName: &b2bv1.DiscoveryServiceExchangeIntermediateSessionRequest{IntermediateSessionToken: ist, OrganizationId: org},

		b2bv1.RBACService_GetPolicy_FullMethodName: &b2bv1.RBACServiceGetPolicyRequest{OrganizationId: org},

		b2bv1.OrganizationsService_Create_FullMethodName:  &b2bv1.OrganizationsServiceCreateRequest{OrganizationName: "Created Org"},
		b2bv1.OrganizationsService_Get_FullMethodName:     &b2bv1.OrganizationsServiceGetRequest{OrganizationId: org},
		b2bv1.OrganizationsService_Update_FullMethodName:  &b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: org, OrganizationLogoUrl: proto.String("")},
		b2bv1.OrganizationsService_Delete_FullMethodName:  &b2bv1.OrganizationsServiceDeleteRequest{OrganizationId: f.spareOrg},
		b2bv1.OrganizationsService_Search_FullMethodName:  &b2bv1.OrganizationsServiceSearchRequest{},
		b2bv1.OrganizationsService_Metrics_FullMethodName: &b2bv1.OrganizationsServiceMetricsRequest{OrganizationId: org},

		b2bv1.OAuthService_StartURL_FullMethodName: &b2bv1.OAuthServiceStartURLRequest{
			Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE, OrganizationId: org,
		},
		b2bv1.OAuthService_Authenticate_FullMethodName:          &b2bv1.OAuthServiceAuthenticateRequest{OauthToken: "oauth-token-nope"},
		b2bv1.OAuthService_DiscoveryAuthenticate_FullMethodName: &b2bv1.OAuthServiceDiscoveryAuthenticateRequest{DiscoveryOauthToken: "oauth-token-nope"},
		b2bv1.OAuthService_GetProviderTokens_FullMethodName: &b2bv1.OAuthServiceGetProviderTokensRequest{
			OrganizationId: org, MemberId: f.target.ID, Provider: b2bv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE,
		},

		b2bv1.SSOService_GetConnections_FullMethodName:       &b2bv1.SSOServiceGetConnectionsRequest{OrganizationId: org},
		b2bv1.SSOService_DeleteConnection_FullMethodName:     &b2bv1.SSOServiceDeleteConnectionRequest{OrganizationId: org, ConnectionId: ssoConn},
		b2bv1.SSOService_CreateSAMLConnection_FullMethodName: &b2bv1.SSOServiceCreateSAMLConnectionRequest{OrganizationId: org},
		b2bv1.SSOService_UpdateSAMLConnection_FullMethodName: &b2bv1.SSOServiceUpdateSAMLConnectionRequest{OrganizationId: org, ConnectionId: ssoConn},
		b2bv1.SSOService_UpdateSAMLConnectionByURL_FullMethodName: &b2bv1.SSOServiceUpdateSAMLConnectionByURLRequest{
			OrganizationId: org, ConnectionId: ssoConn, MetadataUrl: "https://idp.example.com/metadata",
		},
		b2bv1.SSOService_DeleteSAMLVerificationCertificate_FullMethodName: &b2bv1.SSOServiceDeleteSAMLVerificationCertificateRequest{
			OrganizationId: org, ConnectionId: ssoConn, CertificateId: "saml-verification-key-test-00000000-0000-4000-8000-000000000000",
		},
		b2bv1.SSOService_DeleteSAMLEncryptionPrivateKey_FullMethodName: &b2bv1.SSOServiceDeleteSAMLEncryptionPrivateKeyRequest{
			OrganizationId: org, ConnectionId: ssoConn, PrivateKeyId: "saml-encryption-key-test-00000000-0000-4000-8000-000000000000",
		},
		b2bv1.SSOService_CreateOIDCConnection_FullMethodName: &b2bv1.SSOServiceCreateOIDCConnectionRequest{OrganizationId: org},
		b2bv1.SSOService_UpdateOIDCConnection_FullMethodName: &b2bv1.SSOServiceUpdateOIDCConnectionRequest{OrganizationId: org, ConnectionId: ssoConn},
		b2bv1.SSOService_CreateExternalConnection_FullMethodName: &b2bv1.SSOServiceCreateExternalConnectionRequest{
			OrganizationId: org, ExternalOrganizationId: f.spareOrg, ExternalConnectionId: ssoConn,
		},
		b2bv1.SSOService_UpdateExternalConnection_FullMethodName:   &b2bv1.SSOServiceUpdateExternalConnectionRequest{OrganizationId: org, ConnectionId: ssoConn},
		b2bv1.SSOService_StartURL_FullMethodName:                   &b2bv1.SSOServiceStartURLRequest{OrganizationId: org},
		b2bv1.SSOService_Authenticate_FullMethodName:               &b2bv1.SSOServiceAuthenticateRequest{SsoToken: "sso-token-nope"},
		b2bv1.OrganizationsService_DeleteExternalId_FullMethodName: &b2bv1.OrganizationsServiceDeleteExternalIdRequest{OrganizationId: org},
		// Create without intermediate_session_token: a credential field would admit every caller
		// and hide the rule.
		b2bv1.TOTPsService_Create_FullMethodName: &b2bv1.TOTPsServiceCreateRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.TOTPsService_Authenticate_FullMethodName: &b2bv1.TOTPsServiceAuthenticateRequest{
			OrganizationId: org, MemberId: f.target.ID, Code: "000000",
			Credential: &b2bv1.TOTPsServiceAuthenticateRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		},
		b2bv1.TOTPsService_Migrate_FullMethodName: &b2bv1.TOTPsServiceMigrateRequest{
			OrganizationId: org, MemberId: f.target.ID, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		},
		b2bv1.RecoveryCodesService_Get_FullMethodName:    &b2bv1.RecoveryCodesServiceGetRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.RecoveryCodesService_Rotate_FullMethodName: &b2bv1.RecoveryCodesServiceRotateRequest{OrganizationId: org, MemberId: f.target.ID},
		b2bv1.RecoveryCodesService_Recover_FullMethodName: &b2bv1.RecoveryCodesServiceRecoverRequest{
			OrganizationId: org, MemberId: f.target.ID, RecoveryCode: "abcd-efgh-ijkl",
			Credential: &b2bv1.RecoveryCodesServiceRecoverRequest_IntermediateSessionToken{IntermediateSessionToken: ist},
		},
		b2bv1.PasswordsService_Authenticate_FullMethodName: &b2bv1.PasswordsServiceAuthenticateRequest{
			OrganizationId: org, EmailAddress: f.target.Email, Password: "not the password",
		},
		b2bv1.PasswordsService_StrengthCheck_FullMethodName: &b2bv1.PasswordsServiceStrengthCheckRequest{Password: "tangerine Orbit 42 velvet"},
		b2bv1.PasswordsService_EmailResetStart_FullMethodName: &b2bv1.PasswordsServiceEmailResetStartRequest{
			OrganizationId: org, EmailAddress: f.target.Email,
		},
		b2bv1.PasswordsService_EmailReset_FullMethodName: &b2bv1.PasswordsServiceEmailResetRequest{
			PasswordResetToken: "not-a-reset-token", Password: "tangerine Orbit 42 velvet",
		},
		b2bv1.PasswordsService_Migrate_FullMethodName: &b2bv1.PasswordsServiceMigrateRequest{
			OrganizationId: org, EmailAddress: "migrated@stytch.com", HashType: consumerv1.HashType_HASH_TYPE_BCRYPT,
			Hash: "$2a$04$4yZ8hW6Qb6gJ1QbJt7m0OeZk4dC0pP2o0rJ9c5mWZtX1e0fN7mQe2",
		},
		b2bv1.PasswordsService_ExistingPasswordReset_FullMethodName: &b2bv1.PasswordsServiceExistingPasswordResetRequest{
			OrganizationId: org, EmailAddress: f.target.Email, ExistingPassword: "not the password", NewPassword: "tangerine Orbit 42 velvet",
		},
		b2bv1.PasswordsService_SessionReset_FullMethodName: &b2bv1.PasswordsServiceSessionResetRequest{OrganizationId: org, Password: "tangerine Orbit 42 velvet"},
		b2bv1.PasswordsService_RequireReset_FullMethodName: &b2bv1.PasswordsServiceRequireResetRequest{OrganizationId: org, EmailAddress: f.target.Email},
		b2bv1.PasswordsService_DiscoveryAuthenticate_FullMethodName: &b2bv1.PasswordsServiceDiscoveryAuthenticateRequest{
			EmailAddress: f.target.Email, Password: "not the password",
		},
		b2bv1.PasswordsService_DiscoveryEmailResetStart_FullMethodName: &b2bv1.PasswordsServiceDiscoveryEmailResetStartRequest{EmailAddress: f.target.Email},
		b2bv1.PasswordsService_DiscoveryEmailReset_FullMethodName: &b2bv1.PasswordsServiceDiscoveryEmailResetRequest{
			PasswordResetToken: "not-a-reset-token", Password: "tangerine Orbit 42 velvet",
		},

		b2bv1.SCIMService_CreateConnection_FullMethodName:    &b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: org, DisplayName: "IdP"},
		b2bv1.SCIMService_GetConnection_FullMethodName:       &b2bv1.SCIMServiceGetConnectionRequest{OrganizationId: org},
		b2bv1.SCIMService_GetConnectionGroups_FullMethodName: &b2bv1.SCIMServiceGetConnectionGroupsRequest{OrganizationId: org, ConnectionId: sampleSCIMConnection, Limit: 10},
		b2bv1.SCIMService_UpdateConnection_FullMethodName: &b2bv1.SCIMServiceUpdateConnectionRequest{
			OrganizationId: org, ConnectionId: sampleSCIMConnection, DisplayName: proto.String("renamed"),
		},
		b2bv1.SCIMService_DeleteConnection_FullMethodName:    &b2bv1.SCIMServiceDeleteConnectionRequest{OrganizationId: org, ConnectionId: sampleSCIMConnection},
		b2bv1.SCIMService_RotateTokenStart_FullMethodName:    &b2bv1.SCIMServiceRotateTokenStartRequest{OrganizationId: org, ConnectionId: sampleSCIMConnection},
		b2bv1.SCIMService_RotateTokenComplete_FullMethodName: &b2bv1.SCIMServiceRotateTokenCompleteRequest{OrganizationId: org, ConnectionId: sampleSCIMConnection},
		b2bv1.SCIMService_RotateTokenCancel_FullMethodName:   &b2bv1.SCIMServiceRotateTokenCancelRequest{OrganizationId: org, ConnectionId: sampleSCIMConnection},

		m2mv1.M2MService_CreateClient_FullMethodName:       &m2mv1.CreateClientRequest{ClientName: "created", Scopes: []string{"read:widgets"}},
		m2mv1.M2MService_GetClient_FullMethodName:          &m2mv1.GetClientRequest{ClientId: f.client.ClientID},
		m2mv1.M2MService_UpdateClient_FullMethodName:       &m2mv1.UpdateClientRequest{ClientId: f.client.ClientID, ClientName: proto.String("renamed")},
		m2mv1.M2MService_DeleteClient_FullMethodName:       &m2mv1.DeleteClientRequest{ClientId: f.client.ClientID},
		m2mv1.M2MService_SearchClients_FullMethodName:      &m2mv1.SearchClientsRequest{},
		m2mv1.M2MService_RotateSecretStart_FullMethodName:  &m2mv1.RotateSecretStartRequest{ClientId: f.client.ClientID},
		m2mv1.M2MService_RotateSecret_FullMethodName:       &m2mv1.RotateSecretRequest{ClientId: f.client.ClientID},
		m2mv1.M2MService_RotateSecretCancel_FullMethodName: &m2mv1.RotateSecretCancelRequest{ClientId: f.client.ClientID},
		m2mv1.M2MService_IssueToken_FullMethodName:         &m2mv1.IssueTokenRequest{ClientId: f.client.ClientID, ClientSecret: f.client.ClientSecret},
		m2mv1.M2MService_AuthenticateToken_FullMethodName:  &m2mv1.AuthenticateTokenRequest{AccessToken: f.accessToken},
	}
	for method, req := range consumerSampleRequests() {
		out[method] = req
	}
	return out
}

// consumerSampleRequests are the consumer API's sample requests, on Stytch's sandbox user and
// sandbox values (the dev-mode consumer project has them).
func consumerSampleRequests() map[string]proto.Message {
	user, sandbox, phone := stytchemu.SandboxUserID, stytchemu.SandboxEmail, stytchemu.SandboxPhoneNumber
	id := func(prefix string) string { return prefix + "-test-00000000-0000-4000-8000-000000000000" }
	const code, password = "000000", "correct horse battery staple"
	return map[string]proto.Message{
		consumerv1.MagicLinksService_Send_FullMethodName:          &consumerv1.MagicLinksServiceSendRequest{Email: sandbox},
		consumerv1.MagicLinksService_LoginOrCreate_FullMethodName: &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: sandbox},
		consumerv1.MagicLinksService_Invite_FullMethodName:        &consumerv1.MagicLinksServiceInviteRequest{Email: sandbox},
		consumerv1.MagicLinksService_RevokeInvite_FullMethodName:  &consumerv1.MagicLinksServiceRevokeInviteRequest{Email: "invited@example.com"},
		consumerv1.MagicLinksService_Authenticate_FullMethodName:  &consumerv1.MagicLinksServiceAuthenticateRequest{Token: stytchemu.SandboxMagicLinkTokenUnauth},
		consumerv1.MagicLinksService_Create_FullMethodName:        &consumerv1.MagicLinksServiceCreateRequest{UserId: user},

		consumerv1.OTPsService_SmsSend_FullMethodName:               &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: phone},
		consumerv1.OTPsService_SmsLoginOrCreate_FullMethodName:      &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: phone},
		consumerv1.OTPsService_WhatsAppSend_FullMethodName:          &consumerv1.OTPsServiceWhatsAppSendRequest{PhoneNumber: phone},
		consumerv1.OTPsService_WhatsAppLoginOrCreate_FullMethodName: &consumerv1.OTPsServiceWhatsAppLoginOrCreateRequest{PhoneNumber: phone},
		consumerv1.OTPsService_EmailSend_FullMethodName:             &consumerv1.OTPsServiceEmailSendRequest{Email: sandbox},
		consumerv1.OTPsService_EmailLoginOrCreate_FullMethodName:    &consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: sandbox},
		consumerv1.OTPsService_Authenticate_FullMethodName:          &consumerv1.OTPsServiceAuthenticateRequest{MethodId: id("phone-number"), Code: code},

		consumerv1.SessionsService_Authenticate_FullMethodName: &consumerv1.SessionsServiceAuthenticateRequest{
			Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: stytchemu.SandboxSessionToken},
		},
		consumerv1.SessionsService_Get_FullMethodName: &consumerv1.SessionsServiceGetRequest{UserId: user},
		// By session ID, not by token: a credential field would admit every caller and hide the rule.
		consumerv1.SessionsService_Revoke_FullMethodName: &consumerv1.SessionsServiceRevokeRequest{
			Target: &consumerv1.SessionsServiceRevokeRequest_SessionId{SessionId: id("session")},
		},
		consumerv1.SessionsService_GetJWKS_FullMethodName:             &consumerv1.SessionsServiceGetJWKSRequest{},
		consumerv1.SessionsService_Migrate_FullMethodName:             &consumerv1.SessionsServiceMigrateRequest{SessionToken: "another-providers-token"},
		consumerv1.SessionsService_ExchangeAccessToken_FullMethodName: &consumerv1.SessionsServiceExchangeAccessTokenRequest{AccessToken: "a-connected-apps-token"},

		consumerv1.UsersService_Create_FullMethodName:                      &consumerv1.UsersServiceCreateRequest{Email: "created-user@example.com"},
		consumerv1.UsersService_Get_FullMethodName:                         &consumerv1.UsersServiceGetRequest{UserId: user},
		consumerv1.UsersService_Update_FullMethodName:                      &consumerv1.UsersServiceUpdateRequest{UserId: user, Name: &consumerv1.Name{FirstName: "Sandy"}},
		consumerv1.UsersService_Delete_FullMethodName:                      &consumerv1.UsersServiceDeleteRequest{UserId: id("user")},
		consumerv1.UsersService_Search_FullMethodName:                      &consumerv1.UsersServiceSearchRequest{},
		consumerv1.UsersService_DeleteEmail_FullMethodName:                 &consumerv1.UsersServiceDeleteEmailRequest{EmailId: id("email")},
		consumerv1.UsersService_DeletePhoneNumber_FullMethodName:           &consumerv1.UsersServiceDeletePhoneNumberRequest{PhoneId: id("phone-number")},
		consumerv1.UsersService_DeletePassword_FullMethodName:              &consumerv1.UsersServiceDeletePasswordRequest{PasswordId: id("password")},
		consumerv1.UsersService_DeleteTOTP_FullMethodName:                  &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: id("totp")},
		consumerv1.UsersService_DeleteWebAuthnRegistration_FullMethodName:  &consumerv1.UsersServiceDeleteWebAuthnRegistrationRequest{WebauthnRegistrationId: id("webauthn-registration")},
		consumerv1.UsersService_DeleteOAuthRegistration_FullMethodName:     &consumerv1.UsersServiceDeleteOAuthRegistrationRequest{OauthUserRegistrationId: id("oauth-user")},
		consumerv1.UsersService_DeleteCryptoWallet_FullMethodName:          &consumerv1.UsersServiceDeleteCryptoWalletRequest{CryptoWalletId: id("crypto-wallet")},
		consumerv1.UsersService_DeleteBiometricRegistration_FullMethodName: &consumerv1.UsersServiceDeleteBiometricRegistrationRequest{BiometricRegistrationId: id("biometric-registration")},
		consumerv1.UsersService_ExchangePrimaryFactor_FullMethodName: &consumerv1.UsersServiceExchangePrimaryFactorRequest{
			UserId: id("user"), Factor: &consumerv1.UsersServiceExchangePrimaryFactorRequest_EmailAddress{EmailAddress: "new@example.com"},
		},

		consumerv1.PasswordsService_Create_FullMethodName:        &consumerv1.PasswordsServiceCreateRequest{Email: "pw-user@example.com", Password: password},
		consumerv1.PasswordsService_Authenticate_FullMethodName:  &consumerv1.PasswordsServiceAuthenticateRequest{Email: sandbox, Password: password},
		consumerv1.PasswordsService_StrengthCheck_FullMethodName: &consumerv1.PasswordsServiceStrengthCheckRequest{Password: password},
		consumerv1.PasswordsService_Migrate_FullMethodName: &consumerv1.PasswordsServiceMigrateRequest{
			Email: "migrated@example.com", Hash: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", HashType: consumerv1.HashType_HASH_TYPE_BCRYPT,
		},
		consumerv1.PasswordsService_EmailResetStart_FullMethodName: &consumerv1.PasswordsServiceEmailResetStartRequest{Email: sandbox},
		consumerv1.PasswordsService_EmailReset_FullMethodName:      &consumerv1.PasswordsServiceEmailResetRequest{Token: stytchemu.SandboxMagicLinkTokenUnauth, Password: password},
		consumerv1.PasswordsService_ExistingPasswordReset_FullMethodName: &consumerv1.PasswordsServiceExistingPasswordResetRequest{
			Email: sandbox, ExistingPassword: password, NewPassword: password + "!",
		},
		consumerv1.PasswordsService_SessionReset_FullMethodName: &consumerv1.PasswordsServiceSessionResetRequest{Password: password},

		consumerv1.OAuthService_StartURL_FullMethodName:      &consumerv1.OAuthServiceStartURLRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GOOGLE},
		consumerv1.OAuthService_Attach_FullMethodName:        &consumerv1.OAuthServiceAttachRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB, UserId: user},
		consumerv1.OAuthService_Authenticate_FullMethodName:  &consumerv1.OAuthServiceAuthenticateRequest{Token: "oauth-token-that-does-not-exist-000000000"},
		consumerv1.TOTPsService_Create_FullMethodName:        &consumerv1.TOTPsServiceCreateRequest{UserId: user},
		consumerv1.TOTPsService_Authenticate_FullMethodName:  &consumerv1.TOTPsServiceAuthenticateRequest{UserId: user, TotpCode: code},
		consumerv1.TOTPsService_RecoveryCodes_FullMethodName: &consumerv1.TOTPsServiceRecoveryCodesRequest{UserId: user},
		consumerv1.TOTPsService_Recover_FullMethodName:       &consumerv1.TOTPsServiceRecoverRequest{UserId: user, RecoveryCode: "abcd-efgh-ijkl"},

		consumerv1.CryptoWalletsService_AuthenticateStart_FullMethodName: &consumerv1.CryptoWalletsServiceAuthenticateStartRequest{
			CryptoWalletType: consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM, CryptoWalletAddress: "0x52908400098527886E0F7030069857D2E4169EE7",
		},
		consumerv1.CryptoWalletsService_Authenticate_FullMethodName: &consumerv1.CryptoWalletsServiceAuthenticateRequest{
			CryptoWalletType: consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM, CryptoWalletAddress: "0x52908400098527886E0F7030069857D2E4169EE7", Signature: "0x00",
		},
		consumerv1.WebAuthnService_RegisterStart_FullMethodName:     &consumerv1.WebAuthnServiceRegisterStartRequest{UserId: user, Domain: "localhost"},
		consumerv1.WebAuthnService_Register_FullMethodName:          &consumerv1.WebAuthnServiceRegisterRequest{UserId: user, PublicKeyCredential: "{}"},
		consumerv1.WebAuthnService_AuthenticateStart_FullMethodName: &consumerv1.WebAuthnServiceAuthenticateStartRequest{Domain: "localhost"},
		consumerv1.WebAuthnService_Authenticate_FullMethodName:      &consumerv1.WebAuthnServiceAuthenticateRequest{PublicKeyCredential: "{}"},
		consumerv1.WebAuthnService_Update_FullMethodName:            &consumerv1.WebAuthnServiceUpdateRequest{WebauthnRegistrationId: id("webauthn-registration"), Name: "Laptop"},
		consumerv1.WebAuthnService_ListCredentials_FullMethodName:   &consumerv1.WebAuthnServiceListCredentialsRequest{UserId: user, Domain: "localhost"},
	}
}

// authsvcMethods lists every RPC of every authsvc service in the linked descriptors.
func authsvcMethods(t *testing.T) []protoreflect.MethodDescriptor {
	t.Helper()
	var out []protoreflect.MethodDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			if !strings.HasPrefix(string(sd.FullName()), "authsvc.") {
				continue
			}
			for j := range sd.Methods().Len() {
				out = append(out, sd.Methods().Get(j))
			}
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].FullName() < out[j].FullName() })
	require.NotEmpty(t, out)
	return out
}

// expected is what the rule says about a caller: codes.OK (admitted: the handler answers, whatever
// it answers), codes.Unauthenticated or codes.PermissionDenied. It is computed from the proto option
// independently of internal/access.
func expected(r *accessv1.AccessRule, req proto.Message, c caller, sessionOrg string) codes.Code {
	if r.GetPublic() {
		return codes.OK
	}
	m := req.ProtoReflect()
	for _, name := range r.GetCredentialFields() {
		if m.Has(m.Descriptor().Fields().ByName(protoreflect.Name(name))) {
			return codes.OK
		}
	}
	switch {
	case c.m2mScopes != nil:
		if len(r.GetServiceScopes()) > 0 && verify.ScopesSatisfied(c.m2mScopes, r.GetServiceScopes()) {
			return codes.OK
		}
		return codes.PermissionDenied
	case c.user != nil:
		if !r.GetUserSession() {
			// A rule without user_session sends session credentials to the B2B checker, for which
			// a consumer user's JWT is no credential at all (wrong project type).
			return codes.Unauthenticated
		}
		if f := r.GetUserField(); f != "" {
			v := m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(f))).String()
			if v != "" && !strings.EqualFold(v, c.user.UserID) {
				return codes.PermissionDenied
			}
		}
		return codes.OK
	case c.session != nil:
		if r.GetUserSession() {
			// A user-session rule sends session credentials to the consumer project's checker, for
			// which a B2B member session is no credential at all (wrong project type: its JWT is
			// not even signature-checked).
			return codes.Unauthenticated
		}
		if !r.GetMemberSession() {
			return codes.PermissionDenied
		}
		for _, role := range r.GetMemberRoles() {
			if !slices.Contains(c.roles, role) {
				return codes.PermissionDenied
			}
		}
		if f := r.GetMemberOrganizationField(); f != "" {
			v := m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(f)))
			var orgs []string
			if l, ok := v.Interface().(protoreflect.List); ok {
				for i := range l.Len() {
					orgs = append(orgs, l.Get(i).String())
				}
			} else {
				orgs = []string{v.String()}
			}
			if len(orgs) == 0 || slices.ContainsFunc(orgs, func(o string) bool { return o != sessionOrg }) {
				return codes.PermissionDenied
			}
		}
		// The test project's policy is Stytch's defaults (docs/rbac.md).
		if p := r.GetPermission(); p != nil && !rbac.New(rbac.Defaults()).Allowed(c.roles, p.GetResourceId(), p.GetAction()) {
			return codes.PermissionDenied
		}
		return codes.OK
	}
	return codes.Unauthenticated
}

// The access table: every RPC (from the descriptors), over gRPC and REST, with no credentials, an M2M
// token with a wrong scope, one with the rule's scopes, member sessions of each default role (and
// an admin of another organization), and consumer user sessions (the user the request names, and
// another user), checked against what the proto option says.
func TestAccessTableEveryRPCOverGRPCAndREST(t *testing.T) {
	env := apptest.Start(t)
	org := stytchemu.SandboxOrganizationID

	admin := memberSession(t, env, org, "admin@stytch.com", "stytch_admin")
	plain := memberSession(t, env, org, "plain@stytch.com")
	otherOrg, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other Org"})
	require.NoError(t, err)
	foreignAdmin := memberSession(t, env, otherOrg.ID, "foreign@example.com", "stytch_admin")

	target, err := env.Emu.CreateMember(org, stytchemu.MemberParams{Email: "target@stytch.com"})
	require.NoError(t, err)
	targetSession, err := env.Emu.CreateSession(org, target.ID, 0)
	require.NoError(t, err)
	pw, err := env.Emu.AddMemberPassword(org, target.ID)
	require.NoError(t, err)
	subject, err := env.Emu.CreateM2MClient("subject", []string{"read:widgets"})
	require.NoError(t, err)
	// Deleting the sandbox organization would take every fixture with it.
	spare, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Spare Org"})
	require.NoError(t, err)

	// Consumer users: the one the sample requests name (Stytch's sandbox user), and another.
	require.NotNil(t, env.Consumer, "the test environment serves a consumer project")
	ownUser, err := env.Consumer.CreateUserSession(stytchemu.SandboxUserID, time.Hour)
	require.NoError(t, err)
	other, err := env.Consumer.CreateUser(stytchemu.UserParams{Email: "other-user@example.com"})
	require.NoError(t, err)
	otherUser, err := env.Consumer.CreateUserSession(other.ID, time.Hour)
	require.NoError(t, err)

	methods := authsvcMethods(t)
	var allScopes []string
	for _, md := range methods {
		for _, s := range policy.Of(md).GetAccess().GetServiceScopes() {
			if !slices.Contains(allScopes, s) {
				allScopes = append(allScopes, s)
			}
		}
	}
	sort.Strings(allScopes)
	admin2m, err := env.Emu.CreateM2MClient("caller", allScopes)
	require.NoError(t, err)
	wrong, err := env.Emu.CreateM2MClient("wrong-scope", []string{"read:widgets"})
	require.NoError(t, err)
	// Tokens are issued before any RPC runs: the table deletes and rotates clients.
	tokens := map[string]string{"wrong": m2mToken(t, env, wrong, nil)}
	tokenFor := func(scopes []string) string {
		key := strings.Join(scopes, " ")
		if tok, ok := tokens[key]; ok {
			return tok
		}
		tokens[key] = m2mToken(t, env, admin2m, scopes)
		return tokens[key]
	}
	ruleScopes := func(md protoreflect.MethodDescriptor) []string {
		if s := policy.Of(md).GetAccess().GetServiceScopes(); len(s) > 0 {
			return s
		}
		return allScopes
	}
	for _, md := range methods {
		tokenFor(ruleScopes(md))
	}

	samples := sampleRequests(accessFixtures{
		org: org, target: target, targetSession: targetSession, passwordID: pw, spareOrg: spare.ID,
		client: subject, accessToken: tokenFor(allScopes),
	})

	type credCase struct {
		caller
		org    string // the session's organization
		bearer func(md protoreflect.MethodDescriptor) string
	}
	cases := []credCase{
		{caller: caller{name: "no credentials"}},
		{caller: caller{name: "m2m wrong scope", m2mScopes: []string{"read:widgets"}}, bearer: func(protoreflect.MethodDescriptor) string { return tokens["wrong"] }},
		{caller: caller{name: "m2m rule scopes"}, bearer: func(md protoreflect.MethodDescriptor) string { return tokenFor(ruleScopes(md)) }},
		{caller: caller{name: "member stytch_admin", session: &admin, roles: []string{"stytch_admin", "stytch_member"}}, org: org},
		{caller: caller{name: "member stytch_member", session: &plain, roles: []string{"stytch_member"}}, org: org},
		{caller: caller{name: "stytch_admin of another organization", session: &foreignAdmin, roles: []string{"stytch_admin", "stytch_member"}}, org: otherOrg.ID},
		{caller: caller{name: "user own session", user: &ownUser}},
		{caller: caller{name: "another user's session", user: &otherUser}},
	}

	served := env.ServedServices(t)
	seen := map[codes.Code]int{}
	for _, md := range methods {
		method := policy.FullMethod(md)
		rule := policy.Of(md).GetAccess()
		require.NotNil(t, rule, "%s has no authsvc.access.v1.access option", method)
		req, ok := samples[method]
		require.True(t, ok, "no sample request for %s: add one to sampleRequests", method)
		require.Equal(t, md.Input().FullName(), req.ProtoReflect().Descriptor().FullName(), "sample request type for %s", method)
		if !served[string(md.Parent().FullName())] {
			// A service declared but not served yet (its handler has not landed): nothing to check;
			// it joins the table as soon as the app registers it.
			t.Logf("%s: not served, skipped", md.Parent().FullName())
			continue
		}

		for _, cc := range cases {
			c := cc.caller
			if cc.name == "m2m rule scopes" {
				c.m2mScopes = ruleScopes(md)
			}
			want := expected(rule, req, c, cc.org)
			seen[want]++
			t.Run(method+"/"+cc.name, func(t *testing.T) {
				var bearer, jwtCookie string
				if cc.bearer != nil {
					bearer = cc.bearer(md)
				}
				if cc.session != nil {
					jwtCookie = cc.session.JWT
				}
				if cc.user != nil {
					jwtCookie = cc.user.JWT
				}

				// gRPC: the session as a Bearer JWT.
				ctx := context.Background()
				if bearer != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
				} else if jwtCookie != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+jwtCookie)
				}
				out := newMessage(t, md.Output())
				err := env.Conn.Invoke(ctx, method, req, out)
				st := status.Convert(err)
				refused := accessRefusal(st.Details())
				if want == codes.OK {
					assert.False(t, refused, "gRPC: the rule admits this caller but access refused: %v", err)
				} else {
					assert.True(t, refused, "gRPC: the rule refuses this caller but access admitted it: %v", err)
					assert.Equal(t, want, st.Code(), "gRPC code")
				}

				// REST: the session as the browser's cookie.
				r := restCall(t, env, md, req, bearer, jwtCookie)
				if want == codes.OK {
					assert.False(t, r.refused, "REST: the rule admits this caller but access refused: %d %s", r.status, r.body)
					assert.NotRegexp(t, gatewayDecodeError, string(r.body), "REST: the sample request did not decode")
				} else {
					assert.True(t, r.refused, "REST: the rule refuses this caller but access admitted it: %d %s", r.status, r.body)
					assert.Equal(t, map[codes.Code]int{codes.Unauthenticated: 401, codes.PermissionDenied: 403}[want], r.status, "REST status")
					if want == codes.Unauthenticated {
						assert.Equal(t, `Bearer realm="authsvc"`, r.header.Get("WWW-Authenticate"))
					}
				}
			})
		}
	}
	// The table must exercise every outcome, or it proves less than it seems.
	assert.Positive(t, seen[codes.OK])
	assert.Positive(t, seen[codes.Unauthenticated])
	assert.Positive(t, seen[codes.PermissionDenied])
}

// The expectations above are derived from the proto; these pin a few of them by hand, so that a
// mistaken derivation (or a mistaken proto edit) cannot pass unnoticed.
func TestAccessTableExpectationsMatchTheDesign(t *testing.T) {
	byName := map[string]protoreflect.MethodDescriptor{}
	for _, md := range authsvcMethods(t) {
		byName[policy.FullMethod(md)] = md
	}
	s := &stytchemu.Session{}
	org := "organization-test-1"
	f := accessFixtures{org: org, target: stytchemu.Member{ID: "member-test-1"}, targetSession: stytchemu.Session{ID: "s"}, client: stytchemu.M2MClient{ClientID: "c"}}
	samples := sampleRequests(f)
	none := caller{}
	admin := caller{session: s, roles: []string{"stytch_admin", "stytch_member"}}
	member := caller{session: s, roles: []string{"stytch_member"}}
	readMembers := caller{m2mScopes: []string{"read:members"}}
	tests := []struct {
		method string
		c      caller
		org    string
		want   codes.Code
	}{
		{b2bv1.SessionsService_Authenticate_FullMethodName, none, "", codes.OK},
		{b2bv1.MagicLinksService_LoginOrSignup_FullMethodName, none, "", codes.OK},
		{b2bv1.SessionsService_Revoke_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.MembersService_Get_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_Get_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_Get_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.MembersService_Get_FullMethodName, readMembers, "", codes.OK},
		{b2bv1.MembersService_Update_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.MembersService_Update_FullMethodName, member, org, codes.OK}, // Stytch RBAC decides
		// Permission rules (stytch.member actions): stytch_admin grants them, stytch_member does not,
		// never in another organization; services keep their scopes.
		{b2bv1.MembersService_Create_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_Create_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_Create_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.MembersService_Create_FullMethodName, caller{m2mScopes: []string{"write:members"}}, "", codes.OK},
		{b2bv1.MembersService_Search_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_Delete_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_Reactivate_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_DangerouslyGet_FullMethodName, admin, org, codes.PermissionDenied},
		// Issue 17's member administration additions: stytch.member actions (external IDs: every
		// action), tokens of the member's identity provider for services only.
		{b2bv1.MembersService_StartEmailUpdate_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_StartEmailUpdate_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_StartEmailUpdate_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.MembersService_StartEmailUpdate_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.MembersService_DeleteTotp_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_DeleteTotp_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_DeleteExternalId_FullMethodName, admin, org, codes.OK},
		{b2bv1.MembersService_DeleteExternalId_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_UnlinkRetiredEmail_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.MembersService_UnlinkRetiredEmail_FullMethodName, caller{m2mScopes: []string{"write:members"}}, "", codes.OK},
		{b2bv1.MembersService_OidcProviders_FullMethodName, admin, org, codes.PermissionDenied},
		{b2bv1.MembersService_OidcProviders_FullMethodName, readMembers, "", codes.OK},
		{b2bv1.OrganizationsService_DeleteExternalId_FullMethodName, admin, org, codes.OK},
		{b2bv1.OrganizationsService_DeleteExternalId_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.OrganizationsService_DeleteExternalId_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		// Organizations: members reach only their own; changes need stytch_admin; create and search
		// cross organizations, so services only.
		{b2bv1.OrganizationsService_Get_FullMethodName, member, org, codes.OK},
		{b2bv1.OrganizationsService_Get_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.OrganizationsService_Metrics_FullMethodName, member, org, codes.OK},
		{b2bv1.OrganizationsService_Update_FullMethodName, admin, org, codes.OK},
		{b2bv1.OrganizationsService_Update_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.OrganizationsService_Update_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.OrganizationsService_Update_FullMethodName, caller{m2mScopes: []string{"write:organizations"}}, "", codes.OK},
		{b2bv1.OrganizationsService_Update_FullMethodName, caller{m2mScopes: []string{"read:organizations"}}, "", codes.PermissionDenied},
		{b2bv1.OrganizationsService_Create_FullMethodName, admin, org, codes.PermissionDenied},
		{b2bv1.OrganizationsService_Create_FullMethodName, caller{m2mScopes: []string{"write:organizations"}}, "", codes.OK},
		{b2bv1.OrganizationsService_Search_FullMethodName, admin, org, codes.PermissionDenied},
		{b2bv1.OrganizationsService_Search_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.OrganizationsService_Search_FullMethodName, caller{m2mScopes: []string{"read:organizations"}}, "", codes.OK},
		// B2B second factors: enrolment by the member's own session (the handler then checks the
		// member) or a service; migration by a service only; the codes' checks public.
		{b2bv1.TOTPsService_Create_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.TOTPsService_Create_FullMethodName, member, org, codes.OK},
		{b2bv1.TOTPsService_Create_FullMethodName, member, "organization-test-other", codes.PermissionDenied},
		{b2bv1.TOTPsService_Create_FullMethodName, caller{m2mScopes: []string{"write:members"}}, "", codes.OK},
		{b2bv1.TOTPsService_Create_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.TOTPsService_Authenticate_FullMethodName, none, "", codes.OK},
		{b2bv1.TOTPsService_Migrate_FullMethodName, admin, org, codes.PermissionDenied},
		{b2bv1.TOTPsService_Migrate_FullMethodName, caller{m2mScopes: []string{"write:members"}}, "", codes.OK},
		{b2bv1.RecoveryCodesService_Get_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.RecoveryCodesService_Get_FullMethodName, member, org, codes.OK},
		{b2bv1.RecoveryCodesService_Get_FullMethodName, readMembers, "", codes.OK},
		{b2bv1.RecoveryCodesService_Rotate_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.RecoveryCodesService_Recover_FullMethodName, none, "", codes.OK},
		// B2B passwords: public, the password is the proof.
		{b2bv1.PasswordsService_Authenticate_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_StrengthCheck_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_EmailResetStart_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_EmailReset_FullMethodName, none, "", codes.OK},
		// SCIM administration (stytch.scim permission rules): stytch_admin grants them,
		// stytch_member does not, never in another organization; services by read:scim/write:scim.
		{b2bv1.SCIMService_CreateConnection_FullMethodName, admin, org, codes.OK},
		{b2bv1.SCIMService_CreateConnection_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.SCIMService_CreateConnection_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.SCIMService_CreateConnection_FullMethodName, caller{m2mScopes: []string{"write:scim"}}, "", codes.OK},
		{b2bv1.SCIMService_CreateConnection_FullMethodName, caller{m2mScopes: []string{"read:scim"}}, "", codes.PermissionDenied},
		{b2bv1.SCIMService_GetConnection_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.SCIMService_GetConnection_FullMethodName, caller{m2mScopes: []string{"read:scim"}}, "", codes.OK},
		{b2bv1.SCIMService_RotateTokenStart_FullMethodName, admin, org, codes.OK},
		{b2bv1.SCIMService_RotateTokenStart_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.SCIMService_DeleteConnection_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.PasswordsService_ExistingPasswordReset_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_DiscoveryAuthenticate_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_DiscoveryEmailResetStart_FullMethodName, none, "", codes.OK},
		{b2bv1.PasswordsService_DiscoveryEmailReset_FullMethodName, none, "", codes.OK},
		// Migrate and RequireReset: administration, as MembersService.Create; SessionReset: the
		// caller's own session.
		{b2bv1.PasswordsService_Migrate_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.PasswordsService_Migrate_FullMethodName, admin, org, codes.OK},
		{b2bv1.PasswordsService_Migrate_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.PasswordsService_Migrate_FullMethodName, admin, "organization-test-other", codes.PermissionDenied},
		{b2bv1.PasswordsService_Migrate_FullMethodName, caller{m2mScopes: []string{"write:members"}}, "", codes.OK},
		{b2bv1.PasswordsService_RequireReset_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.PasswordsService_RequireReset_FullMethodName, admin, org, codes.OK},
		{b2bv1.PasswordsService_RequireReset_FullMethodName, member, org, codes.PermissionDenied},
		{b2bv1.PasswordsService_RequireReset_FullMethodName, readMembers, "", codes.PermissionDenied},
		{b2bv1.PasswordsService_SessionReset_FullMethodName, none, "", codes.Unauthenticated},
		{b2bv1.PasswordsService_SessionReset_FullMethodName, member, org, codes.OK},
		{b2bv1.PasswordsService_SessionReset_FullMethodName, member, "organization-test-other", codes.PermissionDenied},
		{m2mv1.M2MService_CreateClient_FullMethodName, admin, org, codes.PermissionDenied},
		{m2mv1.M2MService_CreateClient_FullMethodName, caller{m2mScopes: []string{"write:m2m_clients"}}, "", codes.OK},
		{m2mv1.M2MService_CreateClient_FullMethodName, caller{m2mScopes: []string{"write:*"}}, "", codes.OK},
		{m2mv1.M2MService_CreateClient_FullMethodName, caller{m2mScopes: []string{"*:*"}}, "", codes.PermissionDenied},
		// The consumer API: login flows public, administration by service scopes only, a member
		// session (of the B2B project) never admitted.
		{consumerv1.MagicLinksService_Send_FullMethodName, none, "", codes.OK},
		{consumerv1.PasswordsService_Authenticate_FullMethodName, none, "", codes.OK},
		{consumerv1.MagicLinksService_Invite_FullMethodName, caller{m2mScopes: []string{"write:users"}}, "", codes.OK},
		{consumerv1.MagicLinksService_Invite_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.UsersService_Create_FullMethodName, admin, org, codes.PermissionDenied},
		{consumerv1.UsersService_Get_FullMethodName, caller{m2mScopes: []string{"read:users"}}, "", codes.OK},
		{consumerv1.UsersService_Get_FullMethodName, caller{m2mScopes: []string{"write:users"}}, "", codes.PermissionDenied},
		{consumerv1.UsersService_Search_FullMethodName, readMembers, "", codes.PermissionDenied},
		{consumerv1.SessionsService_Revoke_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.SessionsService_Migrate_FullMethodName, caller{m2mScopes: []string{"write:sessions"}}, "", codes.OK},
		{consumerv1.PasswordsService_SessionReset_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.PasswordsService_Migrate_FullMethodName, member, org, codes.PermissionDenied},
		{consumerv1.OAuthService_Authenticate_FullMethodName, none, "", codes.OK},
		{consumerv1.OAuthService_StartURL_FullMethodName, none, "", codes.OK},
		{consumerv1.OAuthService_Attach_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.OAuthService_Attach_FullMethodName, caller{m2mScopes: []string{"write:users"}}, "", codes.OK},
		{consumerv1.OAuthService_Attach_FullMethodName, caller{m2mScopes: []string{"read:users"}}, "", codes.PermissionDenied},
		{consumerv1.OAuthService_Attach_FullMethodName, member, org, codes.Unauthenticated}, // a member session is no user credential
		{consumerv1.TOTPsService_Authenticate_FullMethodName, none, "", codes.OK},
		{consumerv1.TOTPsService_Create_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.TOTPsService_RecoveryCodes_FullMethodName, caller{m2mScopes: []string{"read:users"}}, "", codes.OK},
		{consumerv1.TOTPsService_RecoveryCodes_FullMethodName, member, org, codes.PermissionDenied},
		{consumerv1.CryptoWalletsService_AuthenticateStart_FullMethodName, none, "", codes.OK},
		{consumerv1.CryptoWalletsService_Authenticate_FullMethodName, none, "", codes.OK},
		{consumerv1.WebAuthnService_AuthenticateStart_FullMethodName, none, "", codes.OK},
		{consumerv1.WebAuthnService_Register_FullMethodName, none, "", codes.Unauthenticated},
		{consumerv1.WebAuthnService_Register_FullMethodName, caller{m2mScopes: []string{"read:users"}}, "", codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.method, tt.want), func(t *testing.T) {
			md := byName[tt.method]
			require.NotNil(t, md)
			assert.Equal(t, tt.want, expected(policy.Of(md).GetAccess(), samples[tt.method], tt.c, tt.org))
		})
	}
}

// gatewayDecodeError matches the gateway's own complaints about a request it could not decode.
var gatewayDecodeError = regexp.MustCompile(`unknown field|invalid character|type mismatch|proto: |unexpected token|syntax error|` +
	`invalid value \(want|given more than once|must be a JSON object|may be set|does not decode|not valid UTF-8`)

func newMessage(t *testing.T, md protoreflect.MessageDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	require.NoError(t, err)
	return mt.New().Interface()
}

// accessRefusal reports whether the status details carry the access layer's ErrorInfo: a refusal by
// the access interceptor, as opposed to the handler's (or Stytch RBAC's) own answer. A permission
// rule refuses with the RBAC reasons, in authsvc's domain (Stytch's own refusals are in Stytch's).
func accessRefusal(details []any) bool {
	for _, d := range details {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetDomain() == rpcerr.Domain &&
			slices.Contains([]string{access.ReasonCredentialsMissing, access.ReasonAccessDenied, rbac.ReasonDenied, rbac.ReasonTenancy}, ei.GetReason()) {
			return true
		}
	}
	return false
}

type restResult struct {
	status  int
	header  http.Header
	body    []byte
	refused bool
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// restCall sends req through the gateway the way its google.api.http annotation maps it: path
// parameters from the template, the rest as the JSON body (body "*") or as query parameters. No cookie
// jar: cookies a response sets must not leak into the next case.
func restCall(t *testing.T, env *apptest.Env, md protoreflect.MethodDescriptor, req proto.Message, bearer, jwtCookie string) restResult {
	t.Helper()
	rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	require.True(t, ok && rule != nil, "%s has no google.api.http option", md.FullName())
	var verb, tmpl string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, tmpl = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		verb, tmpl = http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		verb, tmpl = http.MethodPut, p.Put
	case *annotations.HttpRule_Delete:
		verb, tmpl = http.MethodDelete, p.Delete
	default:
		t.Fatalf("%s: unsupported HTTP pattern %T", md.FullName(), p)
	}
	m := req.ProtoReflect()
	fields := m.Descriptor().Fields()
	inPath := map[protoreflect.Name]bool{}
	path := pathParam.ReplaceAllStringFunc(tmpl, func(s string) string {
		name := protoreflect.Name(s[1 : len(s)-1])
		fd := fields.ByName(name)
		require.NotNil(t, fd, "%s: path parameter %s", md.FullName(), name)
		inPath[name] = true
		return url.PathEscape(m.Get(fd).String())
	})
	var body io.Reader
	switch rule.GetBody() {
	case "*":
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	case "":
		q := url.Values{}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if inPath[fd.Name()] {
				return true
			}
			require.False(t, fd.IsList() || fd.IsMap() || fd.Message() != nil, "%s: query field %s is not a scalar", md.FullName(), fd.Name())
			q.Set(string(fd.Name()), v.String())
			return true
		})
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	default:
		t.Fatalf("%s: body %q not handled", md.FullName(), rule.GetBody())
	}
	hr, err := http.NewRequestWithContext(context.Background(), verb, env.BaseURL+path, body)
	require.NoError(t, err)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	if jwtCookie != "" {
		hr.AddCookie(&http.Cookie{Name: gateway.SessionJWTCookie, Value: jwtCookie})
		hr.Header.Set("Origin", env.BaseURL) // a same-origin browser request (CSRF check)
	}
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := restResult{status: resp.StatusCode, header: resp.Header, body: b}
	var st struct {
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	}
	if json.Unmarshal(b, &st) == nil {
		for _, d := range st.Details {
			if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") && d.Domain == rpcerr.Domain &&
				slices.Contains([]string{access.ReasonCredentialsMissing, access.ReasonAccessDenied, rbac.ReasonDenied, rbac.ReasonTenancy}, d.Reason) {
				res.refused = true
			}
		}
	}
	return res
}
