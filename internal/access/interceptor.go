package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/authsvc/authsvc/internal/callmeta"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// SessionAuthenticator checks member sessions; *stytchclient.SessionAuthenticator implements it
// (local for a fresh JWT, Stytch for an opaque token or an expired JWT).
type SessionAuthenticator interface {
	AuthenticateSession(ctx context.Context, p stytchclient.AuthenticateSessionParams) (*stytchclient.AuthenticateSessionResult, error)
}

// M2MVerifier checks M2M access tokens locally with required scopes; *verify.Verifier implements it.
type M2MVerifier interface {
	VerifyM2M(ctx context.Context, token string, required []string) (*verify.M2MClaims, error)
}

// Config configures [New].
type Config struct {
	// Sessions and M2M verify the credentials. Required.
	Sessions SessionAuthenticator
	M2M      M2MVerifier
	// Files holds the service descriptors to read access rules from; nil means
	// protoregistry.GlobalFiles.
	Files *protoregistry.Files
	// ServicePrefixes selects the services whose RPCs are governed by access rules (full service
	// name prefixes); default "authsvc.". An RPC of such a service without a rule is denied.
	ServicePrefixes []string
	// OpenServices are served without any check: by default gRPC health and reflection, which carry
	// no data of anyone. Every other service that has no rules is denied.
	OpenServices []string
	// Logger receives defects (an RPC without a rule) and verification outages. Nil discards.
	Logger *slog.Logger
}

// ErrorInfo domain and reasons of the access layer's refusals. They say that the access layer
// refused, never why: the why is in the access log.
const (
	ErrorDomain              = "authsvc"
	ReasonCredentialsMissing = "credentials_required"
	ReasonAccessDenied       = "access_denied"
	ReasonVerifierDown       = "credentials_unverifiable"
)

// Interceptor enforces the access rules. Build it with [New].
type Interceptor struct {
	rules    map[string]*rule
	open     map[string]bool
	sessions SessionAuthenticator
	m2m      M2MVerifier
	log      *slog.Logger
}

