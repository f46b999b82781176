package stytchclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sc "github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// rawPathRecorder serves emu through a hop that records every request's path as it arrived on the
// wire, before any routing (the emulator's own counters only see what its router lets through).
func rawPathRecorder(t *testing.T, emu *stytchemu.Server) (baseURL string, paths func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// A path parameter that is not exactly one segment never leaves the client: unescaped, "x/members"
// would route to another endpoint and ".." to the parent resource, at Stytch or at any proxy that
// normalizes paths; percent-encoded, a proxy that decodes before routing does the same.
func TestPathParametersThatAreNotOneSegmentAreRefused(t *testing.T) {
	emu := testkit.Emulator(t, stytchemu.WithStartTime(testStart))
	base, paths := rawPathRecorder(t, emu)
	h := newHarnessFor(t, emu, base)
	ctx := t.Context()

	calls := []struct {
		name  string
		param string
		call  func(ctx context.Context, v string) error
	}{
		{"OrganizationGet", "organization_id", func(ctx context.Context, v string) error {
			_, err := h.client.OrganizationGet(ctx, v)
			return err
		}},
		{"MemberDelete organization", "organization_id", func(ctx context.Context, v string) error {
			_, err := h.client.MemberDelete(ctx, v, "member-test-1", sc.MemberSession{})
			return err
		}},
		{"MemberDelete member", "member_id", func(ctx context.Context, v string) error {
			_, err := h.client.MemberDelete(ctx, "organization-test-1", v, sc.MemberSession{})
			return err
		}},
		{"MemberDeletePassword", "member_password_id", func(ctx context.Context, v string) error {
			_, err := h.client.MemberDeletePassword(ctx, "organization-test-1", v, sc.MemberSession{})
			return err
		}},
		{"MemberDangerouslyGet", "member_id", func(ctx context.Context, v string) error {
			_, err := h.client.MemberDangerouslyGet(ctx, v, false)
			return err
		}},
		{"M2MSecretRotateStart", "client_id", func(ctx context.Context, v string) error {
			_, err := h.client.M2MSecretRotateStart(ctx, v)
			return err
		}},
	}
	bad := []string{"", ".", "..", "x/members", `a\b`, "/", "%2e", "%2E%2E", "%2F", "a%2fb", "%5C", "a\x00b", "a\nb", "a\x7fb", "%0A"}
	for _, c := range calls {
		for _, v := range bad {
			err := c.call(ctx, v)
			var pe *sc.PathParamError
			require.ErrorAs(t, err, &pe, "%s(%q)", c.name, v)
			assert.Equal(t, c.param, pe.Param, "%s(%q)", c.name, v)
			assert.NotEmpty(t, pe.Reason)
			if len(v) > 1 {
				assert.NotContains(t, err.Error(), v, "the error must not echo the value")
			}
		}
	}
	assert.Empty(t, paths(), "no refused value may reach Stytch")
	assert.Empty(t, h.spans.GetSpans(), "no request, so no client span")

	// Characters that need escaping but leave one segment are sent, escaped, to the right endpoint.
	for _, v := range []string{"x?members", "x#y", "a b", "%zz", "a|b", "A.B~C"} {
		_, err := h.client.OrganizationGet(ctx, v)
		require.Error(t, err)
		assert.True(t, sc.IsNotFound(err), "%q: got %v", v, err)
		assert.Equal(t, "organization_not_found", sc.ErrorType(err), "%q", v)
	}
	assert.Equal(t, []string{
		"GET /v1/b2b/organizations/x%3Fmembers",
		"GET /v1/b2b/organizations/x%23y",
		"GET /v1/b2b/organizations/a%20b",
		"GET /v1/b2b/organizations/%25zz",
		"GET /v1/b2b/organizations/a%7Cb",
		"GET /v1/b2b/organizations/A.B~C",
	}, paths())
}
