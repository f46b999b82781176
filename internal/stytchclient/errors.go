package stytchclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrUnavailable is matched (errors.Is) by every error that means "Stytch
// could not be reached or did not answer usefully": transport failures,
// per-attempt timeouts, and 5xx responses. It is what a caller maps to
// gRPC Unavailable.
var ErrUnavailable = errors.New("stytch unavailable")

// Error is returned for every non-2xx response, whatever its body: a Stytch
// JSON error, an OAuth2 error from the token endpoint, a proxy's HTML page,
// or nothing at all. StatusCode is always the HTTP status.
//
// Error() is safe to log: it names the endpoint template, status, Stytch
// error type and request ID, never the error_message (Stytch puts email
// addresses and other user input there) nor any URL with IDs or queries.
type Error struct {
	// Endpoint is the endpoint template, e.g. "GET /v1/b2b/organizations/{organization_id}".
	Endpoint   string
	StatusCode int
	// RequestID is Stytch's request_id from the body, else from a
	// request-ID response header (X-Request-Id and similar).
	RequestID string
	// ErrorType is Stytch's error_type, or the OAuth2 "error" for the token
	// endpoint. Empty when the body was not a Stytch error.
	ErrorType string
	// ErrorMessage is Stytch's error_message (OAuth2: error_description).
	// It may contain user input such as email addresses: do not log it or
	// show it to anonymous callers verbatim.
	ErrorMessage string
	// ErrorURL is Stytch's error_url (OAuth2: error_uri).
	ErrorURL string
	// Details is error_details when present, undecoded.
	Details json.RawMessage
	// RetryAfter is the delay from a Retry-After header, zero when absent.
	RetryAfter time.Duration
	// EndUserCredentials is set for the endpoints that check an end user's password (password
	// authenticate and existing_password/reset). Stytch answers a wrong password there with the
	// same 401 unauthorized_credentials as a wrong project secret; on these endpoints it is taken
	// as the end user's mistake (UNAUTHENTICATED), not authsvc's (INTERNAL). A wrong project
	// secret still shows as INTERNAL on every other call.
	EndUserCredentials bool
}

// Error implements error without user-supplied text (see type doc).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("stytch: ")
	if e.Endpoint != "" {
		b.WriteString(e.Endpoint)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.ErrorType != "" {
		b.WriteString(" ")
		b.WriteString(e.ErrorType)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.RequestID != "" {
		b.WriteString(" (request_id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Is lets errors.Is(err, ErrUnavailable) match 5xx responses.
func (e *Error) Is(target error) bool {
	return target == ErrUnavailable && e.StatusCode >= 500 //nolint:errorlint // sentinel identity is the point
}

// TransportError is returned when no HTTP response was received: connection
// refused or reset, TLS failure, a per-attempt timeout, or an unreadable
// body. It matches ErrUnavailable. Its message names the endpoint template
// only; the URL (which can carry an email address in its query) is dropped.
type TransportError struct {
	Endpoint string
	// Timeout is true when the cause was a timeout (the attempt's deadline,
	// Config.HTTPClient's Timeout; ResponseHeaderTimeout, dial or TLS timeout).
	Timeout bool
	// Attempts is how many attempts were made.
	Attempts int
	Err      error
}

func (e *TransportError) Error() string {
	what := "transport error"
	if e.Timeout {
		what = "timeout"
	}
	return fmt.Sprintf("stytch: %s: %s after %d attempt(s): %v", e.Endpoint, what, e.Attempts, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is makes every TransportError match ErrUnavailable.
func (e *TransportError) Is(target error) bool { return target == ErrUnavailable } //nolint:errorlint // sentinel identity

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func hasStatus(err error, code int) bool {
	e, ok := AsError(err)
	return ok && e.StatusCode == code
}

// IsUnauthorized reports a 401 (bad credentials, failed authenticate, invalid_client).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsNotFound reports a 404 (member_not_found, session_not_found, ...).
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsRateLimited reports a 429; see Error.RetryAfter for Stytch's hint.
func IsRateLimited(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsUnavailable reports that Stytch could not be reached or answered 5xx.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// IsTimeout reports that the call failed on a timeout of this client (not
// the caller's context, which surfaces as context.DeadlineExceeded).
func IsTimeout(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && te.Timeout
}

// ErrorType returns Stytch's error_type from err's chain, or "".
func ErrorType(err error) string {
	if e, ok := AsError(err); ok {
		return e.ErrorType
	}
	return ""
}

// errorBody covers both Stytch's error shape and OAuth2's.
type errorBody struct {
	StatusCode   int             `json:"status_code"`
	RequestID    string          `json:"request_id"`
	ErrorType    string          `json:"error_type"`
	ErrorMessage string          `json:"error_message"`
	ErrorURL     string          `json:"error_url"`
	ErrorDetails json.RawMessage `json:"error_details"`

	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
	OAuthURI         string `json:"error_uri"`
}

// newError builds an *Error from any non-2xx response. It never fails: a
// body that is not JSON (HTML from a proxy, empty) leaves the Stytch fields
// empty but keeps the status, the header request ID and Retry-After.
func newError(endpoint string, status int, header http.Header, body []byte, now time.Time) *Error {
	e := &Error{
		Endpoint:   endpoint,
		StatusCode: status,
		RetryAfter: parseRetryAfter(header.Get("Retry-After"), now),
	}
	var eb errorBody
	if looksJSON(body) && json.Unmarshal(body, &eb) == nil {
		e.RequestID = eb.RequestID
		e.ErrorType = eb.ErrorType
		e.ErrorMessage = eb.ErrorMessage
		e.ErrorURL = eb.ErrorURL
		if len(eb.ErrorDetails) > 0 && string(eb.ErrorDetails) != "null" {
			e.Details = eb.ErrorDetails
		}
		if e.ErrorType == "" && eb.OAuthError != "" {
			e.ErrorType = eb.OAuthError
			e.ErrorMessage = eb.OAuthDescription
			e.ErrorURL = eb.OAuthURI
		}
	}
	if e.RequestID == "" {
		e.RequestID = headerRequestID(header)
	}
	return e
}

// headerRequestID is used when the body has no request_id. Stytch documents
// no header; these are what Stytch's edge, proxies and gateways commonly set.
func headerRequestID(h http.Header) string {
	for _, k := range [...]string{"X-Request-Id", "X-Stytch-Request-Id", "Request-Id", "X-Amzn-Requestid", "X-Amz-Cf-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

func looksJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// parseRetryAfter accepts delta-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