// New reads the access rule of every governed RPC and returns the interceptor. It fails when a rule
// names a request field that does not exist, so a broken policy stops startup instead of being
// enforced wrongly.
//
// Why not go-grpc-middleware's auth interceptor: its AuthFunc sees only the context, while two parts
// of the rule (credential_fields, member_organization_field) are decided by the request message.
// Splitting the decision across two interceptors would spread one policy over two places; so this
// is one hand-written interceptor, and only the stream wrapping comes from go-grpc-middleware.
func New(cfg Config) (*Interceptor, error) {
	if cfg.Sessions == nil || cfg.M2M == nil {
		return nil, errors.New("access: Config.Sessions and Config.M2M are required")
	}
	if cfg.Files == nil {
		cfg.Files = protoregistry.GlobalFiles
	}
	if len(cfg.ServicePrefixes) == 0 {
		cfg.ServicePrefixes = []string{"authsvc."}
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
	rules, err := loadRules(cfg.Files, cfg.ServicePrefixes)
	if err != nil {
		return nil, err
	}
	i := &Interceptor{rules: rules, open: map[string]bool{}, sessions: cfg.Sessions, m2m: cfg.M2M, log: cfg.Logger}
	for _, s := range cfg.OpenServices {
		i.open[s] = true
	}
	for _, r := range rules {
		if r.missing {
			// Also denied on every call; said once here so the defect shows at startup.
			i.log.Error("access: RPC has no authsvc.access.v1.access option and will be denied (defect)", "grpc.method", r.fullMethod)
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
		r = &rule{fullMethod: method, missing: true}
	}
	if r.missing {
		i.log.ErrorContext(ctx, "access: RPC has no access rule; denied (defect)", "grpc.method", method)
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

	// Public RPCs ignore whatever credential came along: a stale cookie must not fail a login.
	if r.public {
		return i.admit(ctx, outcome{kind: KindPublic, via: "public", p: Principal{Kind: KindPublic}}), nil
	}
	if msg != nil && r.credentialInRequest(msg) {
		return i.admit(ctx, outcome{kind: KindPublic, via: "credential_field", p: Principal{Kind: KindPublic}}), nil
	}

	cred := credentialFrom(ctx)
	switch cred.kind {
	case credNone:
		return ctx, i.refuse(ctx, outcome{kind: KindNone, reason: "no_credentials"}, codes.Unauthenticated)
	case credMalformed:
		return ctx, i.refuse(ctx, outcome{kind: KindNone, via: via(cred), reason: "malformed_credentials"}, codes.Unauthenticated)
	case credM2M:
		return i.service(ctx, r, cred)
	default:
		return i.member(ctx, r, cred, msg)
	}
}

func (i *Interceptor) service(ctx context.Context, r *rule, cred credential) (context.Context, error) {
	o := outcome{kind: KindService, via: via(cred)}
	claims, err := i.m2m.VerifyM2M(ctx, cred.token, r.scopes)
	if claims != nil {
		o.p = Principal{Kind: KindService, ClientID: claims.ClientID, Scopes: claims.Scopes}
	}
	switch {
	case errors.Is(err, verify.ErrInsufficientScope):
		o.reason = "insufficient_scope"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	case err != nil:
		return ctx, i.verifyFailure(ctx, o, err)
	case len(r.scopes) == 0:
		// VerifyM2M with no required scopes only proved the token genuine.
		o.reason = "services_not_admitted"
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	return i.admit(ctx, o), nil
}

func (i *Interceptor) member(ctx context.Context, r *rule, cred credential, msg protoreflect.Message) (context.Context, error) {
	o := outcome{kind: KindMember, via: via(cred)}
	res, acting, err := i.authenticateSession(ctx, cred)
	if err != nil {
		return ctx, i.verifyFailure(ctx, o, err)
	}
	s := res.Session
	o.p = Principal{Kind: KindMember, MemberID: s.MemberID, OrganizationID: s.OrganizationID, SessionID: s.MemberSessionID, Roles: s.Roles}
	switch {
	case !r.member:
		o.reason = "members_not_admitted"
	case !hasAll(s.Roles, r.roles):
		o.reason = "missing_role"
	case r.orgField != nil && !r.organizationsMatch(msg, s.OrganizationID):
		o.reason = "organization_mismatch"
	}
	if o.reason != "" {
		return ctx, i.refuse(ctx, o, codes.PermissionDenied)
	}
	return callmeta.WithMemberSession(i.admit(ctx, o), acting), nil
}

// authenticateSession verifies a member session credential and returns the session to forward to
// Stytch: the caller's own token, or its JWT (Stytch's refreshed one when the JWT had expired).
func (i *Interceptor) authenticateSession(ctx context.Context, cred credential) (*stytchclient.AuthenticateSessionResult, callmeta.MemberSession, error) {
	p := stytchclient.AuthenticateSessionParams{SessionToken: cred.token}
	if cred.kind == credSessionJWT {
		p = stytchclient.AuthenticateSessionParams{SessionJWT: cred.token}
	}
	res, err := i.sessions.AuthenticateSession(ctx, p)
	if err != nil && cred.fallbackToken != "" && classifyFailure(ctx, err) == codes.Unauthenticated {
		p = stytchclient.AuthenticateSessionParams{SessionToken: cred.fallbackToken}
		res, err = i.sessions.AuthenticateSession(ctx, p)
	}
	if err != nil {
		return nil, callmeta.MemberSession{}, err
	}
	if p.SessionToken != "" {
		return res, callmeta.MemberSession{Token: p.SessionToken}, nil
	}
	jwt := p.SessionJWT
	if res.SessionJWT != "" {
		jwt = res.SessionJWT
	}
	return res, callmeta.MemberSession{JWT: jwt}, nil
}

// classifyFailure maps a verification error to the code the caller gets: UNAUTHENTICATED when the
// credential itself is bad; UNAVAILABLE when it could not be checked (keys not loaded, Stytch down or
// rate limiting authsvc) - telling such a caller its credential is bad would log users out during an
// outage; CANCELED / DEADLINE_EXCEEDED when the caller gave up (a timeout inside the Stytch client is
// Stytch being slow, not the caller leaving).
func classifyFailure(ctx context.Context, err error) codes.Code {
	if cerr := ctx.Err(); cerr != nil {
		return status.FromContextError(cerr).Code()
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, verify.ErrKeysNotLoaded), stytchclient.IsUnavailable(err), stytchclient.IsRateLimited(err):
		return codes.Unavailable
	}
	if se, ok := stytchclient.AsError(err); ok {
		switch se.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound:
			return codes.Unauthenticated
		default:
			// Stytch refused authsvc itself (its project credentials, its request): not the caller's
			// fault, and not something the caller can fix.
			return codes.Unavailable
		}
	}
	if verify.Reason(err) == "other" {
		return codes.Unavailable
	}
	return codes.Unauthenticated
}

func (i *Interceptor) verifyFailure(ctx context.Context, o outcome, err error) error {
	code := classifyFailure(ctx, err)
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
	case codes.Unavailable:
		// The error text names endpoints and reasons, never a token (stytchclient and verify keep
		// credentials out of their messages).
		i.log.WarnContext(ctx, "access: credentials could not be verified", "error", err.Error())
		i.record(ctx, o)
		st, _ := status.New(codes.Unavailable, "credentials cannot be verified right now; retry later").WithDetails(
			&errdetails.ErrorInfo{Reason: ReasonVerifierDown, Domain: ErrorDomain},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)},
		)
		return st.Err()
	}
	return i.refuse(ctx, o, codes.Unauthenticated)
}

// refuse records the refusal and returns the generic error for code (UNAUTHENTICATED or
// PERMISSION_DENIED).
func (i *Interceptor) refuse(ctx context.Context, o outcome, code codes.Code) error {
	i.record(ctx, o)
	msg, reason := "this method requires credentials", ReasonCredentialsMissing
	if code == codes.PermissionDenied {
		msg, reason = "the caller is not allowed to call this method", ReasonAccessDenied
	}
	st, err := status.New(code, msg).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain})
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
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

func via(c credential) string {
	if c.cookie {
		return "cookie"
	}
	return c.kind.String()
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
