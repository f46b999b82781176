package stytchemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"time"
)

// Error types used by the emulator. Names come from Stytch's public error
// reference (see docs/stytch.md, "Errors"); errBadRequest is the emulator's generic type
// for malformed input where Stytch's exact per-field type is not documented.
const (
	errUnauthorized           = "unauthorized_credentials"
	errTooManyRequests        = "too_many_requests"
	errInternal               = "internal_server_error"
	errBadRequest             = "bad_request"
	errRouteNotFound          = "route_not_found"
	errSessionNotFound        = "session_not_found"
	errMemberNotFound         = "member_not_found"
	errOrganizationNotFound   = "organization_not_found"
	errMagicLinkNotFound      = "magic_link_not_found"
	errUnableToAuthMagicLink  = "unable_to_auth_magic_link"
	errOTPCodeNotFound        = "otp_code_not_found"
	errUnableToAuthOTPCode    = "unable_to_auth_otp_code"
	errTooManySessionArgs     = "too_many_session_arguments"
	errDuplicateEmail         = "duplicate_email"
	errSessionAuthz           = "session_authorization_error"
	errSessionAuthzTenancy    = "session_authorization_tenancy_error"
	errM2MClientNotFound      = "m2m_client_not_found"
	errInvalidEmail           = "invalid_email"
	errInvalidPhoneNumber     = "invalid_phone_number"
	errDuplicateSlug          = "organization_slug_already_used"
	errDuplicateClientID      = "m2m_client_id_already_used"
	errIntermediateNotFound   = "intermediate_session_not_found"
	errMemberPasswordNotFound = "member_password_not_found"
	errInviteActiveMember     = "member_already_active"
	errEmailInvitesNotAllowed = "email_invites_not_allowed"
	errNoRotationInProgress   = "m2m_client_secret_rotation_not_started"
	errInvalidJWT             = "invalid_session_jwt"
	errPKCEMismatch           = "pkce_mismatch"
	errNoMFAPhone             = "member_phone_number_not_found"
	errPhoneAlreadySet        = "member_phone_number_already_set"
	// The emulator's own, for unlink_retired_email naming no retired email of
	// the member.
	errRetiredEmailNotFound   = "retired_email_not_found"
	errTrustedProfileNotFound = "trusted_auth_token_profile_not_found"
	errInvalidTrustedTok      = "invalid_trusted_auth_token"
	errImpersonationNotFound  = "impersonation_token_not_found"

	// Consumer projects. user_not_found, email_not_found, phone_number_not_found,
	// duplicate_phone_number, duplicate_user_external_id, password_not_found,
	// totp_not_found, webauthn_registration_not_found,
	// oauth_user_registration_not_found, crypto_wallet_not_found,
	// biometric_registration_not_found, idp_access_token_not_found and the two
	// wrong-project-type errors (invalid_b2b_endpoint, invalid_consumer_endpoint)
	// are among Stytch's error types; too_many_factors, user_already_active,
	// invite_not_found and invalid_migration_token are the emulator's own.
	errUserNotFound          = "user_not_found"
	errEmailNotFound         = "email_not_found"
	errPhoneNotFound         = "phone_number_not_found"
	errDuplicatePhone        = "duplicate_phone_number"
	errDuplicateExternalID   = "duplicate_user_external_id"
	errInvalidB2BEndpoint    = "invalid_b2b_endpoint"
	errInvalidConsumerEnd    = "invalid_consumer_endpoint"
	errTooManyFactors        = "too_many_factors"
	errUserAlreadyActive     = "user_already_active"
	errInviteNotFound        = "invite_not_found"
	errAccessTokenNotFound   = "idp_access_token_not_found"
	errInvalidMigrationToken = "invalid_migration_token"
	errPasswordNotFound      = "password_not_found"
	errTOTPNotFound          = "totp_not_found"
	errWebAuthnNotFound      = "webauthn_registration_not_found"
	errOAuthNotFound         = "oauth_user_registration_not_found"
	errCryptoWalletNotFound  = "crypto_wallet_not_found"
	errBiometricNotFound     = "biometric_registration_not_found"
)

// apiError is a Stytch error body plus its HTTP status.
type apiError struct {
	status  int
	typ     string
	message string
}

func (e *apiError) Error() string { return e.typ + ": " + e.message }

func newErr(status int, typ, format string, args ...any) *apiError {
	return &apiError{status: status, typ: typ, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, errBadRequest, format, args...)
}

// errorURL is Stytch's documented error page for a status.
func errorURL(status int) string {
	return "https://stytch.com/docs/api/errors/" + strconv.Itoa(status)
}

// oauthError is the RFC 6749 error shape the M2M token endpoint answers with.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// obj is a JSON object under construction; responses are built as maps so a
// handler can add optional fields only when they have a value (the spec has
// no nullable fields, so absent is the only way to say "none").
type obj = map[string]any

// request is what a route handler sees.
type request struct {
	r         *http.Request
	body      []byte
	requestID string
	now       time.Time
	// events are the webhook events the handler recorded (webhooks.go), sent once it succeeded.
	events []webhookEvent
}

