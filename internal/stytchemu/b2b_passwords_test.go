package stytchemu_test

import (
	"net/http"
	"testing"

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
