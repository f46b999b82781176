package stytchemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/authsvc/authsvc/internal/backoff"
)

// Webhooks: the emulator tells configured endpoints about changes made through its API (a member
// deleted, a session revoked, an M2M client or a user deleted), as Stytch does through Svix: a
// JSON event POSTed with the svix-id, svix-timestamp and svix-signature headers, signed with the
// endpoint's secret, and retried with backoff while the endpoint fails. Endpoints are added at run
// time (AddWebhookEndpoint, or POST /emulator/webhooks), so a test or dev mode can point the
// emulator at authsvc. The event body follows Stytch's documented shape: project_id, event_id,
// source, object_type, action, id, timestamp, and the changed object under its type's name.

const (
	// webhookAttempts bounds the deliveries of one event to one endpoint.
	webhookAttempts = 6
	// webhookTimeout bounds one delivery attempt.
	webhookTimeout = 5 * time.Second
	// webhookLogSize bounds the delivery log WebhookDeliveries returns.
	webhookLogSize = 256
)

// webhookRetry spaces the attempts: 100 ms, 200 ms, ... at most 2 s (about 4 s in all).
var webhookRetry = backoff.Policy{Min: 100 * time.Millisecond, Max: 2 * time.Second, Jitter: backoff.EqualJitter}

// WebhookDelivery is the outcome of one event sent to one endpoint.
type WebhookDelivery struct {
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	URL      string `json:"url"`
	Attempts int    `json:"attempts"`
	// Status is the last response's HTTP status; 0 when no response came.
	Status    int  `json:"status"`
	Delivered bool `json:"delivered"`
}

// webhookEvent is one event, before it is encoded for an endpoint.
type webhookEvent struct {
	objectType string // member, session, m2m_client, user
	action     string // DELETE, UPDATE
	id         string // the object's ID
	object     obj
	at         time.Time // the emulator clock's time of the change
}

type webhookEndpoint struct {
	url    string
	signer *svix.Webhook
}

// webhookHub holds an emulator's endpoints and its deliveries in flight.
type webhookHub struct {
	mu        sync.Mutex
	endpoints []webhookEndpoint
	log       []WebhookDelivery
	closed    bool
	ctx       context.Context //nolint:containedctx // cancelled by Close, ends the retries
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	client    *http.Client
}

func (h *webhookHub) init() {
	if h.ctx == nil {
		h.ctx, h.cancel = context.WithCancel(context.Background())
		h.client = &http.Client{Timeout: webhookTimeout}
	}
}

// AddWebhookEndpoint sends the emulator's events from now on to rawURL (http or https), signed
// with secret (Svix's format: "whsec_" and base64). Adding a URL again replaces its secret.
func (e *Emulator) AddWebhookEndpoint(rawURL, secret string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("stytchemu: webhook url must be an absolute http(s) URL")
	}
	signer, err := svix.NewWebhook(secret)
	if err != nil {
		return errors.New("stytchemu: webhook secret must be whsec_ followed by base64")
	}
	h := &e.webhooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.init()
	for i, ep := range h.endpoints {
		if ep.url == rawURL {
			h.endpoints[i].signer = signer
			return nil
		}
	}
	h.endpoints = append(h.endpoints, webhookEndpoint{url: rawURL, signer: signer})
	return nil
}

// ClearWebhookEndpoints stops sending events; deliveries in flight go on.
func (e *Emulator) ClearWebhookEndpoints() {
	e.webhooks.mu.Lock()
	defer e.webhooks.mu.Unlock()
	e.webhooks.endpoints = nil
}

// WebhookEndpoints lists the endpoints' URLs (never their secrets).
func (e *Emulator) WebhookEndpoints() []string {
	e.webhooks.mu.Lock()
	defer e.webhooks.mu.Unlock()
	out := make([]string, 0, len(e.webhooks.endpoints))
	for _, ep := range e.webhooks.endpoints {
		out = append(out, ep.url)
	}
	return out
}

// WebhookDeliveries returns the finished deliveries, oldest first (at most the last 256).
func (e *Emulator) WebhookDeliveries() []WebhookDelivery {
	e.webhooks.mu.Lock()
	defer e.webhooks.mu.Unlock()
	return append([]WebhookDelivery(nil), e.webhooks.log...)
}

