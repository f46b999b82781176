package app_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/app"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// edgeRules covers every rule kind: public, member (organization from the path or a header, a
// role, a max age, a factor, a login redirect), user, any, and M2M.
const edgeRules = `rules:
  - name: public
    match: {path_prefix: /public}
    public: true
  - name: org
    match: {path_pattern: "/orgs/{org}/**"}
    session: {kind: member, organization_from: {path_param: org}}
  - name: admin
    match: {path_prefix: /admin}
    session: {kind: member, roles: [stytch_admin]}
  - name: tenant
    match: {path_prefix: /tenant}
    session: {kind: member, organization_from: {header: x-org-id}}
  - name: me
    match: {path_prefix: /me}
    session: {kind: user}
  - name: any
    match: {path_prefix: /any}
    session: {kind: any}
  - name: reports
    match: {path_prefix: /reports, methods: [GET]}
    m2m: {scopes: ["read:reports"]}
  - name: app
    match: {path_prefix: /app}
    session: {kind: member}
    redirect_to_login: https://login.example/start
  - name: fresh
    match: {path_prefix: /fresh}
    session: {kind: member, max_age: 5m}
  - name: totp
    match: {path_prefix: /totp}
    session: {kind: member, factors: [totp]}
`

// edgeResult is one decision as the proxy sees it, whichever transport carried it.
type edgeResult struct {
	status int
	reason string
	rule   string
	// upstream are the identity headers the upstream receives (allowed only); removed are the
	// client's headers the proxy drops (Check only: forward auth overwrites them instead).
	upstream map[string]string
	removed  []string
	// header are the denial's headers (lower-case names).
	header map[string]string
}

// edgeCall describes the request a proxy asks about.
type edgeCall struct {
	method, host, path string
	header             map[string]string // lower-case names
}

func checkOverGRPC(t *testing.T, env *apptest.Env, c edgeCall) edgeResult {
	t.Helper()
	headers := map[string]string{":path": c.path, ":method": c.method, ":authority": c.host}
	for k, v := range c.header {
		headers[k] = v
	}
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: "203.0.113.9", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 50000}},
		}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: c.method, Host: c.host, Path: c.path, Scheme: "https", Headers: headers,
		}},
	}}
	resp, err := authv3.NewAuthorizationClient(env.Conn).Check(t.Context(), req)
	require.NoError(t, err)
	out := edgeResult{upstream: map[string]string{}, header: map[string]string{}}
	if ok := resp.GetOkResponse(); ok != nil {
		require.Equal(t, int32(codes.OK), resp.GetStatus().GetCode())
		out.status = http.StatusOK
		for _, h := range ok.GetHeaders() {
			out.upstream[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
		}
		out.removed = ok.GetHeadersToRemove()
		out.rule = out.upstream["x-authsvc-rule"]
		return out
	}
	denied := resp.GetDeniedResponse()
	require.NotNil(t, denied, "Check answered neither OK nor denied")
	require.NotEqual(t, int32(codes.OK), resp.GetStatus().GetCode())
	out.status = int(denied.GetStatus().GetCode())
	for _, h := range denied.GetHeaders() {
		out.header[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	out.reason, out.rule = denialBody(t, []byte(denied.GetBody()))
	return out
}

func forwardOverHTTP(t *testing.T, env *apptest.Env, c edgeCall) edgeResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, env.BaseURL+"/ext_authz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-Method", c.method)
	req.Header.Set("X-Forwarded-Host", c.host)
	req.Header.Set("X-Forwarded-Uri", c.path)
	req.Header.Set("X-Forwarded-Proto", "https")
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := edgeResult{status: resp.StatusCode, upstream: map[string]string{}, header: map[string]string{}}
	if resp.StatusCode == http.StatusOK {
		for _, name := range []string{"x-authsvc-subject", "x-authsvc-organization", "x-authsvc-roles", "x-authsvc-scopes", "x-authsvc-session", "x-authsvc-kind", "x-authsvc-rule"} {
			// Forward auth sends every name, empty when it does not apply, so that the proxy
			// overwrites whatever the client sent; the upstream sees the non-empty ones.
			_, present := resp.Header[http.CanonicalHeaderKey(name)]
			require.True(t, present, "forward auth must always send %s", name)
			if v := resp.Header.Get(name); v != "" {
				out.upstream[name] = v
			}
		}
		out.rule = out.upstream["x-authsvc-rule"]
		return out
	}
	for k := range resp.Header {
		out.header[strings.ToLower(k)] = resp.Header.Get(k)
	}
	out.reason, out.rule = denialBody(t, body)
	return out
}

