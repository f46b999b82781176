package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/authsvc/authsvc/internal/rbac"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// SessionChecker verifies session credentials of one Stytch project; *session.Checker is the one
// production implementation (local JWT first, revocations, remote only where the rules allow).
type SessionChecker interface {
	Check(ctx context.Context, req session.Request) (*session.Result, error)
}

// Checker verifies the member sessions of a B2B project and M2M access tokens.
type Checker interface {
	SessionChecker
	CheckM2M(ctx context.Context, token string, required []string) (*verify.M2MClaims, error)
}

// Config configures [New].
type Config struct {
	// Checker verifies M2M access tokens and the session credentials presented to member_session
	// RPCs (and to RPCs that admit no session, which then refuse the member): the B2B project's
	// session.Checker. Required.
	Checker Checker
	// UserChecker verifies the session credentials presented to user_session RPCs: the consumer
	// project's session.Checker (Config.ProjectType verify.ProjectConsumer). Nil when no consumer
	// project is configured: user_session then admits no session (New logs it once).
	UserChecker SessionChecker
	// Policies gives the B2B project's RBAC policy that decides the rules naming a permission
	// (*stytchclient.PolicyCache: cached, fetched again when a role is unknown to it). Nil when no
	// B2B project is configured: such rules then admit no member session (fail closed).
	Policies session.Policies
	// Files holds the service descriptors to read access rules from; nil means
	// protoregistry.GlobalFiles.
	Files *protoregistry.Files
	// OpenServices are served without any check: by default gRPC health and reflection, which carry
	// no data of anyone. Every other service that has no rules is denied.
	OpenServices []string
	// Logger receives defects (an RPC without a rule) and verification outages. Nil discards.
	Logger *slog.Logger
}

// ErrorInfo reasons (domain rpcerr.Domain) of the access layer's refusals. They say that the access
// layer refused, never why: the why is in the access log.
const (
	ReasonCredentialsMissing = "credentials_required"
	ReasonAccessDenied       = "access_denied"
	ReasonVerifierDown       = "credentials_unverifiable"
	// ReasonPolicyUnavailable: a rule names a permission and no RBAC policy could be had to
	// decide it; the call is refused UNAVAILABLE rather than admitted (fail closed).
	ReasonPolicyUnavailable = "rbac_policy_unavailable"
)

// A rule that names a permission refuses a member with the reasons of internal/rbac (the ones
// Sessions.Authenticate's authorization_check answers with), in authsvc's ErrorInfo domain, since
// authsvc and not Stytch decided: rbac.ReasonTenancy for a member of another organization,
// rbac.ReasonDenied for one whose roles do not grant the permission.

// Interceptor enforces the access rules. Build it with [New].
type Interceptor struct {
	rules   map[string]*rule
	open    map[string]bool
	checker Checker
	users   SessionChecker   // nil: no consumer project
	pols    session.Policies // nil: no B2B project; permission rules admit no member
	log     *slog.Logger
}

