package stytchemu_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawDo sends one request with the path exactly as given and never follows a redirect, so a 3xx
// is seen as such.
func (h *harness) rawDo(t *testing.T, method, path string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(h.emu.ProjectID(), h.emu.Secret())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return res.StatusCode, res.Header, body
}

// A path with a dot segment, an empty segment, or an encoded dot segment or slash names no Stytch
// resource: the emulator answers it as Stytch answers any unknown path, 404 route_not_found in
// Stytch's error body, and never with a redirect to a "cleaned" path (a client that follows it
// would act on the parent: DELETE …/members/.. on the organization). Nothing changes.
func TestPathsWithDotEmptyOrEncodedSlashSegmentsAre404(t *testing.T) {
	w := newWorld(t)
	h := w.h
	org, member := w.orgPath(w.orgA.ID), w.user.ID
	paths := []struct{ method, path string }{
		{http.MethodDelete, org + "/members/.."},
		{http.MethodDelete, org + "/members/."},
		{http.MethodDelete, org + "/members/%2e%2e"},
		{http.MethodDelete, org + "/members/%2E%2E"},
		{http.MethodDelete, org + "/members/%2e"},
		{http.MethodDelete, org + "/members/" + member + "/.."},
		{http.MethodDelete, org + "/members/a%2Fb"},
		{http.MethodDelete, org + "/members/mfa_phone_numbers%2F" + member},
		{http.MethodDelete, org + "//members/" + member},
		{http.MethodDelete, org + "/members/x/../" + member},
		{http.MethodPut, org + "/members/" + member + "/reactivate/.."},
		{http.MethodGet, "/v1/b2b/organizations/members/dangerously_get/.."},
		{http.MethodGet, "/v1/b2b/organizations/members/dangerously_get/%2E"},
		{http.MethodGet, "/v1/b2b/organizations/x%2F..%2F" + w.orgA.ID},
		{http.MethodDelete, "/v1/m2m/clients/.."},
		{http.MethodGet, "/v1/m2m/clients/" + w.client.ClientID + "%2F"},
	}
	for _, p := range paths {
		before := h.emu.Requests("*")
		status, header, body := h.rawDo(t, p.method, p.path)
		assert.Equal(t, http.StatusNotFound, status, "%s %s", p.method, p.path)
		assert.Empty(t, header.Get("Location"), "%s %s: no redirect", p.method, p.path)
		assert.Equal(t, "route_not_found", body["error_type"], "%s %s", p.method, p.path)
		assert.InDelta(t, 404, body["status_code"], 0, "%s %s", p.method, p.path)
		assert.True(t, strings.HasPrefix(body["request_id"].(string), "request-id-test-"), "%s %s", p.method, p.path)
		assert.Equal(t, before+1, h.emu.Requests("*"), "%s %s is counted like any request", p.method, p.path)
	}

	// Nothing was deleted.
	r := h.do(get(org))
	assert.Equal(t, http.StatusOK, r.status, "the organization is still there")
	r = h.do(get("/v1/b2b/organizations/members/dangerously_get/" + member))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "active", r.obj("member")["status"])
	r = h.do(get("/v1/m2m/clients/" + w.client.ClientID))
	assert.Equal(t, http.StatusOK, r.status, "the M2M client is still there")
}

// Stytch resolves its IDs in any letter case; slugs and external IDs are matched as given.
func TestIDsResolveInAnyLetterCase(t *testing.T) {
	w := newWorld(t)
	h := w.h
	upOrg, upMember := strings.ToUpper(w.orgA.ID), strings.ToUpper(w.user.ID)

	r := h.do(get(w.orgPath(upOrg)))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	assert.Equal(t, w.orgA.ID, r.obj("organization")["organization_id"], "answered with the canonical ID")

	r = h.do(get("/v1/b2b/organizations/members/dangerously_get/" + upMember))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))

	r = h.do(get("/v1/m2m/clients/" + strings.ToUpper(w.client.ClientID)))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)

	r = h.do(call{method: http.MethodDelete, path: w.orgPath(upOrg) + "/members/" + upMember})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	assert.Equal(t, w.user.ID, r.str("member_id"))

	r = h.do(get(w.orgPath(strings.ToUpper(w.orgA.Slug))))
	assert.Equal(t, http.StatusNotFound, r.status, "a slug is matched as given")
}
