package deploy_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayWant is what one environment's overlay must render to.
type overlayWant struct {
	dir       string
	namespace string
	logLevel  string
	// minReplicas is the least the HPA may scale down to; maxReplicas its ceiling at least.
	minReplicas, maxReplicas int32
	// minServing is how many pods must keep serving, at the HPA's minimum, while the PDB allows a
	// voluntary disruption (a node drain).
	minServing int
	// redisRequired: the Redis Secret must exist for the pod to start (secretKeyRef not optional).
	redisRequired bool
	// zoneSpread and nodeSpread are what the spreads over zones and nodes do when they cannot be
	// met; minZones, when set, is the least number of zones the zone spread counts on (minDomains).
	zoneSpread, nodeSpread corev1.UnsatisfiableConstraintAction
	minZones               int32
}

var overlays = []overlayWant{
	{
		dir: "staging", namespace: "authsvc-staging", logLevel: "debug",
		minReplicas: 2, maxReplicas: 4, minServing: 1,
		zoneSpread: corev1.ScheduleAnyway, nodeSpread: corev1.ScheduleAnyway,
	},
	{
		dir: "production", namespace: "authsvc", logLevel: "info",
		minReplicas: 3, maxReplicas: 12, minServing: 2,
		redisRequired: true, zoneSpread: corev1.DoNotSchedule, nodeSpread: corev1.DoNotSchedule, minZones: 3,
	},
}

// renderOverlay runs kustomize (the library kubectl embeds) on deploy/k8s/overlays/NAME and decodes
// every rendered object strictly into its k8s.io/api type.
func renderOverlay(t *testing.T, name string) *objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("k8s", "overlays", name))
	require.NoError(t, err, "kustomize build %s", name)
	out, err := resMap.AsYaml()
	require.NoError(t, err)
	objs, err := decodeManifests(out)
	require.NoError(t, err, "rendered %s overlay", name)
	o := newObjects()
	for _, obj := range objs {
		o.add(t, obj, name)
	}
	for what, v := range map[string]any{
		"Deployment": o.deployment, "ConfigMap authsvc-config": o.configMap, "ServiceAccount": o.serviceAccount,
		"HorizontalPodAutoscaler": o.hpa, "PodDisruptionBudget": o.pdb, "NetworkPolicy": o.networkPolicy,
	} {
		require.NotNilf(t, v, "the %s overlay renders no %s", name, what)
	}
	require.NotEmpty(t, o.services)
	t.Logf("%s: %d objects rendered", name, len(objs))
	return o
}

