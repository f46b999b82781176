package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kustomization is the subset of kustomize's Kustomization this base uses; strict decoding into it
// catches typos there too. Extend it when the base starts using another field.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images"`
}

// newObject maps apiVersion+kind to the Go type the API server would decode the document into.
// An unknown pair is an error: a typo in kind or apiVersion must fail too.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, nil
	default:
		return nil, fmt.Errorf("unsupported apiVersion/kind %q %q", apiVersion, kind)
	}
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeStrict decodes one YAML document the way the API server does with
// fieldValidation=Strict: duplicate keys, unknown fields and wrong-case field names are errors
// (plain encoding/json would accept "Replicas" for "replicas").
func decodeStrict(doc []byte, into any) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("yaml: %w", err)
	}
	strictErrs, err := k8sjson.UnmarshalStrict(js, into, k8sjson.DisallowDuplicateFields, k8sjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("strict decoding: %w", errors.Join(strictErrs...))
	}
	return nil
}

// decodeManifests decodes every document of a multi-document YAML stream into its API type.
func decodeManifests(data []byte) ([]any, error) {
	var objs []any
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if err := decodeStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// objects is everything in deploy/k8s/base, by type.
type objects struct {
	kustomization   *kustomization
	deployment      *appsv1.Deployment
	services        []*corev1.Service
	configMap       *corev1.ConfigMap            // authsvc-config, loaded with envFrom
	configMaps      map[string]*corev1.ConfigMap // by name: every ConfigMap, authsvc-config included
	secrets         map[string]*corev1.Secret    // by name: the examples of the Secrets authsvc mounts
	serviceAccount  *corev1.ServiceAccount
	hpa             *autoscalingv2.HorizontalPodAutoscaler
	pdb             *policyv1.PodDisruptionBudget
	networkPolicy   *networkingv1.NetworkPolicy
	fileOf          map[any]string
	filesWithObject []string
}

func loadK8s(t *testing.T) *objects {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("k8s", "base", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	o := newObjects()
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, err := decodeManifests(data)
		require.NoError(t, err, f)
		require.NotEmpty(t, objs, "%s holds no object", f)
		o.filesWithObject = append(o.filesWithObject, filepath.Base(f))
		for _, obj := range objs {
			o.add(t, obj, filepath.Base(f))
		}
	}
	for name, v := range map[string]any{
		"Kustomization": o.kustomization, "Deployment": o.deployment, "ConfigMap": o.configMap,
		"ServiceAccount": o.serviceAccount, "HorizontalPodAutoscaler": o.hpa,
		"PodDisruptionBudget": o.pdb, "NetworkPolicy": o.networkPolicy,
	} {
		require.NotNilf(t, v, "no %s in deploy/k8s/base", name)
	}
	require.NotEmpty(t, o.services)
	require.NotEmpty(t, o.secrets, "no Secret in deploy/k8s/base")
	return o
}

func newObjects() *objects {
	return &objects{fileOf: map[any]string{}, secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{}}
}

// add files one decoded object under its type; file is where it came from.
func (o *objects) add(t *testing.T, obj any, file string) {
	t.Helper()
	o.fileOf[obj] = file
	switch v := obj.(type) {
	case *kustomization:
		o.kustomization = v
	case *appsv1.Deployment:
		require.Nil(t, o.deployment, "one Deployment expected")
		o.deployment = v
	case *corev1.Service:
		o.services = append(o.services, v)
	case *corev1.ConfigMap:
		o.configMaps[v.Name] = v
		if v.Name == "authsvc-config" {
			o.configMap = v
		}
	case *corev1.Secret:
		o.secrets[v.Name] = v
	case *corev1.ServiceAccount:
		o.serviceAccount = v
	case *autoscalingv2.HorizontalPodAutoscaler:
		o.hpa = v
	case *policyv1.PodDisruptionBudget:
		o.pdb = v
	case *networkingv1.NetworkPolicy:
		o.networkPolicy = v
	}
}

func (o *objects) container(t *testing.T) *corev1.Container {
	t.Helper()
	cs := o.deployment.Spec.Template.Spec.Containers
	require.Len(t, cs, 1)
	return &cs[0]
}

// Ports authsvc listens on (internal/config defaults; the configmap sets them explicitly).
const (
	httpPort  = 8080
	grpcPort  = 9090
	adminPort = 9091
)

func TestStrictDecoderRejectsMistakes(t *testing.T) {
	const valid = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  replicas: 2
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: x
          image: x
`
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"misspelled top-level field", strings.Replace(valid, "replicas:", "replicaz:", 1), "replicaz"},
		{"misspelled nested field", strings.Replace(valid, "image: x", "image: x\n          readinesProbe: {}", 1), "readinesProbe"},
		{"wrong case", strings.Replace(valid, "replicas:", "Replicas:", 1), "Replicas"},
		{"duplicate key", strings.Replace(valid, "replicas: 2", "replicas: 2\n  replicas: 3", 1), "replicas"},
		{"wrong type", strings.Replace(valid, "replicas: 2", "replicas: two", 1), "replicas"},
		{"unknown kind", strings.Replace(valid, "kind: Deployment", "kind: Deploymnet", 1), "Deploymnet"},
		{"wrong apiVersion", strings.Replace(valid, "apps/v1", "apps/v1beta9", 1), "apps/v1beta9"},
	}
	_, err := decodeManifests([]byte(valid))
	require.NoError(t, err, "the unmodified document must decode, or the cases below prove nothing")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeManifests([]byte(tc.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestManifestsDecodeStrictly(t *testing.T) {
	// loadK8s fails on the first document that does not decode; this names the files checked.
	o := loadK8s(t)
	t.Logf("decoded %v", o.filesWithObject)
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	o := loadK8s(t)
	k := o.kustomization
	assert.Equal(t, "authsvc", k.Namespace)
	for _, r := range k.Resources {
		_, err := os.Stat(filepath.Join("k8s", "base", r))
		require.NoError(t, err, "kustomization resource %s", r)
	}
	// Every manifest is applied, except the kustomization itself and the placeholder secret, which
	// must never be applied over a real one.
	for _, f := range o.filesWithObject {
		if f == "kustomization.yaml" || f == "secret.example.yaml" {
			continue
		}
		assert.Contains(t, k.Resources, f)
	}
	assert.NotContains(t, k.Resources, "secret.example.yaml")
	for name, sec := range o.secrets {
		assert.Equal(t, "true", sec.Annotations["authsvc.io/placeholder"], "the example secret %s must be marked as a placeholder", name)
		assert.Equal(t, "secret.example.yaml", o.fileOf[sec], "example secrets live in the file that is never applied")
	}
	require.Len(t, k.Images, 1)
	assert.True(t, strings.HasPrefix(o.container(t).Image, k.Images[0].Name+":"), "kustomize image name must match the container image")
}

func TestSelectorsMatchPodLabels(t *testing.T) {
	o := loadK8s(t)
	d := o.deployment
	pod := labels.Set(d.Spec.Template.Labels)

	match := func(what string, sel *metav1.LabelSelector) {
		t.Helper()
		require.NotNil(t, sel, what)
		s, err := metav1.LabelSelectorAsSelector(sel)
		require.NoError(t, err, what)
		assert.False(t, s.Empty(), "%s selects everything", what)
		assert.True(t, s.Matches(pod), "%s %v does not select the pod labels %v", what, s, pod)
	}
	match("Deployment selector", d.Spec.Selector)
	match("PodDisruptionBudget selector", o.pdb.Spec.Selector)
	match("NetworkPolicy podSelector", &o.networkPolicy.Spec.PodSelector)
	for i, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
		match(fmt.Sprintf("topologySpreadConstraints[%d]", i), c.LabelSelector)
	}
	for _, svc := range o.services {
		require.NotEmpty(t, svc.Spec.Selector, svc.Name)
		assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(pod),
			"Service %s selector %v does not match pod labels %v", svc.Name, svc.Spec.Selector, pod)
	}

	hpa := o.hpa.Spec.ScaleTargetRef
	assert.Equal(t, "apps/v1", hpa.APIVersion)
	assert.Equal(t, "Deployment", hpa.Kind)
	assert.Equal(t, d.Name, hpa.Name)
	assert.Equal(t, o.serviceAccount.Name, d.Spec.Template.Spec.ServiceAccountName)
}

func TestPortsProbesAndServices(t *testing.T) {
	o := loadK8s(t)
	c := o.container(t)

	named := map[string]int32{}
	for _, p := range c.Ports {
		named[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"http": httpPort, "grpc": grpcPort, "admin": adminPort}, named)

	resolve := func(p intstr.IntOrString) int32 {
		if p.Type == intstr.Int {
			return p.IntVal
		}
		port, ok := named[p.StrVal]
		require.Truef(t, ok, "named port %q is not declared on the container", p.StrVal)
		return port
	}

	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
		{"startup", c.StartupProbe, "/healthz"},
	}
	for _, p := range probes {
		require.NotNil(t, p.probe, p.name)
		require.NotNil(t, p.probe.HTTPGet, p.name)
		assert.Equal(t, p.path, p.probe.HTTPGet.Path, p.name)
		assert.Equal(t, int32(httpPort), resolve(p.probe.HTTPGet.Port), "%s probe must hit the REST port", p.name)
	}

	for _, svc := range o.services {
		for _, sp := range svc.Spec.Ports {
			target := resolve(sp.TargetPort)
			assert.NotEqual(t, int32(adminPort), target, "Service %s must not expose the admin port", svc.Name)
			assert.NotEqual(t, int32(adminPort), sp.Port, "Service %s must not expose the admin port", svc.Name)
			assert.Equal(t, sp.Port, target, "Service %s port %s should keep the container's number", svc.Name, sp.Name)
		}
	}

	ann := o.deployment.Spec.Template.Annotations
	assert.Equal(t, strconv.Itoa(adminPort), ann["prometheus.io/port"])
	assert.Equal(t, "/metrics", ann["prometheus.io/path"])

	// The addresses in the ConfigMap must be the ports the container declares.
	for key, want := range map[string]int{"AUTHSVC_HTTP_ADDR": httpPort, "AUTHSVC_GRPC_ADDR": grpcPort, "AUTHSVC_ADMIN_ADDR": adminPort} {
		_, port, err := net.SplitHostPort(o.configMap.Data[key])
		require.NoError(t, err, key)
		assert.Equal(t, strconv.Itoa(want), port, key)
	}
}

func TestNetworkPolicyOpensOnlyWhatIsNeeded(t *testing.T) {
	o := loadK8s(t)
	np := o.networkPolicy.Spec
	assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.PolicyTypes)

	for _, rule := range np.Ingress {
		require.NotEmpty(t, rule.From, "an ingress rule without from admits every source")
		var ports []int32
		for _, p := range rule.Ports {
			require.NotNil(t, p.Port)
			ports = append(ports, p.Port.IntVal)
		}
		require.NotEmpty(t, ports, "an ingress rule without ports opens every port")
		if slices.Contains(ports, adminPort) {
			assert.Equal(t, []int32{adminPort}, ports, "the admin port gets its own rule")
			for _, from := range rule.From {
				require.NotNil(t, from.NamespaceSelector)
				assert.Equal(t, "monitoring", from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
				require.NotNil(t, from.PodSelector, "the whole monitoring namespace would reach the admin port")
				assert.Equal(t, "prometheus", from.PodSelector.MatchLabels["app.kubernetes.io/name"])
			}
		}
	}
	var opened []int32
	for _, rule := range np.Ingress {
		for _, p := range rule.Ports {
			opened = append(opened, p.Port.IntVal)
		}
	}
	assert.ElementsMatch(t, []int32{httpPort, grpcPort, adminPort}, opened)

	var egressPorts []int32
	for _, rule := range np.Egress {
		for _, p := range rule.Ports {
			egressPorts = append(egressPorts, p.Port.IntVal)
		}
	}
	// DNS, Stytch (HTTPS), OTLP gRPC + HTTP, Redis (server or Cluster node, Sentinel).
	for _, p := range []int32{53, 443, 4317, 4318, 6379, 26379} {
		assert.Contains(t, egressPorts, p)
	}
}

func TestPodIsHardened(t *testing.T) {
	o := loadK8s(t)
	spec := o.deployment.Spec.Template.Spec
	c := o.container(t)

	require.NotNil(t, spec.SecurityContext)
	require.NotNil(t, spec.SecurityContext.RunAsNonRoot)
	assert.True(t, *spec.SecurityContext.RunAsNonRoot)
	require.NotNil(t, spec.SecurityContext.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, spec.SecurityContext.SeccompProfile.Type)
	require.NotNil(t, spec.AutomountServiceAccountToken)
	assert.False(t, *spec.AutomountServiceAccountToken)

	sc := c.SecurityContext
	require.NotNil(t, sc)
	require.NotNil(t, sc.ReadOnlyRootFilesystem)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	require.NotNil(t, sc.AllowPrivilegeEscalation)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	require.NotNil(t, sc.RunAsNonRoot)
	assert.True(t, *sc.RunAsNonRoot)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	require.NotNil(t, sc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)

	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, ok := c.Resources.Requests[res]
		require.Truef(t, ok, "no %s request", res)
		limit, ok := c.Resources.Limits[res]
		require.Truef(t, ok, "no %s limit", res)
		assert.LessOrEqual(t, req.Cmp(limit), 0, "%s request above limit", res)
	}

	// Scaling and disruption: the PDB must leave pods serving at the HPA's minimum.
	require.NotNil(t, o.hpa.Spec.MinReplicas)
	minReplicas := *o.hpa.Spec.MinReplicas
	assert.GreaterOrEqual(t, minReplicas, int32(2))
	assert.Greater(t, o.hpa.Spec.MaxReplicas, minReplicas)
	require.NotNil(t, o.pdb.Spec.MaxUnavailable)
	assert.Less(t, o.pdb.Spec.MaxUnavailable.IntValue(), int(minReplicas))
	require.NotNil(t, o.deployment.Spec.Replicas)
	assert.GreaterOrEqual(t, *o.deployment.Spec.Replicas, minReplicas)
}

func TestConfigAndSecretWiring(t *testing.T) {
	o := loadK8s(t)
	spec := o.deployment.Spec.Template.Spec
	c := o.container(t)

	var fromConfigMap []string
	for _, ef := range c.EnvFrom {
		require.NotNil(t, ef.ConfigMapRef, "only ConfigMaps are loaded wholesale; secrets are mounted")
		fromConfigMap = append(fromConfigMap, ef.ConfigMapRef.Name)
	}
	assert.Equal(t, []string{o.configMap.Name}, fromConfigMap)
	for k := range o.configMap.Data {
		assert.NotContains(t, []string{"STYTCH_SECRET", "STYTCH_SECRET_FILE", "AUTHSVC_IDEMPOTENCY_KEYS_FILE", "AUTHSVC_REDIS_URL"}, k, "secrets and their mounts do not belong in the ConfigMap")
	}

	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	// The Redis URL can carry passwords: it comes from a Secret whose example has the key, never a
	// literal value.
	redisURL := env["AUTHSVC_REDIS_URL"]
	assert.Empty(t, redisURL.Value)
	require.NotNil(t, redisURL.ValueFrom, "AUTHSVC_REDIS_URL must come from a Secret")
	ref := redisURL.ValueFrom.SecretKeyRef
	require.NotNil(t, ref, "AUTHSVC_REDIS_URL must come from a Secret")
	require.Contains(t, o.secrets, ref.Name, "secret.example.yaml must show the Redis Secret")
	assert.Contains(t, o.secrets[ref.Name].StringData, ref.Key)

	// Each secret is a file: the variable naming it, a read-only mount of a Secret whose example
	// has the projected key, and nothing in the environment itself.
	secretFiles := map[string]string{}
	for _, name := range []string{"STYTCH_SECRET_FILE", "AUTHSVC_IDEMPOTENCY_KEYS_FILE"} {
		require.NotEmptyf(t, env[name].Value, "%s must be set", name)
		secretFiles[env[name].Value] = name
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		require.Truef(t, ok, "mount %s has no volume", m.Name)
		if v.Secret == nil {
			continue
		}
		assert.True(t, m.ReadOnly)
		example, ok := o.secrets[v.Secret.SecretName]
		require.Truef(t, ok, "volume %s mounts Secret %s, which secret.example.yaml does not show", v.Name, v.Secret.SecretName)
		require.NotNil(t, v.Secret.DefaultMode)
		assert.Equal(t, int32(0o440), *v.Secret.DefaultMode, "secret readable by owner and fsGroup only")
		require.Len(t, v.Secret.Items, 1)
		item := v.Secret.Items[0]
		assert.Contains(t, example.StringData, item.Key, "the example Secret must have the key the volume projects")
		path := filepath.Join(m.MountPath, item.Path)
		name, ok := secretFiles[path]
		assert.Truef(t, ok, "%s is mounted but no *_FILE variable names it", path)
		mounted[name] = true
	}
	for _, name := range secretFiles {
		assert.Truef(t, mounted[name], "%s must name a mounted Secret file", name)
	}

	// Shutdown ordering: authsvc drains itself (not ready, still serving) for AUTHSVC_DRAIN_DELAY,
	// then in-flight calls get AUTHSVC_SHUTDOWN_GRACE, and both fit inside the kubelet's grace period
	// with room for the telemetry flush. A preStop sleep would only add to the drain delay.
	drain, err := time.ParseDuration(o.configMap.Data["AUTHSVC_DRAIN_DELAY"])
	require.NoError(t, err)
	assert.Positive(t, drain, "a deployment behind a load balancer needs a drain delay")
	grace, err := time.ParseDuration(o.configMap.Data["AUTHSVC_SHUTDOWN_GRACE"])
	require.NoError(t, err)
	assert.True(t, c.Lifecycle == nil || c.Lifecycle.PreStop == nil, "no preStop hook: AUTHSVC_DRAIN_DELAY does its job")
	require.NotNil(t, spec.TerminationGracePeriodSeconds)
	kubelet := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	assert.Less(t, drain+grace, kubelet)

	// The ConfigMap's OTLP settings must reach the collector's receiver (checked in
	// TestCollectorConfig against its config).
	assert.Equal(t, "grpc", o.configMap.Data["OTEL_EXPORTER_OTLP_PROTOCOL"])
	_, err = url.Parse(o.configMap.Data["OTEL_EXPORTER_OTLP_ENDPOINT"])
	require.NoError(t, err)
}

// knownMetrics are the Prometheus series names authsvc exposes on /metrics. The telemetry package's
// tests pin how each is produced (TestInstrumentationMetricNames, TestStytchMetricNamesOnPrometheus,
// TestMetricsHandlerServesAuthMetrics); a dashboard or alert naming anything else has a typo.
var knownMetrics = buildKnownMetrics()

func buildKnownMetrics() map[string]bool {
	known := map[string]bool{}
	for _, h := range []string{
		"rpc_server_call_duration_seconds", "rpc_client_call_duration_seconds",
		"http_server_request_duration_seconds", "stytch_client_duration_seconds",
		"authsvc_edge_decision_duration_seconds",
	} {
		for _, s := range []string{"_bucket", "_count", "_sum"} {
			known[h+s] = true
		}
	}
	for _, m := range []string{
		"stytch_jwks_keys", "stytch_jwks_refresh_age_seconds", "stytch_jwks_refreshes_total",
		"authsvc_session_verifications_total", "authsvc_admission_rejections_total",
		"authsvc_m2m_token_source_lookups_total", "up",
		"authsvc_edge_decisions_total", "authsvc_edge_rules_reloads_total",
	} {
		known[m] = true
	}
	return known
}

var promQL = parser.NewParser(parser.Options{})

// checkPromQL parses expr and reports metric names outside knownMetrics.
func checkPromQL(expr string) error {
	node, err := promQL.ParseExpr(expr)
	if err != nil {
		return fmt.Errorf("%q: %w", expr, err)
	}
	var unknown []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" && !knownMetrics[vs.Name] {
			unknown = append(unknown, vs.Name)
		}
		return nil
	})
	if len(unknown) > 0 {
		return fmt.Errorf("%q: unknown metrics %v", expr, unknown)
	}
	return nil
}

func TestCheckPromQLCatchesMistakes(t *testing.T) {
	require.NoError(t, checkPromQL(`sum(rate(authsvc_admission_rejections_total[5m]))`))
	require.Error(t, checkPromQL(`sum(rate(authsvc_admission_rejections_total[5m])`), "unbalanced parenthesis")
	require.Error(t, checkPromQL(`sum(rate(authsvc_admision_rejections_total[5m]))`), "misspelled metric")
}

// grafanaVars replaces Grafana's template variables by values PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$job", ".*", "$api", "(b2b|consumer)")

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("grafana", "authsvc.json"))
	require.NoError(t, err)
	require.True(t, json.Valid(data), "grafana/authsvc.json is not valid JSON")

	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
		Panels []grafanaPanel `json:"panels"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	require.NoError(t, dec.Decode(&dash))
	_, err = dec.Token()
	require.ErrorIs(t, err, io.EOF, "trailing data after the dashboard object")
	require.NotEmpty(t, dash.Title)
	require.NotEmpty(t, dash.UID)
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	assert.Contains(t, vars, "datasource")

	var all []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(dash.Panels)

	ids := map[int]string{}
	queryPanels := 0
	for _, p := range all {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		require.NotZero(t, p.ID, name)
		prev, dup := ids[p.ID]
		require.Falsef(t, dup, "%s reuses the id of %q", name, prev)
		ids[p.ID] = p.Title
		require.NotEmpty(t, p.Title, name)
		require.NotNil(t, p.GridPos, name)
		if p.Type == "row" {
			continue
		}
		queryPanels++
		require.NotNil(t, p.Datasource, name)
		assert.Equal(t, "${datasource}", p.Datasource.UID, name)
		require.NotEmpty(t, p.Targets, "%s has no targets", name)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "%s target %s has an empty expr", name, tg.RefID)
			require.False(t, refs[tg.RefID], "%s repeats refId %s", name, tg.RefID)
			refs[tg.RefID] = true
			require.NoError(t, checkPromQL(grafanaVars.Replace(tg.Expr)), name)
		}
	}
	assert.GreaterOrEqual(t, queryPanels, 8)

	// The required views, by the metric each needs.
	joined := string(data)
	for _, want := range []string{
		"histogram_quantile(0.99, sum by (le, rpc_method) (rate(rpc_server_call_duration_seconds_bucket",
		"stytch_client_duration_seconds_sum", // Stytch share of latency
		"error_type!=",                       // error rate
		"authsvc_admission_rejections_total",
		"stytch_jwks_refresh_age_seconds",
		// The edge row: decisions by rule and reason, and their latency.
		"sum by (rule, decision, reason) (rate(authsvc_edge_decisions_total",
		"histogram_quantile(0.99, sum by (le, rule) (rate(authsvc_edge_decision_duration_seconds_bucket",
	} {
		assert.Contains(t, joined, want)
	}
}

