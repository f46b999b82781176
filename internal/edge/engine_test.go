package edge_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"

	"github.com/authsvc/authsvc/internal/edge"
	"github.com/authsvc/authsvc/internal/edge/rules"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeChecker answers every session check with res or err, and counts the checks.
type fakeChecker struct {
	res   *session.Result
	err   error
	calls int
}

func (f *fakeChecker) Check(context.Context, session.Request) (*session.Result, error) {
	f.calls++
	return f.res, f.err
}

type fakeM2M struct{ err error }

func (f fakeM2M) CheckM2M(context.Context, string, []string) (*verify.M2MClaims, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &verify.M2MClaims{ClientID: "m2m-client-1", Scopes: []string{"read:x"}}, nil
}

const unitRules = `rules:
  - {name: members, match: {path_prefix: /m}, session: {kind: member}}
  - {name: anyone, match: {path_prefix: /any}, session: {kind: any}}
  - {name: svc, match: {path_prefix: /svc}, m2m: {scopes: ["read:x"]}}
  - {name: totp, match: {path_prefix: /totp}, session: {kind: member, factors: ["otp:sms", totp]}}
`

func newEngine(t *testing.T, cfg edge.Config) *edge.Engine {
	t.Helper()
	set, err := rules.Parse("rules.yaml", []byte(unitRules))
	require.NoError(t, err)
	cfg.Rules = set
	if cfg.M2M == nil {
		cfg.M2M = fakeM2M{}
	}
	cfg.MemberCookies = edge.CookieNames{Session: "stytch_session", SessionJWT: "stytch_session_jwt"}
	cfg.UserCookies = edge.CookieNames{Session: "user_session", SessionJWT: "user_session_jwt"}
	e, err := edge.NewEngine(cfg)
	require.NoError(t, err)
	return e
}

func memberResult(factors ...stytchclient.AuthenticationFactor) *session.Result {
	return &session.Result{Session: stytchclient.MemberSessionInfo{
		MemberID: "member-1", OrganizationID: "org-1", MemberSessionID: "ms-1", AuthenticationFactors: factors,
	}}
}

const someJWT = "eyJhbGciOiJSUzI1NiJ9.eyJodHRwczovL3N0eXRjaC5jb20vc2Vzc2lvbiI6e319.c2ln"

func TestCheckerOutagesAreUnavailableNotInvalid(t *testing.T) {
	e := newEngine(t, edge.Config{Members: &fakeChecker{err: verify.ErrKeysNotLoaded}})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/m", Authorization: []string{"Bearer " + someJWT}})
	assert.False(t, d.Allowed)
	assert.Equal(t, http.StatusServiceUnavailable, d.Status)
	assert.Equal(t, "credentials_unverifiable", d.Reason)
	assert.Equal(t, time.Second, d.RetryAfter)
}

func TestASpentRemoteBudgetIs429WithItsRetryDelay(t *testing.T) {
	spent := rpcerr.New(codes.ResourceExhausted, "session_remote_failures_ip", "too many").WithRetry(42 * time.Second)
	e := newEngine(t, edge.Config{Members: &fakeChecker{err: spent}})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/m", Cookie: "stytch_session=opaque-token_1"})
	assert.Equal(t, http.StatusTooManyRequests, d.Status)
	assert.Equal(t, "remote_checks_exhausted", d.Reason)
	assert.Equal(t, 42*time.Second, d.RetryAfter)
	assert.Equal(t, [][2]string{{"retry-after", "42"}}, edge.DeniedHeaders(d))
}

func TestAnyKindTriesTheUserProjectForTheOtherProjectsJWT(t *testing.T) {
	members := &fakeChecker{err: verify.ErrWrongProjectType}
	users := &fakeChecker{res: &session.Result{UserSession: stytchclient.UserSession{UserID: "user-1", SessionID: "us-1"}}}
	e := newEngine(t, edge.Config{Members: members, Users: users})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/any", Authorization: []string{"Bearer " + someJWT}})
	require.True(t, d.Allowed, d.Reason)
	assert.Equal(t, "user", d.Kind)
	assert.Equal(t, "user-1", d.Identity.Subject)
	assert.Equal(t, 1, members.calls)

	// A forged JWT is refused by the member checker and never reaches the user one.
	members.err, users.calls = verify.ErrBadSignature, 0
	d = e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/any", Authorization: []string{"Bearer " + someJWT}})
	assert.Equal(t, "bad_signature", d.Reason)
	assert.Equal(t, 0, users.calls)
}

func TestMemberRuleWithoutB2BProjectAdmitsNoOne(t *testing.T) {
	e := newEngine(t, edge.Config{Users: &fakeChecker{}})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/m", Authorization: []string{"Bearer " + someJWT}})
	assert.Equal(t, http.StatusForbidden, d.Status)
	assert.Equal(t, "no_project", d.Reason)
}

