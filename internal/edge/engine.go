package edge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	grpccodes "google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/edge/rules"
	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// M2MChecker verifies M2M access tokens locally: the B2B (M2M project's) *session.Checker, the
// same one the access layer uses, so there is one JWKS cache per project.
type M2MChecker interface {
	CheckM2M(ctx context.Context, token string, required []string) (*verify.M2MClaims, error)
}

// CookieNames are one project's session cookies.
type CookieNames struct {
	Session, SessionJWT string
}

// Config configures [NewEngine].
type Config struct {
	// Rules are the rules to start with (required); SetRules replaces them.
	Rules *rules.Set
	// Members checks member sessions (the B2B project's session.Checker); nil when no B2B project
	// is served, so member rules admit no one.
	Members access.SessionChecker
	// Users checks user sessions (the consumer project's session.Checker); nil when no consumer
	// project is served, so user rules admit no one.
	Users access.SessionChecker
	// M2M verifies M2M access tokens (required).
	M2M M2MChecker
	// Policies gives the B2B project's RBAC policy for rules naming a permission (the access
	// layer's *stytchclient.PolicyCache); nil when no B2B project is served, so such rules admit no
	// one.
	Policies session.Policies
	// MemberCookies and UserCookies are the projects' session cookie names (internal/config).
	MemberCookies, UserCookies CookieNames
	// Headers are the identity headers' names; zero fields take the defaults.
	Headers HeaderNames
	// Now is the clock of max_age; nil means time.Now.
	Now func() time.Time
	// Metrics records decisions; nil records nothing.
	Metrics *Metrics
	// TracerProvider makes the span of each decision; nil makes none.
	TracerProvider trace.TracerProvider
	// Logger receives verification outages; nil discards.
	Logger *slog.Logger
}

// Engine decides whether a request a proxy forwards may reach the upstream. It is safe for
// concurrent use; SetRules swaps the rules atomically.
type Engine struct {
	rules   atomic.Pointer[rules.Set]
	members access.SessionChecker
	users   access.SessionChecker
	m2m     M2MChecker
	pols    session.Policies
	cookies [2]CookieNames // member, user
	headers HeaderNames
	now     func() time.Time
	metrics *Metrics
	tracer  trace.Tracer
	log     *slog.Logger
}

// NewEngine builds the engine.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Rules == nil || cfg.M2M == nil {
		return nil, errors.New("edge: Config.Rules and Config.M2M are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = noop.NewTracerProvider()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	headers, err := cfg.Headers.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		members: cfg.Members, users: cfg.Users, m2m: cfg.M2M, pols: cfg.Policies,
		cookies: [2]CookieNames{cfg.MemberCookies, cfg.UserCookies},
		headers: headers, now: cfg.Now, metrics: cfg.Metrics,
		tracer: cfg.TracerProvider.Tracer("github.com/authsvc/authsvc/internal/edge"),
		log:    cfg.Logger,
	}
	e.rules.Store(cfg.Rules)
	return e, nil
}

// SetRules replaces the rules for the decisions that start after it.
func (e *Engine) SetRules(s *rules.Set) { e.rules.Store(s) }

// Rules returns the rules in force.
func (e *Engine) Rules() *rules.Set { return e.rules.Load() }

// Headers returns the identity headers' names.
func (e *Engine) Headers() HeaderNames { return e.headers }

// Input is the request a proxy asks about, read from an Envoy CheckRequest or from a forward-auth
// request's X-Forwarded-* headers.
type Input struct {
	Method string
	Host   string
	// Scheme is http or https (the return_to URL of a login redirect); empty means https.
	Scheme string
	// Target is the request target: the path and query.
	Target string
	// Authorization are the Authorization header's values.
	Authorization []string
	// Cookie is the Cookie header (several joined with "; ").
	Cookie string
	// Accept is the Accept header: text/html asks for the login redirect.
	Accept string
	// Header returns another header's value (organization_from.header); name is lower case.
	Header func(name string) string
}

