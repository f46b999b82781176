package stytchemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// b2bCode computes the code of secret at the emulator's time plus d, with
// the library the emulator checks codes with.
func (w *world) b2bCode(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, w.h.emu.Now().Add(d))
	require.NoError(t, err)
	return code
}

// factorTypes lists "type/delivery_method" of a session response's factors.
func factorTypes(r response) []string {
	fs, _ := r.obj("member_session")["authentication_factors"].([]any)
	out := []string{}
	for _, f := range fs {
		m, _ := f.(map[string]any)
		out = append(out, m["type"].(string)+"/"+m["delivery_method"].(string))
	}
	return out
}

// enrolMemberTOTP signs a member without a phone into the MFA-required
// organization by magic link, creates a TOTP with the intermediate session
// and completes MFA with its first code. It returns the member, the create
// response and the authenticate response.
func (w *world) enrolMemberTOTP(t *testing.T, email string) (stytchemu.Member, response, response) {
	t.Helper()
	m, err := w.h.emu.CreateMember(w.orgB.ID, stytchemu.MemberParams{Email: email})
	require.NoError(t, err)
	login := w.login(t, w.orgB.ID, email)
	require.Equal(t, false, login.body["member_authenticated"])
	require.NotNil(t, login.obj("mfa_required"))
	ist := login.str("intermediate_session_token")
	require.NotEmpty(t, ist)
	assert.Empty(t, login.str("session_token"))

	cr := w.h.do(post("/v1/b2b/totp", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "intermediate_session_token": ist,
	}))
	require.Equal(t, http.StatusOK, cr.status, "%s", cr.raw)
	require.Len(t, cr.str("secret"), 32)
	require.Len(t, cr.body["recovery_codes"], 10)

	ar := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "intermediate_session_token": ist,
		"code": w.b2bCode(t, cr.str("secret"), 0),
	}))
	require.Equal(t, http.StatusOK, ar.status, "%s", ar.raw)
	return m, cr, ar
}

func TestB2BTOTPCompletesMFAAfterMagicLink(t *testing.T) {
	w := newWorld(t)
	m, cr, ar := w.enrolMemberTOTP(t, "totp@bank.test")
	require.NotEmpty(t, ar.str("session_jwt"))
	assert.ElementsMatch(t, []string{"magic_link/email", "totp/authenticator_app"}, factorTypes(ar))
	member := ar.obj("member")
	assert.Equal(t, cr.str("totp_registration_id"), member["totp_registration_id"], "the first code makes the registration the member's")
	assert.Equal(t, "totp", member["default_mfa_method"])

	// The intermediate session was consumed by the successful MFA step.
	again := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "code": w.b2bCode(t, cr.str("secret"), totpStep),
		"intermediate_session_token": "consumed",
	}))
	assert.Equal(t, http.StatusNotFound, again.status, "%s", again.raw)

	// The same code (same step) on the new session is a replay.
	replay := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "session_token": ar.str("session_token"),
		"code": w.b2bCode(t, cr.str("secret"), 0),
	}))
	assert.Equal(t, http.StatusUnauthorized, replay.status)
	assert.Equal(t, "totp_code_already_authenticated", replay.str("error_type"))

	// The next login asks for the TOTP (no SMS: the member has no phone).
	login := w.login(t, w.orgB.ID, m.Email)
	require.Equal(t, false, login.body["member_authenticated"])
	opts, _ := login.obj("mfa_required")["member_options"].(map[string]any)
	assert.Equal(t, cr.str("totp_registration_id"), opts["totp_registration_id"])
	wrong := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "code": "000000",
		"intermediate_session_token": login.str("intermediate_session_token"),
	}))
	assert.Equal(t, http.StatusUnauthorized, wrong.status)
	assert.Equal(t, "unable_to_authenticate_totp", wrong.str("error_type"))

	// A second registration is refused while this one is active.
	dup := w.h.do(post("/v1/b2b/totp", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "session_token": ar.str("session_token"),
	}))
	assert.Equal(t, http.StatusBadRequest, dup.status)
	assert.Equal(t, "active_totp_exists", dup.str("error_type"))
}

const totpStep = 30 * time.Second

