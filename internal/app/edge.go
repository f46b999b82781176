package app

import (
	"net/http"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/server"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// edgeParts are the edge authorizer's pieces: Envoy's Check service on the gRPC port and the
// forward-auth endpoint on the REST port, over one engine; nil engine when AUTHSVC_EDGE_RULES is
// unset (both then say the edge is off).
type edgeParts struct {
	engine  *edge.Engine
	watcher *edge.Watcher
}

// newEdge loads the rules file (a file that does not validate stops startup, naming the line and
// field) and builds the engine on the SAME session checkers the access layer uses: members is the
// B2B project's (nil when the B2B project is off), users the consumer project's, m2m the checker
// of the M2M project's tokens, policies the B2B project's RBAC policy cache (nil when it is off).
func newEdge(cfg *config.Config, members, users, m2m *session.Checker, policies *stytchclient.PolicyCache, tel *telemetry.Telemetry, now nowFunc) (*edgeParts, error) {
	if cfg.Edge.RulesFile == "" {
		return &edgeParts{}, nil
	}
	set, content, err := edge.Load(cfg.Edge.RulesFile)
	if err != nil {
		return nil, err //nolint:wrapcheck // names the variable, file, line and field
	}
	metrics, err := edge.NewMetrics(tel.MeterProvider.Meter("github.com/authsvc/authsvc/internal/edge"))
	if err != nil {
		return nil, err //nolint:wrapcheck // names the instrument
	}
	ecfg := edge.Config{
		Rules:          set,
		M2M:            m2m,
		MemberCookies:  edge.CookieNames{Session: cfg.Cookies.Session, SessionJWT: cfg.Cookies.SessionJWT},
		UserCookies:    edge.CookieNames{Session: cfg.Cookies.ConsumerSession, SessionJWT: cfg.Cookies.ConsumerSessionJWT},
		Headers:        cfg.Edge.Headers,
		Now:            now,
		Metrics:        metrics,
		TracerProvider: tel.TracerProvider,
		Logger:         tel.Logger.With("component", "edge"),
	}
	// A nil *session.Checker must not become a non-nil interface.
	if members != nil {
		ecfg.Members = members
	}
	if users != nil {
		ecfg.Users = users
	}
	if policies != nil {
		ecfg.Policies = policies
	}
	engine, err := edge.NewEngine(ecfg)
	if err != nil {
		return nil, err //nolint:wrapcheck // names the setting
	}
	w, err := edge.Watch(cfg.Edge.RulesFile, content, engine, metrics, tel.Logger.With("component", "edge"))
	if err != nil {
		return nil, err //nolint:wrapcheck // names the variable
	}
	tel.Logger.Info("edge authorization is on", "rules_file", cfg.Edge.RulesFile, "rules", len(set.Rules()))
	return &edgeParts{engine: engine, watcher: w}, nil
}

type nowFunc = func() time.Time

// service is the Check service, or its refusal (UNIMPLEMENTED, "edge authorization is off") when
// the edge is off.
func (e *edgeParts) service() server.Service {
	if e.engine == nil {
		return server.Service{Desc: refusal(&authv3.Authorization_ServiceDesc, edge.OffMessage), Impl: struct{}{}}
	}
	return server.Service{Desc: &authv3.Authorization_ServiceDesc, Impl: edge.NewAuthorization(e.engine)}
}

// forwardAuth answers /ext_authz ahead of the REST API's own middleware.
func (e *edgeParts) forwardAuth(next http.Handler) http.Handler {
	return edge.NewForwardAuth(e.engine).Middleware(next)
}

func (e *edgeParts) close() error {
	if e == nil || e.watcher == nil {
		return nil
	}
	return e.watcher.Close()
}
