package app

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Why each API is off when its project is not configured: the UNIMPLEMENTED message of every call
// to it, over gRPC and REST.
const (
	b2bOff      = "the B2B API is off: set STYTCH_PROJECT_ID and STYTCH_SECRET"
	consumerOff = "the consumer API is off: set STYTCH_CONSUMER_PROJECT_ID and STYTCH_CONSUMER_SECRET"
)

// apiSet is what the servers serve: the services of the projects that are on, and for each API that
// is off, its services' refusals.
type apiSet struct {
	on  []server.Service
	off []offAPI
}

// offAPI is an API whose project is not configured.
type offAPI struct {
	why   string
	descs []*grpc.ServiceDesc
	paths []*regexp.Regexp // its REST routes' paths
}

// apis builds the services of every project that is on (projects.go). The M2M API is always on,
// on the M2M project.
func (a *App) apis(set projectSet, redirects service.RedirectPolicy, checker, users *session.Checker, tokens *stytchclient.TokenSource, now func() time.Time) *apiSet {
	log := a.log
	out := &apiSet{}
	b2bDescs := []*grpc.ServiceDesc{
		&b2bv1.MagicLinksService_ServiceDesc, &b2bv1.OTPsService_ServiceDesc, &b2bv1.SessionsService_ServiceDesc,
		&b2bv1.MembersService_ServiceDesc, &b2bv1.DiscoveryService_ServiceDesc, &b2bv1.RBACService_ServiceDesc,
		&b2bv1.OrganizationsService_ServiceDesc,
		&b2bv1.TOTPsService_ServiceDesc, &b2bv1.RecoveryCodesService_ServiceDesc,
		&b2bv1.PasswordsService_ServiceDesc, &b2bv1.SSOService_ServiceDesc, &b2bv1.OAuthService_ServiceDesc,
		&b2bv1.SCIMService_ServiceDesc,
	}
	if set.b2b != nil {
		out.on = append(out.on,
			server.Service{Desc: &b2bv1.MagicLinksService_ServiceDesc, Impl: service.NewMagicLinks(a.b2b, redirects, log), RegisterGateway: b2bv1.RegisterMagicLinksServiceHandler},
			server.Service{Desc: &b2bv1.OTPsService_ServiceDesc, Impl: service.NewOTPs(a.b2b, checker, log), RegisterGateway: b2bv1.RegisterOTPsServiceHandler},
			server.Service{Desc: &b2bv1.SessionsService_ServiceDesc, Impl: service.NewSessions(a.b2b, checker, a.jwks, a.shared.revocations, now, log), RegisterGateway: b2bv1.RegisterSessionsServiceHandler},
			server.Service{Desc: &b2bv1.MembersService_ServiceDesc, Impl: service.NewMembers(a.b2b, a.shared.revocations, now, log), RegisterGateway: b2bv1.RegisterMembersServiceHandler},
			server.Service{Desc: &b2bv1.DiscoveryService_ServiceDesc, Impl: service.NewDiscovery(a.b2b, log), RegisterGateway: b2bv1.RegisterDiscoveryServiceHandler},
			server.Service{Desc: &b2bv1.RBACService_ServiceDesc, Impl: service.NewRBAC(a.policies, log), RegisterGateway: b2bv1.RegisterRBACServiceHandler},
			server.Service{Desc: &b2bv1.OrganizationsService_ServiceDesc, Impl: service.NewOrganizations(a.b2b, a.shared.revocations, now, log), RegisterGateway: b2bv1.RegisterOrganizationsServiceHandler},
			server.Service{Desc: &b2bv1.TOTPsService_ServiceDesc, Impl: service.NewB2BTOTPs(a.b2b, log), RegisterGateway: b2bv1.RegisterTOTPsServiceHandler},
			server.Service{Desc: &b2bv1.RecoveryCodesService_ServiceDesc, Impl: service.NewRecoveryCodes(a.b2b, log), RegisterGateway: b2bv1.RegisterRecoveryCodesServiceHandler},
			server.Service{Desc: &b2bv1.PasswordsService_ServiceDesc, Impl: service.NewB2BPasswords(a.b2b, redirects, log), RegisterGateway: b2bv1.RegisterPasswordsServiceHandler},
			server.Service{Desc: &b2bv1.SSOService_ServiceDesc, Impl: service.NewSSO(a.b2b, set.b2b.publicToken, redirects, log), RegisterGateway: b2bv1.RegisterSSOServiceHandler},
			server.Service{Desc: &b2bv1.OAuthService_ServiceDesc, Impl: service.NewB2BOAuth(a.b2b, set.b2b.publicToken, redirects, log), RegisterGateway: b2bv1.RegisterOAuthServiceHandler},
			server.Service{Desc: &b2bv1.SCIMService_ServiceDesc, Impl: service.NewSCIM(a.b2b, log), RegisterGateway: b2bv1.RegisterSCIMServiceHandler},
		)
	} else {
		out.off = append(out.off, newOffAPI(b2bOff, b2bDescs))
	}
	out.on = append(out.on, server.Service{
		Desc: &m2mv1.M2MService_ServiceDesc, Impl: service.NewM2M(a.stytch, tokens, checker, now, log), RegisterGateway: m2mv1.RegisterM2MServiceHandler,
	})
	consumerDescs := []*grpc.ServiceDesc{
		&consumerv1.MagicLinksService_ServiceDesc, &consumerv1.OTPsService_ServiceDesc, &consumerv1.SessionsService_ServiceDesc,
		&consumerv1.UsersService_ServiceDesc, &consumerv1.PasswordsService_ServiceDesc,
		&consumerv1.OAuthService_ServiceDesc,
		&consumerv1.TOTPsService_ServiceDesc, &consumerv1.CryptoWalletsService_ServiceDesc,
		&consumerv1.WebAuthnService_ServiceDesc,
	}
	if set.consumer != nil {
		// users checks user sessions for the access layer (chain.go) and the consumer
		// SessionsService alike.
		out.on = append(out.on,
			server.Service{Desc: &consumerv1.MagicLinksService_ServiceDesc, Impl: service.NewConsumerMagicLinks(a.consumer, redirects, log), RegisterGateway: consumerv1.RegisterMagicLinksServiceHandler},
			server.Service{Desc: &consumerv1.OTPsService_ServiceDesc, Impl: service.NewConsumerOTPs(a.consumer, log), RegisterGateway: consumerv1.RegisterOTPsServiceHandler},
			server.Service{Desc: &consumerv1.SessionsService_ServiceDesc, Impl: service.NewConsumerSessions(a.consumer, users, a.consumerJWKS, a.shared.revocations, now, log), RegisterGateway: consumerv1.RegisterSessionsServiceHandler},
			server.Service{Desc: &consumerv1.UsersService_ServiceDesc, Impl: service.NewUsers(a.consumer, a.shared.revocations, now, log), RegisterGateway: consumerv1.RegisterUsersServiceHandler},
			server.Service{Desc: &consumerv1.PasswordsService_ServiceDesc, Impl: service.NewPasswords(a.consumer, redirects, log), RegisterGateway: consumerv1.RegisterPasswordsServiceHandler},
			server.Service{Desc: &consumerv1.OAuthService_ServiceDesc, Impl: service.NewConsumerOAuth(a.consumer, set.consumer.publicToken, redirects, log), RegisterGateway: consumerv1.RegisterOAuthServiceHandler},
			server.Service{Desc: &consumerv1.TOTPsService_ServiceDesc, Impl: service.NewTOTPs(a.consumer, log), RegisterGateway: consumerv1.RegisterTOTPsServiceHandler},
			server.Service{Desc: &consumerv1.CryptoWalletsService_ServiceDesc, Impl: service.NewCryptoWallets(a.consumer, log), RegisterGateway: consumerv1.RegisterCryptoWalletsServiceHandler},
			server.Service{Desc: &consumerv1.WebAuthnService_ServiceDesc, Impl: service.NewWebAuthn(a.consumer, log), RegisterGateway: consumerv1.RegisterWebAuthnServiceHandler},
		)
	} else {
		out.off = append(out.off, newOffAPI(consumerOff, consumerDescs))
	}
	return out
}