// noRedirects hands a redirect back to the test, as a proxy does.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func denialBody(t *testing.T, b []byte) (reason, rule string) {
	t.Helper()
	var body struct{ Code, Reason, Rule string }
	require.NoError(t, json.Unmarshal(b, &body), "denial body: %s", b)
	require.NotEmpty(t, body.Code)
	return body.Reason, body.Rule
}

var edgeTransports = []struct {
	name string
	call func(*testing.T, *apptest.Env, edgeCall) edgeResult
}{
	{"envoy Check over gRPC", checkOverGRPC},
	{"forward auth over HTTP", forwardOverHTTP},
}

// edgeCase is one row of the table both transports run.
type edgeCase struct {
	name   string
	call   edgeCall
	status int
	reason string // on denial
	rule   string
	// upstream are identity headers the upstream must receive (allowed only).
	upstream map[string]string
	// header are headers the denial must carry.
	header map[string]string
}

func authz(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

func withHeader(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for hk, hv := range h {
		out[hk] = hv
	}
	return out
}

// tamper rewrites a JWT's claims (the member or user it names) and keeps its signature: a forgery.
func tamper(t *testing.T, jwt, from, to string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.Contains(t, string(claims), from)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.ReplaceAll(string(claims), from, to)))
	return strings.Join(parts, ".")
}

func startEdge(t *testing.T, rulesYAML string) (*apptest.Env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(rulesYAML), 0o600))
	return apptest.Start(t, apptest.WithEnv(map[string]string{"AUTHSVC_EDGE_RULES": path})), path
}

func runEdgeCases(t *testing.T, env *apptest.Env, cases []edgeCase) {
	t.Helper()
	for _, tr := range edgeTransports {
		for _, c := range cases {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				got := tr.call(t, env, c.call)
				require.Equal(t, c.status, got.status, "reason %q", got.reason)
				assert.Equal(t, c.rule, got.rule)
				if c.status != http.StatusOK {
					assert.Equal(t, c.reason, got.reason)
					assert.Empty(t, got.upstream)
				}
				for k, v := range c.upstream {
					assert.Equal(t, v, got.upstream[k], k)
				}
				for k, v := range c.header {
					assert.Equal(t, v, got.header[k], k)
				}
			})
		}
	}
}

