package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// pairedWorkloads runs W9a–W9d: each Stytch-bound RPC through authsvc (over gRPC, then over REST)
// against the same Stytch call made by the Stytch client straight at the emulator. The two run in
// one driver, alternating request by request, so both see the same machine at the same moment and
// the same client-side overhead: the difference of their latencies is what authsvc adds.
func (b *bench) pairedWorkloads(ctx context.Context) {
	fx := b.fx
	direct, err := b.directStytch()
	if err != nil {
		b.note("direct Stytch client: " + err.Error())
		return
	}
	// One keep-alive connection per caller, as a browser-facing proxy would hold.
	rest := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: stytchConc, IdleConnTimeout: time.Minute}}
	defer rest.CloseIdleConnections()

	tokenDirect := func(ctx context.Context, i int64) error {
		_, err := direct.SessionsAuthenticate(ctx, stytchclient.SessionsAuthenticateParams{SessionToken: b.stytchSession(i).Token})
		return err
	}
	memberDirect := func(ctx context.Context, i int64) error {
		_, err := direct.MemberGet(ctx, stytchclient.MemberGetParams{OrganizationID: fx.OrgID, MemberID: b.stytchSession(i).MemberID})
		return err
	}
	b.paired(ctx, "W9a", "Paired: session-token check through authsvc over gRPC vs the Stytch client straight at the emulator, alternating",
		"through authsvc (gRPC Sessions.Authenticate)", b.tokenCheck, tokenDirect)
	b.paired(ctx, "W9b", "Paired: Members.Get through authsvc over gRPC vs the Stytch client straight at the emulator, alternating",
		"through authsvc (gRPC Members.Get)", b.memberGet, memberDirect)
	b.paired(ctx, "W9c", "Paired: session-token check through authsvc over REST vs the Stytch client straight at the emulator, alternating",
		"through authsvc (REST POST /v1/b2b/sessions/authenticate)", func(ctx context.Context, i int64) error {
			body := fmt.Appendf(nil, `{"session_token":%q}`, b.stytchSession(i).Token)
			return b.rest(ctx, rest, http.MethodPost, "/v1/b2b/sessions/authenticate", body, "")
		}, tokenDirect)
	b.paired(ctx, "W9d", "Paired: Members.Get through authsvc over REST vs the Stytch client straight at the emulator, alternating",
		"through authsvc (REST GET /v1/b2b/organizations/{organization_id}/member)", func(ctx context.Context, i int64) error {
			path := "/v1/b2b/organizations/" + url.PathEscape(fx.OrgID) + "/member?member_id=" + url.QueryEscape(b.stytchSession(i).MemberID)
			return b.rest(ctx, rest, http.MethodGet, path, nil, "Bearer "+fx.M2MToken)
		}, memberDirect)
}

// directStytch is the Stytch client the paired workloads call the emulator with directly: the one
// authsvc uses, on the same project.
func (b *bench) directStytch() (*stytchclient.Client, error) {
	return stytchclient.New(stytchclient.Config{ProjectID: b.projectID, Secret: b.secret, BaseURL: b.emuURL, Version: "authbench-direct"}) //nolint:wrapcheck // the caller notes it
}

// paired measures one W9 workload: request 2i goes through authsvc, request 2i+1 straight to the
// emulator, both for session i.
func (b *bench) paired(ctx context.Context, id, name, via string, through, direct op) {
	b.pairedOn(ctx, row{ID: id, Name: name, Tool: "authbench", Concurrency: stytchConc}, via, through, direct)
}

// pairedOn is paired with the row given (Floor set: the floor server's CPU is recorded).
func (b *bench) pairedOn(ctx context.Context, base row, via string, through, direct op) {
	classes := &row{}
	r := b.measure(ctx, base, false,
		b.driven(ctx, driveSpec{
			Concurrency: stytchConc, Total: 2 * int64(b.sz.stytchBound), MaxDuration: 2 * time.Minute,
			ClassOf: func(i int64) int { return int(i % 2) },
			Ops: []op{
				func(ctx context.Context, i int64) error { return through(ctx, i/2) },
				func(ctx context.Context, i int64) error { return direct(ctx, i/2) },
			},
		}, []string{via, "direct (Stytch client → emulator)"}, classes))
	r.Classes = classes.Classes
	if len(r.Classes) > 0 {
		r.AuthsvcRequests = r.Classes[0].Lat.Count
	}
}

// stytchSession is the session the i-th Stytch-bound request uses.
func (b *bench) stytchSession(i int64) session {
	return b.fx.Sessions[int(i%int64(b.stytchSessions()))]
}

// rest sends one REST request to authsvc and reads the whole response; anything but 200 is an error.
func (b *bench) rest(ctx context.Context, c *http.Client, method, path string, body []byte, authorization string) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+b.httpAddr+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", method, req.URL.Path, resp.StatusCode, msg)
	}
	return nil
}
