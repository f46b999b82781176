package stytchemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Fault is a failure injected into matching requests, before Basic auth and
// before the endpoint runs (as a proxy or an overloaded Stytch would fail).
//
// Order of effects: Latency first (cut short when the client gives up), then
// Reset, else Status. A fault with only Latency delays the request and then
// lets it through.
type Fault struct {
	// Pattern selects requests. It is matched against the route template
	// ("POST /v1/b2b/organizations/{organization_id}/members") and against the
	// concrete request ("POST /v1/b2b/organizations/org-1/members"). "*"
	// matches any run of characters, "/" included. A pattern with no method
	// matches every method. "*" alone matches every Stytch endpoint (the
	// /emulator/ control paths are never faulted).
	Pattern string
	// Latency delays the response. It respects the request context.
	Latency time.Duration
	// Status, when non-zero, answers with this status instead of running
	// the endpoint: 429 gives too_many_requests, 5xx internal_server_error,
	// in Stytch's error shape, unless Body is set.
	Status int
	// Body replaces the JSON error body (for example a proxy's HTML 502 page).
	Body string
	// ContentType of Body; default "text/html; charset=utf-8".
	ContentType string
	// Reset hijacks the connection and closes it with a TCP RST, so the
	// client sees a connection reset and no response.
	Reset bool
	// Times limits the fault to the next N matching requests; 0 means until
	// removed or cleared.
	Times int
	// RetryAfter, when positive, adds a Retry-After header (whole seconds,
	// rounded up) to the injected status response, as a rate-limiting proxy
	// or Stytch's edge may send with a 429 or 503.
	RetryAfter time.Duration
}