func TestFactorsMatchTypeAndDeliveryMethod(t *testing.T) {
	sms := stytchclient.AuthenticationFactor{Type: "otp", DeliveryMethod: "sms"}
	email := stytchclient.AuthenticationFactor{Type: "otp", DeliveryMethod: "email"}
	totp := stytchclient.AuthenticationFactor{Type: "totp", DeliveryMethod: "authenticator_app"}
	in := edge.Input{Method: "GET", Target: "/totp", Authorization: []string{"Bearer " + someJWT}}

	d := newEngine(t, edge.Config{Members: &fakeChecker{res: memberResult(email, totp)}}).Decide(t.Context(), in)
	assert.Equal(t, "missing_factor", d.Reason, "otp:sms is not otp by email")
	d = newEngine(t, edge.Config{Members: &fakeChecker{res: memberResult(sms, totp)}}).Decide(t.Context(), in)
	assert.True(t, d.Allowed, d.Reason)
}

func TestUserCookiesAreTheConsumerProjects(t *testing.T) {
	users := &fakeChecker{res: &session.Result{UserSession: stytchclient.UserSession{UserID: "user-1"}}}
	e := newEngine(t, edge.Config{Users: users})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/any", Cookie: `a=b; user_session_jwt="` + someJWT + `"`})
	require.True(t, d.Allowed, d.Reason)
	assert.Equal(t, 1, users.calls)
}

func TestDecisionsAreCountedAndTraced(t *testing.T) {
	reader := metric.NewManualReader()
	m, err := edge.NewMetrics(metric.NewMeterProvider(metric.WithReader(reader)).Meter("test"))
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	e := newEngine(t, edge.Config{Metrics: m, TracerProvider: trace.NewTracerProvider(trace.WithSpanProcessor(spans))})
	e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/svc", Authorization: []string{"Bearer " + someJWT}})
	e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/nowhere"})

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(t.Context(), &rm))
	counts := map[string]int64{}
	var histogramSeen bool
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			switch data := md.Data.(type) {
			case metricdata.Sum[int64]:
				require.Equal(t, edge.MetricDecisions, md.Name)
				for _, dp := range data.DataPoints {
					r, _ := dp.Attributes.Value(edge.AttrRule)
					dec, _ := dp.Attributes.Value(edge.AttrDecision)
					why, _ := dp.Attributes.Value(edge.AttrReason)
					counts[r.AsString()+"/"+dec.AsString()+"/"+why.AsString()] += dp.Value
				}
			case metricdata.Histogram[float64]:
				histogramSeen = md.Name == edge.MetricDecisionDuration && len(data.DataPoints) == 2
			}
		}
	}
	assert.Equal(t, map[string]int64{"svc/allow/m2m": 1, "none/deny/no_rule": 1}, counts)
	assert.True(t, histogramSeen)
	ended := spans.Ended()
	require.Len(t, ended, 2)
	assert.Equal(t, "edge.Decide", ended[0].Name())
}

func TestParseHeaderNames(t *testing.T) {
	h, err := edge.ParseHeaderNames("subject=X-User-Id, organization=x-tenant")
	require.NoError(t, err)
	assert.Equal(t, "x-user-id", h.Subject)
	assert.Equal(t, "x-tenant", h.Organization)
	assert.Equal(t, edge.DefaultHeaders.Roles, h.Roles)
	for _, bad := range []string{"subjct=x", "subject", "subject=bad name", "subject=x-a,organization=x-a"} {
		_, err := edge.ParseHeaderNames(bad)
		require.Error(t, err, bad)
	}
}

func TestForwardAuthOffSays404(t *testing.T) {
	rec := httptest.NewRecorder()
	edge.NewForwardAuth(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ext_authz", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Contains(t, rec.Body.String(), edge.OffMessage)
}

func TestWatcherKeepsTheLastGoodRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(unitRules), 0o600))
	e, set := watchRules(t, path)

	require.NoError(t, os.WriteFile(path, []byte("rules: [\n"), 0o600))
	time.Sleep(300 * time.Millisecond) // past the settle time: the broken file was read and refused
	assert.Same(t, set, e.Rules())

	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - {name: only, public: true}\n"), 0o600))
	waitForOnlyRule(t, e, "only")
}

// A file written continuously beside the rules (a log, as the benchmark harness had) neither holds a
// reload back nor costs one: before the watcher looked at event names, every line reset the settle
// timer, and a change of the rules was never read while the neighbour was busy.
func TestWatcherReloadsBesideABusyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(unitRules), 0o600))
	e, _ := watchRules(t, path)

	log, err := os.Create(filepath.Join(dir, "authsvc.log"))
	require.NoError(t, err)
	defer func() { require.NoError(t, log.Close()) }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond) // well inside the 100 ms settle time
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_, _ = log.WriteString("{\"msg\":\"a line\"}\n")
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	time.Sleep(50 * time.Millisecond)
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - {name: only, public: true}\n"), 0o600))
	waitForOnlyRule(t, e, "only")
}

