package stytchemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// migrateMember imports a bcrypt hash of pw for email in orgID.
func (w *world) migrateMember(t *testing.T, orgID, email, pw string) response {
	t.Helper()
	r := w.h.do(post("/v1/b2b/passwords/migrate", map[string]any{
		"organization_id": orgID, "email_address": email, "hash_type": "bcrypt", "hash": bcryptOf(t, pw),
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r
}

func TestB2BPasswordMigrateThenAuthenticate(t *testing.T) {
	w := newWorld(t)
	mig := w.migrateMember(t, w.orgA.ID, "new@acme.test", strongPW)
	assert.Equal(t, true, mig.body["member_created"])
	pwID, _ := mig.obj("member")["member_password_id"].(string)
	require.NotEmpty(t, pwID)

	auth := func(pw string) response {
		return w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{
			"organization_id": w.orgA.ID, "email_address": "NEW@acme.test", "password": pw,
		}))
	}
	bad := auth(strongPW + "x")
	assert.Equal(t, http.StatusUnauthorized, bad.status)
	assert.Equal(t, "unauthorized_credentials", bad.str("error_type"))

	ok := auth(strongPW)
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	assert.Equal(t, true, ok.body["member_authenticated"])
	assert.NotEmpty(t, ok.str("session_token"))
	assert.Equal(t, []string{"password/knowledge"}, factorTypes(ok))

	// The imported hash was replaced by a native one: the password still works.
	again := auth(strongPW)
	require.Equal(t, http.StatusOK, again.status, "%s", again.raw)

	// Migrating onto an existing member keeps its member_password_id.
	mig2 := w.migrateMember(t, w.orgA.ID, "new@acme.test", weakPW)
	assert.Equal(t, false, mig2.body["member_created"])
	assert.Equal(t, pwID, mig2.obj("member")["member_password_id"])
	assert.Equal(t, http.StatusUnauthorized, auth(strongPW).status)
}

func TestB2BPasswordAuthenticateRefusals(t *testing.T) {
	w := newWorld(t)
	for name, body := range map[string]map[string]any{
		"unknown email":      {"organization_id": w.orgA.ID, "email_address": "nobody@acme.test", "password": strongPW},
		"member without one": {"organization_id": w.orgA.ID, "email_address": w.user.Email, "password": strongPW},
	} {
		r := w.h.do(post("/v1/b2b/passwords/authenticate", body))
		assert.Equal(t, http.StatusUnauthorized, r.status, name)
		assert.Equal(t, "unauthorized_credentials", r.str("error_type"), name)
	}
	r := w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	r = w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": "organization-test-nope", "email_address": w.user.Email, "password": strongPW}))
	assert.Equal(t, http.StatusNotFound, r.status)

	// A breached password imported by migrate must be reset before use.
	w.migrateMember(t, w.orgA.ID, "leak@acme.test", breachedPW)
	r = w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": "leak@acme.test", "password": breachedPW}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "reset_password", r.str("error_type"))
}

func TestB2BPasswordAuthenticateMFARequired(t *testing.T) {
	w := newWorld(t)
	w.migrateMember(t, w.orgB.ID, w.mfaUser.Email, strongPW)
	r := w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{
		"organization_id": w.orgB.ID, "email_address": w.mfaUser.Email, "password": strongPW,
	}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, false, r.body["member_authenticated"])
	assert.NotEmpty(t, r.str("intermediate_session_token"))
	assert.Empty(t, r.str("session_token"))
	assert.NotNil(t, r.obj("mfa_required"))
}