// problems collects what an overlay gets wrong, so that TestOverlayChecksCatchMistakes can show
// that each check fires.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// checkOverlay returns everything in o that breaks the promises of deploy/README.md for w.
func checkOverlay(o *objects, w overlayWant) problems {
	var p problems
	if o.kustomization != nil {
		p.addf("a Kustomization was rendered as an object")
	}
	// Namespaces: everything lands in the environment's namespace; no placeholder Secret is applied.
	every := []metav1.Object{o.deployment, o.configMap, o.serviceAccount, o.hpa, o.pdb, o.networkPolicy}
	for _, svc := range o.services {
		every = append(every, svc)
	}
	for _, cm := range o.configMaps {
		every = append(every, cm)
	}
	for _, obj := range every {
		if obj.GetNamespace() != w.namespace {
			p.addf("%s is in namespace %q, want %q", obj.GetName(), obj.GetNamespace(), w.namespace)
		}
	}
	if len(o.secrets) > 0 {
		p.addf("the overlay renders Secrets %v: placeholders must never be applied over real ones", slices.Sorted(maps.Keys(o.secrets)))
	}

	d := o.deployment
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		p.addf("%d containers, want 1", len(spec.Containers))
		return p
	}
	c := spec.Containers[0]
	pod := labels.Set(d.Spec.Template.Labels)

	// Image: pinned to a tag, never latest or untagged.
	name, tag, ok := strings.Cut(c.Image, ":")
	if !ok || name != "ghcr.io/authsvc/authsvc" || tag == "" || tag == "latest" {
		p.addf("image %q is not ghcr.io/authsvc/authsvc pinned to a release tag", c.Image)
	}
	if got := o.configMap.Data["AUTHSVC_LOG_LEVEL"]; got != w.logLevel {
		p.addf("AUTHSVC_LOG_LEVEL %q, want %q", got, w.logLevel)
	}

	// Replicas, HPA bounds and the PDB.
	switch {
	case o.hpa.Spec.MinReplicas == nil:
		p.addf("HPA without minReplicas")
	case *o.hpa.Spec.MinReplicas < w.minReplicas:
		p.addf("HPA minReplicas %d, want at least %d", *o.hpa.Spec.MinReplicas, w.minReplicas)
	case o.hpa.Spec.MaxReplicas < w.maxReplicas || o.hpa.Spec.MaxReplicas <= *o.hpa.Spec.MinReplicas:
		p.addf("HPA maxReplicas %d, want at least %d and above minReplicas", o.hpa.Spec.MaxReplicas, w.maxReplicas)
	case d.Spec.Replicas == nil || *d.Spec.Replicas < *o.hpa.Spec.MinReplicas || *d.Spec.Replicas > o.hpa.Spec.MaxReplicas:
		p.addf("Deployment replicas %v outside the HPA's bounds", d.Spec.Replicas)
	default:
		serving, err := servingDuringDisruption(o.pdb.Spec.MinAvailable, o.pdb.Spec.MaxUnavailable, int(*o.hpa.Spec.MinReplicas))
		if err != nil {
			p.addf("PDB: %v", err)
		} else if serving < w.minServing {
			p.addf("PDB leaves %d pods serving during a drain at %d replicas, want at least %d", serving, *o.hpa.Spec.MinReplicas, w.minServing)
		}
	}
	if o.hpa.Spec.ScaleTargetRef.Name != d.Name || o.hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
		p.addf("HPA scales %v, not the Deployment", o.hpa.Spec.ScaleTargetRef)
	}
	checkSelects(&p, "PDB", o.pdb.Spec.Selector, pod)
	checkSelects(&p, "NetworkPolicy", &o.networkPolicy.Spec.PodSelector, pod)
	checkSelects(&p, "Deployment", d.Spec.Selector, pod)

	// Resources: requests and limits for CPU and memory, requests no higher than limits.
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[res]
		limit, okLimit := c.Resources.Limits[res]
		if !okReq || !okLimit || req.Cmp(limit) > 0 {
			p.addf("%s: request %v and limit %v must both be set, request ≤ limit", res, c.Resources.Requests[res], c.Resources.Limits[res])
		}
	}

	// Topology spread over zones and nodes.
	spread := map[string]corev1.TopologySpreadConstraint{}
	for _, tsc := range spec.TopologySpreadConstraints {
		if _, dup := spread[tsc.TopologyKey]; dup {
			// What a strategic-merge patch of the list produces: the base's constraint stays.
			p.addf("two topology spread constraints on %s", tsc.TopologyKey)
		}
		spread[tsc.TopologyKey] = tsc
		checkSelects(&p, "topology spread on "+tsc.TopologyKey, tsc.LabelSelector, pod)
	}
	zone, okZone := spread["topology.kubernetes.io/zone"]
	node, okNode := spread["kubernetes.io/hostname"]
	switch {
	case !okZone || !okNode:
		p.addf("topology spread must cover zones and nodes, have %v", slices.Sorted(maps.Keys(spread)))
	case zone.WhenUnsatisfiable != w.zoneSpread || (w.minZones > 0 && (zone.MinDomains == nil || *zone.MinDomains < w.minZones)):
		p.addf("zone spread %s minDomains %v, want %s over at least %d zones", zone.WhenUnsatisfiable, zone.MinDomains, w.zoneSpread, w.minZones)
	case node.WhenUnsatisfiable != w.nodeSpread:
		p.addf("node spread %s, want %s", node.WhenUnsatisfiable, w.nodeSpread)
	case zone.MaxSkew != 1 || node.MaxSkew != 1:
		p.addf("spread maxSkew zone %d node %d, want 1", zone.MaxSkew, node.MaxSkew)
	}

	// Redis from a Secret, required where w says so; never a literal and never the ConfigMap.
	if _, inConfigMap := o.configMap.Data["AUTHSVC_REDIS_URL"]; inConfigMap {
		p.addf("AUTHSVC_REDIS_URL is in the ConfigMap; it can carry passwords")
	}
	var redisRef *corev1.SecretKeySelector
	for _, e := range c.Env {
		if e.Name == "AUTHSVC_REDIS_URL" && e.Value == "" && e.ValueFrom != nil {
			redisRef = e.ValueFrom.SecretKeyRef
		}
	}
	switch {
	case redisRef == nil:
		p.addf("AUTHSVC_REDIS_URL does not come from a secretKeyRef")
	case redisRef.Name != "authsvc-redis" || redisRef.Key != "url":
		p.addf("AUTHSVC_REDIS_URL from Secret %s key %s, want authsvc-redis key url (secret.example.yaml)", redisRef.Name, redisRef.Key)
	case w.redisRequired && (redisRef.Optional == nil || *redisRef.Optional):
		p.addf("the Redis Secret is optional; this environment requires it")
	case !w.redisRequired && (redisRef.Optional == nil || !*redisRef.Optional):
		p.addf("the Redis Secret is required; this environment runs without Redis too")
	}

	// Readiness on /readyz and shutdown ordering (the drain replaces a preStop sleep).
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		p.addf("readiness must probe /readyz")
	}
	drain, errDrain := time.ParseDuration(o.configMap.Data["AUTHSVC_DRAIN_DELAY"])
	grace, errGrace := time.ParseDuration(o.configMap.Data["AUTHSVC_SHUTDOWN_GRACE"])
	switch {
	case errDrain != nil || errGrace != nil || drain <= 0:
		p.addf("AUTHSVC_DRAIN_DELAY/AUTHSVC_SHUTDOWN_GRACE unset or invalid")
	case c.Lifecycle != nil && c.Lifecycle.PreStop != nil:
		p.addf("a preStop hook would add to AUTHSVC_DRAIN_DELAY")
	case spec.TerminationGracePeriodSeconds == nil || time.Duration(*spec.TerminationGracePeriodSeconds)*time.Second <= drain+grace:
		p.addf("terminationGracePeriodSeconds %v does not cover drain %v + grace %v", spec.TerminationGracePeriodSeconds, drain, grace)
	}

	checkAdminPortPrivate(&p, o, c)
	return p
}