// Decision is the engine's answer.
type Decision struct {
	Allowed bool
	// Status is the HTTP status for the proxy to answer with when denied: 400 (ambiguous path),
	// 401, 403, 302 (login redirect), 429 (remote-check budget spent) or 503 (the credential could
	// not be checked); 200 when allowed.
	Status int
	// Code names the status in the JSON body: ok, invalid_argument, unauthenticated,
	// permission_denied, resource_exhausted, unavailable.
	Code string
	// Reason says why (a fixed word: public, session, m2m, no_rule, no_credentials, expired,
	// revoked, missing_role, wrong_organization, missing_scope, ...).
	Reason string
	// Rule is the rule that decided; empty when none matched.
	Rule string
	// Kind is who was admitted: member, user, m2m or public; empty when denied.
	Kind     string
	Identity Identity
	// Location is the login URL of a redirect (Status 302), with the request's URL as return_to.
	Location string
	// RetryAfter is set on 429 and 503.
	RetryAfter time.Duration
}

// Identity is the admitted caller, for the upstream's headers.
type Identity struct {
	Subject      string // member_id, user_id or client_id
	Organization string
	Session      string
	Roles        []string
	Scopes       []string
}

// Decide decides in. It makes no network call for a public rule, a session JWT or an M2M token
// (the session checker verifies locally); an opaque session token or an expired JWT goes to Stytch
// only as the session checker allows, within the remote-check budget of the client's IP (which the
// caller has put in ctx).
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	start := time.Now() // the latency, on the wall clock (e.now may be a test clock)
	ctx, span := e.tracer.Start(ctx, "edge.Decide", trace.WithSpanKind(trace.SpanKindInternal))
	d := e.decide(ctx, in)
	span.SetAttributes(
		attribute.String("authsvc.edge.rule", d.Rule),
		attribute.Bool("authsvc.edge.allowed", d.Allowed),
		attribute.String("authsvc.edge.reason", d.Reason),
		attribute.Int("http.response.status_code", d.Status),
	)
	if d.Kind != "" {
		span.SetAttributes(attribute.String("authsvc.caller.kind", d.Kind))
	}
	if d.Status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, d.Reason)
	}
	span.End()
	e.metrics.record(ctx, d, time.Since(start))
	return d
}

func (e *Engine) decide(ctx context.Context, in Input) Decision {
	path, err := rules.SplitPath(in.Target)
	if err != nil {
		return deny(http.StatusBadRequest, "ambiguous_path", "")
	}
	rule, params := e.rules.Load().Find(rules.Request{Method: in.Method, Host: in.Host, Path: path})
	switch {
	case rule == nil:
		return deny(http.StatusForbidden, "no_rule", "")
	case rule.Public:
		return Decision{Allowed: true, Status: http.StatusOK, Code: "ok", Reason: "public", Rule: rule.Name, Kind: "public"}
	case rule.M2M != nil:
		return e.service(ctx, rule, in)
	}
	d := e.sessionDecision(ctx, rule, params, in)
	if !d.Allowed && d.Status == http.StatusUnauthorized && rule.RedirectToLogin != "" && wantsHTML(in.Accept) {
		d.Status, d.Location = http.StatusFound, loginURL(rule.RedirectToLogin, in)
	}
	return d
}

func deny(status int, reason, rule string) Decision {
	return Decision{Status: status, Code: codeOf(status), Reason: reason, Rule: rule}
}

func codeOf(status int) string {
	switch status {
	case http.StatusOK:
		return "ok"
	case http.StatusBadRequest:
		return "invalid_argument"
	case http.StatusUnauthorized, http.StatusFound:
		return "unauthenticated"
	case http.StatusForbidden:
		return "permission_denied"
	case http.StatusTooManyRequests:
		return "resource_exhausted"
	default:
		return "unavailable"
	}
}

