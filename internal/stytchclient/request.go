package stytchclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/authsvc/authsvc/internal/backoff"
)

const instrumentationName = "github.com/authsvc/authsvc/internal/stytchclient"

// Span attribute keys added to every Stytch client span.
const (
	AttrRequestID = attribute.Key("stytch.request_id")
	AttrErrorType = attribute.Key("stytch.error_type")
	attrEndpoint  = attribute.Key("stytch.endpoint")
	attrTemplate  = attribute.Key("url.template")
	attrResend    = attribute.Key("http.request.resend_count")
	attrStatus    = attribute.Key("http.response.status_code")
	attrErrType   = attribute.Key("error.type")
)

// Envelope is the part every Stytch success response carries.
type Envelope struct {
	RequestID  string `json:"request_id"`
	StatusCode int    `json:"status_code"`
}

func (e *Envelope) envelope() *Envelope { return e }

// call describes one API request.
type call struct {
	// endpoint is "METHOD /path/{template}": the span name, the metric label and, with params,
	// the request path (see buildPath).
	endpoint string
	// params are the values of the template's {placeholders}, in order, unescaped.
	params []string
	query  url.Values
	// body is JSON-encoded; nil on POST/PUT sends "{}" (Stytch requires a body).
	body any
	// form, when set, is sent form-encoded instead of body (token endpoint).
	form url.Values
	// member is sent as X-Stytch-Member-Session[JWT].
	member MemberSession
	// readOnly marks a POST that changes nothing at Stytch (searches, list),
	// so it may be replayed like a GET. See (*Client).do.
	readOnly bool
	// noAuth omits the project Basic auth (token endpoint).
	noAuth bool
	// endUserCredentials marks an endpoint that checks an end user's password: its 401
	// unauthorized_credentials means that password was wrong (see Error.EndUserCredentials).
	endUserCredentials bool
}

// attempt is per-attempt state shared, through the request context, between
// do and the annotate transport below otelhttp.
type attempt struct {
	endpoint string
	template string
	rawQuery string // the real query; the request URL carries a redacted copy
	number   int
	gotConn  atomic.Bool // httptrace GotConn fired: the request may have been (partly) sent

	// Set by annotate once a response arrived.
	span     trace.Span
	body     []byte
	tooLarge bool
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// spanName is otelhttp's span-name formatter: the endpoint template, never
// the concrete URL, so spans group by operation and carry no IDs.
func spanName(_ string, r *http.Request) string {
	if a := attemptFrom(r.Context()); a != nil {
		return a.endpoint
	}
	return "HTTP " + r.Method
}

// do runs c with retries where they are safe and decodes a 2xx body into
// out (nil: discard; *[]byte: raw body).
//
// Retry classification — a request is attempted again only when a replay
// cannot do anything the first attempt did not:
//
//   - The attempt failed before it got a connection (DNS, dial refused,
//     TLS handshake, proxy CONNECT): httptrace's GotConn never fired, so
//     no byte can have reached Stytch. Any method qualifies. GotConn is
//     used rather than WroteHeaders/WroteRequest because net/http calls it
//     synchronously on the RoundTrip goroutine for HTTP/1 and HTTP/2
//     alike, whereas the write hooks run on writer goroutines and may not
//     have run when RoundTrip returns. Once a connection is held, a server
//     or proxy may have read part of the request — the headers alone can
//     be counted by a rate limiter, as the emulator counts them — so a
//     request cut off mid-write is not repeated. The common case inside
//     that window, a pooled keep-alive connection found dead before any
//     byte was sent, is already retried by net/http itself (the body has
//     GetBody).
//   - The request is read-only — every GET, plus the POST searches and the
//     discovery organization list, flagged readOnly — and the failure is a
//     transport error, a timeout, or a 500/502/503/504 response.
//
// Everything else is returned after the first attempt that got a connection: sends
// (emails, SMS), authenticates (a magic-link token or OTP code is consumed
// by the first attempt; a replay fails or double-counts brute-force
// limits), creates, exchanges, token issuance, PUTs, and DELETEs. DELETE is
// idempotent in HTTP terms but a replay of a delete that succeeded answers
// 404, turning success into an error, so it is treated as a write. 429 is
// never retried (see retryableStatus).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	method, template, _ := strings.Cut(cl.endpoint, " ")
	if err := c.checkProject(cl.endpoint, template); err != nil {
		return err // before any request, like a bad path parameter
	}
	path, err := buildPath(cl.endpoint, cl.params)
	if err != nil {
		return err // before any request: nothing to record or retry
	}
	var (
		payload     []byte
		contentType string
	)
	switch {
	case cl.form != nil:
		payload, contentType = []byte(cl.form.Encode()), "application/x-www-form-urlencoded"
	case cl.body != nil:
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("stytch: %s: encoding request: %w", cl.endpoint, err)
		}
		payload, contentType = b, "application/json"
	case method == http.MethodPost || method == http.MethodPut:
		payload, contentType = []byte("{}"), "application/json"
	}
	u := c.baseURL + path
	var rawQuery string
	if len(cl.query) > 0 {
		rawQuery = cl.query.Encode()
		// The URL given to net/http (and so to otelhttp's url.full and to
		// any *url.Error) has every query value redacted; annotate swaps
		// the real query back in just before the wire.
		u += "?" + redactedQuery(cl.query)
	}

	for n := 1; ; n++ {
		err := c.attempt(ctx, cl, &attempt{endpoint: cl.endpoint, template: template, rawQuery: rawQuery, number: n},
			method, u, payload, contentType, out)
		if err == nil {
			return nil
		}
		retry, delay := c.shouldRetry(err, n)
		var r retryable
		if errors.As(err, &r) {
			err = r.error // callers never see the internal marker
		}
		if !retry {
			return err
		}
		if backoff.Sleep(ctx, delay) != nil {
			return err // the caller's context ended during backoff; the upstream error says more
		}
	}
}