func TestB2BPasswordStrengthCheck(t *testing.T) {
	w := newWorld(t)
	r := w.h.do(post("/v1/b2b/passwords/strength_check", map[string]any{"password": strongPW}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, true, r.body["valid_password"])
	assert.NotNil(t, r.obj("zxcvbn_feedback"))
	r = w.h.do(post("/v1/b2b/passwords/strength_check", map[string]any{"password": breachedPW, "email_address": "pat@acme.test"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, true, r.body["breached_password"])
	assert.Equal(t, false, r.body["valid_password"])
	r = w.h.do(post("/v1/b2b/passwords/strength_check", map[string]any{}))
	assert.Equal(t, http.StatusBadRequest, r.status)
}

// resetMember starts an email reset for email in orgID and returns the
// outbox message.
func (w *world) resetMember(t *testing.T, orgID, email string) stytchemu.Message {
	t.Helper()
	r := w.h.do(post("/v1/b2b/passwords/email/reset/start", map[string]any{"organization_id": orgID, "email_address": email}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.NotEmpty(t, r.str("member_email_id"))
	msg := w.last(t, email)
	assert.Equal(t, stytchemu.TemplateResetPassword, msg.Template)
	assert.Equal(t, orgID, msg.OrganizationID)
	require.NotEmpty(t, msg.Token)
	assert.Contains(t, msg.URL, msg.Token)
	return msg
}

func TestB2BPasswordEmailReset(t *testing.T) {
	w := newWorld(t)
	w.migrateMember(t, w.orgA.ID, w.user.Email, strongPW)
	msg := w.resetMember(t, w.orgA.ID, w.user.Email)
	reset := func(pw string) response {
		return w.h.do(post("/v1/b2b/passwords/email/reset", map[string]any{"password_reset_token": msg.Token, "password": pw}))
	}
	weak := reset(weakPW)
	assert.Equal(t, http.StatusBadRequest, weak.status)
	assert.Equal(t, "weak_password", weak.str("error_type"))

	ok := reset(otherPW)
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	assert.Equal(t, true, ok.body["member_authenticated"])
	assert.NotEmpty(t, ok.str("session_token"))
	assert.NotEmpty(t, ok.str("member_email_id"))
	assert.Equal(t, http.StatusUnauthorized, reset(otherPW).status, "a reset token is single use")

	// The member's earlier session ended; the new password works, the old one does not.
	assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})).status)
	login := func(pw string) int {
		return w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "password": pw})).status
	}
	assert.Equal(t, http.StatusUnauthorized, login(strongPW))
	assert.Equal(t, http.StatusOK, login(otherPW))

	// An unknown token and an unknown member are refused.
	r := w.h.do(post("/v1/b2b/passwords/email/reset", map[string]any{"password_reset_token": "nope", "password": otherPW}))
	assert.Equal(t, http.StatusNotFound, r.status)
	r = w.h.do(post("/v1/b2b/passwords/email/reset/start", map[string]any{"organization_id": w.orgA.ID, "email_address": "nobody@acme.test"}))
	assert.Equal(t, http.StatusNotFound, r.status)
}

// A reset is a sign-up too (a member without a password gets one), and in
// an organization requiring MFA it leaves an intermediate session.
func TestB2BPasswordEmailResetMFARequired(t *testing.T) {
	w := newWorld(t)
	msg := w.resetMember(t, w.orgB.ID, w.mfaUser.Email)
	r := w.h.do(post("/v1/b2b/passwords/email/reset", map[string]any{"password_reset_token": msg.Token, "password": strongPW}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, false, r.body["member_authenticated"])
	assert.NotEmpty(t, r.str("intermediate_session_token"))
	assert.NotNil(t, r.obj("mfa_required"))
	assert.NotEmpty(t, r.obj("member")["member_password_id"])
}

func TestB2BPasswordExistingReset(t *testing.T) {
	w := newWorld(t)
	w.migrateMember(t, w.orgA.ID, w.user.Email, strongPW)
	reset := func(existing, next string, extra map[string]any) response {
		body := map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "existing_password": existing, "new_password": next}
		for k, v := range extra {
			body[k] = v
		}
		return w.h.do(post("/v1/b2b/passwords/existing_password/reset", body))
	}
	bad := reset(otherPW, otherPW, nil)
	assert.Equal(t, http.StatusUnauthorized, bad.status)
	assert.Equal(t, "unauthorized_credentials", bad.str("error_type"))
	weak := reset(strongPW, weakPW, nil)
	assert.Equal(t, http.StatusBadRequest, weak.status)
	assert.Equal(t, "weak_password", weak.str("error_type"))
	r := w.h.do(post("/v1/b2b/passwords/existing_password/reset", map[string]any{"organization_id": w.orgA.ID, "email_address": "nobody@acme.test", "existing_password": strongPW, "new_password": otherPW}))
	assert.Equal(t, http.StatusUnauthorized, r.status, "an unknown address answers like a wrong password")

	// With the member's session the factor joins it and that session survives; the others end.
	other, err := w.h.emu.CreateSession(w.orgA.ID, w.user.ID, time.Hour)
	require.NoError(t, err)
	ok := reset(strongPW, otherPW, map[string]any{"session_token": w.userSes.Token})
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	requireDeclared(t, ok, "api_b2b_password_v1_b2b_passwords_existing_password_ResetResponse", "member_device", "mfa_required", "primary_required")
	assert.Equal(t, true, ok.body["member_authenticated"])
	assert.Equal(t, w.userSes.ID, ok.obj("member_session")["member_session_id"])
	assert.Equal(t, http.StatusOK, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})).status)
	assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": other.Token})).status)
	login := func(pw string) response {
		return w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "password": pw}))
	}
	assert.Equal(t, http.StatusUnauthorized, login(strongPW).status)
	assert.Equal(t, http.StatusOK, login(otherPW).status)

	// In an organization requiring MFA the reset leaves an intermediate session.
	w.migrateMember(t, w.orgB.ID, w.mfaUser.Email, strongPW)
	mfa := w.h.do(post("/v1/b2b/passwords/existing_password/reset", map[string]any{"organization_id": w.orgB.ID, "email_address": w.mfaUser.Email, "existing_password": strongPW, "new_password": otherPW}))
	require.Equal(t, http.StatusOK, mfa.status, "%s", mfa.raw)
	assert.Equal(t, false, mfa.body["member_authenticated"])
	assert.NotEmpty(t, mfa.str("intermediate_session_token"))
	assert.NotNil(t, mfa.obj("mfa_required"))
}

