package stytchemu_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// enrolTOTP creates a TOTP for userID and returns the create response.
func (w *cworld) enrolTOTP(t *testing.T, userID string) response {
	t.Helper()
	r := w.h.do(post("/v1/totps", map[string]any{"user_id": userID}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r
}

// codeAt computes the code of secret at the emulator's current time plus d,
// with the same library the emulator checks codes with.
func (w *cworld) codeAt(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, w.h.emu.Now().Add(d))
	require.NoError(t, err)
	return code
}

func userTOTPs(r response) []any {
	u := r.obj("user")
	if u == nil {
		u = r.body
	}
	l, _ := u["totps"].([]any)
	return l
}

func TestConsumerTOTPEnrolAndAuthenticate(t *testing.T) {
	w := newConsumerWorld(t)
	cr := w.enrolTOTP(t, w.alice.ID)
	secret := cr.str("secret")
	require.Len(t, secret, 32, "a 160-bit secret in base32")
	recovery, _ := cr.body["recovery_codes"].([]any)
	require.Len(t, recovery, 10)
	assert.Regexp(t, `^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`, recovery[0])

	qr := cr.str("qr_code")
	require.True(t, strings.HasPrefix(qr, "data:image/png;base64,"), qr)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(qr, "data:image/png;base64,"))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err, "the QR code is a PNG")
	assert.Equal(t, 200, img.Bounds().Dx())

	assert.Empty(t, userTOTPs(cr), "a pending TOTP is not yet a factor of the user")
	assert.Empty(t, userTOTPs(w.getUser(t, w.alice.ID)))

	r := w.h.do(post("/v1/totps/authenticate", map[string]any{
		"user_id": w.alice.ID, "totp_code": w.codeAt(t, secret, 0), "session_duration_minutes": 60,
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, cr.str("totp_id"), r.str("totp_id"))
	require.NotEmpty(t, r.str("session_jwt"))
	factors, _ := r.obj("session")["authentication_factors"].([]any)
	require.Len(t, factors, 1)
	f, _ := factors[0].(map[string]any)
	assert.Equal(t, "totp", f["type"])
	assert.Equal(t, "authenticator_app", f["delivery_method"])
	assert.Equal(t, map[string]any{"totp_id": cr.str("totp_id")}, f["authenticator_app_factor"])

	totps := userTOTPs(w.getUser(t, w.alice.ID))
	require.Len(t, totps, 1, "the first authenticated code makes the TOTP a factor")
	assert.Equal(t, map[string]any{"totp_id": cr.str("totp_id"), "verified": true}, totps[0])

	again := w.h.do(post("/v1/totps", map[string]any{"user_id": w.alice.ID}))
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.Equal(t, "active_totp_exists", again.str("error_type"))
}

func TestConsumerTOTPCodeChecks(t *testing.T) {
	w := newConsumerWorld(t)
	cr := w.enrolTOTP(t, w.alice.ID)
	secret := cr.str("secret")
	auth := func(code string) response {
		return w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.alice.ID, "totp_code": code}))
	}
	wrong := "000000"
	if w.codeAt(t, secret, 0) == wrong {
		wrong = "000001"
	}
	r := auth(wrong)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "unable_to_authenticate_totp", r.str("error_type"))

	r = auth("12345")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_totp_code", r.str("error_type"))

	r = auth(w.codeAt(t, secret, -30*time.Second))
	require.Equal(t, http.StatusOK, r.status, "the previous step is accepted: %s", r.raw)
	assert.Empty(t, r.str("session_token"), "no session without session_duration_minutes")

	r = auth(w.codeAt(t, secret, -30*time.Second))
	assert.Equal(t, "totp_code_already_authenticated", r.str("error_type"), "a step is accepted once")

	r = auth(w.codeAt(t, secret, 30*time.Second))
	require.Equal(t, http.StatusOK, r.status, "the next step is accepted: %s", r.raw)
	r = auth(w.codeAt(t, secret, 0))
	assert.Equal(t, "totp_code_already_authenticated", r.str("error_type"), "a step before the last accepted one is refused")

	r = auth(w.codeAt(t, secret, 90*time.Second))
	assert.Equal(t, "unable_to_authenticate_totp", r.str("error_type"), "three steps ahead is outside the window")

	w.h.emu.Advance(60 * time.Second)
	r = auth(w.codeAt(t, secret, 0))
	require.Equal(t, http.StatusOK, r.status, "a later step works: %s", r.raw)
}

func TestConsumerTOTPPendingExpires(t *testing.T) {
	w := newConsumerWorld(t)
	cr := w.h.do(post("/v1/totps", map[string]any{"user_id": w.bob.ID, "expiration_minutes": 5}))
	require.Equal(t, http.StatusOK, cr.status, "%s", cr.raw)
	w.h.emu.Advance(6 * time.Minute)
	r := w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.bob.ID, "totp_code": w.codeAt(t, cr.str("secret"), 0)}))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "totp_not_found", r.str("error_type"))

	bad := w.h.do(post("/v1/totps", map[string]any{"user_id": w.bob.ID, "expiration_minutes": 4}))
	assert.Equal(t, http.StatusBadRequest, bad.status)

	// A new create replaces a pending registration.
	first := w.enrolTOTP(t, w.bob.ID)
	second := w.enrolTOTP(t, w.bob.ID)
	r = w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.bob.ID, "totp_code": w.codeAt(t, first.str("secret"), 0)}))
	if first.str("secret") != second.str("secret") {
		assert.Equal(t, http.StatusUnauthorized, r.status, "the replaced secret no longer works")
	}
	r = w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.bob.ID, "totp_code": w.codeAt(t, second.str("secret"), 0)}))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
}