// checkAdminPortPrivate: no Service exposes the admin port, and the NetworkPolicy admits to it only
// the Prometheus pods of the monitoring namespace (no ipBlock, no whole namespace, no rule that
// opens every port or every source).
func checkAdminPortPrivate(p *problems, o *objects, c corev1.Container) {
	named := map[string]int32{}
	for _, cp := range c.Ports {
		named[cp.Name] = cp.ContainerPort
	}
	if named["admin"] != adminPort {
		p.addf("the container's admin port is %d, want %d", named["admin"], adminPort)
	}
	resolve := func(port intstr.IntOrString) int32 {
		if port.Type == intstr.String {
			return named[port.StrVal]
		}
		return port.IntVal
	}
	for _, svc := range o.services {
		for _, sp := range svc.Spec.Ports {
			if sp.Port == adminPort || resolve(sp.TargetPort) == adminPort {
				p.addf("Service %s exposes the admin port", svc.Name)
			}
		}
	}
	np := o.networkPolicy.Spec
	if !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeIngress) {
		p.addf("the NetworkPolicy does not restrict ingress")
	}
	for i, rule := range np.Ingress {
		coversAdmin := len(rule.Ports) == 0
		for _, rp := range rule.Ports {
			if rp.Port == nil || resolve(*rp.Port) == adminPort || (rp.EndPort != nil && resolve(*rp.Port) <= adminPort && adminPort <= *rp.EndPort) {
				coversAdmin = true
			}
		}
		if !coversAdmin {
			continue
		}
		if len(rule.From) == 0 {
			p.addf("ingress rule %d admits every source to the admin port", i)
		}
		for _, from := range rule.From {
			if from.IPBlock != nil || from.NamespaceSelector == nil || from.PodSelector == nil ||
				from.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" ||
				len(from.NamespaceSelector.MatchExpressions) > 0 ||
				from.PodSelector.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
				p.addf("ingress rule %d admits %v to the admin port; only Prometheus in monitoring may reach it", i, from)
			}
		}
	}
}

