package stytchemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

func memberPath(w *world, orgID, memberID, suffix string) string {
	return w.orgPath(orgID) + "/members/" + memberID + suffix
}

// retiredAddresses lists the addresses in a member's retired_email_addresses.
func retiredAddresses(m map[string]any) []string {
	var out []string
	for _, r := range m["retired_email_addresses"].([]any) {
		out = append(out, r.(map[string]any)["email_address"].(string))
	}
	return out
}

// An email update by magic link: the link goes to the new address, nothing changes until it is
// authenticated, then the member has the new verified address, the old one is retired, and the
// authentication logs the member in. The link is single-use and the address was reserved meanwhile.
func TestStartEmailUpdateByMagicLink(t *testing.T) {
	w := newWorld(t)
	start := w.h.do(post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "renamed@acme.test"}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	assert.Equal(t, w.user.ID, start.str("member_id"))
	assert.Equal(t, "user@acme.test", start.obj("member")["email_address"], "unchanged until proven")
	assert.Equal(t, w.orgA.ID, start.obj("organization")["organization_id"])

	msg, ok := w.h.emu.LastMessage("renamed@acme.test")
	require.True(t, ok, "the link goes to the new address")
	assert.Equal(t, stytchemu.TemplateEmailUpdate, msg.Template)
	assert.Equal(t, stytchemu.MethodMagicLink, msg.Method)
	assert.Equal(t, 5*time.Minute, msg.ExpiresAt.Sub(msg.SentAt))

	// The pending address is reserved: another member cannot start an update to it.
	other := w.h.do(post(memberPath(w, w.orgA.ID, w.admin.ID, "/start_email_update"), map[string]any{"email_address": "RENAMED@acme.test"}))
	assert.Equal(t, http.StatusBadRequest, other.status)
	assert.Equal(t, "duplicate_email", other.str("error_type"))

	auth := w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": msg.Token}))
	require.Equal(t, http.StatusOK, auth.status, "%s", auth.raw)
	assert.NotEmpty(t, auth.str("session_token"), "the link logs the member in")
	m := auth.obj("member")
	assert.Equal(t, "renamed@acme.test", m["email_address"])
	assert.Equal(t, true, m["email_address_verified"])
	assert.Equal(t, []string{"user@acme.test"}, retiredAddresses(m))

	again := w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": msg.Token}))
	assert.Equal(t, http.StatusUnauthorized, again.status, "single use")

	// The retired address stays taken until unlinked.
	taken := w.h.do(post(memberPath(w, w.orgA.ID, w.admin.ID, "/start_email_update"), map[string]any{"email_address": "user@acme.test"}))
	assert.Equal(t, "duplicate_email", taken.str("error_type"))
}

// An email update by code, and one whose link expired before use.
func TestStartEmailUpdateByCodeAndExpiry(t *testing.T) {
	w := newWorld(t)
	start := w.h.do(post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "coded@acme.test", "delivery_method": "EMAIL_OTP"}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	msg, ok := w.h.emu.LastMessage("coded@acme.test")
	require.True(t, ok)
	assert.Equal(t, stytchemu.MethodOTP, msg.Method)
	auth := w.h.do(post("/v1/b2b/otps/email/authenticate", map[string]any{"organization_id": w.orgA.ID, "email_address": "coded@acme.test", "code": msg.Code}))
	require.Equal(t, http.StatusOK, auth.status, "%s", auth.raw)
	assert.Equal(t, "coded@acme.test", auth.obj("member")["email_address"])
	assert.Equal(t, w.user.ID, auth.str("member_id"))

	// The admin's update expires unused: the link no longer works, nothing changed.
	start = w.h.do(post(memberPath(w, w.orgA.ID, w.admin.ID, "/start_email_update"), map[string]any{"email_address": "late@acme.test"}))
	require.Equal(t, http.StatusOK, start.status, "%s", start.raw)
	msg, ok = w.h.emu.LastMessage("late@acme.test")
	require.True(t, ok)
	w.h.emu.Advance(6 * time.Minute)
	late := w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": msg.Token}))
	assert.Equal(t, http.StatusUnauthorized, late.status)
	got := w.h.do(get(w.orgPath(w.orgA.ID) + "/member?member_id=" + w.admin.ID))
	assert.Equal(t, "admin@acme.test", got.obj("member")["email_address"])
}