// TestDashboardOffersEveryAPI: the dashboard's api variable filters the RPC panels by API package
// (authsvc.<api>.v1); a package served by authsvc but missing from the variable's options would
// vanish from those panels once an operator picks APIs. The packages are the directories of
// gen/go/authsvc that hold gRPC services.
func TestDashboardOffersEveryAPI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("grafana", "authsvc.json"))
	require.NoError(t, err)
	var dash struct {
		Templating struct {
			List []struct {
				Name    string          `json:"name"`
				Query   json.RawMessage `json:"query"` // a string for a custom variable, an object for a query one
				Options []struct {
					Value string `json:"value"`
				} `json:"options"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(data, &dash))
	var offered []string
	for _, v := range dash.Templating.List {
		if v.Name != "api" {
			continue
		}
		for _, o := range v.Options {
			offered = append(offered, o.Value)
		}
		var query string
		require.NoError(t, json.Unmarshal(v.Query, &query), "the api variable is not a custom one")
		assert.Equal(t, strings.Join(offered, ","), query, "the api variable's query and options differ")
	}
	require.NotEmpty(t, offered, "the dashboard has no api variable")

	services, err := filepath.Glob(filepath.Join("..", "gen", "go", "authsvc", "*", "v1", "*_grpc.pb.go"))
	require.NoError(t, err)
	served := map[string]bool{}
	for _, f := range services {
		served[filepath.Base(filepath.Dir(filepath.Dir(f)))] = true
	}
	require.Contains(t, served, "b2b", "no generated services found: is the glob right?")
	for api := range served {
		assert.Contains(t, offered, api, "the dashboard's api variable lacks authsvc.%s.v1", api)
	}
}

func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("prometheus", "alerts.yaml"))
	require.NoError(t, err)
	// What `promtool check rules` does: strict YAML, PromQL and template validation.
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, promQL, slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	require.NotEmpty(t, groups.Groups)

	var alerts []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "only alerting rules are expected in alerts.yaml")
			alerts = append(alerts, r.Alert)
			require.NoError(t, checkPromQL(r.Expr), r.Alert)
			assert.Contains(t, []string{"page", "warning", "info"}, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
		}
	}
	for _, want := range []string{"AuthsvcHighErrorRate", "AuthsvcStytchSlow", "AuthsvcJWKSStale", "AuthsvcSMSPumping", "AuthsvcCredentialStuffing", "AuthsvcEdgeDenialSpike", "AuthsvcEdgeRulesReloadFailed"} {
		assert.Contains(t, alerts, want)
	}
}

func TestAlertRulesRejectTypos(t *testing.T) {
	tests := map[string]string{
		"unknown field": "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        fro: 5m\n",
		"bad PromQL":    "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(up\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, errs := rulefmt.Parse([]byte(doc), false, model.UTF8Validation, promQL, slog.New(slog.DiscardHandler))
			assert.NotEmpty(t, errs)
		})
	}
}

// collectorConfig is the part of the OpenTelemetry Collector configuration authsvc's file uses.
// Component settings stay untyped (each component has its own schema); the service section is
// decoded strictly so a misspelled key or pipeline reference fails.
type collectorConfig struct {
	Receivers  map[string]any `json:"receivers"`
	Processors map[string]any `json:"processors"`
	Exporters  map[string]any `json:"exporters"`
	Extensions map[string]any `json:"extensions"`
	Connectors map[string]any `json:"connectors"`
	Service    struct {
		Extensions []string `json:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `json:"receivers"`
			Processors []string `json:"processors"`
			Exporters  []string `json:"exporters"`
		} `json:"pipelines"`
		Telemetry map[string]any `json:"telemetry"`
	} `json:"service"`
}

func TestCollectorConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("otel-collector", "config.yaml"))
	require.NoError(t, err)
	var cfg collectorConfig
	require.NoError(t, decodeStrict(data, &cfg))

	used := map[string]map[string]bool{"receivers": {}, "processors": {}, "exporters": {}, "extensions": {}}
	check := func(section string, defined map[string]any, names []string, pipeline string) {
		t.Helper()
		for _, n := range names {
			_, ok := defined[n]
			assert.Truef(t, ok, "pipeline %s uses %s %q, which is not defined", pipeline, section, n)
			used[section][n] = true
		}
	}
	require.Contains(t, cfg.Service.Pipelines, "traces")
	require.Contains(t, cfg.Service.Pipelines, "metrics")
	for name, p := range cfg.Service.Pipelines {
		signal, _, _ := strings.Cut(name, "/")
		assert.Contains(t, []string{"traces", "metrics", "logs"}, signal, "pipeline %s", name)
		require.NotEmpty(t, p.Receivers, name)
		require.NotEmpty(t, p.Exporters, name)
		check("receivers", cfg.Receivers, p.Receivers, name)
		check("processors", cfg.Processors, p.Processors, name)
		check("exporters", cfg.Exporters, p.Exporters, name)
		require.NotEmpty(t, p.Processors, name)
		assert.Equal(t, "memory_limiter", p.Processors[0], "memory_limiter must run first in %s", name)
		assert.Contains(t, p.Processors, "batch", name)
	}
	check("extensions", cfg.Extensions, cfg.Service.Extensions, "service")
	for section, defined := range map[string]map[string]any{
		"receivers": cfg.Receivers, "processors": cfg.Processors, "exporters": cfg.Exporters, "extensions": cfg.Extensions,
	} {
		for n := range defined {
			assert.Truef(t, used[section][n], "%s %q is defined but not used", section, n)
		}
	}

	// authsvc's ConfigMap must point at the receiver's port for the protocol it uses.
	o := loadK8s(t)
	endpoint, err := url.Parse(o.configMap.Data["OTEL_EXPORTER_OTLP_ENDPOINT"])
	require.NoError(t, err)
	otlp, ok := cfg.Receivers["otlp"].(map[string]any)
	require.True(t, ok, "receivers.otlp")
	protocols, ok := otlp["protocols"].(map[string]any)
	require.True(t, ok, "receivers.otlp.protocols")
	proto := o.configMap.Data["OTEL_EXPORTER_OTLP_PROTOCOL"]
	key := map[string]string{"grpc": "grpc", "http/protobuf": "http"}[proto]
	settings, ok := protocols[key].(map[string]any)
	require.Truef(t, ok, "collector has no OTLP %s receiver", proto)
	_, port, err := net.SplitHostPort(fmt.Sprint(settings["endpoint"]))
	require.NoError(t, err)
	assert.Equal(t, port, endpoint.Port())
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	require.NoError(t, err)
	df := string(data)
	for _, want := range []string{
		"CGO_ENABLED=0", "-trimpath", "./cmd/authsvc", "-X main.version=",
		"FROM gcr.io/distroless/static", ":nonroot", "USER 65532:65532",
		fmt.Sprintf("EXPOSE %d %d %d", httpPort, grpcPort, adminPort), `ENTRYPOINT ["/authsvc"]`,
	} {
		assert.Contains(t, df, want)
	}
	// The pod's runAsUser must be the image's user, or runAsNonRoot checks a different identity.
	o := loadK8s(t)
	require.NotNil(t, o.deployment.Spec.Template.Spec.SecurityContext.RunAsUser)
	assert.Equal(t, int64(65532), *o.deployment.Spec.Template.Spec.SecurityContext.RunAsUser)
}
