package client_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/authsvc/authsvc/client"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestEveryServiceIsReachable(t *testing.T) {
	env := apptest.Start(t)
	creds, mc := m2mClient(t, env, allScopes...)
	c, _ := newClient(t, env, creds)
	sess, err := env.Emu.CreateSession(sandboxOrg, sandboxMember, time.Hour)
	require.NoError(t, err)

	tests := []struct {
		service string
		call    func(ctx context.Context) error
	}{
		{"MagicLinksService", func(ctx context.Context) error {
			_, err := c.MagicLinks().LoginOrSignup(ctx, &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: sandboxOrg, EmailAddress: testEmailAddress})
			return err
		}},
		{"OTPsService", func(ctx context.Context) error {
			_, err := c.OTPs().EmailLoginOrSignup(ctx, &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: sandboxOrg, EmailAddress: testEmailAddress})
			return err
		}},
		{"SessionsService", func(ctx context.Context) error {
			resp, err := c.Sessions().GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
			if err == nil && len(resp.GetKeys()) == 0 {
				t.Error("GetJWKS returned no keys")
			}
			return err
		}},
		{"MembersService", func(ctx context.Context) error {
			resp, err := c.Members().Get(ctx, &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
			if err == nil {
				assert.Equal(t, sandboxMember, resp.GetMember().GetMemberId())
			}
			return err
		}},
		{"OrganizationsService", func(ctx context.Context) error {
			resp, err := c.Organizations().Get(ctx, &b2bv1.OrganizationsServiceGetRequest{OrganizationId: sandboxOrg})
			if err == nil {
				assert.Equal(t, sandboxOrg, resp.GetOrganization().GetOrganizationId())
			}
			return err
		}},
		{"DiscoveryService", func(ctx context.Context) error {
			_, err := c.Discovery().ListOrganizations(ctx, &b2bv1.DiscoveryServiceListOrganizationsRequest{Credential: &b2bv1.DiscoveryServiceListOrganizationsRequest_SessionJwt{SessionJwt: sess.JWT}})
			return err
		}},
		{"M2MService", func(ctx context.Context) error {
			resp, err := c.M2M().GetClient(ctx, &m2mv1.GetClientRequest{ClientId: mc.ClientID})
			if err == nil {
				assert.Equal(t, mc.ClientID, resp.GetM2MClient().GetClientId())
			}
			return err
		}},
		{"consumer MagicLinksService", func(ctx context.Context) error {
			_, err := c.Consumer().MagicLinks().LoginOrCreate(ctx, &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: testEmailAddress})
			return err
		}},
		{"consumer OTPsService", func(ctx context.Context) error {
			_, err := c.Consumer().OTPs().EmailLoginOrCreate(ctx, &consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: testEmailAddress})
			return err
		}},
		{"consumer SessionsService", func(ctx context.Context) error {
			resp, err := c.Consumer().Sessions().GetJWKS(ctx, &consumerv1.SessionsServiceGetJWKSRequest{})
			if err == nil && len(resp.GetKeys()) == 0 {
				t.Error("consumer GetJWKS returned no keys")
			}
			return err
		}},
		{"consumer UsersService", func(ctx context.Context) error {
			resp, err := c.Consumer().Users().Get(ctx, &consumerv1.UsersServiceGetRequest{UserId: stytchemu.SandboxUserID})
			if err == nil {
				assert.Equal(t, stytchemu.SandboxUserID, resp.GetUser().GetUserId())
			}
			return err
		}},
		{"consumer PasswordsService", func(ctx context.Context) error {
			resp, err := c.Consumer().Passwords().StrengthCheck(ctx, &consumerv1.PasswordsServiceStrengthCheckRequest{Password: "password"})
			if err == nil {
				assert.False(t, resp.GetValidPassword(), "a weak password")
			}
			return err
		}},
		{"consumer OAuthService", func(ctx context.Context) error {
			resp, err := c.Consumer().OAuth().StartURL(ctx, &consumerv1.OAuthServiceStartURLRequest{Provider: consumerv1.IdentityProvider_IDENTITY_PROVIDER_GITHUB})
			if err == nil {
				assert.Contains(t, resp.GetUrl(), "/v1/public/oauth/github/start?")
			}
			return err
		}},
		{"consumer TOTPsService", func(ctx context.Context) error {
			resp, err := c.Consumer().TOTPs().RecoveryCodes(ctx, &consumerv1.TOTPsServiceRecoveryCodesRequest{UserId: stytchemu.SandboxUserID})
			if err == nil {
				assert.Empty(t, resp.GetTotps(), "the sandbox user has no authenticator app")
			}
			return err
		}},
		{"consumer CryptoWalletsService", func(ctx context.Context) error {
			resp, err := c.Consumer().CryptoWallets().AuthenticateStart(ctx, &consumerv1.CryptoWalletsServiceAuthenticateStartRequest{
				CryptoWalletType: consumerv1.CryptoWalletType_CRYPTO_WALLET_TYPE_ETHEREUM, CryptoWalletAddress: "0x52908400098527886E0F7030069857D2E4169EE7",
			})
			if err == nil {
				assert.NotEmpty(t, resp.GetChallenge())
			}
			return err
		}},
		{"consumer WebAuthnService", func(ctx context.Context) error {
			resp, err := c.Consumer().WebAuthn().AuthenticateStart(ctx, &consumerv1.WebAuthnServiceAuthenticateStartRequest{Domain: "localhost"})
			if err == nil {
				assert.Contains(t, resp.GetPublicKeyCredentialRequestOptions(), `"challenge"`)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			require.NoError(t, tt.call(t.Context()))
		})
	}
}

