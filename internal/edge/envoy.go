package edge

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"

	"github.com/authsvc/authsvc/internal/callmeta"
)

// Authorization is Envoy's external authorization service (envoy.service.auth.v3.Authorization)
// over the engine: Envoy's ext_authz HTTP filter and Istio's CUSTOM action call Check for every
// request they route.
type Authorization struct {
	authv3.UnimplementedAuthorizationServer
	engine *Engine
}

var _ authv3.AuthorizationServer = (*Authorization)(nil)

// NewAuthorization returns the Check service of e.
func NewAuthorization(e *Engine) *Authorization { return &Authorization{engine: e} }

// Check decides the request Envoy describes. An allowed request goes on with the identity headers
// set and every client-sent header of those names removed; a denied one is answered by Envoy with
// the decision's status, JSON body and headers. The RPC itself succeeds either way: its status says
// the decision (OK, UNAUTHENTICATED, PERMISSION_DENIED, ...), as Envoy expects.
func (a *Authorization) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	h := req.GetAttributes().GetRequest().GetHttp()
	headers := h.GetHeaders()
	if len(headers) == 0 && h.GetHeaderMap() != nil {
		headers = flattenHeaderMap(h.GetHeaderMap())
	}
	get := func(name string) string { return headers[name] }
	host := h.GetHost()
	if host == "" {
		host = get(":authority")
	}
	target := h.GetPath()
	if target == "" {
		target = get(":path")
	}
	in := Input{
		Method: h.GetMethod(), Host: host, Scheme: h.GetScheme(), Target: target,
		Cookie: get("cookie"), Accept: get("accept"), Header: get,
	}
	if v, ok := headers["authorization"]; ok {
		in.Authorization = []string{v}
	}
	ctx = withClientAddress(ctx, req.GetAttributes().GetSource().GetAddress().GetSocketAddress().GetAddress())
	d := a.engine.Decide(ctx, in)
	return a.response(d), nil
}

// withClientAddress tells the remote-check budget who the end client is: the address Envoy saw
// (attributes.source), believed only as far as AUTHSVC_TRUSTED_PROXIES trusts Envoy itself, which
// is the connection's peer (internal/admission's IPResolver reads the chain right to left).
func withClientAddress(ctx context.Context, source string) context.Context {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil || source == "" {
		return ctx
	}
	return callmeta.WithForwarded(ctx, callmeta.Forwarded{ForwardedFor: []string{source, p.Addr.String()}})
}

// flattenHeaderMap is the headers of Envoy's header_map form (encode_raw_headers), repeated
// headers joined as Envoy joins them in the map form.
func flattenHeaderMap(m *corev3.HeaderMap) map[string]string {
	out := make(map[string]string, len(m.GetHeaders()))
	for _, hv := range m.GetHeaders() {
		v := hv.GetValue()
		if v == "" && len(hv.GetRawValue()) > 0 {
			v = string(hv.GetRawValue())
		}
		k := strings.ToLower(hv.GetKey())
		sep := ","
		if k == "cookie" {
			sep = "; "
		}
		if prev, ok := out[k]; ok {
			v = prev + sep + v
		}
		out[k] = v
	}
	return out
}

func (a *Authorization) response(d Decision) *authv3.CheckResponse {
	names := a.engine.Headers()
	if d.Allowed {
		ok := &authv3.OkHttpResponse{HeadersToRemove: names.All()}
		for _, kv := range names.Values(d) {
			if kv[1] != "" {
				ok.Headers = append(ok.Headers, setHeader(kv[0], kv[1]))
			}
		}
		return &authv3.CheckResponse{
			Status:       &rpcstatus.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
		}
	}
	denied := &authv3.DeniedHttpResponse{
		Status: &typev3.HttpStatus{Code: typev3.StatusCode(d.Status)}, //nolint:gosec // an HTTP status code
		Body:   string(Body(d)),
		Headers: []*corev3.HeaderValueOption{
			setHeader("content-type", "application/json"),
			setHeader("cache-control", "no-store"),
		},
	}
	for _, kv := range DeniedHeaders(d) {
		denied.Headers = append(denied.Headers, setHeader(kv[0], kv[1]))
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(grpcCode(d.Status)), Message: d.Reason}, //nolint:gosec // a gRPC code
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: denied},
	}
}

func setHeader(k, v string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: k, Value: v},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

func grpcCode(status int) codes.Code {
	switch status {
	case 400:
		return codes.InvalidArgument
	case 401, 302:
		return codes.Unauthenticated
	case 403:
		return codes.PermissionDenied
	case 429:
		return codes.ResourceExhausted
	default:
		return codes.Unavailable
	}
}

// Body is the JSON body of a denial: {"code": ..., "reason": ..., "rule": ...}.
func Body(d Decision) []byte {
	b, _ := json.Marshal(struct { // three strings cannot fail to encode
		Code   string `json:"code"`
		Reason string `json:"reason"`
		Rule   string `json:"rule"`
	}{d.Code, d.Reason, d.Rule})
	return append(b, '\n')
}

// DeniedHeaders are the headers of a denial besides its body's: the Bearer challenge on a 401, the
// login URL on a redirect, Retry-After when retrying helps.
func DeniedHeaders(d Decision) [][2]string {
	var out [][2]string
	switch {
	case d.Status == 401:
		out = append(out, [2]string{"www-authenticate", `Bearer realm="authsvc"`})
	case d.Status == 302:
		out = append(out, [2]string{"location", d.Location})
	case d.RetryAfter > 0:
		secs := int(d.RetryAfter.Seconds() + 0.999)
		out = append(out, [2]string{"retry-after", strconv.Itoa(secs)})
	}
	return out
}
