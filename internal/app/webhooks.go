package app

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/webhook"
)

// webhookRoute adds POST /v1/webhooks/stytch to the REST port's routes when a signing secret is
// configured (AUTHSVC_STYTCH_WEBHOOK_SECRET) or, in dev mode with the emulator authsvc started
// itself, with a secret made up for that emulator. It returns the secret the route checks ("" when
// the route is off). See docs/webhooks.md.
func (a *App) webhookRoute(cfg *config.Config, extra map[string]http.Handler, now func() time.Time) (string, error) {
	secret := cfg.Webhook.Secret
	if secret == "" && a.ownEmu {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		secret = "whsec_" + base64.StdEncoding.EncodeToString(b)
	}
	if secret == "" {
		return "", nil
	}
	h, err := webhook.New(webhook.Config{
		Secret:        secret,
		Revocations:   a.shared.revocations,
		Redis:         a.shared.store(),
		Now:           now,
		Logger:        a.log.With("component", "webhook"),
		MeterProvider: a.tel.MeterProvider,
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", webhook.EnvSecret, err)
	}
	extra["POST "+webhook.Path] = h
	return secret, nil
}

// devWebhooks points the emulator authsvc started itself (dev mode) at this replica's webhook
// route, so that a member deleted at the emulator reaches the revocation list as in production.
func (a *App) devWebhooks(secret string) error {
	if !a.ownEmu || secret == "" || a.emu == nil {
		return nil
	}
	url := "http://" + a.srv.HTTPAddr() + webhook.Path
	if err := a.emu.AddWebhookEndpoint(url, secret); err != nil {
		return fmt.Errorf("dev mode: emulator webhooks: %w", err)
	}
	if a.emuConsumer != nil {
		if err := a.emuConsumer.AddWebhookEndpoint(url, secret); err != nil {
			return fmt.Errorf("dev mode: emulator webhooks: %w", err)
		}
	}
	return nil
}