func TestM2MTokenIsFetchedOnceAndRefreshed(t *testing.T) {
	env := apptest.Start(t)
	creds, _ := m2mClient(t, env, "read:members")
	c, calls := newClient(t, env, creds)
	get := func(ctx context.Context) error {
		_, err := c.Members().Get(ctx, &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
		return err
	}

	// Many concurrent first calls share one IssueToken.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- get(t.Context()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for range 10 {
		require.NoError(t, get(t.Context()))
	}
	assert.Equal(t, 30, calls.count(mMembersGet))
	assert.Equal(t, 1, calls.count(mIssueToken), "one token for 30 calls")
	first, err := c.AccessToken(t.Context())
	require.NoError(t, err)

	t.Run("before the refresh point the token is kept", func(t *testing.T) {
		env.Emu.Advance(40 * time.Minute) // 40 of 60 minutes: below 80%
		require.NoError(t, get(t.Context()))
		assert.Equal(t, 1, calls.count(mIssueToken))
	})
	t.Run("past 80% of its life it is replaced", func(t *testing.T) {
		env.Emu.Advance(10 * time.Minute) // 50 of 60 minutes
		require.NoError(t, get(t.Context()))
		require.NoError(t, get(t.Context()))
		assert.Equal(t, 2, calls.count(mIssueToken))
		second, err := c.AccessToken(t.Context())
		require.NoError(t, err)
		assert.NotEqual(t, first, second)
	})
	t.Run("after expiry a new token is fetched and accepted", func(t *testing.T) {
		env.Emu.Advance(2 * time.Hour)
		require.NoError(t, get(t.Context())) // authsvc refuses an expired token: success proves the new one was sent
		assert.Equal(t, 3, calls.count(mIssueToken))
	})
}

