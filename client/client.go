package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

// Client is a connection to authsvc with a client for each of its services. It is safe for
// concurrent use; create one per process and Close it on shutdown.
type Client struct {
	conn   *grpc.ClientConn
	tokens *tokenSource // nil without M2M credentials

	magicLinks b2bv1.MagicLinksServiceClient
	otps       b2bv1.OTPsServiceClient
	sessions   b2bv1.SessionsServiceClient
	members    b2bv1.MembersServiceClient
	discovery  b2bv1.DiscoveryServiceClient
	rbac       b2bv1.RBACServiceClient
	orgs       b2bv1.OrganizationsServiceClient
	totps      b2bv1.TOTPsServiceClient
	recovery   b2bv1.RecoveryCodesServiceClient
	passwords  b2bv1.PasswordsServiceClient
	scim       b2bv1.SCIMServiceClient
	m2m        m2mv1.M2MServiceClient
	consumer   *Consumer
}

// Consumer holds the clients of authsvc's consumer API (authsvc.consumer.v1: users of a Stytch
// consumer project), on the same connection as the B2B and M2M ones. authsvc answers its RPCs only
// when it fronts a consumer project; otherwise they fail with UNIMPLEMENTED naming the setting.
type Consumer struct {
	magicLinks consumerv1.MagicLinksServiceClient
	otps       consumerv1.OTPsServiceClient
	sessions   consumerv1.SessionsServiceClient
	users      consumerv1.UsersServiceClient
	passwords  consumerv1.PasswordsServiceClient
	oauth      consumerv1.OAuthServiceClient
	totps      consumerv1.TOTPsServiceClient
	wallets    consumerv1.CryptoWalletsServiceClient
	webauthn   consumerv1.WebAuthnServiceClient
}

// MagicLinks is authsvc.consumer.v1.MagicLinksService: email login and sign-up links, invites,
// embeddable links.
func (c *Consumer) MagicLinks() consumerv1.MagicLinksServiceClient { return c.magicLinks }

// OTPs is authsvc.consumer.v1.OTPsService: SMS, WhatsApp and email one-time codes.
func (c *Consumer) OTPs() consumerv1.OTPsServiceClient { return c.otps }

// Sessions is authsvc.consumer.v1.SessionsService: user session checks, listing, revocation,
// migration, JWKS.
func (c *Consumer) Sessions() consumerv1.SessionsServiceClient { return c.sessions }

// Users is authsvc.consumer.v1.UsersService: the project's users and their factors.
func (c *Consumer) Users() consumerv1.UsersServiceClient { return c.users }

// Passwords is authsvc.consumer.v1.PasswordsService: password sign-up, login, resets, migration
// and strength checks.
func (c *Consumer) Passwords() consumerv1.PasswordsServiceClient { return c.passwords }

// OAuth is authsvc.consumer.v1.OAuthService: OAuth start URLs, attach tokens and the redemption
// of the token an OAuth flow brings back.
func (c *Consumer) OAuth() consumerv1.OAuthServiceClient { return c.oauth }

// TOTPs is authsvc.consumer.v1.TOTPsService: authenticator-app enrolment, codes and recovery
// codes.
func (c *Consumer) TOTPs() consumerv1.TOTPsServiceClient { return c.totps }

// CryptoWallets is authsvc.consumer.v1.CryptoWalletsService: Ethereum and Solana wallet sign-in.
func (c *Consumer) CryptoWallets() consumerv1.CryptoWalletsServiceClient { return c.wallets }

// WebAuthn is authsvc.consumer.v1.WebAuthnService: passkey and security-key registration and
// login, renaming and listing credentials.
func (c *Consumer) WebAuthn() consumerv1.WebAuthnServiceClient { return c.webauthn }

