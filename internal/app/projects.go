package app

import (
	"fmt"

	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchclient/verify"
)

// Two projects, one service. A deployment fronts a Stytch B2B project, a consumer project, or both
// (config: STYTCH_PROJECT_ID / STYTCH_SECRET for B2B, STYTCH_CONSUMER_PROJECT_ID /
// STYTCH_CONSUMER_SECRET for consumer); dev mode runs both in the embedded emulator. Each project
// has its own client and its own JWKS cache; the API of a project that is off is not registered
// (apis.go).
//
// The M2M API and the M2M access tokens that authenticate services belong to one project: both
// kinds of Stytch project have M2M clients, and a token verifies only against its own project's
// keys. authsvc uses the B2B project when it is configured (M2M clients created before consumer
// support keep working) and the consumer project otherwise, so a consumer-only deployment still
// has service callers.

// project is one Stytch project's credentials, as the clients are built from them.
type project struct {
	id, secret, baseURL string
	kind                stytchclient.ProjectType
	// publicToken is the project's public token (consumer OAuth, B2B SSO and B2B OAuth start
	// URLs); empty when unknown.
	publicToken string
}

// projectSet is the served projects; nil means that project is off.
type projectSet struct {
	b2b, consumer *project
}

// m2m returns the project of the M2M API and of the services' access tokens: B2B when on.
func (p projectSet) m2m() *project {
	if p.b2b != nil {
		return p.b2b
	}
	return p.consumer
}

// projects resolves the served projects: the configured ones, or in dev mode the embedded
// emulator's (which it starts).
func (a *App) projects(cfg *config.Config, opts Options) (projectSet, error) {
	var set projectSet
	if cfg.DevMode() {
		emu, consumer, err := a.startEmulator(opts)
		if err != nil {
			return set, err
		}
		a.emu, a.emuConsumer = emu, consumer
		set.b2b = &project{id: emu.ProjectID(), secret: emu.Secret(), baseURL: emu.URL, kind: stytchclient.ProjectB2B, publicToken: emu.PublicToken()}
		if consumer != nil {
			set.consumer = &project{
				id: consumer.ProjectID(), secret: consumer.Secret(), baseURL: emu.URL, kind: stytchclient.ProjectConsumer,
				publicToken: consumer.PublicToken(),
			}
		}
		return set, nil
	}
	if cfg.StytchProjectID != "" {
		set.b2b = &project{
			id: cfg.StytchProjectID, secret: cfg.StytchSecret, baseURL: cfg.StytchBaseURL, kind: stytchclient.ProjectB2B,
			publicToken: cfg.StytchPublicToken,
		}
	}
	if cfg.StytchConsumerProjectID != "" {
		set.consumer = &project{
			id: cfg.StytchConsumerProjectID, secret: cfg.StytchConsumerSecret, baseURL: cfg.StytchConsumerBaseURL,
			kind: stytchclient.ProjectConsumer, publicToken: cfg.StytchConsumerPublicToken,
		}
	}
	return set, nil
}

// clients builds each served project's Stytch client and JWKS cache, and picks the M2M project's.
func (a *App) clients(set projectSet, opts Options) error {
	build := func(p *project) (*stytchclient.Client, *verify.JWKSCache, error) {
		name := string(p.kind)
		c, err := stytchclient.New(stytchclient.Config{
			ProjectID:      p.id,
			Secret:         p.secret,
			BaseURL:        p.baseURL,
			ProjectType:    p.kind,
			Version:        opts.Version,
			TracerProvider: a.tel.TracerProvider,
			MeterProvider:  a.tel.MeterProvider,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("stytch client (%s project): %w", name, err)
		}
		keys, err := verify.NewJWKSCache(verify.JWKSCacheConfig{
			Fetch:          c.FetchJWKS,
			Name:           name,
			Now:            opts.Now,
			Logger:         a.log,
			TracerProvider: a.tel.TracerProvider,
			MeterProvider:  a.tel.MeterProvider,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("jwks cache (%s project): %w", name, err)
		}
		return c, keys, nil
	}
	var err error
	if set.b2b != nil {
		if a.b2b, a.jwks, err = build(set.b2b); err != nil {
			return err
		}
	}
	if set.consumer != nil {
		if a.consumer, a.consumerJWKS, err = build(set.consumer); err != nil {
			return err
		}
	}
	a.stytch = a.b2b
	if a.b2b == nil {
		a.stytch, a.jwks = a.consumer, a.consumerJWKS
	}
	return nil
}
