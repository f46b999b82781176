package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// Remote is the authority that checks a member session when a JWT cannot:
// Stytch's B2B sessions/authenticate (*stytchclient.Client) for authsvc;
// authsvc's own Sessions.Authenticate for client/authn.
type Remote interface {
	SessionsAuthenticate(ctx context.Context, p stytchclient.SessionsAuthenticateParams) (*stytchclient.SessionsAuthenticateResult, error)
}

// UserRemote is the authority that checks a consumer user session when a JWT
// cannot: Stytch's consumer sessions/authenticate (a *stytchclient.Client of
// a consumer project).
type UserRemote interface {
	ConsumerSessionsAuthenticate(ctx context.Context, p stytchclient.ConsumerSessionsAuthenticateParams) (*stytchclient.ConsumerSessionsAuthenticateResult, error)
}

// Revocations is the revocation list the checker consults on every local
// verification, cached or not (*revocation.List implements it). In a
// consumer project IsMemberRevoked is asked with the user ID.
type Revocations interface {
	IsRevoked(ctx context.Context, sessionID string) bool
	IsMemberRevoked(ctx context.Context, memberID string, issuedAt time.Time) bool
}

// Budget admits remote checks before they reach the Remote. Admit returns an
// error (a gRPC status: RESOURCE_EXHAUSTED with RetryInfo) to refuse the
// check, or a done function to call with whether the check failed (the
// credential was rejected), so that failures are counted.
type Budget interface {
	Admit(ctx context.Context) (done func(failed bool), err error)
}

// Config configures [New]. ProjectID, Keys and the Remote of the project
// type (Remote for B2B, UserRemote for consumer) are required.
type Config struct {
	// ProjectType is the project whose sessions the checker checks:
	// verify.ProjectB2B (the default, member sessions) or
	// verify.ProjectConsumer (user sessions). A session JWT of the other
	// type is refused locally (verify.ErrWrongProjectType).
	ProjectType verify.ProjectType
	// ProjectID, Keys, BaseURL, Leeway, MaxTokenAge, CacheSize, Now and
	// TracerProvider configure the local verifier (see verify.VerifierConfig).
	ProjectID      string
	Keys           verify.KeySource
	BaseURL        string
	Leeway         time.Duration
	MaxTokenAge    time.Duration
	CacheSize      int
	Now            func() time.Time
	TracerProvider trace.TracerProvider

	// Remote checks what a member session's JWT cannot decide. Required for
	// a B2B project, unused for a consumer one.
	Remote Remote
	// UserRemote checks what a user session's JWT cannot decide. Required
	// for a consumer project, unused for a B2B one.
	UserRemote UserRemote
	// Revocations, when set, rejects the JWTs of revoked sessions and members
	// at once, on the cached path too. Nil: revocations are Stytch's alone.
	Revocations Revocations
	// Budget, when set, admits every remote check. Nil: no limit.
	Budget Budget
	// RejectedTTL is how long a credential Stytch rejected is answered from
	// the negative cache; zero means 30 s, negative disables the cache.
	RejectedTTL time.Duration
	// Metrics counts every decision in authsvc_session_verifications_total;
	// nil counts nothing.
	Metrics *telemetry.AuthMetrics
	// Policies, when set, decides a B2B authorization check on a valid
	// session JWT locally, from the RBAC policy and the JWT's roles
	// (authorize.go). Nil: every authorization check goes to Stytch.
	Policies Policies
}

// Checker checks the session credentials of one project (member sessions of
// a B2B project, or user sessions of a consumer project) and M2M access
// tokens. Build it with [New]; it is safe for concurrent use and holds no
// goroutines.
type Checker struct {
	verifier    *verify.Verifier
	consumer    bool
	remote      Remote
	userRemote  UserRemote
	budget      Budget
	rejected    *lru.Cache[[sha256.Size]byte, rejection] // nil when disabled
	rejectedTTL time.Duration
	now         func() time.Time
	metrics     *telemetry.AuthMetrics
	policies    Policies
}

// rejection is a credential Stytch refused, remembered until expires.
type rejection struct {
	err     error
	expires time.Time
}