// New returns a client for the authsvc gRPC API at target (a gRPC target: "authsvc.ns.svc:9090",
// "dns:///authsvc-headless.ns.svc:9090", "localhost:9090").
//
// New does no network I/O: the connection is made on the first call and re-made after failures,
// and the M2M token is obtained on the first call that needs it, so New succeeds while authsvc is
// down. It fails only on invalid options. ctx is not retained.
func New(ctx context.Context, target string, opts ...Option) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("authsvc client: %w", err)
	}
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if s.transport > 1 {
		s.errs = append(s.errs, errors.New("choose one of WithTLS, WithMutualTLS and WithInsecure"))
	}
	if err := errors.Join(s.errs...); err != nil {
		return nil, fmt.Errorf("authsvc client: %w", err)
	}

	var transport credentials.TransportCredentials
	switch {
	case s.insecure:
		transport = insecure.NewCredentials()
	case s.tlsConfig != nil:
		transport = credentials.NewTLS(s.tlsConfig)
	default:
		transport = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}

	var otelOpts []otelgrpc.Option
	if s.tracerProvider != nil {
		otelOpts = append(otelOpts, otelgrpc.WithTracerProvider(s.tracerProvider))
	}
	if s.meterProvider != nil {
		otelOpts = append(otelOpts, otelgrpc.WithMeterProvider(s.meterProvider))
	}
	if s.propagators != nil {
		otelOpts = append(otelOpts, otelgrpc.WithPropagators(s.propagators))
	}

	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultServiceConfig(serviceConfig()),
		grpc.WithKeepaliveParams(s.keepalive),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelOpts...)),
		grpc.WithChainUnaryInterceptor(defaultTimeout(s.timeout)),
	}
	c := &Client{}
	if s.m2m != nil {
		c.tokens = &tokenSource{creds: *s.m2m, now: s.now}
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(&perRPCCredentials{
			ts:      c.tokens,
			methods: serviceMethods(allServices()...),
			secure:  !s.insecure,
		}))
	}
	dialOpts = append(dialOpts, s.dialOpts...)

	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("authsvc client: %w", err)
	}
	c.conn = conn
	c.magicLinks = b2bv1.NewMagicLinksServiceClient(conn)
	c.otps = b2bv1.NewOTPsServiceClient(conn)
	c.sessions = b2bv1.NewSessionsServiceClient(conn)
	c.members = b2bv1.NewMembersServiceClient(conn)
	c.discovery = b2bv1.NewDiscoveryServiceClient(conn)
	c.rbac = b2bv1.NewRBACServiceClient(conn)
	c.orgs = b2bv1.NewOrganizationsServiceClient(conn)
	c.totps = b2bv1.NewTOTPsServiceClient(conn)
	c.recovery = b2bv1.NewRecoveryCodesServiceClient(conn)
	c.passwords = b2bv1.NewPasswordsServiceClient(conn)
	c.scim = b2bv1.NewSCIMServiceClient(conn)
	c.m2m = m2mv1.NewM2MServiceClient(conn)
	c.consumer = &Consumer{
		magicLinks: consumerv1.NewMagicLinksServiceClient(conn),
		otps:       consumerv1.NewOTPsServiceClient(conn),
		sessions:   consumerv1.NewSessionsServiceClient(conn),
		users:      consumerv1.NewUsersServiceClient(conn),
		passwords:  consumerv1.NewPasswordsServiceClient(conn),
		oauth:      consumerv1.NewOAuthServiceClient(conn),
		totps:      consumerv1.NewTOTPsServiceClient(conn),
		wallets:    consumerv1.NewCryptoWalletsServiceClient(conn),
		webauthn:   consumerv1.NewWebAuthnServiceClient(conn),
	}
	if c.tokens != nil {
		c.tokens.issue = func(ctx context.Context, req *m2mv1.IssueTokenRequest) (*m2mv1.IssueTokenResponse, error) {
			return c.m2m.IssueToken(ctx, req)
		}
	}
	return c, nil
}

// apiPackages are the proto packages of the authsvc API.
var apiPackages = []protoreflect.FullName{"authsvc.b2b.v1", "authsvc.consumer.v1", "authsvc.m2m.v1"}