// services are the gRPC services to register: the APIs that are on, and a refusal for each service
// of an API that is off. A refusal answers before the interceptor chain (no access check, no budget
// spent): the API does not exist here, whoever asks.
func (s *apiSet) services() []server.Service {
	out := append([]server.Service(nil), s.on...)
	for _, o := range s.off {
		for _, d := range o.descs {
			out = append(out, server.Service{Desc: refusal(d, o.why), Impl: struct{}{}})
		}
	}
	return out
}

// refusal is a copy of desc whose every method answers UNIMPLEMENTED with why.
func refusal(desc *grpc.ServiceDesc, why string) *grpc.ServiceDesc {
	err := status.Error(codes.Unimplemented, why)
	out := &grpc.ServiceDesc{ServiceName: desc.ServiceName, HandlerType: (*any)(nil), Metadata: desc.Metadata}
	for _, m := range desc.Methods {
		out.Methods = append(out.Methods, grpc.MethodDesc{
			MethodName: m.MethodName,
			Handler: func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
				return nil, err
			},
		})
	}
	return out
}

// newOffAPI collects the REST routes of descs from their google.api.http options.
func newOffAPI(why string, descs []*grpc.ServiceDesc) offAPI {
	o := offAPI{why: why, descs: descs}
	for _, d := range descs {
		sd, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(d.ServiceName))
		if err != nil {
			continue // every generated service is registered by its package's init
		}
		ms := sd.(protoreflect.ServiceDescriptor).Methods()
		for i := range ms.Len() {
			rule, _ := proto.GetExtension(ms.Get(i).Options(), annotations.E_Http).(*annotations.HttpRule)
			if p := httpPath(rule); p != "" {
				o.paths = append(o.paths, pathPattern(p))
			}
		}
	}
	return o
}

func httpPath(rule *annotations.HttpRule) string {
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return p.Get
	case *annotations.HttpRule_Post:
		return p.Post
	case *annotations.HttpRule_Put:
		return p.Put
	case *annotations.HttpRule_Delete:
		return p.Delete
	case *annotations.HttpRule_Patch:
		return p.Patch
	}
	return ""
}

// pathVariable is a {name} segment of a route template.
var pathVariable = regexp.MustCompile(`\{[^}]*\}`)

// pathPattern matches the paths of a route template, each {variable} being one segment.
func pathPattern(template string) *regexp.Regexp {
	parts := pathVariable.Split(template, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$")
}

// offRoutes answers REST requests to an API that is off (any method on one of its routes) with
// UNIMPLEMENTED (HTTP 501) and the setting that turns it on, in the error shape of every other API
// error; the gateway, which does not have these routes, would answer a bare 404.
func (s *apiSet) offRoutes(next http.Handler) http.Handler {
	if len(s.off) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, o := range s.off {
			for _, p := range o.paths {
				if p.MatchString(r.URL.Path) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusNotImplemented)
					_, _ = w.Write([]byte(`{"code":12,"message":"` + o.why + `","details":[]}` + "\n"))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
