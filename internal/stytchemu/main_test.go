package stytchemu_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// testKey is generated once so each test's emulator skips RSA key generation;
// testKey2 signs for the second project where a test needs two distinct keys.
var testKey, testKey2 *rsa.PrivateKey

func TestMain(m *testing.M) {
	var err error
	if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		fmt.Fprintln(os.Stderr, "generate test key:", err)
		os.Exit(1)
	}
	if testKey2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		fmt.Fprintln(os.Stderr, "generate test key:", err)
		os.Exit(1)
	}
	if specDoc, specErr = loadSpec(); specErr != nil {
		fmt.Fprintln(os.Stderr, "load openapi.json:", specErr)
		os.Exit(1)
	}
	if specDoc == nil {
		fmt.Fprintln(os.Stderr, "stytchemu tests:", noSpecReason)
		if os.Getenv("CI") != "" {
			// CI exists to validate the emulator against Stytch's document: never skip it there.
			os.Exit(1)
		}
	}
	code := m.Run()
	if code == 0 && specDoc != nil && fullRun() && !reportUnexercised() {
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: errors on successful test run:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fullRun reports whether every test of the package ran (no -run, -skip or
// -short), so the operations they exercised are the whole coverage.
func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// epoch is the frozen start time of every test emulator.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is an emulator behind a real loopback HTTP server whose every
// response is validated against openapi.json (see openapi_test.go).
type harness struct {
	t   *testing.T
	emu *stytchemu.Emulator
	url string
}

func newHarness(t *testing.T, opts ...stytchemu.Option) *harness {
	t.Helper()
	opts = append([]stytchemu.Option{stytchemu.WithSigningKey(testKey), stytchemu.WithStartTime(epoch)}, opts...)
	emu, err := stytchemu.New(opts...)
	require.NoError(t, err)
	v := &validator{}
	srv := httptest.NewServer(v.wrap(emu))
	t.Cleanup(func() {
		srv.Close()
		v.check(t)
	})
	return &harness{t: t, emu: emu, url: srv.URL}
}

// call is one HTTP request to the emulator.
type call struct {
	method  string
	path    string
	body    any // JSON-encoded unless it is a string (sent raw)
	ctype   string
	header  map[string]string
	noAuth  bool
	auth    [2]string // overrides project credentials when set
	timeout time.Duration
}

type response struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

func (r response) str(k string) string {
	s, _ := r.body[k].(string)
	return s
}

func (r response) obj(k string) map[string]any {
	m, _ := r.body[k].(map[string]any)
	return m
}

func (h *harness) do(c call) response {
	h.t.Helper()
	resp, err := h.try(c)
	require.NoError(h.t, err)
	return resp
}

func (h *harness) try(c call) (response, error) {
	var rd io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, h.url+c.path, rd)
	if err != nil {
		return response{}, err
	}
	ct := c.ctype
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	switch {
	case c.auth != [2]string{}:
		req.SetBasicAuth(c.auth[0], c.auth[1])
	case !c.noAuth:
		req.SetBasicAuth(h.emu.ProjectID(), h.emu.Secret())
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: c.timeout}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	out := response{status: res.StatusCode, raw: raw, header: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	return out, nil
}

func post(path string, body any) call { return call{method: http.MethodPost, path: path, body: body} }

func get(path string) call { return call{method: http.MethodGet, path: path} }

// world is a small project every table case starts from.
type world struct {
	h        *harness
	orgA     stytchemu.Organization // MFA optional
	orgB     stytchemu.Organization // MFA required for all
	admin    stytchemu.Member       // orgA, stytch_admin
	user     stytchemu.Member       // orgA, stytch_member
	mfaUser  stytchemu.Member       // orgB, has a phone
	adminSes stytchemu.Session
	userSes  stytchemu.Session
	client   stytchemu.M2MClient
}

func newWorld(t *testing.T, opts ...stytchemu.Option) *world {
	t.Helper()
	h := newHarness(t, opts...)
	w := &world{h: h}
	var err error
	w.orgA, err = h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme", Slug: "acme"})
	require.NoError(t, err)
	w.orgB, err = h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Bank", Slug: "bank", MFAPolicy: "REQUIRED_FOR_ALL"})
	require.NoError(t, err)
	w.admin, err = h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "admin@acme.test", Roles: []string{stytchemu.RoleAdmin}})
	require.NoError(t, err)
	w.user, err = h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "user@acme.test"})
	require.NoError(t, err)
	w.mfaUser, err = h.emu.CreateMember(w.orgB.ID, stytchemu.MemberParams{Email: "user@acme.test", MFAPhoneNumber: "+15555550100"})
	require.NoError(t, err)
	w.adminSes, err = h.emu.CreateSession(w.orgA.ID, w.admin.ID, time.Hour)
	require.NoError(t, err)
	w.userSes, err = h.emu.CreateSession(w.orgA.ID, w.user.ID, time.Hour)
	require.NoError(t, err)
	w.client, err = h.emu.CreateM2MClient("svc", []string{"read:users", "write:users"})
	require.NoError(t, err)
	return w
}

// lastCode returns the newest outbox code or token for a recipient.
func (w *world) last(t *testing.T, to string) stytchemu.Message {
	t.Helper()
	m, ok := w.h.emu.LastMessage(to)
	require.True(t, ok, "no message to %s", to)
	return m
}