// allServices returns the descriptors of the authsvc API services (B2B, consumer, M2M), sorted by
// name: every service of those packages that this binary links (the client imports each package's
// generated code, which registers all of its files), so that a new service cannot be left out of
// the M2M token's methods or the retry policy.
func allServices() []protoreflect.ServiceDescriptor {
	var out []protoreflect.ServiceDescriptor
	for _, pkg := range apiPackages {
		protoregistry.GlobalFiles.RangeFilesByPackage(pkg, func(fd protoreflect.FileDescriptor) bool {
			for i := range fd.Services().Len() {
				out = append(out, fd.Services().Get(i))
			}
			return true
		})
	}
	slices.SortFunc(out, func(a, b protoreflect.ServiceDescriptor) int {
		return strings.Compare(string(a.FullName()), string(b.FullName()))
	})
	return out
}

// MagicLinks is authsvc.b2b.v1.MagicLinksService: email login, sign-up, invite and discovery links.
func (c *Client) MagicLinks() b2bv1.MagicLinksServiceClient { return c.magicLinks }

// OTPs is authsvc.b2b.v1.OTPsService: email and SMS one-time codes.
func (c *Client) OTPs() b2bv1.OTPsServiceClient { return c.otps }

// Sessions is authsvc.b2b.v1.SessionsService: session checks, listing, revocation, exchange, JWKS.
func (c *Client) Sessions() b2bv1.SessionsServiceClient { return c.sessions }

// Members is authsvc.b2b.v1.MembersService: the members of an organization.
func (c *Client) Members() b2bv1.MembersServiceClient { return c.members }

// Discovery is authsvc.b2b.v1.DiscoveryService: organizations a person can enter or create.
func (c *Client) Discovery() b2bv1.DiscoveryServiceClient { return c.discovery }

// RBAC is authsvc.b2b.v1.RBACService: the project's RBAC policy (client/authn's RequirePermission
// caches it).
func (c *Client) RBAC() b2bv1.RBACServiceClient { return c.rbac }

// Organizations is authsvc.b2b.v1.OrganizationsService: create, read, change, delete and search
// organizations, and their metrics.
func (c *Client) Organizations() b2bv1.OrganizationsServiceClient { return c.orgs }

// SCIM is authsvc.b2b.v1.SCIMService: an organization's SCIM connection (create, read, change,
// delete, rotate its bearer token).
func (c *Client) SCIM() b2bv1.SCIMServiceClient { return c.scim }

// TOTPs is authsvc.b2b.v1.TOTPsService: a member's authenticator app as a second factor (enrol,
// authenticate, migrate).
func (c *Client) TOTPs() b2bv1.TOTPsServiceClient { return c.totps }

// RecoveryCodes is authsvc.b2b.v1.RecoveryCodesService: the recovery codes of a member's TOTP
// registration (get, rotate, recover).
func (c *Client) RecoveryCodes() b2bv1.RecoveryCodesServiceClient { return c.recovery }

// Passwords is authsvc.b2b.v1.PasswordsService: a member's password as a primary factor
// (authenticate, strength check, email reset).
func (c *Client) Passwords() b2bv1.PasswordsServiceClient { return c.passwords }

// Consumer is authsvc's consumer API (authsvc.consumer.v1), for a Stytch consumer project's users.
func (c *Client) Consumer() *Consumer { return c.consumer }

// M2M is authsvc.m2m.v1.M2MService: M2M clients, their tokens and token verification.
func (c *Client) M2M() m2mv1.M2MServiceClient { return c.m2m }

// Conn is the underlying connection, for other gRPC services authsvc serves (grpc.health.v1).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// AccessToken returns the client's current M2M access token, obtaining or refreshing it as needed.
// Use it to call other internal services that accept authsvc M2M tokens (see package authn). It
// fails with [ErrNoCredentials] without [WithM2MCredentials].
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	if c.tokens == nil {
		return "", ErrNoCredentials
	}
	return c.tokens.token(ctx)
}

// Close closes the connection. Calls in flight fail with CANCELED.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("authsvc client: close: %w", err)
	}
	return nil
}

// defaultTimeout gives a unary call without a deadline one of d. A deadline is what bounds gRPC's
// waiting for a connection and its retries; without one a call to an unreachable authsvc could wait
// for ever.
func defaultTimeout(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
