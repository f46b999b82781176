package client

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/authsvc/authsvc/internal/policy"
)

// retried lists the RPCs that gRPC retries on UNAVAILABLE, with the reason each is safe to repeat,
// as their policy in the proto declares it (retry_safe_because of the authsvc.access.v1.policy
// option). UNAVAILABLE from authsvc does not prove that nothing happened (Stytch may have acted
// before the reply was lost), so only calls whose repetition changes nothing, or changes nothing
// that a second identical call would not also change, declare a reason. Everything else - every
// send (emails, SMS), every create, update, delete, rotation and single-use redemption - gets
// exactly one attempt, and the caller decides.
func retried() []retriedMethod {
	var out []retriedMethod
	for _, sd := range allServices() {
		ms := sd.Methods()
		for i := range ms.Len() {
			if why := policy.Of(ms.Get(i)).GetRetrySafeBecause(); why != "" {
				out = append(out, retriedMethod{method: string(sd.FullName()) + "/" + string(ms.Get(i).Name()), why: why})
			}
		}
	}
	return out
}

type retriedMethod struct{ method, why string }

// Retry policy of the listed RPCs: up to 3 attempts in all, 100 ms then up to 1 s apart (gRPC adds
// full jitter), on UNAVAILABLE only, within the call's deadline. Retry throttling stops retries when
// more than half of recent calls to a backend failed, so an outage does not triple the load.
const (
	retryMaxAttempts    = 3
	retryInitialBackoff = "0.1s"
	retryMaxBackoff     = "1s"
)

// RetriedMethods returns the full names ("package.Service/Method") of the RPCs the client retries on
// UNAVAILABLE. Every other RPC is attempted once.
func RetriedMethods() []string {
	rs := retried()
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.method)
	}
	slices.Sort(out)
	return out
}

// serviceConfig is the gRPC service config (https://github.com/grpc/grpc/blob/master/doc/service_config.md)
// every Client dials with: round-robin over all resolved addresses, retries for the listed RPCs.
func serviceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	type retryPolicy struct {
		MaxAttempts          int      `json:"maxAttempts"`
		InitialBackoff       string   `json:"initialBackoff"`
		MaxBackoff           string   `json:"maxBackoff"`
		BackoffMultiplier    float64  `json:"backoffMultiplier"`
		RetryableStatusCodes []string `json:"retryableStatusCodes"`
	}
	type methodConfig struct {
		Name        []name       `json:"name"`
		RetryPolicy *retryPolicy `json:"retryPolicy,omitempty"`
	}
	rs := retried()
	names := make([]name, 0, len(rs))
	for _, r := range rs {
		svc, method, _ := strings.Cut(r.method, "/") // the table's format is pinned by a test
		names = append(names, name{Service: svc, Method: method})
	}
	cfg := map[string]any{
		"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}},
		"methodConfig": []methodConfig{{
			Name: names,
			RetryPolicy: &retryPolicy{
				MaxAttempts:          retryMaxAttempts,
				InitialBackoff:       retryInitialBackoff,
				MaxBackoff:           retryMaxBackoff,
				BackoffMultiplier:    2,
				RetryableStatusCodes: []string{"UNAVAILABLE"},
			},
		}},
		"retryThrottling": map[string]any{"maxTokens": 10, "tokenRatio": 0.1},
	}
	b, _ := json.Marshal(cfg) //nolint:errchkjson // static maps of strings and numbers cannot fail
	return string(b)
}