// decode unmarshals the JSON body into v. An empty body is "{}" because the
// M2M rotate calls and member reactivate are sent without one.
func (rq *request) decode(v any) *apiError {
	if len(rq.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(rq.body, v); err != nil {
		return badRequest("Request body is not valid JSON for this endpoint.")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only reachable with an unmarshalable response value: a bug here.
		http.Error(w, "stytchemu: encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeAPIError(w http.ResponseWriter, requestID string, e *apiError) {
	writeJSON(w, e.status, obj{
		"status_code":   e.status,
		"request_id":    requestID,
		"error_type":    e.typ,
		"error_message": e.message,
		"error_url":     errorURL(e.status),
	})
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	writeJSON(w, e.status, obj{
		"error":             e.code,
		"error_description": e.description,
		"error_uri":         "https://stytch.com/docs/api/errors/" + strconv.Itoa(e.status),
	})
}

// authMode says how a route treats project Basic auth.
type authMode int

const (
	authRequired authMode = iota
	// authOptional: JWKS is public at Stytch, so no credentials is fine, but
	// wrong credentials are still refused.
	authOptional
	authNone
)

type handlerFunc func(rq *request) (any, error)

type route struct {
	pattern string
	auth    authMode
	h       handlerFunc
}

const maxBody = 1 << 20

func (e *Emulator) checkBasic(r *http.Request, mode authMode) bool {
	if mode == authNone {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return mode == authOptional && r.Header.Get("Authorization") == ""
	}
	uok := subtle.ConstantTimeCompare([]byte(user), []byte(e.projectID)) == 1
	pok := subtle.ConstantTimeCompare([]byte(pass), []byte(e.secret)) == 1
	return uok && pok
}

// serveRoute is the common path of every Stytch endpoint: count, fault,
// auth, run the handler under the state lock, write.
func (e *Emulator) serveRoute(rt route) http.HandlerFunc {
	ownType := e.serves(kindOf(rt.pattern))
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e.count(rt.pattern)
		requestID := "request-id-test-" + newUUID()
		if e.applyFault(w, r, rt.pattern, requestID) {
			e.logRequest(r, rt.pattern, -1, start)
			return
		}
		if !e.checkBasic(r, rt.auth) {
			writeAPIError(w, requestID, newErr(http.StatusUnauthorized, errUnauthorized, "Unauthorized credentials."))
			e.logRequest(r, rt.pattern, http.StatusUnauthorized, start)
			return
		}
		if !ownType {
			writeAPIError(w, requestID, e.wrongProjectType())
			e.logRequest(r, rt.pattern, http.StatusUnauthorized, start)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeAPIError(w, requestID, badRequest("Request body could not be read."))
			e.logRequest(r, rt.pattern, http.StatusBadRequest, start)
			return
		}
		rq := &request{r: r, body: body, requestID: requestID}

		e.mu.Lock()
		rq.now = e.clock.Now()
		resp, herr := rt.h(rq)
		var out []byte
		raw, isRaw := resp.(rawReply) // a redirect or a page (consumer_oauth.go)
		if herr == nil && !isRaw {
			out, herr = encodeSuccess(resp, requestID)
		}
		e.mu.Unlock()

		status := http.StatusOK
		var ae *apiError
		var oe *oauthError
		switch {
		case errors.As(herr, &ae):
			status = ae.status
			writeAPIError(w, requestID, ae)
		case errors.As(herr, &oe):
			status = oe.status
			writeOAuthError(w, oe)
		case herr != nil:
			status = http.StatusInternalServerError
			writeAPIError(w, requestID, newErr(status, errInternal, "Oops, something seems to have gone wrong, please reach out to support@stytch.com to let us know what went wrong."))
		case isRaw:
			status = raw.status
			raw.write(w)
		default:
			w.Header().Set("Content-Type", "application/json")
			// The whole body is in hand: its length, not chunked encoding (which net/http chooses
			// for a body over 2 KB written without one), so a client can size its buffer once.
			w.Header().Set("Content-Length", strconv.Itoa(len(out)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out)
		}
		if herr == nil {
			e.sendWebhooks(rq.events)
		}
		e.logRequest(r, rt.pattern, status, start)
	}
}

// encodeSuccess adds the envelope (request_id, status_code) to a map
// response; raw responses (the OAuth token reply) are sent as they are.
func encodeSuccess(resp any, requestID string) ([]byte, error) {
	if m, ok := resp.(obj); ok {
		m["request_id"] = requestID
		m["status_code"] = http.StatusOK
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}

// rawResponse is sent without the Stytch envelope.
type rawResponse map[string]any

func (e *Emulator) logRequest(r *http.Request, pattern string, status int, start time.Time) {
	e.logger.LogAttrs(r.Context(), slog.LevelDebug, "stytchemu request",
		slog.String("route", pattern),
		slog.Int("status", status),
		slog.Duration("elapsed", time.Since(start)))
}

// newUUID returns a random RFC 4122 version-4 UUID. Hand-written (ten lines)
// rather than adding a UUID module for the emulator's IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// randToken returns n random bytes, base64url encoded without padding.
func randToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randDigits returns a uniformly random numeric code of n digits.
func randDigits(n int) string {
	const digits = "0123456789"
	out := make([]byte, n)
	for i := range out {
		v, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			v = big.NewInt(0)
		}
		out[i] = digits[v.Int64()]
	}
	return string(out)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func jsonSize(v any) (int, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode: %w", err)
	}
	return len(b), nil
}
