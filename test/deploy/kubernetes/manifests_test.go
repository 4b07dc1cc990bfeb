package kubernetes

import (
	"bytes"
	"flag"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/edgepurge/edgepurge/internal/config"
	"github.com/edgepurge/edgepurge/test/cfstub"
	"github.com/edgepurge/edgepurge/test/testkit/harness"
)

var update = flag.Bool("update", false, "regenerate deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/alerts.yaml")

const base = "deploy/kubernetes"

// kustomization is the part of kustomization.yaml this base uses,
// decoded strictly: a field kustomize has but this struct lacks fails, so
// the test grows with the base.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	} `json:"labels"`
	Resources []string `json:"resources"`
}

// manifests holds the base's objects, decoded.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	account    *corev1.ServiceAccount
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret // secret.example.yaml
	pdb        *policyv1.PodDisruptionBudget
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	monitor    *monitoringv1.ServiceMonitor
	rule       *monitoringv1.PrometheusRule
}

// load decodes every YAML file of the base, one object a file.
func load(t *testing.T) (*manifests, kustomization) {
	t.Helper()
	dir := filepath.Join(repoRoot(t), filepath.FromSlash(base))
	var k kustomization
	if err := yaml.UnmarshalStrict(readRepo(t, base+"/kustomization.yaml"), &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s %s", k.APIVersion, k.Kind)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{}
	var resources []string
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" {
			continue
		}
		if name != "secret.example.yaml" {
			resources = append(resources, name)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs := splitDocs(b)
		if len(docs) != 1 {
			t.Errorf("%s holds %d documents, want one", name, len(docs))
			continue
		}
		obj, err := decode(docs[0])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			m.deployment = o
		case *corev1.Service:
			m.service = o
		case *corev1.ServiceAccount:
			m.account = o
		case *corev1.ConfigMap:
			m.configMap = o
		case *corev1.Secret:
			m.secret = o
		case *policyv1.PodDisruptionBudget:
			m.pdb = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpa = o
		case *monitoringv1.ServiceMonitor:
			m.monitor = o
		case *monitoringv1.PrometheusRule:
			m.rule = o
		}
	}
	listed := slices.Clone(k.Resources)
	slices.Sort(listed)
	slices.Sort(resources)
	if !slices.Equal(listed, resources) {
		t.Errorf("kustomization.yaml lists %q; the base's files (but secret.example.yaml) are %q", listed, resources)
	}
	if t.Failed() {
		t.FailNow()
	}
	for what, v := range map[string]any{"Deployment": m.deployment, "Service": m.service, "ServiceAccount": m.account,
		"ConfigMap": m.configMap, "Secret example": m.secret, "PodDisruptionBudget": m.pdb,
		"HorizontalPodAutoscaler": m.hpa, "ServiceMonitor": m.monitor, "PrometheusRule": m.rule} {
		if reflect.ValueOf(v).IsNil() {
			t.Fatalf("the base has no %s", what)
		}
	}
	return m, k
}

// TestManifestsDecodeStrictly decodes every file of the base and, where
// kubectl is installed, kustomize's rendering of it.
func TestManifestsDecodeStrictly(t *testing.T) {
	_, k := load(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Logf("kubectl is not installed: the kustomize rendering is not checked (%v)", err)
		return
	}
	out, err := exec.Command(kubectl, "kustomize", filepath.Join(repoRoot(t), filepath.FromSlash(base))).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	docs := splitDocs(out)
	if len(docs) != len(k.Resources) {
		t.Errorf("kustomize renders %d objects, the base lists %d", len(docs), len(k.Resources))
	}
	for i, d := range docs {
		obj, err := decode(d)
		if err != nil {
			t.Errorf("rendered object %d: %v", i, err)
			continue
		}
		lbls := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").FieldByName("Labels").Interface().(map[string]string)
		for _, l := range k.Labels {
			for lk, lv := range l.Pairs {
				if lbls[lk] != lv {
					t.Errorf("rendered object %d lacks the label %s=%s", i, lk, lv)
				}
			}
		}
	}
}

