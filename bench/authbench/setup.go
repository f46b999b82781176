package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// session is one live member session on the emulator.
type session struct {
	MemberID string
	Token    string
	JWT      string
}

// fixture is what the benchmark created on the emulator.
type fixture struct {
	emuURL    string
	projectID string
	secret    string
	sc        *stytchclient.Client
	orgID     string
	sessions  []session
	// clientID/clientSecret: an M2M client with read:members; m2mToken one of its access tokens.
	clientID, clientSecret string
	m2mToken               string
}

// emuControl calls one of the emulator's control endpoints (/emulator/...). They take no credentials.
func emuControl(ctx context.Context, method, u string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d", method, req.URL.Path, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// upstreamCount is the number of requests the emulator served on its Stytch endpoints so far, for
// the project projectID (empty: the B2B project).
func upstreamCount(ctx context.Context, emuURL, pattern, projectID string) (int64, error) {
	var r struct {
		Count int64 `json:"count"`
	}
	u := emuURL + "/emulator/requests?pattern=" + url.QueryEscape(pattern)
	if projectID != "" {
		u += "&project_id=" + url.QueryEscape(projectID)
	}
	err := emuControl(ctx, http.MethodGet, u, nil, &r)
	return r.Count, err
}

// setLatency replaces the emulator's faults by a fixed latency on every Stytch endpoint.
func setLatency(ctx context.Context, emuURL string, d time.Duration) error {
	if err := emuControl(ctx, http.MethodDelete, emuURL+"/emulator/faults", nil, nil); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	return emuControl(ctx, http.MethodPost, emuURL+"/emulator/faults", map[string]string{"pattern": "*", "latency": d.String()}, nil)
}

// waitEmulator waits until the emulator answers its control API.
func waitEmulator(ctx context.Context, emuURL string, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if err := p.alive(); err != nil {
			return err
		}
		if err := emuControl(ctx, http.MethodGet, emuURL+"/emulator/faults", nil, nil); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("emulator did not answer within 20s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newFixture creates an organization, n members each with a live session from a real magic-link
// login (so every session JWT differs), and an M2M client with read:members and a token for it.
func newFixture(ctx context.Context, emuURL, projectID, secret string, n int) (*fixture, error) {
	sc, err := stytchclient.New(stytchclient.Config{ProjectID: projectID, Secret: secret, BaseURL: emuURL, Version: "authbench"})
	if err != nil {
		return nil, err
	}
	f := &fixture{emuURL: emuURL, projectID: projectID, secret: secret, sc: sc}
	org, err := sc.OrganizationCreate(ctx, stytchclient.OrganizationCreateParams{
		OrganizationName:     "Bench Org",
		OrganizationSlug:     "bench-org",
		EmailJITProvisioning: "RESTRICTED",
		EmailAllowedDomains:  []string{"example.com"},
	})
	if err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	f.orgID = org.Organization.OrganizationID

	f.sessions = make([]session, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			s, err := f.login(gctx, fmt.Sprintf("bench-%06d@example.com", i))
			if err != nil {
				return fmt.Errorf("login %d: %w", i, err)
			}
			f.sessions[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	cl, err := sc.M2MClientCreate(ctx, stytchclient.M2MClientCreateParams{Scopes: []string{"read:members", "read:sessions"}, ClientName: "authbench"})
	if err != nil {
		return nil, fmt.Errorf("create M2M client: %w", err)
	}
	f.clientID, f.clientSecret = cl.M2MClient.ClientID, cl.M2MClient.ClientSecret
	tok, err := sc.M2MTokenRaw(ctx, stytchclient.M2MTokenParams{ClientID: f.clientID, ClientSecret: f.clientSecret})
	if err != nil {
		return nil, fmt.Errorf("M2M token: %w", err)
	}
	f.m2mToken = tok.AccessToken
	return f, nil
}

// login runs login_or_signup, reads the magic link from the outbox and authenticates it.
func (f *fixture) login(ctx context.Context, email string) (session, error) {
	if _, err := f.sc.MagicLinkLoginOrSignup(ctx, stytchclient.MagicLinkLoginOrSignupParams{OrganizationID: f.orgID, EmailAddress: email}); err != nil {
		return session{}, err
	}
	var box struct {
		Messages []struct {
			Token string `json:"token"`
		} `json:"messages"`
	}
	if err := emuControl(ctx, http.MethodGet, f.emuURL+"/emulator/outbox?to="+url.QueryEscape(email), nil, &box); err != nil {
		return session{}, err
	}
	if len(box.Messages) == 0 || box.Messages[len(box.Messages)-1].Token == "" {
		return session{}, errors.New("no magic link in the outbox")
	}
	res, err := f.sc.MagicLinkAuthenticate(ctx, stytchclient.MagicLinkAuthenticateParams{
		MagicLinksToken:        box.Messages[len(box.Messages)-1].Token,
		SessionDurationMinutes: 24 * 60,
	})
	if err != nil {
		return session{}, err
	}
	if !res.MemberAuthenticated || res.SessionJWT == "" {
		return session{}, errors.New("magic link did not authenticate a member")
	}
	return session{MemberID: res.MemberID, Token: res.SessionToken, JWT: res.SessionJWT}, nil
}

// newM2MClient creates another M2M client (for the concurrent-miss check).
func (f *fixture) newM2MClient(ctx context.Context, name string) (id, secret string, err error) {
	cl, err := f.sc.M2MClientCreate(ctx, stytchclient.M2MClientCreateParams{Scopes: []string{"read:members"}, ClientName: name})
	if err != nil {
		return "", "", err
	}
	return cl.M2MClient.ClientID, cl.M2MClient.ClientSecret, nil
}

// jwtPool holds fresh session JWTs for long runs: Stytch session JWTs live 5 minutes, so a run
// longer than that refreshes them from the emulator (directly, not through authsvc).
type jwtPool struct {
	mu   sync.RWMutex
	jwts []string
}

func (p *jwtPool) get(i int64) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.jwts[int(i%int64(len(p.jwts)))]
}

// refresh mints a new JWT for each of sessions.
func (p *jwtPool) refresh(ctx context.Context, f *fixture, sessions []session) error {
	fresh := make([]string, len(sessions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, s := range sessions {
		g.Go(func() error {
			res, err := f.sc.SessionsAuthenticate(gctx, stytchclient.SessionsAuthenticateParams{SessionToken: s.Token})
			if err != nil {
				return fmt.Errorf("refresh session JWT: %w", err)
			}
			fresh[i] = res.SessionJWT
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	p.mu.Lock()
	p.jwts = fresh
	p.mu.Unlock()
	return nil
}