func TestEdgeDecidesEveryRuleKindOverCheckAndForwardAuth(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	org := stytchemu.SandboxOrganizationID
	otherOrg, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Other Org"})
	require.NoError(t, err)

	admin := memberSession(t, env, org, "edge-admin@stytch.com", "stytch_admin")
	plain := memberSession(t, env, org, "edge-plain@stytch.com")
	revokedMember := memberSession(t, env, org, "edge-revoked@stytch.com")
	_, err = b2bv1.NewSessionsServiceClient(env.Conn).Revoke(t.Context(), &b2bv1.SessionsServiceRevokeRequest{
		Target: &b2bv1.SessionsServiceRevokeRequest_SessionJwt{SessionJwt: revokedMember.JWT},
	})
	require.NoError(t, err)

	u, err := env.Consumer.CreateUser(stytchemu.UserParams{Email: "edge-user@example.com", Verified: true})
	require.NoError(t, err)
	user, err := env.Consumer.CreateUserSession(u.ID, time.Hour)
	require.NoError(t, err)
	revokedUser, err := env.Consumer.CreateUserSession(u.ID, time.Hour)
	require.NoError(t, err)
	_, err = consumerv1.NewSessionsServiceClient(env.Conn).Revoke(t.Context(), &consumerv1.SessionsServiceRevokeRequest{
		// By token: the consumer Revoke learns the session ID behind a token (to remember the
		// revocation) but not yet behind a JWT.
		Target: &consumerv1.SessionsServiceRevokeRequest_SessionToken{SessionToken: revokedUser.Token},
	})
	require.NoError(t, err)

	reporter, err := env.Emu.CreateM2MClient("reporter", []string{"read:reports"})
	require.NoError(t, err)
	other, err := env.Emu.CreateM2MClient("other", []string{"read:widgets"})
	require.NoError(t, err)
	reportsToken := m2mToken(t, env, reporter, nil)
	widgetsToken := m2mToken(t, env, other, nil)

	forgedMember := tamper(t, plain.JWT, plain.MemberID, admin.MemberID)
	forgedUser := tamper(t, user.JWT, user.UserID, "user-test-00000000-0000-0000-0000-000000000000")
	forgedM2M := tamper(t, widgetsToken, "read:widgets", "read:reports")
	orgPath := "/orgs/" + org + "/projects"
	get := func(path string, h map[string]string) edgeCall {
		return edgeCall{method: http.MethodGet, host: "api.example.com", path: path, header: h}
	}
	memberHeaders := func(s stytchemu.Session) map[string]string {
		return map[string]string{
			"x-authsvc-subject": s.MemberID, "x-authsvc-organization": s.OrganizationID, "x-authsvc-session": s.ID, "x-authsvc-kind": "member",
		}
	}

	cases := []edgeCase{
		// public
		{name: "public/no credentials", call: get("/public/x", nil), status: 200, rule: "public", upstream: map[string]string{"x-authsvc-kind": "public"}},
		{name: "public/junk credentials are not checked", call: get("/public/x", authz("junk")), status: 200, rule: "public"},
		{name: "no rule matches", call: get("/nowhere", authz(admin.JWT)), status: 403, reason: "no_rule"},
		{name: "ambiguous path", call: get("/public/../admin", nil), status: 400, reason: "ambiguous_path"},
		// member: organization from the path
		{name: "member/no credentials", call: get(orgPath, nil), status: 401, reason: "no_credentials", rule: "org", header: map[string]string{"www-authenticate": `Bearer realm="authsvc"`}},
		{name: "member/forged token", call: get(orgPath, authz(forgedMember)), status: 401, reason: "bad_signature", rule: "org"},
		{name: "member/revoked", call: get(orgPath, authz(revokedMember.JWT)), status: 401, reason: "revoked", rule: "org"},
		{name: "member/wrong organization", call: get("/orgs/"+otherOrg.ID+"/projects", authz(plain.JWT)), status: 403, reason: "wrong_organization", rule: "org"},
		{name: "member/right", call: get(orgPath, authz(plain.JWT)), status: 200, rule: "org", upstream: memberHeaders(plain)},
		{name: "member/right, by cookie", call: get(orgPath, map[string]string{"cookie": "theme=dark; stytch_session_jwt=" + plain.JWT}), status: 200, rule: "org", upstream: memberHeaders(plain)},
		{name: "member/organization in any letter case", call: get("/orgs/"+strings.ToUpper(org)+"/x", authz(plain.JWT)), status: 200, rule: "org"},
		{name: "member/an M2M token", call: get(orgPath, authz(reportsToken)), status: 403, reason: "wrong_credential_kind", rule: "org"},
		{name: "member/a user's session", call: get(orgPath, authz(user.JWT)), status: 401, reason: "wrong_project_type", rule: "org"},
		// member: role, organization from a header
		{name: "role/missing", call: get("/admin", authz(plain.JWT)), status: 403, reason: "missing_role", rule: "admin"},
		{name: "role/right", call: get("/admin", authz(admin.JWT)), status: 200, rule: "admin", upstream: map[string]string{"x-authsvc-subject": admin.MemberID, "x-authsvc-roles": "stytch_member,stytch_admin"}},
		{name: "header organization/right", call: get("/tenant", withHeader(authz(plain.JWT), "x-org-id", org)), status: 200, rule: "tenant"},
		{name: "header organization/wrong", call: get("/tenant", withHeader(authz(plain.JWT), "x-org-id", otherOrg.ID)), status: 403, reason: "wrong_organization", rule: "tenant"},
		{name: "header organization/absent", call: get("/tenant", authz(plain.JWT)), status: 403, reason: "wrong_organization", rule: "tenant"},
		{name: "factor/missing", call: get("/totp", authz(plain.JWT)), status: 401, reason: "missing_factor", rule: "totp"},
		{name: "max age/fresh", call: get("/fresh", authz(plain.JWT)), status: 200, rule: "fresh"},
		// user
		{name: "user/no credentials", call: get("/me", nil), status: 401, reason: "no_credentials", rule: "me"},
		{name: "user/forged token", call: get("/me", authz(forgedUser)), status: 401, reason: "bad_signature", rule: "me"},
		{name: "user/revoked", call: get("/me", authz(revokedUser.JWT)), status: 401, reason: "revoked", rule: "me"},
		{name: "user/a member's session", call: get("/me", authz(plain.JWT)), status: 401, reason: "wrong_project_type", rule: "me"},
		{name: "user/right", call: get("/me", authz(user.JWT)), status: 200, rule: "me", upstream: map[string]string{"x-authsvc-subject": user.UserID, "x-authsvc-kind": "user", "x-authsvc-session": user.ID}},
		// any
		{name: "any/member", call: get("/any", authz(plain.JWT)), status: 200, rule: "any", upstream: map[string]string{"x-authsvc-kind": "member", "x-authsvc-subject": plain.MemberID}},
		{name: "any/user", call: get("/any", authz(user.JWT)), status: 200, rule: "any", upstream: map[string]string{"x-authsvc-kind": "user", "x-authsvc-subject": user.UserID}},
		{name: "any/user by cookie", call: get("/any", map[string]string{"cookie": "stytch_session_jwt=" + user.JWT}), status: 200, rule: "any", upstream: map[string]string{"x-authsvc-kind": "user"}},
		{name: "any/forged", call: get("/any", authz(forgedMember)), status: 401, reason: "bad_signature", rule: "any"},
		// M2M
		{name: "m2m/no credentials", call: get("/reports/q1", nil), status: 401, reason: "no_credentials", rule: "reports"},
		{name: "m2m/cookies are not M2M credentials", call: get("/reports/q1", map[string]string{"cookie": "stytch_session_jwt=" + plain.JWT}), status: 401, reason: "no_credentials", rule: "reports"},
		{name: "m2m/forged token", call: get("/reports/q1", authz(forgedM2M)), status: 401, reason: "bad_signature", rule: "reports"},
		{name: "m2m/wrong scope", call: get("/reports/q1", authz(widgetsToken)), status: 403, reason: "missing_scope", rule: "reports"},
		{name: "m2m/a session", call: get("/reports/q1", authz(plain.JWT)), status: 403, reason: "wrong_credential_kind", rule: "reports"},
		{name: "m2m/method not matched", call: edgeCall{method: http.MethodPost, host: "h", path: "/reports/q1", header: authz(reportsToken)}, status: 403, reason: "no_rule"},
		{name: "m2m/right", call: get("/reports/q1", authz(reportsToken)), status: 200, rule: "reports", upstream: map[string]string{"x-authsvc-subject": reporter.ClientID, "x-authsvc-scopes": "read:reports", "x-authsvc-kind": "m2m"}},
		// browser redirect
		{name: "redirect/browser without session", call: get("/app/home?tab=1", map[string]string{"accept": "text/html,application/xhtml+xml"}), status: 302, reason: "no_credentials", rule: "app", header: map[string]string{"location": "https://login.example/start?return_to=https%3A%2F%2Fapi.example.com%2Fapp%2Fhome%3Ftab%3D1"}},
		{name: "redirect/API client without session", call: get("/app/home", map[string]string{"accept": "application/json"}), status: 401, reason: "no_credentials", rule: "app"},
		{name: "redirect/browser with session", call: get("/app/home", map[string]string{"accept": "text/html", "cookie": "stytch_session_jwt=" + plain.JWT}), status: 200, rule: "app"},
	}

	before := env.StytchCalls("*")
	runEdgeCases(t, env, cases)
	assert.Equal(t, before, env.StytchCalls("*"), "JWTs and M2M tokens are decided locally: no call to Stytch")

	// Expiry: past every session and token's end, JWTs expire locally; Stytch (asked because a
	// genuine JWT expired) no longer knows the sessions.
	env.Emu.Advance(2 * time.Hour)
	env.Consumer.Advance(2 * time.Hour)
	runEdgeCases(t, env, []edgeCase{
		{name: "member/expired", call: get(orgPath, authz(plain.JWT)), status: 401, reason: "session_not_found", rule: "org"},
		{name: "user/expired", call: get("/me", authz(user.JWT)), status: 401, reason: "session_not_found", rule: "me"},
		{name: "m2m/expired", call: get("/reports/q1", authz(reportsToken)), status: 401, reason: "expired", rule: "reports"},
	})
}