const (
	defaultRejectedTTL  = 30 * time.Second
	rejectedCacheSize   = 10_000
	reasonNegativeCache = "rejected_recently"
)

// New builds a Checker and its verifier. It does no I/O.
func New(cfg Config) (*Checker, error) {
	consumer := cfg.ProjectType == verify.ProjectConsumer
	switch {
	case consumer && cfg.UserRemote == nil:
		return nil, errors.New("session: Config.UserRemote is required for a consumer project")
	case !consumer && cfg.Remote == nil:
		return nil, errors.New("session: Config.Remote is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Checker{
		consumer: consumer, remote: cfg.Remote, userRemote: cfg.UserRemote,
		budget: cfg.Budget, now: cfg.Now, metrics: cfg.Metrics, rejectedTTL: cfg.RejectedTTL,
		policies: cfg.Policies,
	}
	vc := verify.VerifierConfig{
		ProjectType:    cfg.ProjectType,
		ProjectID:      cfg.ProjectID,
		Keys:           cfg.Keys,
		BaseURL:        cfg.BaseURL,
		Leeway:         cfg.Leeway,
		MaxTokenAge:    cfg.MaxTokenAge,
		CacheSize:      cfg.CacheSize,
		Now:            cfg.Now,
		TracerProvider: cfg.TracerProvider,
		Observe:        c.observeLocal,
	}
	if r := cfg.Revocations; r != nil {
		vc.IsRevoked, vc.IsMemberRevoked = r.IsRevoked, r.IsMemberRevoked
	}
	v, err := verify.NewVerifier(vc)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	c.verifier = v
	switch {
	case c.rejectedTTL == 0:
		c.rejectedTTL = defaultRejectedTTL
	case c.rejectedTTL < 0:
		return c, nil
	}
	// lru.New fails only for a non-positive size.
	c.rejected, _ = lru.New[[sha256.Size]byte, rejection](rejectedCacheSize)
	return c, nil
}

// Verifier returns the local verifier (for code that needs the JWT claims of
// a token it holds, such as naming the session behind a JWT being revoked).
func (c *Checker) Verifier() *verify.Verifier { return c.verifier }

// ProjectType returns the project type whose sessions c checks.
func (c *Checker) ProjectType() verify.ProjectType { return c.verifier.ProjectType() }

// Request asks whether a session is valid. Set exactly one of Token and JWT.
type Request struct {
	// Token is an opaque session token: only Stytch can check it.
	Token string
	// JWT is a session JWT: checked locally first.
	JWT string
	// FallbackToken is tried (as Token) when JWT is rejected as invalid: a
	// browser's stytch_session cookie next to a stytch_session_jwt cookie whose
	// key has rotated away must not log out a session that still lives.
	FallbackToken string
	// MaxTokenAge, when positive, sends a JWT issued longer ago than this to
	// Stytch although it has not expired. A caller may tighten the verifier's
	// own limit, never loosen it.
	MaxTokenAge time.Duration
	// Fresh asks Stytch whatever the JWT says (max_token_age_seconds = 0).
	Fresh bool
	// SessionDurationMinutes and CustomClaims change the session: they need
	// Stytch (which extends it and mints a new JWT).
	SessionDurationMinutes int32
	CustomClaims           stytchclient.Metadata
	// AuthorizationCheck asks Stytch's B2B RBAC. B2B only. Decided locally
	// on a valid session JWT when the checker has Policies; otherwise (and
	// for an opaque token) by Stytch.
	AuthorizationCheck *stytchclient.AuthorizationCheck
	// UserAuthorizationCheck asks Stytch's consumer RBAC: it needs Stytch.
	// Consumer only.
	UserAuthorizationCheck *stytchclient.ConsumerAuthorizationCheck
	// Factors are step-up requirements decided from the valid session's
	// authentication_factors (see factors.go); they never need Stytch.
	Factors []FactorRequirement
}

// Path says which path decided a check.
type Path string

// Decision paths (the path label of authsvc_session_verifications_total).
const (
	PathLocal  = Path(telemetry.PathLocal)  // the JWT was verified (or rejected) in process
	PathRemote = Path(telemetry.PathRemote) // the Remote decided (or the negative cache answered for it)
)

// Result is a valid session.
type Result struct {
	// Path is the path that decided; Reason why it went remote
	// ("opaque_token", "expired", "too_old", "authorization_check",
	// "session_change", "max_age_zero") or "ok" on the local path.
	Path   Path
	Reason string
	// Session is the member session in Stytch's shape, whichever path
	// decided (B2B only; zero for a user session).
	Session stytchclient.MemberSessionInfo
	// UserSession is the user session in Stytch's shape, whichever path
	// decided (consumer only; zero for a member session).
	UserSession stytchclient.UserSession
	// Claims are the verified JWT claims (local path only; read-only).
	Claims *verify.SessionClaims
	// Verdict is the answer to the request's authorization check when it was
	// decided locally (on the remote path: Stytch.Verdict).
	Verdict *stytchclient.AuthorizationVerdict
	// Stytch is the Remote's full answer: member, organization, refreshed
	// token and JWT, authorization verdict (B2B remote path only).
	Stytch *stytchclient.SessionsAuthenticateResult
	// UserStytch is the UserRemote's full answer: user, refreshed token and
	// JWT, authorization verdict (consumer remote path only).
	UserStytch *stytchclient.ConsumerSessionsAuthenticateResult
	// Credential is the credential that proved the session, to forward to
	// Stytch on the member's or user's behalf: the JWT (Stytch's refreshed
	// one when the check went remote) or the opaque token. (A user's
	// credential travels in the same Token/JWT pair.)
	Credential stytchclient.MemberSession
}

// SessionID is the checked session's ID, a member's or a user's.
func (r *Result) SessionID() string {
	if r.UserSession.SessionID != "" {
		return r.UserSession.SessionID
	}
	return r.Session.MemberSessionID
}

// ErrTooManySessionArguments: both or neither of Request.Token and
// Request.JWT were set. No call was made.
var ErrTooManySessionArguments = rpcerr.New(codes.InvalidArgument, "too_many_credentials",
	"pass either a session token or a session JWT, not both")

// Check decides whether the session behind req is valid. The result is non-nil
// even on error, with Path and Reason saying what decided; its other fields are
// set only on success. Errors carry their
// gRPC status: a rejected credential is UNAUTHENTICATED (a local reason such as
// "expired" or "revoked", or Stytch's error type), an undecidable one
// UNAVAILABLE, a refused remote check RESOURCE_EXHAUSTED.
func (c *Checker) Check(ctx context.Context, req Request) (*Result, error) {
	res, err := c.check(ctx, req)
	if err == nil && len(req.Factors) > 0 {
		if err := requireFactors(res.factors(), req.Factors, c.now()); err != nil {
			return &Result{Path: res.Path, Reason: reasonFactorRequired}, err
		}
	}
	return res, err
}

func (c *Checker) check(ctx context.Context, req Request) (*Result, error) {
	if (req.Token == "") == (req.JWT == "") {
		return &Result{Path: PathLocal, Reason: "malformed"}, ErrTooManySessionArguments
	}
	reason := c.remoteReason(req)
	if req.JWT != "" {
		claims, err := c.verifySession(ctx, req.JWT, req.MaxTokenAge)
		switch {
		case err == nil && reason == "":
			res := &Result{Path: PathLocal, Reason: "ok", Claims: claims, Credential: stytchclient.MemberSession{JWT: req.JWT}}
			if c.consumer {
				res.UserSession = userSessionFromClaims(claims)
				return res, nil
			}
			res.Session = sessionFromClaims(claims)
			if req.AuthorizationCheck == nil {
				return res, nil
			}
			switch decided, err := c.authorizeLocally(ctx, res, req.AuthorizationCheck); {
			case err != nil:
				return &Result{Path: PathLocal, Reason: reasonAuthorization(err)}, err
			case decided:
				return res, nil
			}
			// No policy to decide with: Stytch decides.
			reason = "authorization_check"
		case err == nil:
			// Valid, but the request needs Stytch.
		case verify.Refreshable(err):
			if reason == "" {
				reason = verify.Reason(err)
			}
		case req.FallbackToken != "" && invalid(err):
			req.JWT, req.Token, req.FallbackToken = "", req.FallbackToken, ""
			reason = c.remoteReason(req)
		default:
			// Forged, malformed, unknown key, revoked, or keys not loaded: decided
			// here, so junk never becomes a call to Stytch.
			return &Result{Path: PathLocal, Reason: verify.Reason(err)}, err
		}
	}
	return c.checkRemote(ctx, req, reason)
}

// remoteReason says why req needs Stytch whatever a JWT says, or "". A B2B
// authorization check needs Stytch only when c has no policies to decide it.
func (c *Checker) remoteReason(req Request) string {
	switch {
	case req.Token != "":
		return "opaque_token"
	case req.AuthorizationCheck != nil && (c.policies == nil || c.consumer) || req.UserAuthorizationCheck != nil:
		return "authorization_check"
	case req.SessionDurationMinutes != 0 || req.CustomClaims != nil:
		return "session_change"
	case req.Fresh:
		return "max_age_zero"
	}
	return ""
}

// verifySession verifies a session JWT locally (revocations included) and
// applies the request's max token age.
func (c *Checker) verifySession(ctx context.Context, jwt string, maxAge time.Duration) (*verify.SessionClaims, error) {
	claims, err := c.verifier.VerifySession(ctx, jwt)
	if err == nil && maxAge > 0 {
		if age := c.now().Sub(claims.IssuedAt); age > maxAge {
			err = fmt.Errorf("issued %s ago, limit %s: %w", age.Round(time.Second), maxAge, verify.ErrTooOld)
		}
	}
	return claims, err //nolint:wrapcheck // verify's errors carry their status
}

// invalid reports that a local rejection is about the credential itself, not
// about whether it could be checked.
func invalid(err error) bool {
	return !errors.Is(err, verify.ErrKeysNotLoaded) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Checker) checkRemote(ctx context.Context, req Request, reason string) (*Result, error) {
	cred := req.Token
	if cred == "" {
		cred = req.JWT
	}
	key := sha256.Sum256([]byte(cred))
	failed := &Result{Path: PathRemote, Reason: reason}
	if err := c.recentlyRejected(key); err != nil {
		c.metrics.CredentialVerified(ctx, c.sessionKind(), telemetry.PathRemote, telemetry.OutcomeInvalid, reasonNegativeCache)
		return failed, err
	}
	if err := c.checkAuthorizationKind(req); err != nil {
		return failed, err
	}
	var done func(bool)
	if c.budget != nil {
		var err error
		if done, err = c.budget.Admit(ctx); err != nil {
			return failed, err
		}
	}
	out, refreshedJWT, err := c.authenticate(ctx, req)
	outcome := remoteOutcome(err)
	c.metrics.CredentialVerified(ctx, c.sessionKind(), telemetry.PathRemote, outcome, reason)
	if done != nil {
		done(outcome == telemetry.OutcomeInvalid)
	}
	if err != nil {
		if outcome == telemetry.OutcomeInvalid && sessionGone(err) {
			c.remember(key, err)
		}
		return failed, err
	}
	out.Path, out.Reason = PathRemote, reason
	switch {
	case req.Token != "":
		out.Credential = stytchclient.MemberSession{Token: req.Token}
	case refreshedJWT != "":
		out.Credential = stytchclient.MemberSession{JWT: refreshedJWT}
	default:
		out.Credential = stytchclient.MemberSession{JWT: req.JWT}
	}
	return out, nil
}

// ErrAuthorizationCheckOfOtherProject: the request carries the authorization
// check of the other project type (a B2B check to a consumer checker or the
// reverse). No call was made.
var ErrAuthorizationCheckOfOtherProject = rpcerr.New(codes.InvalidArgument, "authorization_check_project_type",
	"the authorization check is of the other Stytch project type")

func (c *Checker) checkAuthorizationKind(req Request) error {
	if c.consumer && req.AuthorizationCheck != nil || !c.consumer && req.UserAuthorizationCheck != nil {
		return ErrAuthorizationCheckOfOtherProject
	}
	return nil
}

// authenticate asks the project's remote: the one place the two project
// types' remote calls differ. It returns the session in the project's shape
// and Stytch's refreshed JWT.
func (c *Checker) authenticate(ctx context.Context, req Request) (*Result, string, error) {
	if c.consumer {
		res, err := c.userRemote.ConsumerSessionsAuthenticate(ctx, stytchclient.ConsumerSessionsAuthenticateParams{
			SessionToken:           req.Token,
			SessionJWT:             req.JWT,
			SessionDurationMinutes: req.SessionDurationMinutes,
			SessionCustomClaims:    req.CustomClaims,
			AuthorizationCheck:     req.UserAuthorizationCheck,
		})
		if err != nil {
			return nil, "", err //nolint:wrapcheck // the Stytch client's errors carry their status
		}
		return &Result{UserSession: res.Session, UserStytch: res}, res.SessionJWT, nil
	}
	res, err := c.remote.SessionsAuthenticate(ctx, stytchclient.SessionsAuthenticateParams{
		SessionToken:           req.Token,
		SessionJWT:             req.JWT,
		SessionDurationMinutes: req.SessionDurationMinutes,
		SessionCustomClaims:    req.CustomClaims,
		AuthorizationCheck:     req.AuthorizationCheck,
	})
	if err != nil {
		return nil, "", err //nolint:wrapcheck // the Stytch client's errors carry their status
	}
	return &Result{Session: res.MemberSession, Stytch: res}, res.SessionJWT, nil
}

// remoteOutcome classifies a remote decision: Stytch refusing the session
// (400/401/404) is invalid; anything else (an outage, a rate limit, a refusal
// of authsvc's own credentials) is error: it says nothing about the session.
func remoteOutcome(err error) telemetry.Outcome {
	if err == nil {
		return telemetry.OutcomeValid
	}
	se, ok := stytchclient.AsError(err)
	if !ok {
		return telemetry.OutcomeError
	}
	switch se.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound:
		if se.ErrorType != "unauthorized_credentials" {
			return telemetry.OutcomeInvalid
		}
	}
	return telemetry.OutcomeError
}