// retryable marks an attempt error that do may retry if policy allows.
type retryable struct{ error }

func (r retryable) Unwrap() error { return r.error }

func (c *Client) shouldRetry(err error, n int) (bool, time.Duration) {
	var r retryable
	if !errors.As(err, &r) || n >= c.retry.MaxAttempts {
		return false, 0
	}
	delay := c.retry.backoff(n)
	if e, ok := AsError(err); ok && e.RetryAfter > 0 {
		if e.RetryAfter > c.retry.MaxDelay {
			return false, 0 // Stytch asked for longer than we are willing to hold the caller
		}
		delay = max(delay, e.RetryAfter)
	}
	return true, delay
}

func (c *Client) attempt(ctx context.Context, cl call, a *attempt, method, u string, payload []byte, contentType string, out any) error {
	actx := ctx
	if c.timeout > 0 {
		// The attempt's own deadline (Config.HTTPClient's Timeout): it covers the body too, which
		// annotate reads inside RoundTrip. Its expiry is a timeout of this client (isTimeout), and
		// ctx.Err() below stays nil, so it is told apart from the caller's deadline.
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	actx = context.WithValue(actx, attemptKey{}, a)
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { a.gotConn.Store(true) },
	})
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload) // NewRequest sets GetBody, so net/http may replay unwritten requests too
	}
	req, err := http.NewRequestWithContext(actx, method, u, body)
	if err != nil {
		return fmt.Errorf("stytch: %s: building request: %w", cl.endpoint, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if !cl.noAuth {
		req.SetBasicAuth(c.projectID, c.secret)
	}
	cl.member.apply(req.Header)

	safe := method == http.MethodGet || cl.readOnly
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		elapsed := time.Since(start)
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The caller gave up (cancelled or its deadline passed): that is
			// not Stytch being unavailable, and never worth a retry.
			c.record(ctx, a, elapsed, 0, "canceled")
			return fmt.Errorf("stytch: %s: %w", cl.endpoint, ctxErr)
		}
		te := &TransportError{Endpoint: cl.endpoint, Timeout: isTimeout(err), Attempts: a.number, Err: unwrapURLError(err)}
		kind := "transport"
		if te.Timeout {
			kind = "timeout"
		}
		c.record(ctx, a, elapsed, 0, kind)
		if !a.gotConn.Load() || safe {
			return retryable{te}
		}
		return te
	}
	// annotate has already read (and capped) the body into a.body; closing
	// ends otelhttp's span, so set attributes first.
	defer func() { _ = resp.Body.Close() }() // an in-memory reader: Close cannot fail
	c.record(ctx, a, time.Since(start), resp.StatusCode, "")

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := newError(cl.endpoint, resp.StatusCode, resp.Header, a.body, time.Now())
		e.EndUserCredentials = cl.endUserCredentials
		tagSpan(a.span, e.RequestID, e.ErrorType)
		if safe && retryableStatus(resp.StatusCode) {
			return retryable{e}
		}
		return e
	}
	if a.tooLarge {
		tagSpan(a.span, headerRequestID(resp.Header), "")
		return fmt.Errorf("stytch: %s: response body exceeds %d bytes", cl.endpoint, c.maxBody)
	}
	reqID, err := decodeSuccess(a.body, out)
	if reqID == "" {
		reqID = headerRequestID(resp.Header)
	}
	tagSpan(a.span, reqID, "")
	if err != nil {
		return fmt.Errorf("stytch: %s: decoding %d response: %w", cl.endpoint, resp.StatusCode, err)
	}
	return nil
}

