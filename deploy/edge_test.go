package deploy_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	httpoptsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	securityv1beta1 "istio.io/api/security/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/authsvc/authsvc/internal/edge/rules"
)

// identityHeaders are the headers authsvc's edge answers an allowed request with (their default
// names): every proxy configuration must both pass them to the service and strip the client's.
var identityHeaders = []string{
	"X-Authsvc-Subject", "X-Authsvc-Organization", "X-Authsvc-Roles", "X-Authsvc-Scopes",
	"X-Authsvc-Session", "X-Authsvc-Kind", "X-Authsvc-Rule",
}

// Every proxy example uses the one sample rules file, and it must load as authsvc loads it.
func TestSampleRulesLoad(t *testing.T) {
	set, err := rules.LoadFile(filepath.Join("edge", "rules.yaml"))
	require.NoError(t, err)
	var names []string
	var public, session, m2m bool
	for _, r := range set.Rules() {
		names = append(names, r.Name)
		public = public || r.Public
		session = session || r.Session != nil
		m2m = m2m || r.M2M != nil
	}
	assert.True(t, public && session && m2m, "the sample shows every kind of rule: %v", names)
}

// protoFromYAML decodes YAML into a protobuf message strictly: duplicate keys and unknown fields
// are errors, and an Any must name a type linked into the test (the filters imported above).
func protoFromYAML(data []byte, m proto.Message) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{}.Unmarshal(js, m)
}

func TestProtoFromYAMLIsStrict(t *testing.T) {
	var b bootstrapv3.Bootstrap
	require.NoError(t, protoFromYAML([]byte("node: {id: x}\n"), &b), "the valid document must decode, or the cases below prove nothing")
	require.Error(t, protoFromYAML([]byte("node: {idd: x}\n"), &b), "unknown field")
	require.Error(t, protoFromYAML([]byte("node: {id: x}\nnode: {id: y}\n"), &b), "duplicate key")
	require.Error(t, protoFromYAML([]byte("static_resources:\n  listeners:\n    - filter_chains:\n        - filters:\n            - typed_config: {\"@type\": type.googleapis.com/no.Such}\n"), &b), "unknown Any type")
}

// TestEnvoyConfig decodes deploy/envoy/envoy.yaml into Envoy's bootstrap type, runs Envoy's own
// field validation on it and on every typed filter, and checks the ext_authz settings the issue
// asks for: gRPC to authsvc (HTTP/2), no request body, fail closed, before the router.
func TestEnvoyConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("envoy", "envoy.yaml"))
	require.NoError(t, err)
	var boot bootstrapv3.Bootstrap
	require.NoError(t, protoFromYAML(data, &boot))
	require.NoError(t, boot.ValidateAll())

	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range boot.GetStaticResources().GetClusters() {
		clusters[c.GetName()] = c
	}
	listeners := boot.GetStaticResources().GetListeners()
	require.Len(t, listeners, 1)
	chains := listeners[0].GetFilterChains()
	require.Len(t, chains, 1)
	require.Len(t, chains[0].GetFilters(), 1)
	var hcm hcmv3.HttpConnectionManager
	require.NoError(t, chains[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm))
	require.NoError(t, hcm.ValidateAll())
	for _, vh := range hcm.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			assert.Contains(t, clusters, r.GetRoute().GetCluster(), "route to an undefined cluster")
		}
	}

	filters := hcm.GetHttpFilters()
	require.Len(t, filters, 2)
	var authz extauthzv3.ExtAuthz
	require.NoError(t, filters[0].GetTypedConfig().UnmarshalTo(&authz), "ext_authz must come first")
	require.NoError(t, authz.ValidateAll())
	var router routerv3.Router
	require.NoError(t, filters[1].GetTypedConfig().UnmarshalTo(&router), "the router must come last")

	assert.False(t, authz.GetFailureModeAllow(), "fail closed")
	assert.Nil(t, authz.GetWithRequestBody(), "authsvc never needs the body")
	assert.Equal(t, "V3", authz.GetTransportApiVersion().String())
	cluster := authz.GetGrpcService().GetEnvoyGrpc().GetClusterName()
	require.NotEmpty(t, cluster, "ext_authz over gRPC, through Envoy's own gRPC client")
	c, ok := clusters[cluster]
	require.True(t, ok, "ext_authz names cluster %q, which is not defined", cluster)
	var opts httpoptsv3.HttpProtocolOptions
	require.NoError(t, c.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].UnmarshalTo(&opts))
	require.NoError(t, opts.ValidateAll())
	assert.NotNil(t, opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions(), "gRPC needs HTTP/2 to authsvc")
	eps := c.GetLoadAssignment().GetEndpoints()
	require.NotEmpty(t, eps)
	port := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue()
	assert.EqualValues(t, grpcPort, port, "authsvc's gRPC port")
}