func TestEdgeMaxAgeAsksForAFreshLogin(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	s := memberSession(t, env, stytchemu.SandboxOrganizationID, "edge-fresh@stytch.com")
	// Ten minutes on, the session lives (60 minutes) but its authentication is older than the
	// rule's 5 minutes; the JWT has expired and Stytch refreshes it, which changes nothing.
	env.Emu.Advance(10 * time.Minute)
	env.Consumer.Advance(10 * time.Minute)
	runEdgeCases(t, env, []edgeCase{
		{name: "too old for max_age", call: edgeCall{method: "GET", host: "h", path: "/fresh", header: authz(s.JWT)}, status: 401, reason: "reauthentication_required", rule: "fresh"},
		{name: "no max_age", call: edgeCall{method: "GET", host: "h", path: "/app", header: authz(s.JWT)}, status: 200, rule: "app"},
	})
}

func TestEdgeStripsForgedIdentityHeaders(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	s := memberSession(t, env, stytchemu.SandboxOrganizationID, "edge-forge@stytch.com")
	names := []string{"x-authsvc-subject", "x-authsvc-organization", "x-authsvc-roles", "x-authsvc-scopes", "x-authsvc-session", "x-authsvc-kind", "x-authsvc-rule"}
	forged := map[string]string{}
	for _, n := range names {
		forged[n] = "forged"
	}

	// Envoy removes every identity header the client sent and sets authsvc's own.
	got := checkOverGRPC(t, env, edgeCall{method: "GET", host: "h", path: "/public/x", header: forged})
	require.Equal(t, http.StatusOK, got.status)
	assert.ElementsMatch(t, names, got.removed)
	assert.Equal(t, map[string]string{"x-authsvc-kind": "public", "x-authsvc-rule": "public"}, got.upstream)

	got = checkOverGRPC(t, env, edgeCall{method: "GET", host: "h", path: "/app", header: withHeader(forged, "authorization", "Bearer "+s.JWT)})
	require.Equal(t, http.StatusOK, got.status)
	assert.ElementsMatch(t, names, got.removed)
	assert.Equal(t, s.MemberID, got.upstream["x-authsvc-subject"])
	assert.NotContains(t, got.upstream, "x-authsvc-scopes", "an empty identity header is removed, not set")

	// Forward auth answers every name, so the proxy overwrites the client's: an empty one too.
	got = forwardOverHTTP(t, env, edgeCall{method: "GET", host: "h", path: "/public/x", header: forged})
	require.Equal(t, http.StatusOK, got.status)
	assert.Equal(t, map[string]string{"x-authsvc-kind": "public", "x-authsvc-rule": "public"}, got.upstream)
}