func checkSelects(p *problems, what string, sel *metav1.LabelSelector, pod labels.Set) {
	if sel == nil {
		p.addf("%s has no selector", what)
		return
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || !s.Matches(pod) {
		p.addf("%s selector %v does not select the pods %v", what, sel, pod)
	}
}

// servingDuringDisruption is how many of replicas pods the PDB keeps while it allows an eviction.
func servingDuringDisruption(minAvailable, maxUnavailable *intstr.IntOrString, replicas int) (int, error) {
	switch {
	case (minAvailable == nil) == (maxUnavailable == nil):
		return 0, fmt.Errorf("exactly one of minAvailable and maxUnavailable must be set")
	case minAvailable != nil:
		n, err := intstr.GetScaledValueFromIntOrPercent(minAvailable, replicas, true)
		return n, err
	default:
		n, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, replicas, true)
		if n < 1 {
			return 0, fmt.Errorf("maxUnavailable %v blocks every drain", maxUnavailable)
		}
		return replicas - n, err
	}
}

func TestOverlaysRender(t *testing.T) {
	for _, w := range overlays {
		t.Run(w.dir, func(t *testing.T) {
			o := renderOverlay(t, w.dir)
			for _, problem := range checkOverlay(o, w) {
				t.Error(problem)
			}
		})
	}
}

// TestOverlaysDiffer pins what each environment changes, so that an edit to one overlay that leaks
// into the base (or the other way round) shows.
func TestOverlaysDiffer(t *testing.T) {
	staging, production := renderOverlay(t, "staging"), renderOverlay(t, "production")
	assert.NotEqual(t, staging.deployment.Namespace, production.deployment.Namespace)
	assert.Less(t, *staging.hpa.Spec.MinReplicas, *production.hpa.Spec.MinReplicas)
	assert.GreaterOrEqual(t, *production.hpa.Spec.MinReplicas, int32(3))
	assert.Less(t, staging.hpa.Spec.MaxReplicas, production.hpa.Spec.MaxReplicas)
	sc, pc := staging.container(t), production.container(t)
	assert.Equal(t, -1, sc.Resources.Limits.Memory().Cmp(*pc.Resources.Limits.Memory()), "staging pods are smaller")
	assert.Equal(t, -1, sc.Resources.Requests.Cpu().Cmp(*pc.Resources.Requests.Cpu()), "staging pods are smaller")
	// GOMEMLIMIT follows each environment's memory limit (resourceFieldRef), never a literal.
	for _, c := range []*corev1.Container{sc, pc} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" })
		require.GreaterOrEqual(t, i, 0)
		require.NotNil(t, c.Env[i].ValueFrom)
		require.NotNil(t, c.Env[i].ValueFrom.ResourceFieldRef)
		assert.Equal(t, "limits.memory", c.Env[i].ValueFrom.ResourceFieldRef.Resource)
	}
	// Production states the Redis-down behaviour explicitly (deploy/README.md).
	assert.Equal(t, "closed", production.configMap.Data["AUTHSVC_REDIS_FAIL_SENDS"])
	assert.Equal(t, "local", production.configMap.Data["AUTHSVC_REDIS_FAIL_CHECKS"])
	// Both keep AUTHSVC_ENV=production, so staging refuses what production refuses.
	assert.Equal(t, "production", staging.configMap.Data["AUTHSVC_ENV"])
	assert.Equal(t, "production", production.configMap.Data["AUTHSVC_ENV"])
}