type faultJSON struct {
	ID          int    `json:"id,omitempty"`
	Pattern     string `json:"pattern"`
	Latency     string `json:"latency,omitempty"`
	Status      int    `json:"status,omitempty"`
	Body        string `json:"body,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Reset       bool   `json:"reset,omitempty"`
	Times       int    `json:"times,omitempty"`
	Remaining   int    `json:"remaining,omitempty"`
	RetryAfter  string `json:"retry_after,omitempty"`
}

func (f Fault) toJSON() faultJSON {
	j := faultJSON{
		Pattern: f.Pattern, Status: f.Status, Body: f.Body,
		ContentType: f.ContentType, Reset: f.Reset, Times: f.Times,
	}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	if f.RetryAfter > 0 {
		j.RetryAfter = f.RetryAfter.String()
	}
	return j
}

func (j faultJSON) toFault() (Fault, error) {
	f := Fault{
		Pattern: j.Pattern, Status: j.Status, Body: j.Body,
		ContentType: j.ContentType, Reset: j.Reset, Times: j.Times,
	}
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return Fault{}, fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
	}
	if j.RetryAfter != "" {
		d, err := time.ParseDuration(j.RetryAfter)
		if err != nil {
			return Fault{}, fmt.Errorf("retry_after: %w", err)
		}
		f.RetryAfter = d
	}
	return f, f.validate()
}

func (f Fault) validate() error {
	switch {
	case strings.TrimSpace(f.Pattern) == "":
		return fmt.Errorf("fault pattern is empty")
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return fmt.Errorf("fault status %d is not a 4xx or 5xx", f.Status)
	case f.Latency < 0 || f.Times < 0 || f.RetryAfter < 0:
		return fmt.Errorf("fault latency, times and retry_after must not be negative")
	case f.RetryAfter > 0 && f.Status == 0:
		return fmt.Errorf("fault retry_after needs a status")
	case f.Status == 0 && !f.Reset && f.Latency == 0:
		return fmt.Errorf("fault does nothing: set latency, status or reset")
	}
	return nil
}

type faultEntry struct {
	id        int
	f         Fault
	method    string // "" = any
	re        *regexp.Regexp
	remaining int // only meaningful when f.Times > 0
}

// compilePattern splits an optional method and turns the glob into a regexp.
func compilePattern(p string) (method string, re *regexp.Regexp) {
	p = strings.TrimSpace(p)
	if m, rest, ok := strings.Cut(p, " "); ok && m != "" && strings.ToUpper(m) == m && !strings.Contains(m, "/") {
		method, p = m, strings.TrimSpace(rest)
		if method == "*" {
			method = "" // "* /path" means any method
		}
	}
	parts := strings.Split(p, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return method, regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

func matchPattern(re *regexp.Regexp, template string, r *http.Request) bool {
	_, tpath, _ := strings.Cut(template, " ")
	if re.MatchString(tpath) || re.MatchString(template) {
		return true
	}
	return r != nil && re.MatchString(r.URL.Path)
}

// AddFault installs f and returns its ID (for RemoveFault).
func (e *Emulator) AddFault(f Fault) (int, error) {
	if err := f.validate(); err != nil {
		return 0, fmt.Errorf("stytchemu: %w", err)
	}
	method, re := compilePattern(f.Pattern)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faultSeq++
	e.faults = append(e.faults, &faultEntry{id: e.faultSeq, f: f, method: method, re: re, remaining: f.Times})
	return e.faultSeq, nil
}

// RemoveFault removes one fault; unknown IDs are ignored.
func (e *Emulator) RemoveFault(id int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, fe := range e.faults {
		if fe.id == id {
			e.faults = append(e.faults[:i], e.faults[i+1:]...)
			return
		}
	}
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

func (e *Emulator) faultList() []faultJSON {
	out := make([]faultJSON, 0, len(e.faults))
	for _, fe := range e.faults {
		j := fe.f.toJSON()
		j.ID = fe.id
		if fe.f.Times > 0 {
			j.Remaining = fe.remaining
		}
		out = append(out, j)
	}
	return out
}

// takeFault returns the first fault matching the request and uses up one of
// its Times.
func (e *Emulator) takeFault(r *http.Request, template string) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, fe := range e.faults {
		if fe.method != "" && fe.method != r.Method {
			continue
		}
		if !matchPattern(fe.re, template, r) {
			continue
		}
		if fe.f.Times > 0 {
			fe.remaining--
			if fe.remaining <= 0 {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
			}
		}
		return fe.f, true
	}
	return Fault{}, false
}

// applyFault runs a matching fault. It reports whether the request is done
// (answered, reset, or abandoned by the client).
// maxFaultBodyBytes bounds the request body buffered before an injected delay.
const maxFaultBodyBytes = 1 << 20

func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, template, requestID string) bool {
	f, ok := e.takeFault(r, template)
	if !ok {
		return false
	}
	if f.Latency > 0 {
		// Read the body before waiting: net/http notices a client that hangs up (and cancels
		// r.Context) only once the request body has been consumed, so a delayed POST would otherwise
		// sleep out its whole latency after the client gave up. The handler reads the buffered copy.
		if r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultBodyBytes))
			_ = r.Body.Close()
			if err != nil {
				return true // the client is gone
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(f.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-t.C:
		}
	}
	if f.Reset {
		resetConn(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if f.Body != "" {
		ct := f.ContentType
		if ct == "" {
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	writeAPIError(w, requestID, faultError(f.Status))
	return true
}

func faultError(status int) *apiError {
	switch {
	case status == http.StatusTooManyRequests:
		return newErr(status, errTooManyRequests, "Too many requests have been made.")
	case status == http.StatusUnauthorized:
		return newErr(status, errUnauthorized, "Unauthorized credentials.")
	case status >= 500:
		return newErr(status, errInternal, "Oops, something seems to have gone wrong, please reach out to support@stytch.com to let us know what went wrong.")
	default:
		return newErr(status, errBadRequest, "Injected fault.")
	}
}

// resetConn closes the client connection with SO_LINGER 0 so the peer gets
// an RST rather than a clean EOF.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): the closest we can do is abort the handler.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// MarshalJSON encodes a Fault the way POST /emulator/faults accepts it
// (latency as a Go duration string).
func (f Fault) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(f.toJSON())
	if err != nil {
		return nil, fmt.Errorf("encode fault: %w", err)
	}
	return b, nil
}
