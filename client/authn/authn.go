package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/client"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Authenticator verifies the credentials of incoming requests. It is safe for concurrent use;
// build one per process with [New] and Close it on shutdown.
type Authenticator struct {
	jwks    *verify.JWKSCache
	checker *session.Checker // the same session checker authsvc runs, with authsvc as its remote
	// userJWKS and users check consumer user sessions, the same way against the consumer
	// project's keys; nil unless a consumer project is configured.
	userJWKS *verify.JWKSCache
	users    *session.Checker
	realm    string
	log      *slog.Logger
	now      func() time.Time
	// policies is the RBAC policy from authsvc, fetched on the first permission check.
	policies *stytchclient.PolicyCache
}

// Option configures [New].
type Option func(*settings)

type settings struct {
	projectID       string
	issuer          string
	leeway          time.Duration
	maxTokenAge     time.Duration
	refreshInterval time.Duration
	now             func() time.Time
	realm           string
	logger          *slog.Logger
	tracerProvider  trace.TracerProvider
	consumer        *consumerSettings
}

// consumerSettings says where a consumer project's keys and remote checks come from. fromClient:
// from authsvc's consumer SessionsService through the client New gets (keys and remote nil until
// New fills them in).
type consumerSettings struct {
	projectID  string
	keys       verify.Fetcher
	remote     session.UserRemote
	fromClient bool
}

// WithConsumerSessions also accepts the session JWTs of the consumer project authsvc fronts (its
// users: [KindUser]), verified the same way as member sessions, with keys from authsvc's
// authsvc.consumer.v1.SessionsService.GetJWKS and remote checks by its Authenticate. projectID is
// the consumer project's ID; empty asks authsvc (GetJWKS names it), bounded by New's context.
func WithConsumerSessions(projectID string) Option {
	return func(s *settings) {
		s.consumer = &consumerSettings{projectID: projectID, fromClient: true}
	}
}

// WithProjectID sets the Stytch project ID that tokens must be issued for (their aud, and the
// issuer stytch.com/{project}). Set it in production. Without it, [New] learns the project from the
// client's own M2M access token, which authsvc issued over the same connection the keys come from.
func WithProjectID(id string) Option { return func(s *settings) { s.projectID = id } }

// WithIssuer accepts iss = baseURL as well as stytch.com/{project}: Stytch issues that when the
// project uses a custom domain (the STYTCH_BASE_URL authsvc runs with).
func WithIssuer(baseURL string) Option { return func(s *settings) { s.issuer = baseURL } }

// WithLeeway absorbs clock skew on exp, nbf and iat (default 30 s; negative means none).
func WithLeeway(d time.Duration) Option { return func(s *settings) { s.leeway = d } }

// WithMaxTokenAge re-checks a session JWT with authsvc once it is older than d since issuance, even
// before it expires, so a revoked session stops being accepted sooner. Default: no limit (session
// JWTs live 5 minutes).
func WithMaxTokenAge(d time.Duration) Option { return func(s *settings) { s.maxTokenAge = d } }

// WithKeyRefreshInterval sets how often the signing keys are refetched from authsvc (default 1 h;
// an unknown key ID also triggers a refetch, at most once per 5 minutes).
func WithKeyRefreshInterval(d time.Duration) Option {
	return func(s *settings) { s.refreshInterval = d }
}

// WithClock sets the clock used for expiry. Tests move it; production code leaves time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *settings) {
		if now != nil {
			s.now = now
		}
	}
}

// WithRealm sets the realm of the WWW-Authenticate challenge (default "authsvc").
func WithRealm(realm string) Option { return func(s *settings) { s.realm = realm } }

// WithLogger receives key refresh failures and remote-check failures (never tokens). Default:
// discard.
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithTracerProvider records key-refresh and verification spans with tp (default: none).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *settings) { s.tracerProvider = tp }
}