func (e *Engine) service(ctx context.Context, rule *rules.Rule, in Input) Decision {
	// Cookies are a browser's; an M2M route reads only the Authorization header. A bearer JWT goes
	// straight to the M2M verifier, which checks its kind: the claims are read for routing only
	// when it is refused (to say a session JWT is the wrong kind of credential).
	var cred access.Credential
	if tok, ok := access.BearerJWT(in.Authorization); ok {
		cred = access.Credential{Kind: access.CredentialM2M, Token: tok}
	} else {
		cred = access.ReadCredential(in.Authorization, "", "")
	}
	switch cred.Kind {
	case access.CredentialNone:
		return deny(http.StatusUnauthorized, "no_credentials", rule.Name)
	case access.CredentialMalformed:
		return deny(http.StatusUnauthorized, "malformed_credentials", rule.Name)
	case access.CredentialM2M:
	default:
		return deny(http.StatusForbidden, "wrong_credential_kind", rule.Name)
	}
	claims, err := e.m2m.CheckM2M(ctx, cred.Token, rule.M2M.Scopes)
	switch {
	case errors.Is(err, verify.ErrMalformed) && wrongKind(in.Authorization, access.CredentialM2M):
		return deny(http.StatusForbidden, "wrong_credential_kind", rule.Name)
	case errors.Is(err, verify.ErrInsufficientScope):
		return deny(http.StatusForbidden, "missing_scope", rule.Name)
	case err != nil:
		return e.failure(ctx, err, rule.Name)
	}
	return Decision{
		Allowed: true, Status: http.StatusOK, Code: "ok", Reason: "m2m", Rule: rule.Name, Kind: "m2m",
		Identity: Identity{Subject: claims.ClientID, Scopes: claims.Scopes},
	}
}

// checked is a verified session of either project, in the shape the rule checks need.
type checked struct {
	kind, subject, organization, session string
	roles                                []string
	started                              time.Time
	factors                              []stytchclient.AuthenticationFactor
}

func (e *Engine) sessionDecision(ctx context.Context, rule *rules.Rule, params rules.Params, in Input) Decision {
	s := rule.Session
	var cred access.Credential
	if tok, ok := access.BearerJWT(in.Authorization); ok {
		// The session checker verifies the kind itself (an M2M token is malformed to it); the
		// claims are read for routing only when it refuses the token.
		cred = access.Credential{Kind: access.CredentialSessionJWT, Token: tok}
	} else {
		cred = e.sessionCredential(in, s.Kind)
	}
	switch cred.Kind {
	case access.CredentialNone:
		return deny(http.StatusUnauthorized, "no_credentials", rule.Name)
	case access.CredentialMalformed:
		return deny(http.StatusUnauthorized, "malformed_credentials", rule.Name)
	case access.CredentialM2M:
		return deny(http.StatusForbidden, "wrong_credential_kind", rule.Name)
	}
	c, err := e.checkSession(ctx, s.Kind, cred)
	if errors.Is(err, verify.ErrMalformed) && wrongKind(in.Authorization, access.CredentialSessionJWT) {
		return deny(http.StatusForbidden, "wrong_credential_kind", rule.Name)
	}
	if err != nil {
		return e.failure(ctx, err, rule.Name)
	}
	if c == nil {
		return deny(http.StatusForbidden, "no_project", rule.Name)
	}
	if reason, status := e.admits(ctx, s, c, params, in); reason != "" {
		d := deny(status, reason, rule.Name)
		if status == http.StatusServiceUnavailable {
			d.RetryAfter = time.Second
		}
		return d
	}
	return Decision{
		Allowed: true, Status: http.StatusOK, Code: "ok", Reason: "session", Rule: rule.Name, Kind: c.kind,
		Identity: Identity{Subject: c.subject, Organization: c.organization, Session: c.session, Roles: c.roles},
	}
}

// wrongKind reports whether a bearer JWT that a verifier refused as malformed is a well-formed
// credential of another kind than want (a session JWT on an M2M rule, or the reverse).
func wrongKind(authorization []string, want access.CredentialKind) bool {
	k := access.ReadCredential(authorization, "", "").Kind
	return k != want && (k == access.CredentialM2M || k == access.CredentialSessionJWT)
}

// sessionCredential reads the session credential of a request without a bearer JWT: the
// Authorization header's opaque token, else the cookies of the rule's kind's project.
func (e *Engine) sessionCredential(in Input, kind string) access.Credential {
	var cred access.Credential
	switch kind {
	case rules.KindMember:
		cred = e.credential(in, 0)
	case rules.KindUser:
		cred = e.credential(in, 1)
	default:
		if cred = e.credential(in, 0); cred.Kind == access.CredentialNone {
			cred = e.credential(in, 1)
		}
	}
	return cred
}

