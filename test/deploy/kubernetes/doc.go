// Package kubernetes checks deploy/kubernetes, the kustomize base: every
// manifest decodes strictly into the Kubernetes API types (k8s.io/api,
// and the Prometheus Operator's for the ServiceMonitor and the
// PrometheusRule), so unknown fields, wrong types and missing required
// fields fail; the probes, ports and grace period agree with the code's
// defaults; and the PrometheusRule is deploy/prometheus/alerts.yaml.
//
// A module of its own, so that the service's go.mod does not carry the
// Kubernetes modules; `make test-container` runs it:
//
//	cd test/deploy/kubernetes && go test ./...
//
// After changing deploy/prometheus/alerts.yaml, regenerate the
// PrometheusRule with
//
//	cd test/deploy/kubernetes && go test -run TestPrometheusRule -update
package kubernetes