// TestStrictDecodingRejects shows the decoding above is strict: the
// Deployment with an unknown field, a wrong type or a required field
// removed fails.
func TestStrictDecodingRejects(t *testing.T) {
	raw := readRepo(t, base+"/deployment.yaml")
	if _, err := decode(raw); err != nil {
		t.Fatalf("the Deployment itself: %v", err)
	}
	container := func(d map[string]any) map[string]any {
		return d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	}
	for _, c := range []struct {
		name   string
		mutate func(d map[string]any)
		want   string
	}{
		{"unknown field", func(d map[string]any) { container(d)["imagePullPolicyy"] = "Always" }, "unknown field"},
		{"wrong type", func(d map[string]any) {
			container(d)["ports"].([]any)[0].(map[string]any)["containerPort"] = "eighty"
		}, "cannot unmarshal"},
		{"required container name", func(d map[string]any) { delete(container(d), "name") }, "containers[0].name"},
		{"required selector", func(d map[string]any) { delete(d["spec"].(map[string]any), "selector") }, "spec.selector"},
		{"required probe port", func(d map[string]any) {
			delete(container(d)["livenessProbe"].(map[string]any)["httpGet"].(map[string]any), "port")
		}, "livenessProbe.httpGet.port"},
		{"misplaced field", func(d map[string]any) {
			d["spec"].(map[string]any)["terminationGracePeriodSeconds"] = 45
		}, "unknown field"},
	} {
		var d map[string]any
		if err := yaml.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		c.mutate(d)
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decode(b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: decoded with error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// effectiveConfig is the configuration a pod would run with: the
// ConfigMap's file at EDGEPURGE_CONFIG and the container's environment,
// the Secret's keys taken from secret.example.yaml, loaded and validated
// by the service's own config.Load.
func effectiveConfig(t *testing.T, m *manifests, c corev1.Container) *config.Config {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if ref.Name != m.secret.Name {
				t.Errorf("env %s reads the Secret %q; the example is %q", e.Name, ref.Name, m.secret.Name)
			}
			v, ok := m.secret.StringData[ref.Key]
			if !ok && (ref.Optional == nil || !*ref.Optional) {
				t.Errorf("env %s reads key %s, which secret.example.yaml lacks", e.Name, ref.Key)
			}
			env[e.Name] = v
		default:
			t.Errorf("env %s: only values and Secret keys are expected", e.Name)
		}
	}
	for k := range m.secret.StringData {
		if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
			return e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Key == k
		}) {
			t.Errorf("secret.example.yaml has %s, which the Deployment does not read", k)
		}
	}
	// The config file: a ConfigMap volume holds one file per key.
	cfgPath := env["EDGEPURGE_CONFIG"]
	if cfgPath == "" {
		t.Fatal("the container sets no EDGEPURGE_CONFIG")
	}
	var file string
	for _, vm := range c.VolumeMounts {
		if rel, ok := strings.CutPrefix(cfgPath, strings.TrimSuffix(vm.MountPath, "/")+"/"); ok {
			if !vm.ReadOnly {
				t.Errorf("the config volume %s is mounted writable", vm.Name)
			}
			for _, v := range m.deployment.Spec.Template.Spec.Volumes {
				if v.Name == vm.Name && v.ConfigMap != nil && v.ConfigMap.Name == m.configMap.Name {
					body, ok := m.configMap.Data[rel]
					if !ok {
						t.Fatalf("EDGEPURGE_CONFIG=%s: the ConfigMap has no key %s", cfgPath, rel)
					}
					file = filepath.Join(t.TempDir(), rel)
					if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	if file == "" {
		t.Fatalf("EDGEPURGE_CONFIG=%s is not a file of the ConfigMap's volume", cfgPath)
	}
	cfg, err := config.Load(file, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the pod's configuration does not load: %v", err)
	}
	return cfg
}

// TestDeploymentAgreesWithTheCode: the probes, port, drain and grace
// period, security context and wiring of the base, against the code's
// defaults and each other.
func TestDeploymentAgreesWithTheCode(t *testing.T) {
	m, _ := load(t)
	d := m.deployment
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	cfg := effectiveConfig(t, m, c)
	podLabels := labels.Set(d.Spec.Template.Labels)

	// The port the code listens on.
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	var httpPort *corev1.ContainerPort
	for i, p := range c.Ports {
		if p.Name == "http" {
			httpPort = &c.Ports[i]
		}
	}
	if httpPort == nil || strconv.Itoa(int(httpPort.ContainerPort)) != port {
		t.Fatalf("container ports %+v: want one named http on the listen port %s (listen %q)", c.Ports, port, cfg.Listen)
	}
	if cfg.Listen != config.DefaultListen {
		t.Logf("the base listens on %s, not the default %s", cfg.Listen, config.DefaultListen)
	}

	// The probes, on paths the code serves (asked of a running server).
	probes := map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe}
	want := map[string]string{"startup": "/healthz", "liveness": "/healthz", "readiness": "/readyz"}
	for kind, p := range probes {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", kind)
			continue
		}
		if p.HTTPGet.Path != want[kind] || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe GET %s on %s, want %s on the port named http", kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), want[kind])
		}
	}
	if p := c.StartupProbe; p != nil && time.Duration(p.PeriodSeconds*p.FailureThreshold)*time.Second < 10*time.Second {
		t.Errorf("the startup probe allows %ds to start", p.PeriodSeconds*p.FailureThreshold)
	}
	h := harness.Start(t, cfstub.Options{}, nil)
	h.WaitReady()
	for kind, p := range probes {
		if p == nil || p.HTTPGet == nil {
			continue
		}
		resp, err := http.Get(h.Base + p.HTTPGet.Path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the %s probe's GET %s answers %d on a ready server", kind, p.HTTPGet.Path, resp.StatusCode)
		}
	}

	// Shutdown: preStop, then SIGTERM's drain, then in-flight requests,
	// within the grace period.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep (the image has no shell to exec one)")
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if preStop <= 0 {
		t.Errorf("preStop sleeps %s", preStop)
	}
	inflight := max(cfg.Server.ShutdownTimeout, cfg.Server.RequestTimeout)
	need := preStop + cfg.Server.DrainDelay + inflight + 5*time.Second
	if pod.TerminationGracePeriodSeconds == nil {
		t.Fatal("no terminationGracePeriodSeconds (the default 30 s)")
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if grace < need {
		t.Errorf("terminationGracePeriodSeconds %s: want at least preStop %s + drain_delay %s + max(shutdown_timeout, request_timeout) %s + 5 s = %s",
			grace, preStop, cfg.Server.DrainDelay, inflight, need)
	}
	t.Logf("shutdown: preStop %s + drain_delay %s + in flight up to %s = %s; grace period %s",
		preStop, cfg.Server.DrainDelay, inflight, preStop+cfg.Server.DrainDelay+inflight, grace)

	// Least privilege: the image's numeric USER, non-root, read-only,
	// nothing to escalate to.
	uid, gid := dockerfileUser(t)
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != uid ||
		psc.RunAsGroup == nil || *psc.RunAsGroup != gid {
		t.Errorf("pod securityContext %+v: want runAsNonRoot with the Dockerfile's USER %d:%d", psc, uid, gid)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("no RuntimeDefault seccomp profile")
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		(sc.Privileged != nil && *sc.Privileged) ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container securityContext %+v: want no privilege escalation, a read-only root, every capability dropped", sc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken ||
		m.account.AutomountServiceAccountToken == nil || *m.account.AutomountServiceAccountToken || pod.ServiceAccountName != m.account.Name {
		t.Error("a service account token is mounted: edgepurge calls no Kubernetes API")
	}

	// Secrets only from the Secret.
	for _, e := range c.Env {
		secretish := strings.Contains(e.Name, "TOKEN") || strings.Contains(e.Name, "SECRET") || e.Name == "REDIS_URL" || strings.Contains(e.Name, "PASSWORD")
		if secretish && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("env %s is written into the Deployment; it belongs in the Secret", e.Name)
		}
	}

	// Resources: requests and limits, GOMEMLIMIT under the memory limit.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okr := c.Resources.Requests[r]
		lim, okl := c.Resources.Limits[r]
		if !okr || !okl || req.Cmp(lim) > 0 {
			t.Errorf("%s: request %v, limit %v: want both, the request at most the limit", r, req.String(), lim.String())
		}
	}
	if v := envValue(c, "GOMEMLIMIT"); v != "" {
		limit := c.Resources.Limits[corev1.ResourceMemory]
		q, err := resource.ParseQuantity(strings.TrimSuffix(strings.TrimSuffix(v, "B"), "i") + "i")
		if err != nil || q.Cmp(limit) >= 0 {
			t.Errorf("GOMEMLIMIT=%s: want under the memory limit %s (%v)", v, limit.String(), err)
		}
	}

	// Anti-affinity across nodes, for this app's pods.
	spread := false
	if a := pod.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if w.PodAffinityTerm.TopologyKey == "kubernetes.io/hostname" && selects(t, w.PodAffinityTerm.LabelSelector, podLabels) {
				spread = true
			}
		}
		for _, r := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if r.TopologyKey == "kubernetes.io/hostname" && selects(t, r.LabelSelector, podLabels) {
				spread = true
			}
		}
	}
	if !spread {
		t.Error("no pod anti-affinity across nodes (kubernetes.io/hostname) for edgepurge's pods")
	}

	// Wiring: selectors, the Service's port, the autoscaler, the budget,
	// the scrape.
	if !selects(t, d.Spec.Selector, podLabels) {
		t.Error("the Deployment's selector does not select its own pods")
	}
	if !labels.SelectorFromSet(m.service.Spec.Selector).Matches(podLabels) || len(m.service.Spec.Selector) == 0 {
		t.Error("the Service does not select the pods")
	}
	var svcPort *corev1.ServicePort
	for i, p := range m.service.Spec.Ports {
		if p.TargetPort.String() == httpPort.Name || p.TargetPort.IntValue() == int(httpPort.ContainerPort) {
			svcPort = &m.service.Spec.Ports[i]
		}
	}
	if svcPort == nil {
		t.Errorf("no Service port targets the container's port %s", httpPort.Name)
	}
	if !selects(t, m.pdb.Spec.Selector, podLabels) {
		t.Error("the PodDisruptionBudget does not select the pods")
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("the autoscaler scales %+v", ref)
	}
	minReplicas := int32(1)
	if m.hpa.Spec.MinReplicas != nil {
		minReplicas = *m.hpa.Spec.MinReplicas
	}
	if minReplicas < 2 || m.hpa.Spec.MaxReplicas < minReplicas {
		t.Errorf("autoscaler %d..%d: want at least two instances", minReplicas, m.hpa.Spec.MaxReplicas)
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() < 1 || int32(mu.IntValue()) >= minReplicas {
		t.Errorf("the budget's maxUnavailable %v: want at least 1 and fewer than the %d instances", mu, minReplicas)
	}
	if d.Spec.Replicas != nil {
		t.Error("the Deployment sets replicas, which the autoscaler owns: a re-apply would reset them")
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("a rolling update may take an instance down before its replacement is ready")
	}
	if !selects(t, &m.monitor.Spec.Selector, labels.Set(m.service.Labels)) {
		t.Error("the ServiceMonitor does not select the Service")
	}
	if len(m.monitor.Spec.Endpoints) != 1 || svcPort == nil ||
		m.monitor.Spec.Endpoints[0].Port != svcPort.Name || m.monitor.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("the ServiceMonitor scrapes %+v, want /metrics on the Service's port", m.monitor.Spec.Endpoints)
	}
	// The operator names the job after the Service (no jobLabel set);
	// EdgepurgeDown selects up{job="edgepurge"}.
	if m.monitor.Spec.JobLabel != "" || m.service.Name != "edgepurge" {
		t.Errorf("the scrape job would not be \"edgepurge\" (Service %q, jobLabel %q), which EdgepurgeDown expects", m.service.Name, m.monitor.Spec.JobLabel)
	}
	if strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("image %s: pin a version in an overlay", c.Image)
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func selects(t *testing.T, s *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	if s == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		t.Errorf("selector %+v: %v", s, err)
		return false
	}
	return !sel.Empty() && sel.Matches(set)
}