func TestConsumerTOTPRecover(t *testing.T) {
	w := newConsumerWorld(t)
	cr := w.enrolTOTP(t, w.alice.ID)
	codes, _ := cr.body["recovery_codes"].([]any)
	code, _ := codes[3].(string)

	r := w.h.do(post("/v1/totps/recover", map[string]any{"user_id": w.alice.ID, "recovery_code": code}))
	assert.Equal(t, "totp_not_found", r.str("error_type"), "a pending TOTP's codes do not recover yet")

	r = w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.alice.ID, "totp_code": w.codeAt(t, cr.str("secret"), 0)}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	rc := w.h.do(post("/v1/totps/recovery_codes", map[string]any{"user_id": w.alice.ID}))
	require.Equal(t, http.StatusOK, rc.status, "%s", rc.raw)
	list, _ := rc.body["totps"].([]any)
	require.Len(t, list, 1)
	entry, _ := list[0].(map[string]any)
	assert.Equal(t, true, entry["verified"])
	assert.Len(t, entry["recovery_codes"], 10)

	r = w.h.do(post("/v1/totps/recover", map[string]any{
		"user_id": w.alice.ID, "recovery_code": strings.ToUpper(code), "session_token": w.aliceSes.Token,
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, cr.str("totp_id"), r.str("totp_id"))
	assert.Equal(t, w.aliceSes.Token, r.str("session_token"), "the factor joins the given session")
	var kinds []string
	factors, _ := r.obj("session")["authentication_factors"].([]any)
	for _, f := range factors {
		m, _ := f.(map[string]any)
		kinds = append(kinds, m["type"].(string)+"/"+m["delivery_method"].(string))
		if m["type"] == "recovery_codes" {
			rcf, _ := m["recovery_code_factor"].(map[string]any)
			assert.NotEmpty(t, rcf["totp_recovery_code_id"])
		}
	}
	assert.Contains(t, kinds, "recovery_codes/recovery_code")

	r = w.h.do(post("/v1/totps/recover", map[string]any{"user_id": w.alice.ID, "recovery_code": code}))
	assert.Equal(t, http.StatusUnauthorized, r.status, "a recovery code works once")
	assert.Equal(t, "unable_to_authenticate_recovery_code", r.str("error_type"))

	rc = w.h.do(post("/v1/totps/recovery_codes", map[string]any{"user_id": w.alice.ID}))
	list, _ = rc.body["totps"].([]any)
	entry, _ = list[0].(map[string]any)
	assert.Len(t, entry["recovery_codes"], 9, "the used code is no longer listed")
	assert.NotContains(t, entry["recovery_codes"], code)
}

func TestConsumerTOTPDeletedIsGone(t *testing.T) {
	w := newConsumerWorld(t)
	cr := w.enrolTOTP(t, w.alice.ID)
	r := w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.alice.ID, "totp_code": w.codeAt(t, cr.str("secret"), 0)}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	del := w.h.do(call{method: http.MethodDelete, path: "/v1/users/totps/" + cr.str("totp_id")})
	require.Equal(t, http.StatusOK, del.status, "%s", del.raw)
	assert.Empty(t, userTOTPs(del))

	w.h.emu.Advance(30 * time.Second)
	r = w.h.do(post("/v1/totps/authenticate", map[string]any{"user_id": w.alice.ID, "totp_code": w.codeAt(t, cr.str("secret"), 0)}))
	assert.Equal(t, "totp_not_found", r.str("error_type"), "a deleted TOTP no longer authenticates")
	w.enrolTOTP(t, w.alice.ID) // and a new one may be created
}

func TestConsumerTOTPErrors(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"create for an unknown user", func(_ *testing.T, _ *cworld) call {
			return post("/v1/totps", map[string]any{"user_id": "user-test-00000000-0000-4000-8000-000000000000"})
		}, http.StatusNotFound, "user_not_found", nil},
		{"authenticate without a TOTP", func(_ *testing.T, w *cworld) call {
			return post("/v1/totps/authenticate", map[string]any{"user_id": w.bob.ID, "totp_code": "123456"})
		}, http.StatusNotFound, "totp_not_found", nil},
		{"recovery codes of a user without a TOTP", func(_ *testing.T, w *cworld) call {
			return post("/v1/totps/recovery_codes", map[string]any{"user_id": w.bob.ID})
		}, http.StatusOK, "", func(t *testing.T, _ *cworld, r response) {
			assert.Empty(t, r.body["totps"])
		}},
		{"a session of another user", func(_ *testing.T, w *cworld) call {
			return post("/v1/totps/authenticate", map[string]any{"user_id": w.bob.ID, "totp_code": "123456", "session_token": w.aliceSes.Token})
		}, http.StatusBadRequest, "", nil},
	})
}