func TestForwardAuthRedirectAsHeaderForNginx(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	got := forwardOverHTTP(t, env, edgeCall{method: "GET", host: "app.example.com", path: "/app", header: map[string]string{
		"accept": "text/html", "x-authsvc-redirect": "header",
	}})
	require.Equal(t, http.StatusUnauthorized, got.status)
	assert.Equal(t, "https://login.example/start?return_to=https%3A%2F%2Fapp.example.com%2Fapp", got.header["x-authsvc-location"])
	assert.Empty(t, got.header["location"])
}

func TestForwardAuthAnswersAnyMethodAndPathBelowIt(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodHead} {
		// Envoy's HTTP mode appends the original path; a cross-site POST with cookies is the
		// upstream's business, not refused as CSRF against authsvc's own API.
		req, err := http.NewRequestWithContext(t.Context(), method, env.BaseURL+"/ext_authz/public/page?q=1", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Cookie", "stytch_session=abc")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, method)
		assert.Equal(t, "public", resp.Header.Get("x-authsvc-rule"))
	}
}

func TestEdgeOffWithoutRules(t *testing.T) {
	env := apptest.Start(t)
	_, err := authv3.NewAuthorizationClient(env.Conn).Check(t.Context(), &authv3.CheckRequest{})
	require.Equal(t, codes.Unimplemented, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "AUTHSVC_EDGE_RULES")

	r := env.REST(t, http.MethodGet, "/ext_authz", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	assert.Contains(t, string(r.Body), "edge authorization is off")
}

func TestEdgeRulesReloadAndKeepTheLastGoodOnes(t *testing.T) {
	env, path := startEdge(t, edgeRules)
	call := edgeCall{method: "GET", host: "h", path: "/public/x"}
	require.Equal(t, http.StatusOK, checkOverGRPC(t, env, call).status)

	// A file that does not validate: logged, counted, and the rules in force stay.
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - name: broken\n    session: {kind: admin}\n"), 0o600))
	require.Eventually(t, func() bool {
		return strings.Contains(env.Logs(), "rules file does not validate")
	}, 5*time.Second, 20*time.Millisecond)
	assert.Contains(t, env.Logs(), `rules[0].session.kind`)
	require.Equal(t, http.StatusOK, checkOverGRPC(t, env, call).status)

	// A good file replaces them, written by rename as editors and ConfigMaps do.
	tmp := path + ".new"
	require.NoError(t, os.WriteFile(tmp, []byte("rules:\n  - {name: locked, match: {path_prefix: /public}, m2m: {scopes: [x]}}\n"), 0o600))
	require.NoError(t, os.Rename(tmp, path))
	require.Eventually(t, func() bool {
		got := checkOverGRPC(t, env, call)
		return got.status == http.StatusUnauthorized && got.rule == "locked"
	}, 5*time.Second, 20*time.Millisecond)
}

func TestEdgeRefusesToStartOnABadRulesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - name: a\n    session:\n      kind: member\n      max_age: soon\n"), 0o600))
	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"AUTHSVC_EDGE_RULES": path}[k]
	}, io.Discard)
	require.NoError(t, err)
	apptest.EphemeralPorts(cfg)
	emu, consumer := apptest.DevEmulator(t)
	_, err = app.New(t.Context(), cfg, app.Options{LogOutput: io.Discard, Emulator: emu, ConsumerProject: consumer})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUTHSVC_EDGE_RULES")
	assert.Contains(t, err.Error(), "rules.yaml:5: rules[0].session.max_age")
}