// New returns an Authenticator that gets keys and remote checks from authsvc through c. It starts
// loading the keys in the background and returns; use [Authenticator.WaitReady] before serving, as
// requests fail with [ErrUnavailable] until the keys are loaded.
//
// Without [WithProjectID], New asks authsvc which project it fronts (GetJWKS, a public call that
// needs no credentials), bounded by ctx. With it, New does no network I/O.
func New(ctx context.Context, c *client.Client, opts ...Option) (*Authenticator, error) {
	s := settings{now: time.Now, realm: "authsvc", logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&s)
	}
	if c == nil {
		return nil, errors.New("authn: a client is required")
	}
	if strings.ContainsAny(s.realm, "\"\\") {
		return nil, errors.New("authn: the realm must not contain quotes or backslashes")
	}
	if s.projectID == "" {
		id, err := projectFromClient(ctx, c)
		if err != nil {
			return nil, err
		}
		s.projectID = id
	}
	sessions := c.Sessions()
	jwks, err := verify.NewJWKSCache(verify.JWKSCacheConfig{
		Fetch:           jwksFetcher(sessions),
		Name:            "authsvc",
		RefreshInterval: s.refreshInterval,
		Now:             s.now,
		Logger:          s.logger,
		TracerProvider:  s.tracerProvider,
	})
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	// authsvc's own session checker: local first, authsvc asked only for a genuine JWT that has
	// expired or is older than WithMaxTokenAge. Services keep no revocation list (authsvc's JWTs
	// live 5 minutes) and spend no budget (authsvc limits its own remote checks).
	checker, err := session.New(session.Config{
		ProjectID:      s.projectID,
		Keys:           jwks,
		BaseURL:        s.issuer,
		Leeway:         s.leeway,
		MaxTokenAge:    s.maxTokenAge,
		Now:            s.now,
		TracerProvider: s.tracerProvider,
		Remote:         authsvcRemote{sessions: sessions},
		RejectedTTL:    -1,
	})
	if err != nil {
		_ = jwks.Close()
		return nil, fmt.Errorf("authn: %w", err)
	}
	policies, err := newPolicyCache(c.RBAC(), s.now)
	if err != nil {
		_ = jwks.Close()
		return nil, fmt.Errorf("authn: %w", err)
	}
	a := &Authenticator{jwks: jwks, checker: checker, realm: s.realm, log: s.logger, now: s.now, policies: policies}
	if cs := s.consumer; cs != nil && cs.fromClient {
		if err := consumerFromClient(ctx, c, cs); err != nil {
			_ = jwks.Close()
			return nil, err
		}
	}
	if s.consumer != nil {
		if err := a.addUsers(&s); err != nil {
			_ = jwks.Close()
			return nil, err
		}
	}
	return a, nil
}

// addUsers builds the consumer project's key cache and session checker, as New builds the B2B
// project's: one Checker type, configured with the project type.
func (a *Authenticator) addUsers(s *settings) error {
	cs := s.consumer
	if cs.projectID == "" {
		return errors.New("authn: the consumer project's ID is required")
	}
	jwks, err := verify.NewJWKSCache(verify.JWKSCacheConfig{
		Fetch:           cs.keys,
		Name:            "authsvc-consumer",
		RefreshInterval: s.refreshInterval,
		Now:             s.now,
		Logger:          s.logger,
		TracerProvider:  s.tracerProvider,
	})
	if err != nil {
		return fmt.Errorf("authn: %w", err)
	}
	users, err := session.New(session.Config{
		ProjectType:    verify.ProjectConsumer,
		ProjectID:      cs.projectID,
		Keys:           jwks,
		BaseURL:        s.issuer,
		Leeway:         s.leeway,
		MaxTokenAge:    s.maxTokenAge,
		Now:            s.now,
		TracerProvider: s.tracerProvider,
		UserRemote:     cs.remote,
		RejectedTTL:    -1,
	})
	if err != nil {
		_ = jwks.Close()
		return fmt.Errorf("authn: %w", err)
	}
	a.userJWKS, a.users = jwks, users
	return nil
}

// WaitReady blocks until the signing keys are loaded or ctx ends. Call it before reporting ready.
func (a *Authenticator) WaitReady(ctx context.Context) error {
	if err := a.jwks.WaitReady(ctx); err != nil {
		return fmt.Errorf("authn: signing keys: %w", err)
	}
	if a.userJWKS != nil {
		if err := a.userJWKS.WaitReady(ctx); err != nil {
			return fmt.Errorf("authn: consumer signing keys: %w", err)
		}
	}
	return nil
}

// Ready reports whether the signing keys (of every configured project) are loaded (for a
// readiness probe).
func (a *Authenticator) Ready() bool {
	return a.jwks.Ready() && (a.userJWKS == nil || a.userJWKS.Ready())
}