func TestB2BPasswordSessionReset(t *testing.T) {
	w := newWorld(t)
	other, err := w.h.emu.CreateSession(w.orgA.ID, w.user.ID, time.Hour)
	require.NoError(t, err)
	reset := func(body map[string]any) response {
		return w.h.do(post("/v1/b2b/passwords/session/reset", body))
	}
	r := reset(map[string]any{"organization_id": w.orgA.ID, "session_token": w.userSes.Token, "password": weakPW})
	assert.Equal(t, "weak_password", r.str("error_type"))
	r = reset(map[string]any{"organization_id": w.orgB.ID, "session_token": w.userSes.Token, "password": strongPW})
	assert.Equal(t, http.StatusBadRequest, r.status, "a session of another organization")
	r = reset(map[string]any{"organization_id": w.orgA.ID, "password": strongPW})
	assert.Equal(t, http.StatusBadRequest, r.status)
	r = reset(map[string]any{"organization_id": w.orgA.ID, "session_token": "nope", "password": strongPW})
	assert.Equal(t, http.StatusNotFound, r.status)

	ok := reset(map[string]any{"organization_id": w.orgA.ID, "session_jwt": w.userSes.JWT, "password": strongPW, "session_duration_minutes": 90})
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	requireDeclared(t, ok, "api_b2b_password_v1_b2b_passwords_session_ResetResponse", "member_device", "mfa_required")
	assert.Equal(t, w.userSes.ID, ok.obj("member_session")["member_session_id"])
	assert.NotEmpty(t, ok.obj("member")["member_password_id"])
	assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": other.Token})).status)
	login := w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "password": strongPW}))
	assert.Equal(t, http.StatusOK, login.status, "%s", login.raw)

	// Six minutes on, the session's factors are too old to change the password.
	w.h.emu.Advance(6 * time.Minute)
	old := reset(map[string]any{"organization_id": w.orgA.ID, "session_token": w.adminSes.Token, "password": otherPW})
	assert.Equal(t, http.StatusBadRequest, old.status)
	assert.Equal(t, "session_too_old_to_reset_password", old.str("error_type"))
}

func TestB2BPasswordRequireReset(t *testing.T) {
	w := newWorld(t)
	w.migrateMember(t, w.orgA.ID, w.user.Email, strongPW)
	login := func() response {
		return w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "password": strongPW}))
	}
	require.Equal(t, http.StatusOK, login().status)
	r := w.h.do(post("/v1/b2b/passwords/email/require_reset", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_b2b_password_v1_b2b_passwords_email_RequireResetResponse")
	assert.Equal(t, w.user.ID, r.str("member_id"))
	assert.Equal(t, "reset_password", login().str("error_type"))

	// The existing password still resets it (that is how it gets reset).
	ok := w.h.do(post("/v1/b2b/passwords/existing_password/reset", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "existing_password": strongPW, "new_password": otherPW}))
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)

	for name, body := range map[string]map[string]any{
		"unknown email":            {"organization_id": w.orgA.ID, "email_address": "nobody@acme.test"},
		"member of another email":  {"member_id": w.admin.ID, "email_address": w.user.Email},
		"member in another org":    {"organization_id": w.orgB.ID, "member_id": w.user.ID, "email_address": w.user.Email},
		"unknown email everywhere": {"email_address": "nobody@acme.test"},
	} {
		assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/b2b/passwords/email/require_reset", body)).status, name)
	}
	r = w.h.do(post("/v1/b2b/passwords/email/require_reset", map[string]any{}))
	assert.Equal(t, http.StatusBadRequest, r.status)
}