// sessionGone reports a rejection that will not change on a retry: the
// session does not exist (any more) or the JWT is not one Stytch accepts.
// Rejections of the request's other parameters are not remembered.
func sessionGone(err error) bool {
	switch stytchclient.ErrorType(err) {
	case "session_not_found", "invalid_session_jwt", "session_expired":
		return true
	}
	return false
}

func (c *Checker) recentlyRejected(key [sha256.Size]byte) error {
	if c.rejected == nil {
		return nil
	}
	r, ok := c.rejected.Get(key)
	if !ok {
		return nil
	}
	if !c.now().Before(r.expires) {
		c.rejected.Remove(key)
		return nil
	}
	return r.err
}

func (c *Checker) remember(key [sha256.Size]byte, err error) {
	if c.rejected != nil {
		c.rejected.Add(key, rejection{err: err, expires: c.now().Add(c.rejectedTTL)})
	}
}

// CheckM2M verifies an M2M access token locally and checks that its scopes
// meet every required scope (Stytch's scope rule). A valid token lacking a
// scope fails with verify.ErrInsufficientScope and still returns the claims.
func (c *Checker) CheckM2M(ctx context.Context, token string, required []string) (*verify.M2MClaims, error) {
	return c.verifier.VerifyM2M(ctx, token, required) //nolint:wrapcheck // verify's errors carry their status
}

