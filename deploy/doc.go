// Package deploy holds no code: it is the home of authsvc's deployment files (Kubernetes manifests
// in k8s/, the OpenTelemetry Collector configuration, the Grafana dashboard and the Prometheus alert
// rules) and of the test that checks them in CI.
//
// The test decodes every manifest into the Kubernetes API types with unknown fields rejected, so a
// misspelled field fails the build instead of being silently dropped by the API server's
// client-side defaults; it checks the references between objects (selectors, ports, probes, names),
// parses every PromQL expression in the dashboard and alerts, validates the rules file as
// `promtool check rules` does, and checks that the collector's pipelines only name components it
// defines.
package deploy