func TestMemberAdministrationEndpoints(t *testing.T) {
	runCases(t, []epCase{
		{"start email update as a plain member on another member", func(_ *testing.T, w *world) call {
			return asMember(post(memberPath(w, w.orgA.ID, w.admin.ID, "/start_email_update"), map[string]any{"email_address": "x@acme.test"}), w.userSes)
		}, 403, "session_authorization_error", nil},
		{"start email update as an admin", func(_ *testing.T, w *world) call {
			return asMember(post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "x@acme.test"}), w.adminSes)
		}, 200, "", nil},
		{"start email update to the current address", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "USER@acme.test"})
		}, 400, "bad_request", nil},
		{"start email update to another member's address", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "admin@acme.test"})
		}, 400, "duplicate_email", nil},
		{"start email update with an unknown delivery method", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, w.user.ID, "/start_email_update"), map[string]any{"email_address": "x@acme.test", "delivery_method": "SMS"})
		}, 400, "bad_request", nil},
		{"start email update of an unverified member", func(t *testing.T, w *world) call {
			m, err := w.h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "fresh@acme.test"})
			require.NoError(t, err)
			return post(memberPath(w, w.orgA.ID, m.ID, "/start_email_update"), map[string]any{"email_address": "x@acme.test"})
		}, 400, "bad_request", nil},
		{"start email update of an unknown member", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, "member-test-nope", "/start_email_update"), map[string]any{"email_address": "x@acme.test"})
		}, 404, "member_not_found", nil},

		{"delete TOTP without one", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: memberPath(w, w.orgA.ID, w.user.ID, "/totp")}
		}, 404, "totp_not_found", nil},
		{"delete TOTP as a plain member on another member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodDelete, path: memberPath(w, w.orgA.ID, w.admin.ID, "/totp")}, w.userSes)
		}, 403, "session_authorization_error", nil},

		{"delete member external ID", func(t *testing.T, w *world) call {
			_, err := w.h.emu.CreateMember(w.orgA.ID, stytchemu.MemberParams{Email: "ext@acme.test", ExternalID: "crm-42"})
			require.NoError(t, err)
			// By the external ID itself: Stytch resolves it like the member ID.
			return call{method: http.MethodDelete, path: memberPath(w, w.orgA.ID, "crm-42", "/external_id")}
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Empty(t, r.obj("member")["external_id"])
			assert.Equal(t, w.orgA.ID, r.obj("organization")["organization_id"])
			gone := w.h.do(get(w.orgPath(w.orgA.ID) + "/member?member_id=crm-42"))
			assert.Equal(t, http.StatusNotFound, gone.status, "the external ID no longer names the member")
		}},
		{"delete member external ID as a plain member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodDelete, path: memberPath(w, w.orgA.ID, w.admin.ID, "/external_id")}, w.userSes)
		}, 403, "session_authorization_error", nil},
		{"delete member external ID as an admin of another organization", func(t *testing.T, w *world) call {
			bankAdmin, err := w.h.emu.CreateMember(w.orgB.ID, stytchemu.MemberParams{Email: "boss@bank.test", Roles: []string{stytchemu.RoleAdmin}, MFAPhoneNumber: "+15555550177"})
			require.NoError(t, err)
			ses, err := w.h.emu.CreateSession(w.orgB.ID, bankAdmin.ID, time.Hour)
			require.NoError(t, err)
			return asMember(call{method: http.MethodDelete, path: memberPath(w, w.orgA.ID, w.user.ID, "/external_id")}, ses)
		}, 403, "session_authorization_tenancy_error", nil},

		{"delete organization external ID", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{"organization_external_id": "acme-ext"}}, w.adminSes)
		}, 200, "", func(t *testing.T, w *world, r response) {
			require.Equal(t, "acme-ext", r.obj("organization")["organization_external_id"])
			del := w.h.do(asMember(call{method: http.MethodDelete, path: w.orgPath("acme-ext") + "/external_id"}, w.adminSes))
			require.Equal(t, http.StatusOK, del.status, "%s", del.raw)
			assert.Empty(t, del.obj("organization")["organization_external_id"])
			assert.Equal(t, http.StatusNotFound, w.h.do(get(w.orgPath("acme-ext"))).status)
		}},
		{"delete organization external ID as a plain member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID) + "/external_id"}, w.userSes)
		}, 403, "session_authorization_error", nil},

		{"unlink unknown retired email", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, w.user.ID, "/unlink_retired_email"), map[string]any{"email_address": "never@acme.test"})
		}, 404, "retired_email_not_found", nil},
		{"unlink without an email", func(_ *testing.T, w *world) call {
			return post(memberPath(w, w.orgA.ID, w.user.ID, "/unlink_retired_email"), map[string]any{})
		}, 400, "bad_request", nil},
		{"unlink as a plain member on another member", func(_ *testing.T, w *world) call {
			return asMember(post(memberPath(w, w.orgA.ID, w.admin.ID, "/unlink_retired_email"), map[string]any{"email_address": "a@acme.test"}), w.userSes)
		}, 403, "session_authorization_error", nil},

		{"OIDC providers of a member without OIDC logins", func(_ *testing.T, w *world) call {
			return get(memberPath(w, w.orgA.ID, w.user.ID, "/oidc_providers"))
		}, 200, "", func(t *testing.T, _ *world, r response) {
			regs, ok := r.body["registrations"].([]any)
			require.True(t, ok, "an empty list, not null: %s", r.raw)
			assert.Empty(t, regs)
		}},
		{"OIDC providers of an unknown member", func(_ *testing.T, w *world) call {
			return get(memberPath(w, w.orgA.ID, "member-test-nope", "/oidc_providers"))
		}, 404, "member_not_found", nil},
	})
}