func TestB2BPasswordDiscoveryFlows(t *testing.T) {
	w := newWorld(t)
	// user@acme.test is a member of orgA and orgB; neither has a password yet.
	auth := func(email, pw string) response {
		return w.h.do(post("/v1/b2b/passwords/discovery/authenticate", map[string]any{"email_address": email, "password": pw}))
	}
	assert.Equal(t, http.StatusUnauthorized, auth(w.user.Email, strongPW).status)
	assert.Equal(t, http.StatusUnauthorized, auth("nobody@acme.test", strongPW).status)

	verifier, challenge := pkcePair()
	start := w.h.do(post("/v1/b2b/passwords/discovery/email/reset/start", map[string]any{"email_address": w.user.Email, "pkce_code_challenge": challenge}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	requireDeclared(t, start, "api_b2b_password_v1_b2b_passwords_discovery_email_ResetStartResponse")
	msg := w.last(t, w.user.Email)
	assert.Equal(t, stytchemu.TemplateResetPassword, msg.Template)
	assert.Empty(t, msg.OrganizationID)
	assert.Contains(t, msg.URL, msg.Token)
	nobody := w.h.do(post("/v1/b2b/passwords/discovery/email/reset/start", map[string]any{"email_address": "nobody@acme.test"}))
	assert.Equal(t, http.StatusNotFound, nobody.status)

	// The discovery token is not an organization reset token, nor the reverse.
	r := w.h.do(post("/v1/b2b/passwords/email/reset", map[string]any{"password_reset_token": msg.Token, "password": strongPW}))
	assert.Equal(t, http.StatusNotFound, r.status)
	orgMsg := w.resetMember(t, w.orgA.ID, w.user.Email)
	r = w.h.do(post("/v1/b2b/passwords/discovery/email/reset", map[string]any{"password_reset_token": orgMsg.Token, "password": strongPW}))
	assert.Equal(t, http.StatusNotFound, r.status)

	reset := func(verifier string) response {
		return w.h.do(post("/v1/b2b/passwords/discovery/email/reset", map[string]any{"password_reset_token": msg.Token, "password": strongPW, "pkce_code_verifier": verifier}))
	}
	assert.Equal(t, http.StatusBadRequest, reset("wrong-verifier-wrong-verifier-wrong-verifier").status)
	ok := reset(verifier)
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	requireDeclared(t, ok, "api_b2b_password_v1_b2b_passwords_discovery_email_ResetResponse")
	assert.NotEmpty(t, ok.str("intermediate_session_token"))
	assert.Equal(t, w.user.Email, ok.str("email_address"))
	assert.Len(t, ok.body["discovered_organizations"], 2)
	assert.Equal(t, http.StatusUnauthorized, reset(verifier).status, "single use")
	assert.Equal(t, http.StatusNotFound, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})).status, "the member's sessions ended")

	// One password for the address: it logs in for discovery and in each organization.
	assert.Equal(t, http.StatusUnauthorized, auth(w.user.Email, otherPW).status)
	d := auth(w.user.Email, strongPW)
	require.Equal(t, http.StatusOK, d.status, "%s", d.raw)
	requireDeclared(t, d, "api_b2b_password_v1_b2b_passwords_discovery_AuthenticateResponse")
	orgs, _ := d.body["discovered_organizations"].([]any)
	require.Len(t, orgs, 2)
	assert.Equal(t, true, orgs[0].(map[string]any)["member_authenticated"], "orgA")
	assert.Equal(t, false, orgs[1].(map[string]any)["member_authenticated"], "orgB requires MFA")
	x := w.h.do(post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": d.str("intermediate_session_token"), "organization_id": w.orgA.ID}))
	require.Equal(t, http.StatusOK, x.status, "%s", x.raw)
	assert.Equal(t, true, x.body["member_authenticated"])
	assert.Equal(t, []string{"password/knowledge"}, factorTypes(x))
	assert.Equal(t, http.StatusOK, w.h.do(post("/v1/b2b/passwords/authenticate", map[string]any{"organization_id": w.orgB.ID, "email_address": w.user.Email, "password": strongPW})).status)

	// A forced reset across organizations makes the discovery login answer reset_password.
	rr := w.h.do(post("/v1/b2b/passwords/email/require_reset", map[string]any{"email_address": w.user.Email}))
	require.Equal(t, http.StatusOK, rr.status, "%s", rr.raw)
	assert.Equal(t, "reset_password", auth(w.user.Email, strongPW).str("error_type"))
}