// sessionKind is the kind label of the checker's session verifications: a consumer project's
// user sessions are counted apart from member sessions.
func (c *Checker) sessionKind() string {
	if c.consumer {
		return telemetry.KindUserSession
	}
	return telemetry.KindSession
}

// observeLocal counts the verifier's decisions (local: signature checked;
// cache: a token verified before, rechecked).
func (c *Checker) observeLocal(ctx context.Context, kind, path string, err error) {
	p := telemetry.PathLocal
	if path == verify.PathCache {
		p = telemetry.PathCache
	}
	reason := verify.Reason(err)
	outcome := telemetry.OutcomeInvalid
	switch reason {
	case "ok":
		outcome = telemetry.OutcomeValid
	case "keys_not_loaded", "canceled", "other":
		outcome = telemetry.OutcomeError // could not decide; says nothing about the credential
	}
	if kind == verify.KindSession {
		kind = c.sessionKind()
	}
	c.metrics.CredentialVerified(ctx, kind, p, outcome, reason)
}

// userSessionFromClaims presents a user session JWT's claims in the shape of
// Stytch's consumer session object, so callers handle one type whichever
// path decided.
func userSessionFromClaims(c *verify.SessionClaims) stytchclient.UserSession {
	s := stytchclient.UserSession{
		SessionID:      c.SessionID,
		UserID:         c.UserID,
		Roles:          c.Roles,
		StartedAt:      stytchclient.Timestamp{Time: c.StartedAt},
		LastAccessedAt: stytchclient.Timestamp{Time: c.LastAccessedAt},
		ExpiresAt:      stytchclient.Timestamp{Time: c.ExpiresAt},
		CustomClaims:   c.CustomClaims,
	}
	if c.Attributes != (verify.SessionAttributes{}) {
		s.Attributes = &stytchclient.Attributes{IPAddress: c.Attributes.IPAddress, UserAgent: c.Attributes.UserAgent}
	}
	if len(c.AuthenticationFactors) > 0 {
		s.AuthenticationFactors = make([]stytchclient.UserAuthenticationFactor, 0, len(c.AuthenticationFactors))
		for _, f := range c.AuthenticationFactors {
			uf := stytchclient.UserAuthenticationFactor{AuthenticationFactor: factorFromClaims(f)}
			// The JWT's claim was signed by Stytch, so its details decode; one that does not keeps
			// the factor's type, method and times, which are what access decisions use.
			_ = uf.SetDetails(f.Other)
			s.AuthenticationFactors = append(s.AuthenticationFactors, uf)
		}
	}
	return s
}