// decodeCRD decodes a custom resource's envelope strictly and returns its spec as JSON.
func decodeCRD(t *testing.T, doc []byte, apiVersion, kind string) (name, namespace string, spec []byte) {
	t.Helper()
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec json.RawMessage `json:"spec"`
	}
	require.NoError(t, decodeStrict(doc, &obj))
	require.Equal(t, apiVersion, obj.APIVersion)
	require.Equal(t, kind, obj.Kind)
	require.NotEmpty(t, obj.Metadata.Name)
	require.NotEmpty(t, obj.Spec)
	return obj.Metadata.Name, obj.Metadata.Namespace, obj.Spec
}

// authsvcService is the Service of deploy/k8s/base and its namespace: what the proxies must call.
func authsvcService(t *testing.T) (host string, ports map[string]int32) {
	t.Helper()
	o := loadK8s(t)
	ports = map[string]int32{}
	for _, s := range o.services {
		if s.Name != "authsvc" {
			continue
		}
		for _, p := range s.Spec.Ports {
			ports[p.Name] = p.Port
		}
	}
	require.NotEmpty(t, ports, "no Service named authsvc in deploy/k8s/base")
	return "authsvc." + o.kustomization.Namespace + ".svc.cluster.local", ports
}

// TestIstioConfig decodes the extension provider into Istio's MeshConfig type and the
// AuthorizationPolicy's spec into Istio's type, strictly, and checks that they name each other
// and authsvc's gRPC Service port.
func TestIstioConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("istio", "istiod-values.yaml"))
	require.NoError(t, err)
	var values struct {
		MeshConfig json.RawMessage `json:"meshConfig"`
	}
	require.NoError(t, decodeStrict(data, &values))
	var mesh meshv1alpha1.MeshConfig
	require.NoError(t, protojson.Unmarshal(values.MeshConfig, &mesh))
	require.Len(t, mesh.GetExtensionProviders(), 1)
	provider := mesh.GetExtensionProviders()[0]
	grpcProvider := provider.GetEnvoyExtAuthzGrpc()
	require.NotNil(t, grpcProvider, "authsvc is an ext_authz gRPC provider")
	host, ports := authsvcService(t)
	assert.Equal(t, host, grpcProvider.GetService())
	assert.Equal(t, uint32(ports["grpc"]), grpcProvider.GetPort())
	assert.False(t, grpcProvider.GetFailOpen(), "fail closed")
	assert.Nil(t, grpcProvider.GetIncludeRequestBodyInCheck(), "authsvc never needs the body")

	data, err = os.ReadFile(filepath.Join("istio", "authorization-policy.yaml"))
	require.NoError(t, err)
	_, _, spec := decodeCRD(t, data, "security.istio.io/v1", "AuthorizationPolicy")
	var policy securityv1beta1.AuthorizationPolicy
	require.NoError(t, protojson.Unmarshal(spec, &policy))
	assert.Equal(t, securityv1beta1.AuthorizationPolicy_CUSTOM, policy.GetAction())
	assert.Equal(t, provider.GetName(), policy.GetProvider().GetName(), "the policy names the mesh's provider")
	assert.NotEmpty(t, policy.GetRules(), "a CUSTOM policy without rules sends nothing to authsvc")
}

// The subset of Traefik's CRDs the example uses; strict decoding catches a misspelt field.
type traefikMiddleware struct {
	ForwardAuth *struct {
		Address             string   `json:"address"`
		TrustForwardHeader  bool     `json:"trustForwardHeader"`
		AuthResponseHeaders []string `json:"authResponseHeaders"`
	} `json:"forwardAuth"`
}

type traefikIngressRoute struct {
	EntryPoints []string `json:"entryPoints"`
	Routes      []struct {
		Match       string `json:"match"`
		Kind        string `json:"kind"`
		Middlewares []struct {
			Name string `json:"name"`
		} `json:"middlewares"`
		Services []struct {
			Name string `json:"name"`
			Port int    `json:"port"`
		} `json:"services"`
	} `json:"routes"`
	TLS *struct{} `json:"tls"`
}

func TestTraefikConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("traefik", "middleware.yaml"))
	require.NoError(t, err)
	docs := docSeparator.Split(string(data), -1)
	require.Len(t, docs, 2)

	mwName, _, spec := decodeCRD(t, []byte(docs[0]), "traefik.io/v1alpha1", "Middleware")
	var mw traefikMiddleware
	require.NoError(t, decodeStrict(spec, &mw))
	require.NotNil(t, mw.ForwardAuth)
	assert.False(t, mw.ForwardAuth.TrustForwardHeader, "Traefik must set X-Forwarded-* itself, not pass the client's")
	assert.ElementsMatch(t, identityHeaders, mw.ForwardAuth.AuthResponseHeaders)
	u, err := url.Parse(mw.ForwardAuth.Address)
	require.NoError(t, err)
	host, ports := authsvcService(t)
	assert.Equal(t, net.JoinHostPort(host, strconv.Itoa(int(ports["http"]))), u.Host, "authsvc's REST port")
	assert.Equal(t, "/ext_authz", u.Path)

	_, _, spec = decodeCRD(t, []byte(docs[1]), "traefik.io/v1alpha1", "IngressRoute")
	var route traefikIngressRoute
	require.NoError(t, decodeStrict(spec, &route))
	require.NotEmpty(t, route.Routes)
	for _, r := range route.Routes {
		var names []string
		for _, m := range r.Middlewares {
			names = append(names, m.Name)
		}
		assert.Contains(t, names, mwName, "route %q is not behind authsvc", r.Match)
	}
}