// dockerfileUser is the Dockerfile's numeric USER uid:gid.
func dockerfileUser(t *testing.T) (int64, int64) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^USER\s+(\d+):(\d+)\s*$`).FindStringSubmatch(string(readRepo(t, "Dockerfile")))
	if m == nil {
		t.Fatal("the Dockerfile has no numeric USER uid:gid")
	}
	uid, _ := strconv.ParseInt(m[1], 10, 64)
	gid, _ := strconv.ParseInt(m[2], 10, 64)
	if uid == 0 {
		t.Fatal("the Dockerfile runs as root")
	}
	return uid, gid
}

// ruleHeader opens the generated PrometheusRule.
const ruleHeader = `# Generated from deploy/prometheus/alerts.yaml: do not edit. Change that
# file, then regenerate this one:
#   cd test/deploy/kubernetes && go test -run TestPrometheusRule -update
# (make test-container fails while they differ). Add the label your
# Prometheus selects rules by (often release: <the Helm release>) in an
# overlay.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: edgepurge
  labels:
    app.kubernetes.io/name: edgepurge
spec:
`

// generateRule is alerts.yaml as a PrometheusRule: the file, indented
// under spec.
func generateRule(alerts []byte) []byte {
	var b bytes.Buffer
	b.WriteString(ruleHeader)
	for _, l := range strings.SplitAfter(string(alerts), "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	return b.Bytes()
}

// TestPrometheusRule: deploy/kubernetes/prometheusrule.yaml is
// deploy/prometheus/alerts.yaml, byte for byte under its header and,
// decoded into the Prometheus Operator's types, the same rules.
func TestPrometheusRule(t *testing.T) {
	alerts := readRepo(t, "deploy/prometheus/alerts.yaml")
	want := generateRule(alerts)
	file := filepath.Join(repoRoot(t), filepath.FromSlash(base), "prometheusrule.yaml")
	if *update {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from deploy/prometheus/alerts.yaml; regenerate it: cd test/deploy/kubernetes && go test -run TestPrometheusRule -update", path.Join(base, "prometheusrule.yaml"))
	}
	obj, err := decode(got)
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(alerts, &spec); err != nil {
		t.Fatalf("alerts.yaml as a PrometheusRule's spec: %v", err)
	}
	rule := obj.(*monitoringv1.PrometheusRule)
	if !reflect.DeepEqual(rule.Spec, spec) || len(spec.Groups) == 0 {
		t.Error("the PrometheusRule's groups are not alerts.yaml's")
	}
	n := 0
	for _, g := range spec.Groups {
		n += len(g.Rules)
	}
	t.Logf("%d groups, %d rules", len(spec.Groups), n)
}
