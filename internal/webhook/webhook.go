package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	svix "github.com/svix/svix-webhooks/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/authsvc/authsvc/internal/telemetry"
)

const (
	// Path is the route Stytch posts to, on the REST port.
	Path = "/v1/webhooks/stytch"
	// MetricRequests counts webhook requests by outcome.
	MetricRequests = "authsvc_webhook_requests_total"
	// MaxBody bounds a webhook's body: Stytch's events are a few kilobytes. It is below the REST
	// port's own cap on every body (64 KiB, internal/server), so this route answers for itself.
	MaxBody = 32 << 10
	// Tolerance is how far a webhook's svix-timestamp may be from this replica's clock: the Svix
	// library's own window, which it enforces (authsvc checks it first only to name the outcome).
	Tolerance = 5 * time.Minute
	// seenFor is how long a message ID is remembered: longer than the window in which its
	// signature is accepted on either side of now, so a replay is refused by one or the other.
	seenFor   = 2*Tolerance + time.Minute
	seenKey   = "authsvc:webhook-seen:"
	redisWait = 150 * time.Millisecond
	// revokeFor is how long a revocation from a webhook lasts: a session JWT lives 5 minutes, plus
	// a minute of verifier leeway (the same bound as revocations made through authsvc, in
	// internal/service/base.go).
	revokeFor = 6 * time.Minute
	// m2mRevokeFor is how long an M2M client's revocation lasts: Stytch's M2M access tokens live
	// an hour by default, plus the same minute of leeway.
	m2mRevokeFor = time.Hour + time.Minute
)

// Outcomes of a webhook request, the outcome label of MetricRequests.
const (
	OutcomeApplied    = "applied"   // a revocation was recorded
	OutcomeIgnored    = "ignored"   // verified, but not an event authsvc acts on (200)
	OutcomeDuplicate  = "duplicate" // a message ID already handled (200, nothing done)
	OutcomeUnsigned   = "unsigned"  // a Svix header is missing (401)
	OutcomeBadSig     = "bad_signature"
	OutcomeStale      = "stale"     // the timestamp is outside Tolerance (401)
	OutcomeTooLarge   = "too_large" // the body is over MaxBody (413)
	OutcomeMalformed  = "malformed" // verified, but not a JSON event (400)
	outcomeBadRequest = "bad_request"
)

// Revocations is what the webhook records revocations in; *revocation.List implements it.
type Revocations interface {
	Revoke(ctx context.Context, sessionID string, until time.Time)
	RevokeMember(ctx context.Context, memberID string, at, until time.Time)
}

// Config builds a Handler.
type Config struct {
	// Secret is the endpoint's signing secret (Svix's format); required.
	Secret string
	// Revocations receives the revocations; required.
	Revocations Revocations
	// Redis, when set, shares the message IDs already handled between replicas; nil keeps them per
	// replica.
	Redis redis.UniversalClient
	// Now is the clock of the revocations (give it the verifier's); nil means time.Now. The
	// signature's timestamp is always checked against the wall clock, as the Svix library does.
	Now func() time.Time
	// Logger receives the audit lines; nil discards.
	Logger *slog.Logger
	// MeterProvider creates MetricRequests; nil counts nothing.
	MeterProvider metric.MeterProvider
}

// Handler serves POST /v1/webhooks/stytch.
type Handler struct {
	wh       *svix.Webhook
	revs     Revocations
	rdb      redis.UniversalClient
	now      func() time.Time
	log      *slog.Logger
	logEvery *rate.Sometimes
	requests metric.Int64Counter

	mu   sync.Mutex
	seen map[string]time.Time // message ID → forget after; without Redis
}

// New builds a Handler.
func New(cfg Config) (*Handler, error) {
	if err := checkSecret(cfg.Secret); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if cfg.Revocations == nil {
		return nil, errors.New("webhook: no revocation list")
	}
	wh, err := svix.NewWebhook(cfg.Secret)
	if err != nil {
		return nil, errors.New("webhook: not a Svix signing secret")
	}
	h := &Handler{
		wh: wh, revs: cfg.Revocations, rdb: cfg.Redis, now: cfg.Now, log: cfg.Logger,
		logEvery: &rate.Sometimes{Interval: 10 * time.Second},
		seen:     map[string]time.Time{},
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	if h.requests, err = mp.Meter(telemetry.ScopeName).Int64Counter(MetricRequests,
		metric.WithUnit("{request}"),
		metric.WithDescription("Stytch webhook requests by outcome (applied, ignored, duplicate, unsigned, bad_signature, stale, too_large, malformed)."),
	); err != nil {
		return nil, fmt.Errorf("webhook: %s: %w", MetricRequests, err)
	}
	return h, nil
}

// event is the part of a Stytch event authsvc reads. Stytch names the changed object by its type
// (a "member" object for object_type member, ...); only IDs and a status are read, so no personal
// data is decoded.
type event struct {
	EventID    string `json:"event_id"`
	Source     string `json:"source"`
	ObjectType string `json:"object_type"`
	Action     string `json:"action"`
	ID         string `json:"id"`
	Member     *struct {
		MemberID string `json:"member_id"`
		Status   string `json:"status"`
	} `json:"member"`
	User *struct {
		UserID string `json:"user_id"`
		Status string `json:"status"`
	} `json:"user"`
	Session *struct {
		MemberSessionID string `json:"member_session_id"`
		SessionID       string `json:"session_id"`
	} `json:"session"`
	M2MClient *struct {
		ClientID string `json:"client_id"`
		Status   string `json:"status"`
	} `json:"m2m_client"`
}

// typ is the event type as Stytch names it: source.object_type.action, lower case.
func (e *event) typ() string {
	return strings.ToLower(e.Source + "." + e.ObjectType + "." + e.Action)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reply(ctx, w, http.StatusMethodNotAllowed, outcomeBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reply(ctx, w, http.StatusRequestEntityTooLarge, OutcomeTooLarge)
			return
		}
		h.reply(ctx, w, http.StatusBadRequest, outcomeBadRequest)
		return
	}
	msgID := r.Header.Get("svix-id")
	if msgID == "" || r.Header.Get("svix-timestamp") == "" || r.Header.Get("svix-signature") == "" {
		h.reply(ctx, w, http.StatusUnauthorized, OutcomeUnsigned)
		return
	}
	if !fresh(r.Header.Get("svix-timestamp"), time.Now()) {
		h.reply(ctx, w, http.StatusUnauthorized, OutcomeStale)
		return
	}
	if err := h.wh.Verify(body, r.Header); err != nil {
		h.reply(ctx, w, http.StatusUnauthorized, OutcomeBadSig)
		return
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ObjectType == "" || ev.Action == "" {
		h.reply(ctx, w, http.StatusBadRequest, OutcomeMalformed)
		return
	}
	if !h.firstTime(ctx, msgID) {
		h.reply(ctx, w, http.StatusOK, OutcomeDuplicate)
		return
	}
	action, subject := h.apply(ctx, &ev)
	outcome := OutcomeApplied
	if action == "" {
		outcome, action = OutcomeIgnored, "none"
	}
	h.audit(ctx, &ev, msgID, action, subject)
	h.reply(ctx, w, http.StatusOK, outcome)
}

// fresh reports whether a svix-timestamp is within Tolerance of now.
func fresh(ts string, now time.Time) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(sec, 0))
	return d <= Tolerance && d >= -Tolerance
}