// nginxBinary finds nginx (Debian puts it in /usr/sbin, often not on a user's PATH), or "".
func nginxBinary() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// nginxMainConf wraps a file of http-level directives into a whole configuration that runs as the
// invoking user from dir: no daemon, no worker processes of another user, every path under dir.
func nginxMainConf(dir, include string) string {
	var b strings.Builder
	b.WriteString("daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log stderr notice;\n")
	b.WriteString("pid " + filepath.Join(dir, "nginx.pid") + ";\n")
	b.WriteString("events { worker_connections 256; }\nhttp {\n  access_log off;\n")
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		b.WriteString("  " + kind + "_temp_path " + filepath.Join(dir, "tmp", kind) + ";\n")
	}
	b.WriteString("  include " + include + ";\n}\n")
	return b.String()
}

// TestNginxConfig runs `nginx -t` on deploy/nginx/authsvc-edge.conf as written, and checks that
// every identity header is both emptied on the way to authsvc and replaced on the way to the
// service (the end-to-end behaviour is TestNginxEdge's).
func TestNginxConfig(t *testing.T) {
	conf, err := filepath.Abs(filepath.Join("nginx", "authsvc-edge.conf"))
	require.NoError(t, err)
	data, err := os.ReadFile(conf)
	require.NoError(t, err)
	for _, h := range identityHeaders {
		assert.Equal(t, 2, strings.Count(string(data), "proxy_set_header "+h+" "),
			"%s must be set twice: emptied towards authsvc, replaced towards the service", h)
		variable := "$authsvc_" + strings.ToLower(strings.TrimPrefix(h, "X-Authsvc-"))
		assert.Contains(t, string(data), "auth_request_set "+variable+" $upstream_http_"+strings.ReplaceAll(strings.ToLower(h), "-", "_")+";")
	}
	for _, h := range []string{"X-Forwarded-Method", "X-Forwarded-Host", "X-Forwarded-Uri"} {
		assert.Contains(t, string(data), "proxy_set_header "+h+" ", "authsvc reads the request to authorize from %s", h)
	}

	bin := nginxBinary()
	if bin == "" {
		t.Skip("nginx not installed (scripts/test-deps.sh installs nginx-light)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tmp"), 0o700))
	main := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(main, []byte(nginxMainConf(dir, conf)), 0o600))
	out, err := exec.CommandContext(t.Context(), bin, "-t", "-p", dir, "-c", main, "-e", "stderr").CombinedOutput()
	require.NoError(t, err, "nginx -t: %s", out)
	assert.Contains(t, string(out), "test is successful")

	// The check is real: a misspelt directive fails it.
	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, bytes.Replace(data, []byte("auth_request_set"), []byte("auth_requestset"), 1), 0o600))
	require.NoError(t, os.WriteFile(main, []byte(nginxMainConf(dir, bad)), 0o600))
	out, err = exec.CommandContext(t.Context(), bin, "-t", "-p", dir, "-c", main, "-e", "stderr").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "auth_requestset")
}

// TestK8sEdgeRules: the Deployment gives authsvc the edge rules the proxies above rely on: the
// ConfigMap's rules validate as authsvc validates them, AUTHSVC_EDGE_RULES names the file in the
// mount, and the mount is a directory (a subPath mount would never see an update, so a changed
// ConfigMap would not reload).
func TestK8sEdgeRules(t *testing.T) {
	o := loadK8s(t)
	cm, ok := o.configMaps["authsvc-edge-rules"]
	require.True(t, ok, "no authsvc-edge-rules ConfigMap in deploy/k8s/base")
	_, err := rules.Parse("k8s/base/edge-rules.yaml", []byte(cm.Data["rules.yaml"]))
	require.NoError(t, err)

	path := o.configMap.Data["AUTHSVC_EDGE_RULES"]
	require.NotEmpty(t, path, "authsvc-config must set AUTHSVC_EDGE_RULES")
	c := o.container(t)
	volumes := map[string]bool{}
	for _, v := range o.deployment.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
			continue
		}
		for _, it := range v.ConfigMap.Items {
			if it.Key == "rules.yaml" {
				volumes[v.Name] = true
				for _, m := range c.VolumeMounts {
					if m.Name == v.Name {
						assert.Empty(t, m.SubPath, "a subPath mount never sees ConfigMap updates")
						assert.True(t, m.ReadOnly)
						assert.Equal(t, path, filepath.Join(m.MountPath, it.Path), "AUTHSVC_EDGE_RULES names the mounted file")
						return
					}
				}
			}
		}
	}
	t.Fatalf("no mount of ConfigMap %s's rules.yaml (volumes %v)", cm.Name, volumes)
}