func TestM2MTokenGoesOnlyWhereServicesAreAdmitted(t *testing.T) {
	env := apptest.Start(t)
	// A wrong secret: any call that needed the token would fail.
	c, calls := newClient(t, env, client.WithM2MCredentials("m2m-client-test-nope", "wrong-secret-value"))

	t.Run("public RPCs fetch no token", func(t *testing.T) {
		_, err := c.Sessions().GetJWKS(t.Context(), &b2bv1.SessionsServiceGetJWKSRequest{})
		require.NoError(t, err)
		assert.Equal(t, 0, calls.count(mIssueToken))
	})
	t.Run("a caller's own authorization is sent instead", func(t *testing.T) {
		admin, err := env.Emu.CreateSession(sandboxOrg, sandboxMember, time.Hour) // sandbox member is stytch_admin
		require.NoError(t, err)
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+admin.JWT)
		_, err = c.Members().Get(ctx, &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
		require.NoError(t, err)
		assert.Equal(t, 0, calls.count(mIssueToken))
	})
	t.Run("a service RPC with bad credentials fails UNAUTHENTICATED without the secret", func(t *testing.T) {
		before := calls.count(mMembersGet)
		_, err := c.Members().Get(t.Context(), &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
		require.Error(t, err)
		assert.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
		assert.NotContains(t, err.Error(), "wrong-secret-value")
		assert.Equal(t, 1, calls.count(mIssueToken))
		assert.Equal(t, 1, calls.count(mMembersGet)-before, "one attempt: a credentials failure is not retried")
	})
}

func TestRetries(t *testing.T) {
	env := apptest.Start(t)
	creds, _ := m2mClient(t, env, "read:members")
	c, calls := newClient(t, env, creds)
	_, err := c.AccessToken(t.Context()) // token first, so only the RPC under test is counted
	require.NoError(t, err)

	t.Run("a read is retried while authsvc answers UNAVAILABLE", func(t *testing.T) {
		id, err := env.Emu.AddFault(stytchemu.Fault{Pattern: "GET /v1/b2b/organizations/{organization_id}/member", Status: 503})
		require.NoError(t, err)
		// Stytch recovers as soon as the first attempt has failed (End runs before gRPC retries).
		var firstErr error
		calls.setOnEnd(func(method string, attempt int, err error) {
			if method == mMembersGet && attempt == 1 {
				firstErr = err
				env.Emu.RemoveFault(id)
			}
		})
		t.Cleanup(func() { calls.setOnEnd(nil) })

		resp, err := c.Members().Get(t.Context(), &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
		require.NoError(t, err)
		assert.Equal(t, sandboxMember, resp.GetMember().GetMemberId())
		assert.Equal(t, codes.Unavailable, status.Code(firstErr), "first attempt: %v", firstErr)
		assert.Equal(t, 2, calls.count(mMembersGet))
	})

	t.Run("a send is never retried", func(t *testing.T) {
		const pattern = "POST /v1/b2b/magic_links/email/login_or_signup"
		_, err := env.Emu.AddFault(stytchemu.Fault{Pattern: pattern, Status: 503})
		require.NoError(t, err)
		t.Cleanup(env.Emu.ClearFaults)
		before := env.Emu.Requests(pattern)

		_, err = c.MagicLinks().LoginOrSignup(t.Context(), &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: sandboxOrg, EmailAddress: testEmailAddress})
		assert.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
		assert.Equal(t, 1, calls.count(mLoginOrSignup), "gRPC attempts")
		assert.Equal(t, 1, env.Emu.Requests(pattern)-before, "requests that reached Stytch")
	})
}

func TestDefaultTimeout(t *testing.T) {
	env := apptest.Start(t)
	_, err := env.Emu.AddFault(stytchemu.Fault{Pattern: "GET /v1/b2b/organizations/{organization_id}/member", Latency: time.Hour})
	require.NoError(t, err)
	t.Cleanup(env.Emu.ClearFaults)
	creds, _ := m2mClient(t, env, "read:members")
	c, _ := newClient(t, env, creds, client.WithTimeout(300*time.Millisecond))
	_, err = c.AccessToken(t.Context())
	require.NoError(t, err)

	_, err = c.Members().Get(t.Context(), &b2bv1.MembersServiceGetRequest{OrganizationId: sandboxOrg, Lookup: &b2bv1.MembersServiceGetRequest_MemberId{MemberId: sandboxMember}})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)

	// A deadline the caller set is left alone (here: already expired).
	ctx, cancel := context.WithDeadline(t.Context(), time.Unix(1, 0))
	defer cancel()
	_, err = c.Sessions().GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
}

func TestNewRejectsConflictingOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []client.Option
		want string
	}{
		{"two transports", []client.Option{client.WithInsecure(), client.WithTLS(nil)}, "choose one"},
		{"empty M2M credentials", []client.Option{client.WithInsecure(), client.WithM2MCredentials("", "")}, "client ID and secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(t.Context(), "localhost:9090", tt.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAccessTokenWithoutCredentials(t *testing.T) {
	c, err := client.New(t.Context(), "localhost:9090", client.WithInsecure())
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	_, err = c.AccessToken(t.Context())
	require.ErrorIs(t, err, client.ErrNoCredentials)
}

func TestRetriedMethodsExist(t *testing.T) {
	// Every listed method is a real RPC: a typo would silently disable its retries.
	for _, m := range client.RetriedMethods() {
		t.Run(m, func(t *testing.T) {
			svc, method, ok := strings.Cut(m, "/")
			require.True(t, ok)
			d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
			require.NoError(t, err)
			sd, ok := d.(protoreflect.ServiceDescriptor)
			require.True(t, ok, "%s is not a service", svc)
			assert.NotNil(t, sd.Methods().ByName(protoreflect.Name(method)), "no method %s", m)
		})
	}
}