// sessionFromClaims presents JWT claims in the shape of Stytch's session
// object, so callers handle one type whichever path decided.
func sessionFromClaims(c *verify.SessionClaims) stytchclient.MemberSessionInfo {
	s := stytchclient.MemberSessionInfo{
		MemberSessionID:  c.SessionID,
		MemberID:         c.MemberID,
		StartedAt:        stytchclient.Timestamp{Time: c.StartedAt},
		LastAccessedAt:   stytchclient.Timestamp{Time: c.LastAccessedAt},
		ExpiresAt:        stytchclient.Timestamp{Time: c.ExpiresAt},
		OrganizationID:   c.OrganizationID,
		OrganizationSlug: c.OrganizationSlug,
		Roles:            c.Roles,
		CustomClaims:     c.CustomClaims,
	}
	if len(c.AuthenticationFactors) > 0 {
		s.AuthenticationFactors = make([]stytchclient.AuthenticationFactor, 0, len(c.AuthenticationFactors))
		for _, f := range c.AuthenticationFactors {
			s.AuthenticationFactors = append(s.AuthenticationFactors, factorFromClaims(f))
		}
	}
	return s
}

// factorFromClaims is one factor of a session JWT in Stytch's shape (members'
// and users' factors share it).
func factorFromClaims(f verify.AuthenticationFactor) stytchclient.AuthenticationFactor {
	af := stytchclient.AuthenticationFactor{
		Type:                f.Type,
		DeliveryMethod:      f.DeliveryMethod,
		LastAuthenticatedAt: stytchclient.Timestamp{Time: f.LastAuthenticatedAt},
		CreatedAt:           stytchclient.Timestamp{Time: f.CreatedAt},
		UpdatedAt:           stytchclient.Timestamp{Time: f.UpdatedAt},
	}
	if f.EmailFactor != nil {
		af.EmailFactor = &stytchclient.EmailFactor{EmailID: f.EmailFactor.EmailID, EmailAddress: f.EmailFactor.EmailAddress}
	}
	if f.PhoneNumberFactor != nil {
		af.PhoneNumberFactor = &stytchclient.PhoneNumberFactor{PhoneID: f.PhoneNumberFactor.PhoneID, PhoneNumber: f.PhoneNumberFactor.PhoneNumber}
	}
	return af
}