// Close stops the background key refresh.
func (a *Authenticator) Close() error {
	err := a.jwks.Close()
	if a.userJWKS != nil {
		err = errors.Join(err, a.userJWKS.Close())
	}
	if err != nil {
		return fmt.Errorf("authn: %w", err)
	}
	return nil
}

// Authenticate verifies token (a session JWT or an M2M access token, without "Bearer ") and
// returns the caller. Errors are [*Error]s matching [ErrUnauthenticated] or [ErrUnavailable].
//
// A session JWT is a member's (B2B project) or, with WithConsumerSessions, a user's (consumer
// project): the two differ in their claims (a user's sub is the user ID, and it has no
// organization), and the B2B check refuses a user's JWT for exactly that before any key is looked
// up, so it then goes to the consumer project's check.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	p, err := a.authenticate(ctx, token)
	if p != nil {
		p.checkedAt = a.now()
		if p.Kind == KindMember {
			p.policies = a.policies
		}
	}
	return p, err
}

func (a *Authenticator) authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, newError(ErrUnauthenticated, "no credentials", false)
	}
	res, err := a.checker.Check(ctx, session.Request{JWT: token})
	if a.users != nil && errors.Is(err, verify.ErrWrongProjectType) {
		res, err = a.users.Check(ctx, session.Request{JWT: token})
	}
	switch {
	case err == nil && res.Path == session.PathLocal && res.Claims.UserID != "":
		return userFromClaims(res.Claims), nil
	case err == nil && res.Path == session.PathLocal:
		return memberFromClaims(res.Claims), nil
	case err == nil && res.UserSession.UserID != "":
		return userFromSession(&res.UserSession), nil
	case err == nil:
		return memberFromSession(&res.Session), nil
	case errors.Is(err, verify.ErrMalformed):
		// Not a session JWT: perhaps an M2M access token (the verifier tells the kinds apart by
		// their claims, after the signature). Scopes are checked by the rules, not here.
		mc, mErr := a.checker.CheckM2M(ctx, token, nil)
		if mErr == nil {
			return serviceFromClaims(mc), nil
		}
		return nil, a.fromVerify(mErr)
	case res.Path == session.PathRemote:
		return nil, a.fromRemote(ctx, err)
	}
	return nil, a.fromVerify(err)
}

func (a *Authenticator) fromVerify(err error) *Error {
	reason := verify.Reason(err)
	switch {
	case errors.Is(err, verify.ErrKeysNotLoaded):
		return newError(ErrUnavailable, reason, true)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newError(ErrUnavailable, "canceled", true)
	}
	return newError(ErrUnauthenticated, reason, true)
}

// fromRemote reports authsvc's answer about a genuine session JWT that was expired or too old:
// Stytch (through authsvc) knows whether the session behind it is still alive.
func (a *Authenticator) fromRemote(ctx context.Context, err error) *Error {
	switch code := status.Code(err); code {
	case codes.Unauthenticated, codes.NotFound, codes.InvalidArgument, codes.PermissionDenied:
		return newError(ErrUnauthenticated, "session ended", true)
	default:
		a.log.WarnContext(ctx, "authn: authsvc session check failed", "code", code.String())
		return newError(ErrUnavailable, "authsvc unavailable", true)
	}
}

// authsvcRemote is the session checker's remote: authsvc's Sessions.Authenticate with the JWT,
// answered in the shape of Stytch's sessions/authenticate.
type authsvcRemote struct {
	sessions b2bv1.SessionsServiceClient
}

func (r authsvcRemote) SessionsAuthenticate(ctx context.Context, p stytchclient.SessionsAuthenticateParams) (*stytchclient.SessionsAuthenticateResult, error) {
	resp, err := r.sessions.Authenticate(ctx, &b2bv1.SessionsServiceAuthenticateRequest{
		Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: p.SessionJWT},
	})
	if err != nil {
		return nil, err //nolint:wrapcheck // a gRPC status, read by fromRemote
	}
	ms := resp.GetMemberSession()
	if ms.GetMemberId() == "" {
		return nil, status.Error(codes.Unauthenticated, "session ended")
	}
	return &stytchclient.SessionsAuthenticateResult{
		MemberSession: stytchclient.MemberSessionInfo{
			MemberSessionID:       ms.GetMemberSessionId(),
			MemberID:              ms.GetMemberId(),
			OrganizationID:        ms.GetOrganizationId(),
			OrganizationSlug:      ms.GetOrganizationSlug(),
			Roles:                 ms.GetRoles(),
			ExpiresAt:             stytchclient.Timestamp{Time: ms.GetExpiresAt().AsTime()},
			AuthenticationFactors: factorsFromProto(ms.GetAuthenticationFactors()),
		},
		SessionJWT: resp.GetSessionJwt(),
	}, nil
}