func TestB2BRecoveryCodes(t *testing.T) {
	w := newWorld(t)
	m, cr, _ := w.enrolMemberTOTP(t, "recover@bank.test")
	codes, _ := cr.body["recovery_codes"].([]any)
	code, _ := codes[0].(string)

	recoverWith := func(c string) response {
		login := w.login(t, w.orgB.ID, m.Email)
		return w.h.do(post("/v1/b2b/recovery_codes/recover", map[string]any{
			"organization_id": w.orgB.ID, "member_id": m.ID, "recovery_code": c,
			"intermediate_session_token": login.str("intermediate_session_token"),
		}))
	}
	r := recoverWith(code)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.ElementsMatch(t, []string{"magic_link/email", "recovery_codes/recovery_code"}, factorTypes(r))
	assert.InDelta(t, 9, r.body["recovery_codes_remaining"], 0)

	used := recoverWith(code)
	assert.Equal(t, http.StatusUnauthorized, used.status, "a recovery code works once")
	assert.Equal(t, "unable_to_authenticate_recovery_code", used.str("error_type"))

	got := w.h.do(get("/v1/b2b/recovery_codes/" + w.orgB.ID + "/" + m.ID))
	require.Equal(t, http.StatusOK, got.status, "%s", got.raw)
	assert.Len(t, got.body["recovery_codes"], 9)
	assert.NotContains(t, got.body["recovery_codes"], code)

	rot := w.h.do(post("/v1/b2b/recovery_codes/rotate", map[string]any{"organization_id": w.orgB.ID, "member_id": m.ID}))
	require.Equal(t, http.StatusOK, rot.status, "%s", rot.raw)
	assert.Len(t, rot.body["recovery_codes"], 10)
	old, _ := codes[1].(string)
	assert.NotContains(t, rot.body["recovery_codes"], old)
	assert.Equal(t, http.StatusUnauthorized, recoverWith(old).status, "rotation invalidates the old codes")
}

func TestB2BSecondFactorsNeedASessionOrIntermediateSession(t *testing.T) {
	w := newWorld(t)
	m, cr, _ := w.enrolMemberTOTP(t, "alone@bank.test")
	r := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "code": w.b2bCode(t, cr.str("secret"), totpStep),
	}))
	assert.Equal(t, http.StatusBadRequest, r.status, "TOTP is never a primary login")

	// Another member's intermediate session does not complete this member's MFA.
	other := w.mfaIST(t)
	r = w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": m.ID, "code": w.b2bCode(t, cr.str("secret"), totpStep),
		"intermediate_session_token": other,
	}))
	assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)

	// A member whose phone is a verified second factor cannot get a TOTP on a first factor alone.
	ist := w.mfaIST(t)
	sms := w.h.do(post("/v1/b2b/otps/sms/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "intermediate_session_token": ist,
		"code": w.last(t, "+15555550100").Code,
	}))
	require.Equal(t, http.StatusOK, sms.status, "%s", sms.raw)
	bare := w.h.do(post("/v1/b2b/totp", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID}))
	assert.Equal(t, http.StatusBadRequest, bare.status, "%s", bare.raw)
	firstOnly := w.h.do(post("/v1/b2b/totp", map[string]any{
		"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "intermediate_session_token": w.mfaIST(t),
	}))
	assert.Equal(t, http.StatusBadRequest, firstOnly.status, "%s", firstOnly.raw)
	withMFA := w.h.do(post("/v1/b2b/totp", map[string]any{
		"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "session_token": sms.str("session_token"),
	}))
	assert.Equal(t, http.StatusOK, withMFA.status, "a session holding the SMS factor may add a TOTP: %s", withMFA.raw)
}

func TestB2BTOTPMigrate(t *testing.T) {
	w := newWorld(t)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	r := w.h.do(post("/v1/b2b/totp/migrate", map[string]any{
		"organization_id": w.orgA.ID, "member_id": w.user.ID, "secret": secret,
		"recovery_codes": []string{"aaaa-bbbb-cccc"},
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, []any{"aaaa-bbbb-cccc"}, r.body["recovery_codes"])
	assert.Equal(t, r.str("totp_registration_id"), r.obj("member")["totp_registration_id"])

	step := w.h.do(post("/v1/b2b/totp/authenticate", map[string]any{
		"organization_id": w.orgA.ID, "member_id": w.user.ID, "session_token": w.userSes.Token,
		"code": w.b2bCode(t, secret, 0),
	}))
	require.Equal(t, http.StatusOK, step.status, "%s", step.raw)
	assert.Contains(t, factorTypes(step), "totp/authenticator_app", "a step-up adds the factor to the session")

	bad := w.h.do(post("/v1/b2b/totp/migrate", map[string]any{
		"organization_id": w.orgA.ID, "member_id": w.admin.ID, "secret": "not base32!", "recovery_codes": []string{},
	}))
	assert.Equal(t, http.StatusBadRequest, bad.status)
}