// decodeSuccess fills out from body and returns Stytch's request_id.
func decodeSuccess(body []byte, out any) (string, error) {
	switch o := out.(type) {
	case nil:
		var env Envelope
		if looksJSON(body) {
			_ = json.Unmarshal(body, &env) // only for the request ID; the body is otherwise ignored
		}
		return env.RequestID, nil
	case *[]byte:
		*o = body
		var env Envelope
		if looksJSON(body) {
			_ = json.Unmarshal(body, &env)
		}
		return env.RequestID, nil
	case interface{ envelope() *Envelope }:
		err := json.Unmarshal(body, out)
		return o.envelope().RequestID, err
	default:
		return "", json.Unmarshal(body, out)
	}
}

func tagSpan(span trace.Span, requestID, errorType string) {
	if span == nil {
		return
	}
	if requestID != "" {
		span.SetAttributes(AttrRequestID.String(requestID))
	}
	if errorType != "" {
		span.SetAttributes(AttrErrorType.String(errorType))
	}
}

func (c *Client) record(ctx context.Context, a *attempt, d time.Duration, status int, errKind string) {
	c.duration.Record(ctx, d.Seconds(), c.labels(recordLabels{endpoint: a.endpoint, status: status, errKind: errKind}))
}

// recordLabels are the labels of one stytch.client.duration sample.
type recordLabels struct {
	endpoint string
	status   int
	errKind  string
}

// maxLabelSets bounds the cache of label sets; the labels come from fixed sets (endpoint templates,
// status codes, error kinds), so it is never reached in practice.
const maxLabelSets = 1024

// labels returns the record option for l, built once: an attribute set is sorted and allocated
// when it is made, and every call to Stytch records one.
func (c *Client) labels(l recordLabels) metric.RecordOption {
	if o, ok := c.labelSets.Load(l); ok {
		return o.(metric.RecordOption) //nolint:forcetypeassert // only labels stores, always this type
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, attrEndpoint.String(l.endpoint))
	if l.status != 0 {
		attrs = append(attrs, attrStatus.Int(l.status))
	}
	if l.errKind != "" {
		attrs = append(attrs, attrErrType.String(l.errKind))
	}
	o := metric.WithAttributeSet(attribute.NewSet(attrs...))
	if c.labelSetN.Add(1) <= maxLabelSets {
		c.labelSets.Store(l, o)
	}
	return o
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// unwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the request URL. The URL we hand to net/http is already redacted, but the
// endpoint template is the better name and keeps IDs out of logs.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactedQuery keeps the parameter names (useful in traces) and replaces
// every value: member get takes email_address in the query.
func redactedQuery(q url.Values) string {
	r := make(url.Values, len(q))
	for k := range q {
		r[k] = []string{"REDACTED"}
	}
	return r.Encode()
}

// annotate sits below otelhttp. Per attempt it restores the real query,
// buffers the body under the size cap (so a slow or endless body cannot
// hold the span or memory open), and hands the live span to do so Stytch's
// request ID and error type land on it before it ends.
type annotate struct {
	next    http.RoundTripper
	maxBody int64
}

func (t *annotate) RoundTrip(req *http.Request) (*http.Response, error) {
	a := attemptFrom(req.Context())
	if a == nil {
		return t.next.RoundTrip(req)
	}
	span := trace.SpanFromContext(req.Context())
	span.SetAttributes(attrTemplate.String(a.template))
	if a.number > 1 {
		span.SetAttributes(attrResend.Int(a.number - 1))
	}
	if a.rawQuery != "" {
		req = req.Clone(req.Context())
		req.URL.RawQuery = a.rawQuery
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	buf, err := readCapped(resp.Body, resp.ContentLength, t.maxBody)
	_ = resp.Body.Close() // everything needed was read; a close error changes nothing
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if int64(len(buf)) > t.maxBody {
		buf, a.tooLarge = buf[:t.maxBody], true
	}
	a.span, a.body = span, buf
	resp.Body = io.NopCloser(bytes.NewReader(buf))
	resp.ContentLength = int64(len(buf))
	return resp, nil
}

// readCapped reads at most maxBody+1 bytes of body (one more than allowed, so that a body over the
// cap is seen). When the response announces its length within the cap, the buffer is allocated
// once at that size, where io.ReadAll would grow it from 512 bytes through several copies.
func readCapped(body io.Reader, contentLength, maxBody int64) ([]byte, error) {
	r := io.LimitReader(body, maxBody+1)
	if contentLength < 0 || contentLength > maxBody {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, contentLength+1) // +1: room for the read that meets the end
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF { //nolint:errorlint // io.Reader returns io.EOF itself
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			// Longer than announced (net/http does not let that happen): the rest as io.ReadAll would.
			rest, err := io.ReadAll(r)
			return append(buf, rest...), err
		}
	}
}