func memberFromSession(ms *stytchclient.MemberSessionInfo) *Principal {
	return &Principal{
		Kind:             KindMember,
		MemberID:         ms.MemberID,
		OrganizationID:   ms.OrganizationID,
		OrganizationSlug: ms.OrganizationSlug,
		SessionID:        ms.MemberSessionID,
		Roles:            slices.Clone(ms.Roles),
		ExpiresAt:        ms.ExpiresAt.Time,
		VerifiedBy:       VerifiedRemotely,
		Factors:          factorsFromSession(ms.AuthenticationFactors),
	}
}

func memberFromClaims(c *verify.SessionClaims) *Principal {
	return &Principal{
		Kind:             KindMember,
		MemberID:         c.MemberID,
		OrganizationID:   c.OrganizationID,
		OrganizationSlug: c.OrganizationSlug,
		SessionID:        c.SessionID,
		Roles:            slices.Clone(c.Roles), // the verifier's claims are shared: never hand them out
		ExpiresAt:        c.Expiry,
		VerifiedBy:       VerifiedLocally,
		Factors:          factorsFromClaims(c.AuthenticationFactors),
	}
}

func userFromSession(us *stytchclient.UserSession) *Principal {
	return &Principal{
		Kind:       KindUser,
		UserID:     us.UserID,
		SessionID:  us.SessionID,
		Roles:      slices.Clone(us.Roles),
		ExpiresAt:  us.ExpiresAt.Time,
		VerifiedBy: VerifiedRemotely,
		Factors:    userFactors(us.AuthenticationFactors),
	}
}

func userFromClaims(c *verify.SessionClaims) *Principal {
	return &Principal{
		Kind:       KindUser,
		UserID:     c.UserID,
		SessionID:  c.SessionID,
		Roles:      slices.Clone(c.Roles), // the verifier's claims are shared: never hand them out
		ExpiresAt:  c.Expiry,
		VerifiedBy: VerifiedLocally,
		Factors:    factorsFromClaims(c.AuthenticationFactors),
	}
}

func serviceFromClaims(c *verify.M2MClaims) *Principal {
	return &Principal{
		Kind:       KindService,
		ClientID:   c.ClientID,
		Scopes:     slices.Clone(c.Scopes),
		ExpiresAt:  c.Expiry,
		VerifiedBy: VerifiedLocally,
	}
}

// jwksFetcher gets the keys from authsvc's GetJWKS and re-encodes them as the JWK Set document the
// key cache parses (and validates: base64url, RSA parameters, x5c consistency).
func jwksFetcher(sessions b2bv1.SessionsServiceClient) verify.Fetcher {
	return func(ctx context.Context) ([]byte, error) {
		resp, err := sessions.GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
		if err != nil {
			return nil, fmt.Errorf("authsvc GetJWKS: %w", err)
		}
		return marshalJWKS(resp.GetKeys())
	}
}

// consumerFromClient points cs at authsvc's consumer SessionsService: its keys, its remote checks
// and, when cs names no project, the project GetJWKS names.
func consumerFromClient(ctx context.Context, c *client.Client, cs *consumerSettings) error {
	sessions := c.Consumer().Sessions()
	if cs.projectID == "" {
		res, err := sessions.GetJWKS(ctx, &consumerv1.SessionsServiceGetJWKSRequest{})
		if err != nil {
			return fmt.Errorf("authn: learning the consumer project from authsvc's consumer GetJWKS (or pass its ID to WithConsumerSessions): %w", err)
		}
		if res.GetProjectId() == "" {
			return errors.New("authn: authsvc's consumer GetJWKS names no project; pass its ID to WithConsumerSessions")
		}
		cs.projectID = res.GetProjectId()
	}
	cs.keys = func(ctx context.Context) ([]byte, error) {
		resp, err := sessions.GetJWKS(ctx, &consumerv1.SessionsServiceGetJWKSRequest{})
		if err != nil {
			return nil, fmt.Errorf("authsvc consumer GetJWKS: %w", err)
		}
		return marshalJWKS(resp.GetKeys())
	}
	cs.remote = authsvcUserRemote{sessions: sessions}
	return nil
}