// apply records what the event means for sessions; it returns what it did ("" for nothing) and the
// ID it acted on.
func (h *Handler) apply(ctx context.Context, ev *event) (action, subject string) {
	now := h.now()
	switch strings.ToLower(ev.ObjectType) + "." + strings.ToLower(ev.Action) {
	case "member.delete":
		subject = first(ev.ID, memberID(ev))
	case "member.update":
		// A member whose status became deleted (the dashboard or SCIM deprovisioning) is treated
		// as deleted; other updates do not end sessions.
		if ev.Member == nil || !strings.EqualFold(ev.Member.Status, "deleted") {
			return "", ""
		}
		subject = first(ev.Member.MemberID, ev.ID)
	case "user.delete":
		subject = first(ev.ID, userID(ev))
	case "session.delete":
		id := ev.ID
		if ev.Session != nil {
			id = first(ev.Session.MemberSessionID, ev.Session.SessionID, ev.ID)
		}
		if id == "" {
			return "", ""
		}
		h.revs.Revoke(ctx, id, now.Add(revokeFor))
		return "revoke_session", id
	case "m2m_client.delete":
		id := ev.ID
		if ev.M2MClient != nil {
			id = first(ev.M2MClient.ClientID, ev.ID)
		}
		if id == "" {
			return "", ""
		}
		h.revs.RevokeMember(ctx, id, now, now.Add(m2mRevokeFor))
		return "revoke_m2m_client", id
	default:
		return "", ""
	}
	if subject == "" {
		return "", ""
	}
	h.revs.RevokeMember(ctx, subject, now, now.Add(revokeFor))
	return "revoke_member", subject
}

func memberID(ev *event) string {
	if ev.Member == nil {
		return ""
	}
	return ev.Member.MemberID
}

func userID(ev *event) string {
	if ev.User == nil {
		return ""
	}
	return ev.User.UserID
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstTime claims a message ID: true the first time it is seen (by any replica with Redis). A
// Redis that cannot answer lets the event through: every action is idempotent (a revocation
// recorded twice is one revocation), so applying a duplicate is harmless, while dropping an event
// would let a deleted member in.
func (h *Handler) firstTime(ctx context.Context, msgID string) bool {
	if h.rdb != nil {
		rctx, cancel := context.WithTimeout(ctx, redisWait)
		defer cancel()
		ok, err := h.rdb.SetNX(rctx, seenKey+msgID, 1, seenFor).Result()
		if err == nil {
			return ok
		}
		h.logEvery.Do(func() {
			h.log.WarnContext(ctx, "webhook: Redis unavailable; applying the event without checking for a duplicate (logged at most every 10s)",
				"error", err.Error())
		})
		// Fall through to this replica's own memory.
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, until := range h.seen {
		if now.After(until) {
			delete(h.seen, id)
		}
	}
	if _, dup := h.seen[msgID]; dup {
		return false
	}
	h.seen[msgID] = now.Add(seenFor)
	return true
}

// audit writes the audit line and span event of a verified event. They carry IDs and the event
// type only: never the payload, which holds names and email addresses.
func (h *Handler) audit(ctx context.Context, ev *event, msgID, action, subject string) {
	attrs := []attribute.KeyValue{
		attribute.String("webhook.event_type", ev.typ()),
		attribute.String("webhook.message_id", msgID),
		attribute.String("webhook.action", action),
	}
	if subject != "" {
		attrs = append(attrs, attribute.String("webhook.subject", subject))
	}
	trace.SpanFromContext(ctx).AddEvent("stytch.webhook", trace.WithAttributes(attrs...))
	h.log.InfoContext(ctx, "stytch webhook", "audit", true, "event_type", ev.typ(), "event_id", ev.EventID,
		"message_id", msgID, "action", action, "subject", subject)
}

func (h *Handler) reply(ctx context.Context, w http.ResponseWriter, status int, outcome string) {
	h.requests.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"outcome\":%q}\n", outcome)
}
