package harness

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

// Session is one live member session on the emulator.
type Session struct {
	MemberID string
	Token    string
	JWT      string
}

// Fixture is what the benchmark created on the emulator.
type Fixture struct {
	EmuURL    string
	ProjectID string
	Secret    string
	SC        *stytchclient.Client
	OrgID     string
	Sessions  []Session
	// ClientID/ClientSecret: an M2M client with read:members; M2MToken one of its access tokens.
	ClientID, ClientSecret string
	M2MToken               string
}

// EmuControl calls one of the emulator's control endpoints (/emulator/...). They take no credentials.
func EmuControl(ctx context.Context, method, u string, body any, out any) error {
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

// UpstreamCount is the number of requests the emulator served on its Stytch endpoints so far, for
// the project projectID (empty: the B2B project).
func UpstreamCount(ctx context.Context, emuURL, pattern, projectID string) (int64, error) {
	var r struct {
		Count int64 `json:"count"`
	}
	u := emuURL + "/emulator/requests?pattern=" + url.QueryEscape(pattern)
	if projectID != "" {
		u += "&project_id=" + url.QueryEscape(projectID)
	}
	err := EmuControl(ctx, http.MethodGet, u, nil, &r)
	return r.Count, err
}

// SetLatency replaces the emulator's faults by a fixed latency on every Stytch endpoint.
func SetLatency(ctx context.Context, emuURL string, d time.Duration) error {
	if err := EmuControl(ctx, http.MethodDelete, emuURL+"/emulator/faults", nil, nil); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	return EmuControl(ctx, http.MethodPost, emuURL+"/emulator/faults", map[string]string{"pattern": "*", "latency": d.String()}, nil)
}

// WaitEmulator waits until the emulator answers its control API.
func WaitEmulator(ctx context.Context, emuURL string, p *Proc) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		if err := p.Alive(); err != nil {
			return err
		}
		if err := EmuControl(ctx, http.MethodGet, emuURL+"/emulator/faults", nil, nil); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("emulator did not answer within 20s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NewFixture creates an organization, n members each with a live Session from a real magic-link
// Login (so every Session JWT differs), and an M2M client with read:members and a token for it.
func NewFixture(ctx context.Context, emuURL, projectID, secret string, n int) (*Fixture, error) {
	sc, err := stytchclient.New(stytchclient.Config{ProjectID: projectID, Secret: secret, BaseURL: emuURL, Version: "authbench"})
	if err != nil {
		return nil, err
	}
	f := &Fixture{EmuURL: emuURL, ProjectID: projectID, Secret: secret, SC: sc}
	org, err := sc.OrganizationCreate(ctx, stytchclient.OrganizationCreateParams{
		OrganizationName:     "Bench Org",
		OrganizationSlug:     "bench-org",
		EmailJITProvisioning: "RESTRICTED",
		EmailAllowedDomains:  []string{"example.com"},
	})
	if err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	f.OrgID = org.Organization.OrganizationID

	f.Sessions = make([]Session, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			s, err := f.Login(gctx, fmt.Sprintf("bench-%06d@example.com", i))
			if err != nil {
				return fmt.Errorf("login %d: %w", i, err)
			}
			f.Sessions[i] = s
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
	f.ClientID, f.ClientSecret = cl.M2MClient.ClientID, cl.M2MClient.ClientSecret
	tok, err := sc.M2MTokenRaw(ctx, stytchclient.M2MTokenParams{ClientID: f.ClientID, ClientSecret: f.ClientSecret})
	if err != nil {
		return nil, fmt.Errorf("M2M token: %w", err)
	}
	f.M2MToken = tok.AccessToken
	return f, nil
}

// Login runs login_or_signup, reads the magic link from the outbox and authenticates it.
func (f *Fixture) Login(ctx context.Context, email string) (Session, error) {
	if _, err := f.SC.MagicLinkLoginOrSignup(ctx, stytchclient.MagicLinkLoginOrSignupParams{OrganizationID: f.OrgID, EmailAddress: email}); err != nil {
		return Session{}, err
	}
	var box struct {
		Messages []struct {
			Token string `json:"token"`
		} `json:"messages"`
	}
	if err := EmuControl(ctx, http.MethodGet, f.EmuURL+"/emulator/outbox?to="+url.QueryEscape(email), nil, &box); err != nil {
		return Session{}, err
	}
	if len(box.Messages) == 0 || box.Messages[len(box.Messages)-1].Token == "" {
		return Session{}, errors.New("no magic link in the outbox")
	}
	res, err := f.SC.MagicLinkAuthenticate(ctx, stytchclient.MagicLinkAuthenticateParams{
		MagicLinksToken:        box.Messages[len(box.Messages)-1].Token,
		SessionDurationMinutes: 24 * 60,
	})
	if err != nil {
		return Session{}, err
	}
	if !res.MemberAuthenticated || res.SessionJWT == "" {
		return Session{}, errors.New("magic link did not authenticate a member")
	}
	return Session{MemberID: res.MemberID, Token: res.SessionToken, JWT: res.SessionJWT}, nil
}

// NewM2MClient creates another M2M client (for the concurrent-miss check).
func (f *Fixture) NewM2MClient(ctx context.Context, name string) (id, secret string, err error) {
	cl, err := f.SC.M2MClientCreate(ctx, stytchclient.M2MClientCreateParams{Scopes: []string{"read:members"}, ClientName: name})
	if err != nil {
		return "", "", err
	}
	return cl.M2MClient.ClientID, cl.M2MClient.ClientSecret, nil
}

// JWTPool holds fresh Session JWTs for long runs: Stytch Session JWTs live 5 minutes, so a run
// longer than that refreshes them from the emulator (directly, not through authsvc).
type JWTPool struct {
	mu   sync.RWMutex
	jwts []string
}

func (p *JWTPool) Get(i int64) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.jwts[int(i%int64(len(p.jwts)))]
}

// Refresh mints a new JWT for each of sessions.
func (p *JWTPool) Refresh(ctx context.Context, f *Fixture, sessions []Session) error {
	fresh := make([]string, len(sessions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, s := range sessions {
		g.Go(func() error {
			res, err := f.SC.SessionsAuthenticate(gctx, stytchclient.SessionsAuthenticateParams{SessionToken: s.Token})
			if err != nil {
				return fmt.Errorf("refresh Session JWT: %w", err)
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