// authsvcUserRemote asks authsvc's consumer Sessions.Authenticate about a user session JWT the
// local check could not decide (expired, too old), as authsvcRemote does for member sessions.
type authsvcUserRemote struct {
	sessions consumerv1.SessionsServiceClient
}

func (r authsvcUserRemote) ConsumerSessionsAuthenticate(ctx context.Context, p stytchclient.ConsumerSessionsAuthenticateParams) (*stytchclient.ConsumerSessionsAuthenticateResult, error) {
	resp, err := r.sessions.Authenticate(ctx, &consumerv1.SessionsServiceAuthenticateRequest{
		Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: p.SessionJWT},
	})
	if err != nil {
		return nil, err //nolint:wrapcheck // a gRPC status, read by fromRemote
	}
	us := resp.GetSession()
	if us.GetUserId() == "" {
		return nil, status.Error(codes.Unauthenticated, "session ended")
	}
	return &stytchclient.ConsumerSessionsAuthenticateResult{
		Session: stytchclient.UserSession{
			SessionID:             us.GetSessionId(),
			UserID:                us.GetUserId(),
			Roles:                 us.GetRoles(),
			ExpiresAt:             stytchclient.Timestamp{Time: us.GetExpiresAt().AsTime()},
			AuthenticationFactors: asUserFactors(factorsFromProto(us.GetAuthenticationFactors())),
		},
		SessionJWT: resp.GetSessionJwt(),
	}, nil
}

// jwkFields is what marshalJWKS reads of a key: the B2B and consumer packages each generate a Jwk message
// with the same fields.
type jwkFields interface {
	GetKty() string
	GetUse() string
	GetKeyOps() []string
	GetAlg() string
	GetKid() string
	GetX5C() []string
	GetX5TS256() string
	GetN() string
	GetE() string
}

func marshalJWKS[K jwkFields](keys []K) ([]byte, error) {
	type jwk struct {
		Kty     string   `json:"kty"`
		Use     string   `json:"use,omitempty"`
		KeyOps  []string `json:"key_ops,omitempty"`
		Alg     string   `json:"alg,omitempty"`
		Kid     string   `json:"kid,omitempty"`
		X5C     []string `json:"x5c,omitempty"`
		X5TS256 string   `json:"x5t#S256,omitempty"`
		N       string   `json:"n,omitempty"`
		E       string   `json:"e,omitempty"`
	}
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, jwk{
			Kty: k.GetKty(), Use: k.GetUse(), KeyOps: k.GetKeyOps(), Alg: k.GetAlg(), Kid: k.GetKid(),
			X5C: k.GetX5C(), X5TS256: k.GetX5TS256(), N: k.GetN(), E: k.GetE(),
		})
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	return b, nil
}

// projectFromClient asks authsvc which Stytch project it fronts (GetJWKS names it; a public call).
func projectFromClient(ctx context.Context, c *client.Client) (string, error) {
	res, err := c.Sessions().GetJWKS(ctx, &b2bv1.SessionsServiceGetJWKSRequest{})
	if err != nil {
		return "", fmt.Errorf("authn: learning the Stytch project from authsvc's GetJWKS (or set WithProjectID): %w", err)
	}
	if res.GetProjectId() == "" {
		return "", errors.New("authn: authsvc's GetJWKS names no project; set WithProjectID")
	}
	return res.GetProjectId(), nil
}

// withConsumer checks consumer user sessions too: keys from fetch, remote checks by remote
// (tests stand an emulator in for authsvc). [WithConsumerSessions] gets both from authsvc.
func withConsumer(projectID string, fetch verify.Fetcher, remote session.UserRemote) Option {
	return func(s *settings) {
		s.consumer = &consumerSettings{projectID: projectID, keys: fetch, remote: remote}
	}
}