// TestOverlayChecksCatchMistakes breaks a rendered production overlay one way at a time and expects
// checkOverlay to say so: the checks above can fail.
func TestOverlayChecksCatchMistakes(t *testing.T) {
	prod := overlays[slices.IndexFunc(overlays, func(w overlayWant) bool { return w.dir == "production" })]
	require.Empty(t, checkOverlay(renderOverlay(t, "production"), prod), "the unmodified overlay must pass, or the cases below prove nothing")

	tests := []struct {
		name   string
		breakf func(o *objects)
		want   string
	}{
		{"two replicas", func(o *objects) { two := int32(2); o.hpa.Spec.MinReplicas = &two }, "minReplicas"},
		{"PDB allows two at once", func(o *objects) { two := intstr.FromInt32(2); o.pdb.Spec.MaxUnavailable = &two }, "PDB leaves"},
		{"PDB with both fields", func(o *objects) { one := intstr.FromInt32(1); o.pdb.Spec.MinAvailable = &one }, "exactly one"},
		{"soft zone spread", func(o *objects) {
			o.deployment.Spec.Template.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable = corev1.ScheduleAnyway
			o.deployment.Spec.Template.Spec.TopologySpreadConstraints[1].WhenUnsatisfiable = corev1.ScheduleAnyway
		}, "spread"},
		{"spread patched by strategic merge", func(o *objects) {
			spec := &o.deployment.Spec.Template.Spec
			soft := spec.TopologySpreadConstraints[0]
			soft.WhenUnsatisfiable, soft.MinDomains = corev1.ScheduleAnyway, nil
			spec.TopologySpreadConstraints = append([]corev1.TopologySpreadConstraint{soft}, spec.TopologySpreadConstraints...)
		}, "two topology spread constraints"},
		{"no node spread", func(o *objects) {
			o.deployment.Spec.Template.Spec.TopologySpreadConstraints = slices.DeleteFunc(o.deployment.Spec.Template.Spec.TopologySpreadConstraints,
				func(c corev1.TopologySpreadConstraint) bool { return c.TopologyKey == "kubernetes.io/hostname" })
		}, "zones and nodes"},
		{"Redis URL literal", func(o *objects) {
			env := o.deployment.Spec.Template.Spec.Containers[0].Env
			i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "AUTHSVC_REDIS_URL" })
			env[i] = corev1.EnvVar{Name: "AUTHSVC_REDIS_URL", Value: "redis://:pw@redis:6379"}
		}, "secretKeyRef"},
		{"Redis Secret optional", func(o *objects) {
			env := o.deployment.Spec.Template.Spec.Containers[0].Env
			i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == "AUTHSVC_REDIS_URL" })
			yes := true
			env[i].ValueFrom.SecretKeyRef.Optional = &yes
		}, "optional"},
		{"Redis URL in ConfigMap", func(o *objects) { o.configMap.Data["AUTHSVC_REDIS_URL"] = "redis://redis:6379" }, "ConfigMap"},
		{"Service exposes admin", func(o *objects) {
			o.services[0].Spec.Ports = append(o.services[0].Spec.Ports, corev1.ServicePort{Name: "admin", Port: 9091, TargetPort: intstr.FromString("admin")})
		}, "exposes the admin port"},
		{"admin open to a namespace", func(o *objects) {
			for i, rule := range o.networkPolicy.Spec.Ingress {
				for j := range rule.From {
					o.networkPolicy.Spec.Ingress[i].From[j].PodSelector = nil
				}
			}
		}, "admin port"},
		{"admin open to an address block", func(o *objects) {
			o.networkPolicy.Spec.Ingress = append(o.networkPolicy.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}},
			})
		}, "admin port"},
		{"readiness on healthz", func(o *objects) {
			o.deployment.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path = "/healthz"
		}, "/readyz"},
		{"preStop sleep", func(o *objects) {
			o.deployment.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
		}, "preStop"},
		{"grace too short", func(o *objects) { s := int64(20); o.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds = &s }, "terminationGracePeriodSeconds"},
		{"latest image", func(o *objects) {
			o.deployment.Spec.Template.Spec.Containers[0].Image = "ghcr.io/authsvc/authsvc:latest"
		}, "image"},
		{"debug logs", func(o *objects) { o.configMap.Data["AUTHSVC_LOG_LEVEL"] = "debug" }, "AUTHSVC_LOG_LEVEL"},
		{"wrong namespace", func(o *objects) { o.pdb.Namespace = "default" }, "namespace"},
		{"placeholder Secret applied", func(o *objects) { o.secrets["authsvc-stytch"] = &corev1.Secret{} }, "Secrets"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := renderOverlay(t, "production")
			tc.breakf(o)
			got := checkOverlay(o, prod)
			require.NotEmpty(t, got)
			assert.Contains(t, strings.Join(got, "\n"), tc.want)
		})
	}
}