// The names the dashboard and alerts query: decisions by rule and reason, their latency, and the
// span of each decision under the Check RPC's.
func TestEdgeDecisionsOnMetricsAndTraces(t *testing.T) {
	env, _ := startEdge(t, edgeRules)
	checkOverGRPC(t, env, edgeCall{method: "GET", host: "h", path: "/public/x"})
	checkOverGRPC(t, env, edgeCall{method: "GET", host: "h", path: "/me"})
	forwardOverHTTP(t, env, edgeCall{method: "GET", host: "h", path: "/nowhere"})

	fams := scrapeAdmin(t, env)
	assert.InDelta(t, 1, counterValue(fams, "authsvc_edge_decisions_total", map[string]string{"rule": "public", "decision": "allow", "reason": "public"}), 0)
	assert.InDelta(t, 1, counterValue(fams, "authsvc_edge_decisions_total", map[string]string{"rule": "me", "decision": "deny", "reason": "no_credentials"}), 0)
	assert.InDelta(t, 1, counterValue(fams, "authsvc_edge_decisions_total", map[string]string{"rule": "none", "decision": "deny", "reason": "no_rule"}), 0)
	require.Contains(t, fams, "authsvc_edge_decision_duration_seconds")
	assert.Len(t, fams["authsvc_edge_decision_duration_seconds"].GetMetric(), 3)

	require.Eventually(t, func() bool {
		for _, s := range env.Spans.GetSpans() {
			if s.Name == "edge.Decide" && s.Parent.IsValid() {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond, "a span per decision, a child of the request's")
}