// closeWebhooks ends the retries and waits for the deliveries in flight.
func (e *Emulator) closeWebhooks() {
	h := &e.webhooks
	h.mu.Lock()
	h.closed = true
	if h.cancel != nil {
		h.cancel()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// event records, during a request, an event to send once the request has succeeded.
func (rq *request) event(objectType, action, id string, object obj) {
	rq.events = append(rq.events, webhookEvent{objectType: objectType, action: action, id: id, object: object, at: rq.now})
}

// sendWebhooks starts the delivery of a successful request's events to every endpoint.
func (e *Emulator) sendWebhooks(events []webhookEvent) {
	if len(events) == 0 {
		return
	}
	h := &e.webhooks
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || len(h.endpoints) == 0 {
		return
	}
	for _, ev := range events {
		id := "msg_" + strings.ReplaceAll(newUUID(), "-", "")
		body := obj{
			"project_id":  e.projectID,
			"event_id":    "event-" + newUUID(),
			"source":      "DIRECT",
			"object_type": ev.objectType,
			"action":      ev.action,
			"id":          ev.id,
			"timestamp":   rfc3339(ev.at),
			ev.objectType: ev.object,
		}
		payload, err := json.Marshal(body)
		if err != nil {
			continue // unreachable: the bodies are plain maps of strings
		}
		typ := strings.ToLower("direct." + ev.objectType + "." + ev.action)
		for _, ep := range h.endpoints {
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				e.deliver(h, ep, id, typ, payload)
			}()
		}
	}
}

// deliver sends one event to one endpoint until it answers 2xx, the attempts run out or the
// emulator closes. Each attempt is signed afresh (Svix keeps the message ID and signs the attempt's
// time), so a receiver's timestamp tolerance does not reject a late retry.
func (e *Emulator) deliver(h *webhookHub, ep webhookEndpoint, id, typ string, payload []byte) {
	d := WebhookDelivery{EventID: id, Type: typ, URL: ep.url}
	for d.Attempts < webhookAttempts && h.ctx.Err() == nil {
		if d.Attempts > 0 && backoff.Sleep(h.ctx, webhookRetry.Delay(d.Attempts)) != nil {
			break
		}
		d.Attempts++
		status, err := e.post(h, ep, id, payload)
		d.Status = status
		if err == nil && status >= 200 && status < 300 {
			d.Delivered = true
			break
		}
		e.logger.Debug("stytchemu: webhook attempt failed", slog.String("event_type", typ),
			slog.Int("attempt", d.Attempts), slog.Int("status", status))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, d)
	if len(h.log) > webhookLogSize {
		h.log = h.log[len(h.log)-webhookLogSize:]
	}
}

func (e *Emulator) post(h *webhookHub, ep webhookEndpoint, id string, payload []byte) (int, error) {
	now := time.Now() // the receiver checks the timestamp against its wall clock, not ours
	sig, err := ep.signer.Sign(id, now, payload)
	if err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, ep.url, bytes.NewReader(payload))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("svix-id", id)
	req.Header.Set("svix-timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("svix-signature", sig)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

type webhookEndpointJSON struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// handleAddWebhook is POST /emulator/webhooks {"url": ..., "secret": "whsec_..."}.
func (e *Emulator) handleAddWebhook(w http.ResponseWriter, r *http.Request) {
	var j webhookEndpointJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&j); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be {\"url\": ..., \"secret\": ...}"})
		return
	}
	if err := e.AddWebhookEndpoint(j.URL, j.Secret); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, webhookEndpointJSON{URL: j.URL})
}

// handleListWebhooks is GET /emulator/webhooks: the endpoints (without secrets) and deliveries.
func (e *Emulator) handleListWebhooks(w http.ResponseWriter, _ *http.Request) {
	eps := []webhookEndpointJSON{}
	for _, u := range e.WebhookEndpoints() {
		eps = append(eps, webhookEndpointJSON{URL: u})
	}
	ds := e.WebhookDeliveries()
	if ds == nil {
		ds = []WebhookDelivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": eps, "deliveries": ds})
}

// handleClearWebhooks is DELETE /emulator/webhooks.
func (e *Emulator) handleClearWebhooks(w http.ResponseWriter, _ *http.Request) {
	e.ClearWebhookEndpoints()
	w.WriteHeader(http.StatusNoContent)
}
