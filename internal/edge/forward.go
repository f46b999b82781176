package edge

import (
	"context"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc/peer"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// ForwardAuthPath is the forward-auth endpoint on the REST port; any path below it is the same
// endpoint (Envoy's HTTP ext_authz mode appends the original path to it).
const ForwardAuthPath = "/ext_authz"

// OffMessage is the answer of the edge endpoints when no rules file is configured.
const OffMessage = "edge authorization is off: set AUTHSVC_EDGE_RULES"

// RedirectHeader, sent with the value "header" on the request to /ext_authz, turns a login
// redirect into a 401 that carries the login URL in LocationHeader: nginx's auth_request passes
// only 2xx, 401 and 403 on, so its config redirects itself.
const (
	RedirectHeader = "X-Authsvc-Redirect"
	LocationHeader = "X-Authsvc-Location"
)

// ForwardAuth is the HTTP forward-auth endpoint of nginx auth_request, Traefik forwardAuth and
// Caddy forward_auth. The request it authorizes is described by X-Forwarded-Method,
// X-Forwarded-Host (else Host), X-Forwarded-Uri (else the path below /ext_authz) and
// X-Forwarded-Proto; the credentials are the request's own Authorization header and cookies, which
// these proxies pass on.
type ForwardAuth struct {
	engine *Engine // nil: the edge is off
}

// NewForwardAuth returns the endpoint of e; a nil e answers 404 "edge authorization is off".
func NewForwardAuth(e *Engine) *ForwardAuth { return &ForwardAuth{engine: e} }

// Middleware answers /ext_authz and every path below it, whatever the method, ahead of the REST
// API's CORS and CSRF handling (those protect authsvc's own API; the request here only describes
// another one), and passes every other request to next.
func (f *ForwardAuth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ForwardAuthPath || strings.HasPrefix(r.URL.Path, ForwardAuthPath+"/") {
			f.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP answers 200 with the identity headers when the described request is allowed, else the
// decision's status with its JSON body.
func (f *ForwardAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if f.engine == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":"not_found","reason":"` + OffMessage + `","rule":""}` + "\n"))
		return
	}
	in := forwardedInput(r)
	d := f.engine.Decide(forwardedContext(r.Context(), r), in)
	if d.Allowed {
		for _, kv := range f.engine.Headers().Values(d) {
			w.Header().Set(kv[0], kv[1])
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	status := d.Status
	if status == http.StatusFound && strings.EqualFold(r.Header.Get(RedirectHeader), "header") {
		w.Header().Set(LocationHeader, d.Location)
		w.Header().Set("WWW-Authenticate", `Bearer realm="authsvc"`)
		status = http.StatusUnauthorized
	} else {
		for _, kv := range DeniedHeaders(d) {
			w.Header().Set(kv[0], kv[1])
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(Body(d)) //nolint:gosec // JSON of fixed words and a rule name, served as application/json
}

func forwardedInput(r *http.Request) Input {
	in := Input{
		Method:        r.Header.Get("X-Forwarded-Method"),
		Host:          r.Header.Get("X-Forwarded-Host"),
		Scheme:        r.Header.Get("X-Forwarded-Proto"),
		Target:        r.Header.Get("X-Forwarded-Uri"),
		Authorization: r.Header.Values("Authorization"),
		Cookie:        strings.Join(r.Header.Values("Cookie"), "; "),
		Accept:        r.Header.Get("Accept"),
		Header:        r.Header.Get,
	}
	if in.Method == "" {
		in.Method = r.Method
	}
	if in.Host == "" {
		in.Host = r.Host
	}
	if in.Target == "" {
		in.Target = strings.TrimPrefix(r.URL.EscapedPath(), ForwardAuthPath)
		if r.URL.RawQuery != "" {
			in.Target += "?" + r.URL.RawQuery
		}
	}
	return in
}

// forwardedContext tells the remote-check budget who the end client is, as the REST gateway does
// for the API: the X-Forwarded-For chain with the connection's peer appended, read right to left
// through the proxies AUTHSVC_TRUSTED_PROXIES trusts.
func forwardedContext(ctx context.Context, r *http.Request) context.Context {
	addr, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return ctx
	}
	ctx = peer.NewContext(ctx, &peer.Peer{Addr: addr})
	var chain []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		chain = append(chain, strings.Split(v, ",")...)
	}
	return callmeta.WithForwarded(ctx, callmeta.Forwarded{ForwardedFor: append(chain, r.RemoteAddr)})
}