// credential reads the request's credential with the session cookies of project p (0 member, 1
// user), as the access layer does: the Authorization header wins.
func (e *Engine) credential(in Input, p int) access.Credential {
	names := e.cookies[p]
	return access.ReadCredential(in.Authorization, cookieValue(in.Cookie, names.Session), cookieValue(in.Cookie, names.SessionJWT))
}

// checkSession checks cred with the checker of kind; for "any", a JWT of the other project type
// (refused locally by the member checker) and an opaque token the member project does not know
// go to the user checker. It returns nil, nil when no checker of the kind is configured.
func (e *Engine) checkSession(ctx context.Context, kind string, cred access.Credential) (*checked, error) {
	req := session.Request{Token: cred.Token}
	if cred.Kind == access.CredentialSessionJWT {
		req = session.Request{JWT: cred.Token, FallbackToken: cred.FallbackToken}
	}
	if kind != rules.KindUser && e.members != nil {
		res, err := e.members.Check(ctx, req)
		if err == nil && res.Session.MemberID != "" {
			return memberChecked(res), nil
		}
		if kind == rules.KindMember || e.users == nil || !otherProject(ctx, err) {
			if err == nil {
				err = verify.ErrWrongProjectType
			}
			return nil, err
		}
	}
	if kind == rules.KindMember || e.users == nil {
		return nil, nil
	}
	res, err := e.users.Check(ctx, req)
	if err != nil {
		return nil, err //nolint:wrapcheck // the checker's errors carry their status
	}
	if res.UserSession.UserID == "" {
		return nil, verify.ErrWrongProjectType
	}
	us := res.UserSession
	c := &checked{kind: "user", subject: us.UserID, session: us.SessionID, roles: us.Roles, started: us.StartedAt.Time}
	for _, f := range us.AuthenticationFactors {
		c.factors = append(c.factors, f.AuthenticationFactor)
	}
	return c, nil
}

// otherProject reports whether a member check's failure may mean the credential is a user's.
func otherProject(ctx context.Context, err error) bool {
	return errors.Is(err, verify.ErrWrongProjectType) ||
		stytchclient.ErrorType(err) != "" && access.ClassifyFailure(ctx, err) == grpccodes.Unauthenticated
}

func memberChecked(res *session.Result) *checked {
	s := res.Session
	return &checked{
		kind: "member", subject: s.MemberID, organization: s.OrganizationID, session: s.MemberSessionID,
		roles: s.Roles, started: s.StartedAt.Time, factors: s.AuthenticationFactors,
	}
}

// admits applies the rule's conditions to a valid session: the reason and status of a refusal, or
// "" when admitted. Needing a fresher or stronger authentication is 401 (signing in again cures
// it); a role, organization or permission the session does not have is 403; a permission that
// cannot be decided for want of the RBAC policy is 503 (fail closed).
func (e *Engine) admits(ctx context.Context, s *rules.Session, c *checked, params rules.Params, in Input) (string, int) {
	for _, r := range s.Roles {
		if !slices.Contains(c.roles, r) {
			return "missing_role", http.StatusForbidden
		}
	}
	if o := s.OrganizationFrom; o != nil {
		var want string
		if o.PathParam != "" {
			want = params[o.PathParam]
		} else if in.Header != nil {
			want = in.Header(o.Header)
		}
		// Organization IDs compare in any letter case, as Stytch resolves them; a request that names
		// none never matches.
		if want == "" || c.organization == "" || !strings.EqualFold(want, c.organization) {
			return "wrong_organization", http.StatusForbidden
		}
	}
	if p := s.Permission; p != nil {
		if reason, status := e.permitted(ctx, p, c); reason != "" {
			return reason, status
		}
	}
	if s.MaxAge > 0 && e.now().Sub(lastAuthenticated(c)) > s.MaxAge {
		return "reauthentication_required", http.StatusUnauthorized
	}
	for _, f := range s.Factors {
		if !hasFactor(c.factors, f) {
			return "missing_factor", http.StatusUnauthorized
		}
	}
	return "", 0
}