// Unlinking a retired email by its ID, by its address, and with both naming different emails.
func TestUnlinkRetiredEmail(t *testing.T) {
	w := newWorld(t)
	path := memberPath(w, w.orgA.ID, w.user.ID, "")
	// Two updates retire two addresses.
	for _, addr := range []string{"second@acme.test", "third@acme.test"} {
		r := w.h.do(call{method: http.MethodPut, path: path, body: map[string]any{"email_address": addr}})
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	}
	got := w.h.do(get(w.orgPath(w.orgA.ID) + "/member?member_id=" + w.user.ID)).obj("member")
	require.Equal(t, []string{"user@acme.test", "second@acme.test"}, retiredAddresses(got))
	retired := got["retired_email_addresses"].([]any)
	firstID := retired[0].(map[string]any)["email_id"].(string)

	mismatch := w.h.do(post(path+"/unlink_retired_email", map[string]any{"email_id": firstID, "email_address": "second@acme.test"}))
	assert.Equal(t, http.StatusBadRequest, mismatch.status)

	byID := w.h.do(post(path+"/unlink_retired_email", map[string]any{"email_id": firstID}))
	require.Equal(t, http.StatusOK, byID.status, "%s", byID.raw)
	assert.Equal(t, w.orgA.ID, byID.str("organization_id"))
	assert.Equal(t, []string{"second@acme.test"}, retiredAddresses(byID.obj("member")))

	byAddr := w.h.do(asMember(post(path+"/unlink_retired_email", map[string]any{"email_address": "SECOND@acme.test"}), w.adminSes))
	require.Equal(t, http.StatusOK, byAddr.status, "%s", byAddr.raw)
	assert.Empty(t, retiredAddresses(byAddr.obj("member")))

	// Unlinked, the first address is free for another member.
	free := w.h.do(post(memberPath(w, w.orgA.ID, w.admin.ID, "/start_email_update"), map[string]any{"email_address": "user@acme.test"}))
	assert.Equal(t, http.StatusOK, free.status, "%s", free.raw)
}

// Deleting a TOTP registration the member enrolled, and the saved OIDC tokens with and without the
// refresh token.
func TestDeleteTOTPAndOIDCProviders(t *testing.T) {
	w := newWorld(t)
	m, cr, _ := w.enrolMemberTOTP(t, "totp@bank.test")
	del := w.h.do(call{method: http.MethodDelete, path: memberPath(w, w.orgB.ID, m.ID, "/totp")})
	require.Equal(t, http.StatusOK, del.status, "%s", del.raw)
	assert.Empty(t, del.obj("member")["totp_registration_id"])
	assert.NotEmpty(t, cr.str("totp_registration_id"))
	again := w.h.do(call{method: http.MethodDelete, path: memberPath(w, w.orgB.ID, m.ID, "/totp")})
	assert.Equal(t, http.StatusNotFound, again.status)
	// A new registration can be created once the old one is gone.
	login := w.login(t, w.orgB.ID, "totp@bank.test")
	create := w.h.do(post("/v1/b2b/totp", map[string]any{"organization_id": w.orgB.ID, "member_id": m.ID, "intermediate_session_token": login.str("intermediate_session_token")}))
	assert.Equal(t, http.StatusOK, create.status, "%s", create.raw)

	require.NoError(t, w.h.emu.AddMemberOIDCTokens(w.orgA.ID, w.user.ID, stytchemu.OIDCTokens{
		ProviderSubject: "sub-1", IDToken: "id.jwt", AccessToken: "at-1", AccessTokenExpiresIn: 3600,
		Scopes: []string{"openid", "email"}, ConnectionID: "oidc-connection-test-1", RefreshToken: "rt-1",
	}))
	without := w.h.do(get(memberPath(w, w.orgA.ID, w.user.ID, "/oidc_providers")))
	require.Equal(t, http.StatusOK, without.status, "%s", without.raw)
	regs := without.body["registrations"].([]any)
	require.Len(t, regs, 1)
	reg := regs[0].(map[string]any)
	assert.Equal(t, "at-1", reg["access_token"])
	assert.Equal(t, "oidc-connection-test-1", reg["connection_id"])
	assert.Empty(t, reg["refresh_token"], "no refresh token unless asked")
	with := w.h.do(get(memberPath(w, w.orgA.ID, w.user.ID, "/oidc_providers?include_refresh_token=true")))
	assert.Equal(t, "rt-1", with.body["registrations"].([]any)[0].(map[string]any)["refresh_token"])
	bad := w.h.do(get(memberPath(w, w.orgA.ID, w.user.ID, "/oidc_providers?include_refresh_token=maybe")))
	assert.Equal(t, http.StatusBadRequest, bad.status)
}