// A Kubernetes ConfigMap volume: rules.yaml -> ..data/rules.yaml, ..data -> a timestamped directory;
// an update writes a new directory and renames a new ..data symlink over the old one, and the rules
// file's own name sees no event at all.
func TestWatcherFollowsAConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	writeVersion := func(name, rules string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, name), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name, "rules.yaml"), []byte(rules), 0o600))
	}
	writeVersion("..2026_12_06_01", unitRules)
	require.NoError(t, os.Symlink("..2026_12_06_01", filepath.Join(dir, "..data")))
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.Symlink(filepath.Join("..data", "rules.yaml"), path))

	e, _ := watchRules(t, path)

	writeVersion("..2026_12_06_02", "rules:\n  - {name: swapped, public: true}\n")
	require.NoError(t, os.Symlink("..2026_12_06_02", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..2026_12_06_01")))
	waitForOnlyRule(t, e, "swapped")
}

// watchRules loads the rules file at path into an engine and watches it until the test ends.
func watchRules(t *testing.T, path string) (*edge.Engine, *rules.Set) {
	t.Helper()
	set, content, err := edge.Load(path)
	require.NoError(t, err)
	e, err := edge.NewEngine(edge.Config{Rules: set, M2M: fakeM2M{}})
	require.NoError(t, err)
	w, err := edge.Watch(path, content, e, nil, discard())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	return e, set
}

// waitForOnlyRule waits until the rules in force are one rule named name: a reload landed.
func waitForOnlyRule(t *testing.T, e *edge.Engine, name string) {
	t.Helper()
	require.Eventually(t, func() bool {
		r := e.Rules().Rules()
		return len(r) == 1 && r[0].Name == name
	}, 5*time.Second, 10*time.Millisecond)
}

// rules.yaml -> rules-v2.yaml in the same directory, and rules-v2.yaml edited in place: the event
// names the link's target, which counts as the rules file.
func TestWatcherFollowsASymlinkInTheSameDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules-v2.yaml"), []byte(unitRules), 0o600))
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.Symlink("rules-v2.yaml", path))
	e, _ := watchRules(t, path)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules-v2.yaml"), []byte("rules:\n  - {name: only, public: true}\n"), 0o600))
	waitForOnlyRule(t, e, "only")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A bearer JWT goes straight to the verifier of the rule's kind; only its refusal as malformed
// reads the claims, to tell a credential of the other kind (403) from junk (401).
func TestWrongKindIsToldOnlyAfterTheVerifierRefuses(t *testing.T) {
	e := newEngine(t, edge.Config{M2M: fakeM2M{err: verify.ErrMalformed}, Members: &fakeChecker{err: verify.ErrMalformed}})
	d := e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/svc", Authorization: []string{"Bearer " + someJWT}})
	assert.Equal(t, http.StatusForbidden, d.Status)
	assert.Equal(t, "wrong_credential_kind", d.Reason)

	d = e.Decide(t.Context(), edge.Input{Method: "GET", Target: "/m", Authorization: []string{"Bearer junk.junk.junk"}})
	assert.Equal(t, http.StatusUnauthorized, d.Status)
	assert.Equal(t, "malformed", d.Reason)
}

// Envoy with encode_raw_headers sends header_map instead of headers: the same request decides alike.
func TestCheckReadsTheRawHeaderMap(t *testing.T) {
	members := &fakeChecker{res: memberResult()}
	a := edge.NewAuthorization(newEngine(t, edge.Config{Members: members}))
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/m/x", HeaderMap: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: "Cookie", RawValue: []byte("a=1")},
			{Key: "cookie", RawValue: []byte("stytch_session_jwt=" + someJWT)},
			{Key: "x-authsvc-subject", RawValue: []byte("forged")},
		}}},
	}}}
	resp, err := a.Check(t.Context(), req)
	require.NoError(t, err)
	ok := resp.GetOkResponse()
	require.NotNil(t, ok, "%v", resp)
	assert.Contains(t, ok.GetHeadersToRemove(), "x-authsvc-subject")
	set := map[string]string{}
	for _, h := range ok.GetHeaders() {
		set[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	assert.Equal(t, "member-1", set["x-authsvc-subject"])
	assert.Equal(t, 1, members.calls)

	// Without credentials: denied by Envoy with the JSON body and the challenge.
	req.GetAttributes().GetRequest().GetHttp().HeaderMap = nil
	resp, err = a.Check(t.Context(), req)
	require.NoError(t, err)
	denied := resp.GetDeniedResponse()
	require.NotNil(t, denied)
	assert.Equal(t, int32(codes.Unauthenticated), resp.GetStatus().GetCode())
	assert.EqualValues(t, http.StatusUnauthorized, denied.GetStatus().GetCode())
	assert.JSONEq(t, `{"code":"unauthenticated","reason":"no_credentials","rule":"members"}`, denied.GetBody())
}