// Reasons of a permission rule's refusals.
const (
	// ReasonMissingPermission: no role of the member grants the rule's permission.
	ReasonMissingPermission = "missing_permission"
	// ReasonPolicyUnavailable: no RBAC policy could be had to decide the permission (503).
	ReasonPolicyUnavailable = "rbac_policy_unavailable"
)

// permitted decides a rule's permission for a member whose organization the rule already checked
// (the parser requires organization_from with a permission), by internal/rbac as the access layer
// and Sessions.Authenticate's authorization_check decide: one of the session's roles must grant
// the action, or "*", on the resource by the project's policy with the organization's custom roles.
func (e *Engine) permitted(ctx context.Context, p *rules.Permission, c *checked) (string, int) {
	if c.kind != "member" || c.organization == "" {
		return ReasonMissingPermission, http.StatusForbidden
	}
	if e.pols == nil {
		return "no_rbac_policy", http.StatusForbidden
	}
	pol, err := e.pols.For(ctx, c.organization, c.roles)
	if err != nil {
		e.log.WarnContext(ctx, "edge: the RBAC policy cannot be fetched; permission rules refuse members", "error", err.Error())
		return ReasonPolicyUnavailable, http.StatusServiceUnavailable
	}
	if _, err := pol.Authorize(c.organization, c.roles, rbac.Check{OrganizationID: c.organization, ResourceID: p.Resource, Action: p.Action}); err != nil {
		return ReasonMissingPermission, http.StatusForbidden
	}
	return "", 0
}

func lastAuthenticated(c *checked) time.Time {
	t := c.started
	for _, f := range c.factors {
		if f.LastAuthenticatedAt.After(t) {
			t = f.LastAuthenticatedAt.Time
		}
	}
	return t
}

func hasFactor(have []stytchclient.AuthenticationFactor, want string) bool {
	typ, delivery, byDelivery := strings.Cut(want, ":")
	for _, f := range have {
		if f.Type == typ && (!byDelivery || f.DeliveryMethod == delivery) {
			return true
		}
	}
	return false
}

// failure turns a verification error into the decision, with the access layer's classification:
// a bad credential is 401, one that could not be checked 503 (never "invalid" during an outage),
// a spent remote-check budget 429.
func (e *Engine) failure(ctx context.Context, err error, rule string) Decision {
	reason := verify.Reason(err)
	if reason == "other" || reason == "canceled" {
		if reason = stytchclient.ErrorType(err); reason == "" {
			reason = "verification_failed"
		}
	}
	switch access.ClassifyFailure(ctx, err) {
	case grpccodes.Unauthenticated:
		return deny(http.StatusUnauthorized, reason, rule)
	case grpccodes.ResourceExhausted:
		d := deny(http.StatusTooManyRequests, "remote_checks_exhausted", rule)
		d.RetryAfter = retryAfter(err)
		return d
	default:
		// The error names endpoints and reasons, never a token.
		e.log.WarnContext(ctx, "edge: credentials could not be verified", "rule", rule, "error", err.Error())
		d := deny(http.StatusServiceUnavailable, access.ReasonVerifierDown, rule)
		d.RetryAfter = time.Second
		return d
	}
}

// retryAfter reads the RetryInfo of a RESOURCE_EXHAUSTED refusal; one second when it has none.
func retryAfter(err error) time.Duration {
	if st, ok := rpcerr.StatusOf(err); ok {
		for _, det := range st.Details() {
			if ri, ok := det.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
				return ri.GetRetryDelay().AsDuration()
			}
		}
	}
	return time.Second
}

func wantsHTML(accept string) bool {
	return strings.Contains(strings.ToLower(accept), "text/html")
}

// cookieValue returns the value of the cookie name in a Cookie header; "" when absent. The first
// cookie of the name wins, as net/http's Request.Cookie.
func cookieValue(header, name string) string {
	if header == "" || name == "" {
		return ""
	}
	for part := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