// New reads the access rule of every governed RPC and returns the interceptor. It fails when a rule
// names a request field that does not exist, so a broken policy stops startup instead of being
// enforced wrongly.
//
// Why not go-grpc-middleware's auth interceptor: its AuthFunc sees only the context, while parts of
// the rule (credential_fields, member_organization_field, user_field) are decided by the request
// message.
// Splitting the decision across two interceptors would spread one policy over two places; so this
// is one hand-written interceptor, and only the stream wrapping comes from go-grpc-middleware.
func New(cfg Config) (*Interceptor, error) {
	if cfg.Checker == nil {
		return nil, errors.New("access: Config.Checker is required")
	}
	if cfg.Files == nil {
		cfg.Files = protoregistry.GlobalFiles
	}
	if cfg.OpenServices == nil {
		cfg.OpenServices = []string{
			healthpb.Health_ServiceDesc.ServiceName,
			reflectionv1.ServerReflection_ServiceDesc.ServiceName,
			reflectionv1alpha.ServerReflection_ServiceDesc.ServiceName,
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	rules, err := loadRules(cfg.Files)
	if err != nil {
		return nil, err
	}
	i := &Interceptor{rules: rules, open: map[string]bool{}, checker: cfg.Checker, users: cfg.UserChecker, pols: cfg.Policies, log: cfg.Logger}
	for _, s := range cfg.OpenServices {
		i.open[s] = true
	}
	if i.users == nil {
		var userRPCs []string
		for m, r := range rules {
			if r.user {
				userRPCs = append(userRPCs, m)
			}
		}
		if len(userRPCs) > 0 {
			slices.Sort(userRPCs)
			i.log.Warn("access: no consumer project is configured, so RPCs that admit user sessions admit none",
				"rpcs", len(userRPCs), "first", userRPCs[0])
		}
	}
	return i, nil
}

// Unary returns the unary server interceptor.
func (i *Interceptor) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := i.authorize(ctx, info.FullMethod, req)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Stream returns the stream server interceptor. Stream rules never look into the request (New
// refuses such rules), so the call is decided before the first message.
func (i *Interceptor) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := i.authorize(ss.Context(), info.FullMethod, nil)
		if err != nil {
			return err
		}
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}

// outcome is what the access log line and the span record about one decision.
type outcome struct {
	kind   Kind
	via    string // how the caller was admitted or what it presented
	reason string // why it was refused; empty when admitted
	p      Principal
}

func (i *Interceptor) authorize(ctx context.Context, method string, req any) (context.Context, error) {
	r, ok := i.rules[method]
	if !ok {
		if i.open[serviceOf(method)] {
			return ctx, nil
		}
		// A method this binary serves without a policy cannot exist (New refuses to start); one it
		// does not serve is answered UNIMPLEMENTED by gRPC after this. Either way, no one is admitted.
		i.log.ErrorContext(ctx, "access: RPC has no policy; denied", "grpc.method", method)
		return ctx, i.refuse(ctx, outcome{kind: KindNone, reason: "no_rule"}, codes.PermissionDenied)
	}
	var msg protoreflect.Message
	if r.needsRequest() {
		pm, ok := req.(proto.Message)
		if !ok || pm.ProtoReflect().Descriptor().FullName() != r.input {
			i.log.ErrorContext(ctx, "access: request type does not match the method", "grpc.method", method, "type", fmt.Sprintf("%T", req))
			return ctx, status.Error(codes.Internal, "internal error")
		}
		msg = pm.ProtoReflect()
	}

	cred := credentialFrom(ctx)
	anonymous := Principal{Kind: KindPublic, Credential: cred}
	// Public RPCs do not verify whatever credential came along: a stale cookie must not fail a login.
	if r.public {
		return i.admit(ctx, outcome{kind: KindPublic, via: "public", p: anonymous}), nil
	}
	if msg != nil && r.credentialInRequest(msg) {
		return i.admit(ctx, outcome{kind: KindPublic, via: "credential_field", p: anonymous}), nil
	}
	switch cred.Kind {
	case CredentialNone:
		return ctx, i.refuse(ctx, outcome{kind: KindNone, reason: "no_credentials"}, codes.Unauthenticated)
	case CredentialMalformed:
		return ctx, i.refuse(ctx, outcome{kind: KindNone, via: via(cred), reason: "malformed_credentials"}, codes.Unauthenticated)
	case CredentialM2M:
		return i.service(ctx, r, cred)
	}
	// A session credential is checked against the keys of the project the rule names.
	if r.user {
		return i.user(ctx, r, cred, msg)
	}
	return i.member(ctx, r, cred, msg)
}

// sessionRequest is the check of a presented session credential.
func sessionRequest(cred Credential) session.Request {
	if cred.Kind == CredentialSessionJWT {
		return session.Request{JWT: cred.Token, FallbackToken: cred.FallbackToken}
	}
	return session.Request{Token: cred.Token}
}

func (i *Interceptor) service(ctx context.Context, r *rule, cred Credential) (context.Context, error) {
	o := outcome{kind: KindService, via: via(cred)}
	claims, err := i.checker.CheckM2M(ctx, cred.Token, r.scopes)
	if claims != nil {
		o.p = Principal{Kind: KindService, Credential: cred, ClientID: claims.ClientID, Scopes: claims.Scopes}
	}
	switch {
	case errors.Is(err, verify.ErrInsufficientScope):
		o.reason = "insufficient_scope"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	case err != nil:
		return ctx, i.verifyFailure(ctx, o, err)
	case len(r.scopes) == 0:
		// CheckM2M with no required scopes only proved the token genuine.
		o.reason = "services_not_admitted"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	return i.admit(ctx, o), nil
}

func (i *Interceptor) member(ctx context.Context, r *rule, cred Credential, msg protoreflect.Message) (context.Context, error) {
	o := outcome{kind: KindMember, via: via(cred)}
	res, err := i.checker.Check(ctx, sessionRequest(cred))
	if err != nil {
		return ctx, i.verifyFailure(ctx, o, err)
	}
	s := res.Session
	o.p = Principal{
		Kind: KindMember, Credential: cred, Session: res.Credential,
		MemberID: s.MemberID, OrganizationID: s.OrganizationID, SessionID: s.MemberSessionID, Roles: s.Roles,
	}
	switch {
	case s.MemberID == "":
		// Not a member's session (a checker of a consumer project passed as Checker): never a
		// member without an ID.
		o.reason = "not_a_member_session"
	case !r.member:
		o.reason = "members_not_admitted"
	case !hasAll(s.Roles, r.roles):
		o.reason = "missing_role"
	case r.orgField != nil && !r.organizationsMatch(msg, s.OrganizationID):
		if r.permission != nil {
			// Tenancy needs no policy: refused before any policy is fetched.
			o.reason = rbac.ReasonTenancy
			return ctx, i.refusePermission(ctx, o)
		}
		o.reason = "organization_mismatch"
	}
	if o.reason != "" {
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	if r.permission != nil {
		return i.permitted(ctx, r, o)
	}
	return i.admit(ctx, o), nil
}

// permitted decides a rule's permission for a member whose organization is the request's: one of
// the session's roles must grant it by the project's policy (with the organization's custom roles),
// by internal/rbac, the decision Sessions.Authenticate's authorization_check uses. With no policy
// the member is not admitted: an outage of the policy must not turn into access for everyone.
func (i *Interceptor) permitted(ctx context.Context, r *rule, o outcome) (context.Context, error) {
	p := o.p
	if i.pols == nil {
		o.reason = "no_rbac_policy"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	pol, err := i.pols.For(ctx, p.OrganizationID, p.Roles)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			i.record(ctx, o)
			return ctx, status.FromContextError(cerr).Err()
		}
		o.reason = ReasonPolicyUnavailable
		i.log.WarnContext(ctx, "access: the RBAC policy cannot be fetched; permission rules refuse members", "error", err.Error())
		i.record(ctx, o)
		return ctx, rpcerr.New(codes.Unavailable, ReasonPolicyUnavailable, "permissions cannot be checked right now; retry later").WithRetry(time.Second)
	}
	check := *r.permission
	check.OrganizationID = p.OrganizationID
	if _, err := pol.Authorize(p.OrganizationID, p.Roles, check); err != nil {
		var re *rbac.Error
		if !errors.As(err, &re) {
			return ctx, fmt.Errorf("access: %w", err)
		}
		o.reason = re.Reason
		return ctx, i.refusePermission(ctx, o)
	}
	return i.admit(ctx, o), nil
}

// refusePermission records the refusal of a permission rule and returns PERMISSION_DENIED with the
// RBAC reason (o.reason) as the ErrorInfo reason.
func (i *Interceptor) refusePermission(ctx context.Context, o outcome) error {
	i.record(ctx, o)
	msg := "the member's roles do not grant the permission this method requires"
	if o.reason == rbac.ReasonTenancy {
		msg = "the member session belongs to another organization"
	}
	return rpcerr.New(codes.PermissionDenied, o.reason, msg)
}

func (i *Interceptor) user(ctx context.Context, r *rule, cred Credential, msg protoreflect.Message) (context.Context, error) {
	o := outcome{kind: KindUser, via: via(cred)}
	if i.users == nil {
		o.reason = "no_consumer_project"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	res, err := i.users.Check(ctx, sessionRequest(cred))
	if err != nil {
		return ctx, i.verifyFailure(ctx, o, err)
	}
	s := res.UserSession
	o.p = Principal{Kind: KindUser, Credential: cred, Session: res.Credential, UserID: s.UserID, SessionID: s.SessionID, Roles: s.Roles}
	switch {
	case s.UserID == "":
		// Not a user's session (a B2B checker passed as UserChecker): never a user without an ID.
		o.reason = "not_a_user_session"
	case r.userField != nil && !r.userMatches(msg, s.UserID):
		o.reason = "user_mismatch"
	}
	if o.reason != "" {
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	return i.admit(ctx, o), nil
}

// ClassifyFailure maps a session or M2M verification error to the code the caller gets (the edge,
// internal/edge, answers with the same): UNAUTHENTICATED when the
// credential itself is bad; UNAVAILABLE when it could not be checked (keys not loaded, Stytch down,
// rate limiting or refusing authsvc itself) - telling such a caller its credential is bad would log
// users out during an outage; RESOURCE_EXHAUSTED when authsvc's own budget of remote checks is
// spent; CANCELED / DEADLINE_EXCEEDED when the caller gave up (a timeout inside the Stytch client
// is Stytch being slow, not the caller leaving).
func ClassifyFailure(ctx context.Context, err error) codes.Code {
	if cerr := ctx.Err(); cerr != nil {
		return status.FromContextError(cerr).Code()
	}
	if se, ok := stytchclient.AsError(err); ok {
		switch se.Code() {
		case codes.InvalidArgument, codes.Unauthenticated, codes.NotFound:
			return codes.Unauthenticated
		default:
			return codes.Unavailable
		}
	}
	st, ok := rpcerr.StatusOf(err)
	if !ok {
		return codes.Unavailable
	}
	switch c := st.Code(); c {
	case codes.Unauthenticated, codes.ResourceExhausted:
		return c
	default:
		return codes.Unavailable
	}
}

func (i *Interceptor) verifyFailure(ctx context.Context, o outcome, err error) error {
	code := ClassifyFailure(ctx, err)
	o.reason = verify.Reason(err)
	if o.reason == "other" || o.reason == "canceled" {
		o.reason = stytchclient.ErrorType(err)
		if o.reason == "" {
			o.reason = "verification_failed"
		}
	}
	switch code {
	case codes.Canceled, codes.DeadlineExceeded:
		i.record(ctx, o)
		return status.FromContextError(ctx.Err()).Err()
	case codes.ResourceExhausted:
		o.reason = "remote_checks_exhausted"
		i.record(ctx, o)
		return err
	case codes.Unavailable:
		// The error text names endpoints and reasons, never a token (stytchclient and verify keep
		// credentials out of their messages).
		i.log.WarnContext(ctx, "access: credentials could not be verified", "error", err.Error())
		i.record(ctx, o)
		return rpcerr.New(codes.Unavailable, ReasonVerifierDown, "credentials cannot be verified right now; retry later").WithRetry(time.Second)
	}
	return i.refuse(ctx, o, codes.Unauthenticated)
}

// refuse records the refusal and returns the generic error for code (UNAUTHENTICATED or
// PERMISSION_DENIED).
func (i *Interceptor) refuse(ctx context.Context, o outcome, code codes.Code) error {
	i.record(ctx, o)
	if code == codes.PermissionDenied {
		return rpcerr.New(code, ReasonAccessDenied, "the caller is not allowed to call this method")
	}
	return rpcerr.New(code, ReasonCredentialsMissing, "this method requires credentials")
}

func (i *Interceptor) admit(ctx context.Context, o outcome) context.Context {
	i.record(ctx, o)
	return withPrincipal(ctx, o.p)
}

// record adds the decision to the access log line (the logging interceptor runs outside this one
// and logs the fields it finds in the context when the call finishes) and to the RPC's span. Only
// kinds, reasons and IDs: never a token.
func (i *Interceptor) record(ctx context.Context, o outcome) {
	f := logging.Fields{"caller.kind", string(o.kind)}
	if o.via != "" {
		f = append(f, "access.via", o.via)
	}
	if o.reason != "" {
		f = append(f, "access.reason", o.reason)
	}
	attrs := []attribute.KeyValue{attribute.String("authsvc.caller.kind", string(o.kind))}
	if o.p.MemberID != "" {
		f = append(f, "caller.member_id", o.p.MemberID, "caller.organization_id", o.p.OrganizationID)
		attrs = append(attrs, attribute.String("authsvc.caller.member_id", o.p.MemberID), attribute.String("authsvc.caller.organization_id", o.p.OrganizationID))
	}
	if o.p.UserID != "" {
		f = append(f, "caller.user_id", o.p.UserID)
		attrs = append(attrs, attribute.String("authsvc.caller.user_id", o.p.UserID))
	}
	if o.p.ClientID != "" {
		f = append(f, "caller.client_id", o.p.ClientID)
		attrs = append(attrs, attribute.String("authsvc.caller.client_id", o.p.ClientID))
	}
	logging.AddFields(ctx, f)
	if o.reason != "" {
		attrs = append(attrs, attribute.String("authsvc.access.reason", o.reason))
	}
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
}

func via(c Credential) string {
	if c.Cookie {
		return "cookie"
	}
	return c.Kind.String()
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// serviceOf returns "pkg.Service" of "/pkg.Service/Method".
func serviceOf(fullMethod string) string {
	s, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return s
}
