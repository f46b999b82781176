package stytchemu_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// epCase is one request against a fresh world, with the expected status and
// (for errors) Stytch error_type, or OAuth "error" for the token endpoint.
type epCase struct {
	name    string
	req     func(t *testing.T, w *world) call
	status  int
	errType string
	check   func(t *testing.T, w *world, r response)
}

func runCases(t *testing.T, cases []epCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r := w.h.do(tc.req(t, w))
			require.Equal(t, tc.status, r.status, "body: %s", r.raw)
			if tc.errType != "" {
				got := r.str("error_type")
				if got == "" {
					got = r.str("error")
				}
				assert.Equal(t, tc.errType, got)
			}
			if tc.check != nil {
				tc.check(t, w, r)
			}
		})
	}
}

func (w *world) orgPath(orgID string) string { return "/v1/b2b/organizations/" + orgID }

var wrongSecret = [2]string{"", "wrong"}

func withWrongAuth(c call, w *world) call {
	c.auth = [2]string{w.h.emu.ProjectID(), wrongSecret[1]}
	return c
}

func asMember(c call, s stytchemu.Session) call {
	c.header = map[string]string{"X-Stytch-Member-Session": s.Token}
	return c
}

func asMemberJWT(c call, s stytchemu.Session) call {
	c.header = map[string]string{"X-Stytch-Member-SessionJWT": s.JWT}
	return c
}

// sendLink runs magic-link login_or_signup and returns the token mailed.
func (w *world) sendLink(t *testing.T, orgID, email string) string {
	t.Helper()
	r := w.h.do(post("/v1/b2b/magic_links/email/login_or_signup", map[string]any{"organization_id": orgID, "email_address": email}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return w.last(t, email).Token
}

// login runs a full magic-link login and returns the authenticate response.
func (w *world) login(t *testing.T, orgID, email string) response {
	t.Helper()
	tok := w.sendLink(t, orgID, email)
	r := w.h.do(post("/v1/b2b/magic_links/authenticate", map[string]any{"magic_links_token": tok}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r
}

// mfaIST logs mfaUser into orgB by magic link: MFA is due, an SMS is sent.
func (w *world) mfaIST(t *testing.T) string {
	t.Helper()
	r := w.login(t, w.orgB.ID, w.mfaUser.Email)
	require.Equal(t, false, r.body["member_authenticated"])
	return r.str("intermediate_session_token")
}

func (w *world) discoveryIST(t *testing.T, email string) string {
	t.Helper()
	r := w.h.do(post("/v1/b2b/magic_links/email/discovery/send", map[string]any{"email_address": email}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	r = w.h.do(post("/v1/b2b/magic_links/discovery/authenticate", map[string]any{"discovery_magic_links_token": w.last(t, email).Token}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r.str("intermediate_session_token")
}

func TestMagicLinkEndpoints(t *testing.T) {
	const loginPath = "/v1/b2b/magic_links/email/login_or_signup"
	const authPath = "/v1/b2b/magic_links/authenticate"
	runCases(t, []epCase{
		{"login_or_signup existing member gets a login link", func(_ *testing.T, w *world) call {
			return post(loginPath, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "login_redirect_url": "https://app.test/cb"})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, false, r.body["member_created"])
			m := w.last(t, w.user.Email)
			assert.Equal(t, stytchemu.TemplateLogin, m.Template)
			assert.True(t, strings.HasPrefix(m.URL, "https://app.test/cb?"), m.URL)
			assert.Contains(t, m.URL, "token="+url.QueryEscape(m.Token))
		}},
		{"login_or_signup new email creates a pending member", func(_ *testing.T, w *world) call {
			return post(loginPath, map[string]any{"organization_id": "acme", "email_address": "new@acme.test"})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, true, r.body["member_created"])
			assert.Equal(t, "pending", r.obj("member")["status"])
			assert.Equal(t, stytchemu.TemplateSignup, w.last(t, "new@acme.test").Template)
		}},
		{"login_or_signup unknown organization", func(_ *testing.T, _ *world) call {
			return post(loginPath, map[string]any{"organization_id": "organization-test-nope", "email_address": "a@b.test"})
		}, 404, "organization_not_found", nil},
		{"login_or_signup invalid email", func(_ *testing.T, w *world) call {
			return post(loginPath, map[string]any{"organization_id": w.orgA.ID, "email_address": "not-an-email"})
		}, 400, "invalid_email", nil},
		{"login_or_signup bad basic auth", func(_ *testing.T, w *world) call {
			return withWrongAuth(post(loginPath, map[string]any{"organization_id": w.orgA.ID, "email_address": "a@b.test"}), w)
		}, 401, "unauthorized_credentials", nil},

		{"invite creates an invited member", func(_ *testing.T, w *world) call {
			return asMember(post("/v1/b2b/magic_links/email/invite", map[string]any{"organization_id": w.orgA.ID, "email_address": "inv@acme.test", "roles": []string{"stytch_admin"}}), w.adminSes)
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, "invited", r.obj("member")["status"])
			assert.Equal(t, true, r.obj("member")["is_admin"])
			assert.Equal(t, stytchemu.TemplateInvite, w.last(t, "inv@acme.test").Template)
		}},
		{"invite an active member", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/magic_links/email/invite", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email})
		}, 400, "member_already_active", nil},
		{"invite as stytch_member is forbidden", func(_ *testing.T, w *world) call {
			return asMember(post("/v1/b2b/magic_links/email/invite", map[string]any{"organization_id": w.orgA.ID, "email_address": "x@acme.test"}), w.userSes)
		}, 403, "session_authorization_error", nil},
		{"invite into another organization is a tenancy error", func(_ *testing.T, w *world) call {
			return asMember(post("/v1/b2b/magic_links/email/invite", map[string]any{"organization_id": w.orgB.ID, "email_address": "x@acme.test"}), w.adminSes)
		}, 403, "session_authorization_tenancy_error", nil},

		{"discovery send", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/magic_links/email/discovery/send", map[string]any{"email_address": "user@acme.test"})
		}, 200, "", func(t *testing.T, w *world, _ response) {
			m := w.last(t, "user@acme.test")
			assert.Equal(t, stytchemu.TemplateDiscovery, m.Template)
			assert.Contains(t, m.URL, "stytch_token_type=discovery")
		}},
		{"discovery send invalid email", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/magic_links/email/discovery/send", map[string]any{"email_address": "nope"})
		}, 400, "invalid_email", nil},
		{"discovery send expiration out of range", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/magic_links/email/discovery/send", map[string]any{"email_address": "a@b.test", "discovery_expiration_minutes": 1})
		}, 400, "bad_request", nil},

		{"authenticate creates a session", func(t *testing.T, w *world) call {
			return post(authPath, map[string]any{"magic_links_token": w.sendLink(t, w.orgA.ID, w.user.Email), "session_duration_minutes": 30})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, true, r.body["member_authenticated"])
			assert.NotEmpty(t, r.str("session_token"))
			assert.NotEmpty(t, r.str("session_jwt"))
			assert.Equal(t, w.orgA.ID, r.str("organization_id"))
			ms := r.obj("member_session")
			assert.Equal(t, epoch.Add(30*time.Minute).Format(time.RFC3339), ms["expires_at"])
		}},
		{"authenticate unknown token", func(_ *testing.T, _ *world) call {
			return post(authPath, map[string]any{"magic_links_token": "no-such-token"})
		}, 404, "magic_link_not_found", nil},
		{"authenticate reused token", func(t *testing.T, w *world) call {
			tok := w.sendLink(t, w.orgA.ID, w.user.Email)
			require.Equal(t, 200, w.h.do(post(authPath, map[string]any{"magic_links_token": tok})).status)
			return post(authPath, map[string]any{"magic_links_token": tok})
		}, 401, "unable_to_auth_magic_link", nil},
		{"authenticate expired token", func(t *testing.T, w *world) call {
			tok := w.sendLink(t, w.orgA.ID, w.user.Email)
			w.h.emu.Advance(61 * time.Minute)
			return post(authPath, map[string]any{"magic_links_token": tok})
		}, 401, "unable_to_auth_magic_link", nil},
		{"authenticate with both session token and JWT", func(t *testing.T, w *world) call {
			return post(authPath, map[string]any{"magic_links_token": w.sendLink(t, w.orgA.ID, w.user.Email), "session_token": w.userSes.Token, "session_jwt": w.userSes.JWT})
		}, 400, "too_many_session_arguments", nil},
		{"authenticate in an MFA organization returns an IST", func(t *testing.T, w *world) call {
			return post(authPath, map[string]any{"magic_links_token": w.sendLink(t, w.orgB.ID, w.mfaUser.Email)})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, false, r.body["member_authenticated"])
			assert.NotEmpty(t, r.str("intermediate_session_token"))
			assert.Empty(t, r.str("session_token"))
			assert.Nil(t, r.body["member_session"])
			assert.Equal(t, "sms_otp", r.obj("mfa_required")["secondary_auth_initiated"])
			assert.Equal(t, stytchemu.KindSMS, w.last(t, "+15555550100").Kind)
		}},

		{"discovery authenticate lists organizations", func(t *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post("/v1/b2b/magic_links/email/discovery/send", map[string]any{"email_address": w.user.Email})).status)
			return post("/v1/b2b/magic_links/discovery/authenticate", map[string]any{"discovery_magic_links_token": w.last(t, w.user.Email).Token})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.NotEmpty(t, r.str("intermediate_session_token"))
			orgs, _ := r.body["discovered_organizations"].([]any)
			require.Len(t, orgs, 2)
			first := orgs[0].(map[string]any)
			assert.Equal(t, true, first["member_authenticated"])
			assert.Equal(t, "active_member", first["membership"].(map[string]any)["type"])
			assert.Equal(t, false, orgs[1].(map[string]any)["member_authenticated"], "orgB requires MFA")
		}},
		{"discovery authenticate with a login token", func(t *testing.T, w *world) call {
			return post("/v1/b2b/magic_links/discovery/authenticate", map[string]any{"discovery_magic_links_token": w.sendLink(t, w.orgA.ID, w.user.Email)})
		}, 404, "magic_link_not_found", nil},
		{"discovery authenticate reused token", func(t *testing.T, w *world) call {
			w.discoveryIST(t, "x@acme.test")
			return post("/v1/b2b/magic_links/discovery/authenticate", map[string]any{"discovery_magic_links_token": w.last(t, "x@acme.test").Token})
		}, 401, "unable_to_auth_magic_link", nil},
	})
}

func TestOTPEndpoints(t *testing.T) {
	const emailAuth = "/v1/b2b/otps/email/authenticate"
	sendCode := func(t *testing.T, w *world) string {
		t.Helper()
		r := w.h.do(post("/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email}))
		require.Equal(t, 200, r.status, "%s", r.raw)
		return w.last(t, w.user.Email).Code
	}
	runCases(t, []epCase{
		{"email login_or_signup", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email})
		}, 200, "", func(t *testing.T, w *world, _ response) {
			m := w.last(t, w.user.Email)
			assert.Equal(t, stytchemu.MethodOTP, m.Method)
			assert.Len(t, m.Code, 6)
			assert.Equal(t, epoch.Add(10*time.Minute), m.ExpiresAt)
		}},
		{"email login_or_signup unknown organization", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": "nope", "email_address": "a@b.test"})
		}, 404, "organization_not_found", nil},
		{"email login_or_signup expiration out of range", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/email/login_or_signup", map[string]any{"organization_id": w.orgA.ID, "email_address": "a@b.test", "login_expiration_minutes": 16})
		}, 400, "bad_request", nil},

		{"email authenticate", func(t *testing.T, w *world) call {
			return post(emailAuth, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "code": sendCode(t, w)})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, true, r.body["member_authenticated"])
			factors := r.obj("member_session")["authentication_factors"].([]any)
			assert.Equal(t, "email_otp", factors[0].(map[string]any)["type"])
		}},
		{"email authenticate wrong code", func(t *testing.T, w *world) call {
			code := sendCode(t, w)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			return post(emailAuth, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "code": wrong})
		}, 401, "unable_to_auth_otp_code", nil},
		{"email authenticate without a code sent", func(_ *testing.T, w *world) call {
			return post(emailAuth, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "code": "123456"})
		}, 404, "otp_code_not_found", nil},
		{"email authenticate expired code", func(t *testing.T, w *world) call {
			code := sendCode(t, w)
			w.h.emu.Advance(10 * time.Minute)
			return post(emailAuth, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "code": code})
		}, 401, "unable_to_auth_otp_code", nil},
		{"email authenticate reused code", func(t *testing.T, w *world) call {
			c := post(emailAuth, map[string]any{"organization_id": w.orgA.ID, "email_address": w.user.Email, "code": sendCode(t, w)})
			require.Equal(t, 200, w.h.do(c).status)
			return c
		}, 401, "unable_to_auth_otp_code", nil},

		{"email discovery send", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/otps/email/discovery/send", map[string]any{"email_address": "d@acme.test"})
		}, 200, "", func(t *testing.T, w *world, _ response) {
			assert.Equal(t, stytchemu.TemplateDiscovery, w.last(t, "d@acme.test").Template)
		}},
		{"email discovery send missing email", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/otps/email/discovery/send", map[string]any{})
		}, 400, "bad_request", nil},
		{"email discovery send invalid email", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/otps/email/discovery/send", map[string]any{"email_address": "d@"})
		}, 400, "invalid_email", nil},

		{"email discovery authenticate", func(t *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post("/v1/b2b/otps/email/discovery/send", map[string]any{"email_address": w.user.Email})).status)
			return post("/v1/b2b/otps/email/discovery/authenticate", map[string]any{"email_address": w.user.Email, "code": w.last(t, w.user.Email).Code})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.NotEmpty(t, r.str("intermediate_session_token"))
			assert.Len(t, r.body["discovered_organizations"], 2)
		}},
		{"email discovery authenticate with an organization code", func(t *testing.T, w *world) call {
			return post("/v1/b2b/otps/email/discovery/authenticate", map[string]any{"email_address": w.user.Email, "code": sendCode(t, w)})
		}, 404, "otp_code_not_found", nil},
		{"email discovery authenticate wrong code", func(t *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post("/v1/b2b/otps/email/discovery/send", map[string]any{"email_address": "d@acme.test"})).status)
			code := "000000"
			if w.last(t, "d@acme.test").Code == code {
				code = "111111"
			}
			return post("/v1/b2b/otps/email/discovery/authenticate", map[string]any{"email_address": "d@acme.test", "code": code})
		}, 401, "unable_to_auth_otp_code", nil},

		{"sms send", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/sms/send", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID})
		}, 200, "", func(t *testing.T, w *world, _ response) {
			m := w.last(t, "+15555550100")
			assert.Equal(t, stytchemu.TemplateMFA, m.Template)
			assert.Equal(t, epoch.Add(2*time.Minute), m.ExpiresAt)
		}},
		{"sms send unknown member", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/sms/send", map[string]any{"organization_id": w.orgB.ID, "member_id": "member-test-nope"})
		}, 404, "member_not_found", nil},
		{"sms send invalid phone", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/sms/send", map[string]any{"organization_id": w.orgA.ID, "member_id": w.user.ID, "mfa_phone_number": "555"})
		}, 400, "invalid_phone_number", nil},
		{"sms send without any phone", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/otps/sms/send", map[string]any{"organization_id": w.orgA.ID, "member_id": w.user.ID})
		}, 400, "member_phone_number_not_found", nil},

		{"sms authenticate completes MFA", func(t *testing.T, w *world) call {
			ist := w.mfaIST(t)
			return post("/v1/b2b/otps/sms/authenticate", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": w.last(t, "+15555550100").Code, "intermediate_session_token": ist})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.NotEmpty(t, r.str("session_jwt"))
			factors := r.obj("member_session")["authentication_factors"].([]any)
			require.Len(t, factors, 2)
			assert.Equal(t, "sms", factors[1].(map[string]any)["delivery_method"])
			assert.Equal(t, true, r.obj("member")["mfa_phone_number_verified"])
		}},
		{"sms authenticate wrong code", func(t *testing.T, w *world) call {
			ist := w.mfaIST(t)
			code := "000000"
			if w.last(t, "+15555550100").Code == code {
				code = "111111"
			}
			return post("/v1/b2b/otps/sms/authenticate", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": code, "intermediate_session_token": ist})
		}, 401, "unable_to_auth_otp_code", nil},
		{"sms authenticate with a code replaced by a new send", func(t *testing.T, w *world) call {
			ist := w.mfaIST(t)
			old := w.last(t, "+15555550100").Code
			require.Equal(t, 200, w.h.do(post("/v1/b2b/otps/sms/send", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "intermediate_session_token": ist})).status)
			if w.last(t, "+15555550100").Code == old {
				t.Skip("new code equals the old one by chance (1 in 10^6)")
			}
			return post("/v1/b2b/otps/sms/authenticate", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": old, "intermediate_session_token": ist})
		}, 401, "unable_to_auth_otp_code", nil},
		{"sms authenticate without IST or session", func(t *testing.T, w *world) call {
			w.mfaIST(t)
			return post("/v1/b2b/otps/sms/authenticate", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": w.last(t, "+15555550100").Code})
		}, 400, "bad_request", nil},
		{"sms authenticate expired code", func(t *testing.T, w *world) call {
			ist := w.mfaIST(t)
			w.h.emu.Advance(2 * time.Minute)
			return post("/v1/b2b/otps/sms/authenticate", map[string]any{"organization_id": w.orgB.ID, "member_id": w.mfaUser.ID, "code": w.last(t, "+15555550100").Code, "intermediate_session_token": ist})
		}, 401, "unable_to_auth_otp_code", nil},
	})
}

func TestSessionEndpoints(t *testing.T) {
	const authPath = "/v1/b2b/sessions/authenticate"
	runCases(t, []epCase{
		{"get lists live sessions", func(_ *testing.T, w *world) call {
			return get("/v1/b2b/sessions?organization_id=" + w.orgA.ID + "&member_id=" + w.user.ID)
		}, 200, "", func(t *testing.T, w *world, r response) {
			ss := r.body["member_sessions"].([]any)
			require.Len(t, ss, 1)
			assert.Equal(t, w.userSes.ID, ss[0].(map[string]any)["member_session_id"])
		}},
		{"get without member_id", func(_ *testing.T, w *world) call {
			return get("/v1/b2b/sessions?organization_id=" + w.orgA.ID)
		}, 400, "bad_request", nil},
		{"get unknown member", func(_ *testing.T, w *world) call {
			return get("/v1/b2b/sessions?organization_id=" + w.orgA.ID + "&member_id=member-test-nope")
		}, 404, "member_not_found", nil},

		{"authenticate by token", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.userSes.Token})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.userSes.Token, r.str("session_token"))
			assert.Equal(t, w.user.ID, r.obj("member")["member_id"])
		}},
		{"authenticate an expired JWT of a live session returns a fresh JWT", func(_ *testing.T, w *world) call {
			w.h.emu.Advance(10 * time.Minute)
			return post(authPath, map[string]any{"session_jwt": w.userSes.JWT})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.NotEqual(t, w.userSes.JWT, r.str("session_jwt"))
		}},
		{"authenticate extends the session", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.userSes.Token, "session_duration_minutes": 600})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, epoch.Add(600*time.Minute).Format(time.RFC3339), r.obj("member_session")["expires_at"])
		}},
		{"authenticate with both token and JWT", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.userSes.Token, "session_jwt": w.userSes.JWT})
		}, 400, "too_many_session_arguments", nil},
		{"authenticate unknown token", func(_ *testing.T, _ *world) call {
			return post(authPath, map[string]any{"session_token": "nope"})
		}, 404, "session_not_found", nil},
		{"authenticate revoked session", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post("/v1/b2b/sessions/revoke", map[string]any{"session_token": w.userSes.Token})).status)
			return post(authPath, map[string]any{"session_jwt": w.userSes.JWT})
		}, 404, "session_not_found", nil},
		{"authenticate expired session", func(_ *testing.T, w *world) call {
			w.h.emu.Advance(time.Hour)
			return post(authPath, map[string]any{"session_token": w.userSes.Token})
		}, 404, "session_not_found", nil},
		{"authenticate forged JWT", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_jwt": w.userSes.JWT[:len(w.userSes.JWT)-4] + "AAAA"})
		}, 404, "session_not_found", nil},
		{"authorization_check allowed for admin", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.adminSes.Token, "authorization_check": map[string]any{"organization_id": w.orgA.ID, "resource_id": "stytch.member", "action": "delete"}})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, true, r.obj("verdict")["authorized"])
			assert.Equal(t, []any{"stytch_admin"}, r.obj("verdict")["granting_roles"])
		}},
		{"authorization_check denied for member", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.userSes.Token, "authorization_check": map[string]any{"organization_id": w.orgA.ID, "resource_id": "stytch.member", "action": "delete"}})
		}, 403, "session_authorization_error", nil},
		{"authorization_check other organization", func(_ *testing.T, w *world) call {
			return post(authPath, map[string]any{"session_token": w.adminSes.Token, "authorization_check": map[string]any{"organization_id": w.orgB.ID, "resource_id": "stytch.member", "action": "delete"}})
		}, 403, "session_authorization_tenancy_error", nil},

		{"revoke by id", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/sessions/revoke", map[string]any{"member_session_id": w.userSes.ID})
		}, 200, "", func(t *testing.T, w *world, _ response) {
			assert.Equal(t, 404, w.h.do(post(authPath, map[string]any{"session_token": w.userSes.Token})).status)
		}},
		{"revoke own session as member", func(_ *testing.T, w *world) call {
			return asMember(post("/v1/b2b/sessions/revoke", map[string]any{"member_session_id": w.userSes.ID}), w.userSes)
		}, 200, "", nil},
		{"revoke unknown session", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/sessions/revoke", map[string]any{"member_session_id": "member-session-test-nope"})
		}, 404, "session_not_found", nil},
		{"revoke another member's session as member", func(_ *testing.T, w *world) call {
			return asMemberJWT(post("/v1/b2b/sessions/revoke", map[string]any{"member_id": w.admin.ID}), w.userSes)
		}, 403, "session_authorization_error", nil},
		{"revoke with two selectors", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/sessions/revoke", map[string]any{"member_id": w.admin.ID, "member_session_id": w.userSes.ID})
		}, 400, "bad_request", nil},

		{"exchange into an MFA organization returns an IST", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/sessions/exchange", map[string]any{"organization_id": w.orgB.ID, "session_token": w.userSes.Token})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, false, r.body["member_authenticated"])
			assert.NotEmpty(t, r.str("intermediate_session_token"))
			assert.Equal(t, w.mfaUser.ID, r.str("member_id"))
		}},
		{"exchange into an organization without MFA", func(t *testing.T, w *world) call {
			org, err := w.h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Cafe"})
			require.NoError(t, err)
			_, err = w.h.emu.CreateMember(org.ID, stytchemu.MemberParams{Email: w.user.Email})
			require.NoError(t, err)
			return post("/v1/b2b/sessions/exchange", map[string]any{"organization_id": org.ID, "session_jwt": w.userSes.JWT})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, true, r.body["member_authenticated"])
			assert.NotEmpty(t, r.str("session_token"))
		}},
		{"exchange to an organization without membership", func(t *testing.T, w *world) call {
			org, err := w.h.emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Cafe"})
			require.NoError(t, err)
			return post("/v1/b2b/sessions/exchange", map[string]any{"organization_id": org.ID, "session_token": w.userSes.Token})
		}, 404, "member_not_found", nil},
		{"exchange unknown organization", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/sessions/exchange", map[string]any{"organization_id": "nope", "session_token": w.userSes.Token})
		}, 404, "organization_not_found", nil},
		{"exchange unknown session", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/sessions/exchange", map[string]any{"organization_id": w.orgB.ID, "session_token": "nope"})
		}, 404, "session_not_found", nil},

		{"b2b jwks without credentials", func(_ *testing.T, w *world) call {
			return call{method: http.MethodGet, path: "/v1/b2b/sessions/jwks/" + w.h.emu.ProjectID(), noAuth: true}
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Len(t, r.body["keys"], 1)
		}},
		{"b2b jwks with credentials", func(_ *testing.T, w *world) call {
			return get("/v1/b2b/sessions/jwks/" + w.h.emu.ProjectID())
		}, 200, "", nil},
		{"b2b jwks wrong credentials", func(_ *testing.T, w *world) call {
			return withWrongAuth(get("/v1/b2b/sessions/jwks/"+w.h.emu.ProjectID()), w)
		}, 401, "unauthorized_credentials", nil},
		{"b2b jwks other project", func(_ *testing.T, _ *world) call {
			return get("/v1/b2b/sessions/jwks/project-test-other")
		}, 400, "bad_request", nil},
		{"consumer jwks", func(_ *testing.T, w *world) call {
			return call{method: http.MethodGet, path: "/v1/sessions/jwks/" + w.h.emu.ProjectID(), noAuth: true}
		}, 200, "", nil},
		{"consumer jwks wrong credentials", func(_ *testing.T, w *world) call {
			return withWrongAuth(get("/v1/sessions/jwks/"+w.h.emu.ProjectID()), w)
		}, 401, "unauthorized_credentials", nil},
		{"consumer jwks other project", func(_ *testing.T, _ *world) call {
			return get("/v1/sessions/jwks/project-test-other")
		}, 400, "bad_request", nil},
	})
}

func TestDiscoveryEndpoints(t *testing.T) {
	runCases(t, []epCase{
		{"list organizations with an IST", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/organizations", map[string]any{"intermediate_session_token": w.discoveryIST(t, w.user.Email)})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.user.Email, r.str("email_address"))
			assert.Len(t, r.body["discovered_organizations"], 2)
		}},
		{"list organizations with a session", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/discovery/organizations", map[string]any{"session_jwt": w.userSes.JWT})
		}, 200, "", nil},
		{"list organizations unknown IST", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/discovery/organizations", map[string]any{"intermediate_session_token": "nope"})
		}, 404, "intermediate_session_not_found", nil},
		{"list organizations IST and session", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/organizations", map[string]any{"intermediate_session_token": w.discoveryIST(t, w.user.Email), "session_token": w.userSes.Token})
		}, 400, "too_many_session_arguments", nil},

		{"create organization", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/organizations/create", map[string]any{"intermediate_session_token": w.discoveryIST(t, "founder@new.test"), "organization_name": "New Co", "organization_slug": "new-co"})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, true, r.body["member_authenticated"])
			assert.Equal(t, true, r.obj("member")["is_admin"])
			assert.Equal(t, "new-co", r.obj("organization")["organization_slug"])
			assert.Equal(t, "founder@new.test", r.obj("member")["email_address"])
		}},
		{"create organization with a used slug", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/organizations/create", map[string]any{"intermediate_session_token": w.discoveryIST(t, "f@new.test"), "organization_name": "Acme 2", "organization_slug": "acme"})
		}, 400, "organization_slug_already_used", nil},
		{"create organization expired IST", func(t *testing.T, w *world) call {
			ist := w.discoveryIST(t, "f@new.test")
			w.h.emu.Advance(10 * time.Minute)
			return post("/v1/b2b/discovery/organizations/create", map[string]any{"intermediate_session_token": ist, "organization_name": "Late"})
		}, 404, "intermediate_session_not_found", nil},

		{"exchange IST", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": w.discoveryIST(t, w.user.Email), "organization_id": w.orgA.ID})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, true, r.body["member_authenticated"])
			assert.Equal(t, w.user.ID, r.str("member_id"))
		}},
		{"exchange IST unknown organization", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": w.discoveryIST(t, w.user.Email), "organization_id": "nope"})
		}, 404, "organization_not_found", nil},
		{"exchange unknown IST", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": "nope", "organization_id": w.orgA.ID})
		}, 404, "intermediate_session_not_found", nil},
		{"exchange IST without membership", func(t *testing.T, w *world) call {
			return post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": w.discoveryIST(t, "stranger@else.test"), "organization_id": w.orgA.ID})
		}, 404, "member_not_found", nil},
		{"exchange IST is single-use", func(t *testing.T, w *world) call {
			c := post("/v1/b2b/discovery/intermediate_sessions/exchange", map[string]any{"intermediate_session_token": w.discoveryIST(t, w.user.Email), "organization_id": w.orgA.ID})
			require.Equal(t, 200, w.h.do(c).status)
			return c
		}, 404, "intermediate_session_not_found", nil},
	})
}

func TestOrganizationEndpoints(t *testing.T) {
	search := func(body map[string]any) func(*testing.T, *world) call {
		return func(*testing.T, *world) call { return post("/v1/b2b/organizations/search", body) }
	}
	runCases(t, []epCase{
		{"create", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations", map[string]any{"organization_name": "Zed", "organization_slug": "zed", "mfa_policy": "REQUIRED_FOR_ALL"})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			o := r.obj("organization")
			assert.Equal(t, "REQUIRED_FOR_ALL", o["mfa_policy"])
			assert.Equal(t, "NOT_ALLOWED", o["email_invites"], "an auth setting was given, so invites default to NOT_ALLOWED")
		}},
		{"create without name", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations", map[string]any{"organization_slug": "zed"})
		}, 400, "bad_request", nil},
		{"create with a used slug", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations", map[string]any{"organization_name": "Acme", "organization_slug": "acme"})
		}, 400, "organization_slug_already_used", nil},
		{"create with an invalid setting", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations", map[string]any{"organization_name": "Zed", "mfa_policy": "SOMETIMES"})
		}, 400, "bad_request", nil},
		{"create without credentials", func(_ *testing.T, _ *world) call {
			c := post("/v1/b2b/organizations", map[string]any{"organization_name": "Zed"})
			c.noAuth = true
			return c
		}, 401, "unauthorized_credentials", nil},

		{"get by id", func(_ *testing.T, w *world) call { return get(w.orgPath(w.orgA.ID)) }, 200, "", nil},
		{"get by slug", func(_ *testing.T, w *world) call { return get(w.orgPath("bank")) }, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.orgB.ID, r.obj("organization")["organization_id"])
		}},
		{"get unknown", func(_ *testing.T, w *world) call { return get(w.orgPath("organization-test-nope")) }, 404, "organization_not_found", nil},
		{"get with wrong secret", func(_ *testing.T, w *world) call { return withWrongAuth(get(w.orgPath(w.orgA.ID)), w) }, 401, "unauthorized_credentials", nil},

		{"update as admin", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{"organization_name": "Acme Inc", "email_allowed_domains": []string{"acme.test"}}}, w.adminSes)
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, "Acme Inc", r.obj("organization")["organization_name"])
			assert.Equal(t, []any{"acme.test"}, r.obj("organization")["email_allowed_domains"])
		}},
		{"update unknown", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: w.orgPath("nope"), body: map[string]any{}}
		}, 404, "organization_not_found", nil},
		{"update as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{"organization_name": "Mine"}}, w.userSes)
		}, 403, "session_authorization_error", nil},
		{"update with an invalid slug", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: w.orgPath(w.orgA.ID), body: map[string]any{"organization_slug": "a b"}}
		}, 400, "bad_request", nil},

		{"delete", func(_ *testing.T, w *world) call { return call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID)} }, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.orgA.ID, r.str("organization_id"))
			assert.Equal(t, 404, w.h.do(get(w.orgPath(w.orgA.ID))).status)
			assert.Equal(t, 404, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})).status)
		}},
		{"delete unknown", func(_ *testing.T, w *world) call { return call{method: http.MethodDelete, path: w.orgPath("nope")} }, 404, "organization_not_found", nil},
		{"delete as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID)}, w.userSes)
		}, 403, "session_authorization_error", nil},

		{
			"search by slug", search(map[string]any{"query": map[string]any{"operator": "AND", "operands": []any{map[string]any{"filter_name": "organization_slugs", "filter_value": []string{"bank"}}}}}),
			200, "", func(t *testing.T, w *world, r response) {
				orgs := r.body["organizations"].([]any)
				require.Len(t, orgs, 1)
				assert.Equal(t, w.orgB.ID, orgs[0].(map[string]any)["organization_id"])
			},
		},
		{"search OR and member emails", search(map[string]any{"query": map[string]any{"operator": "OR", "operands": []any{
			map[string]any{"filter_name": "organization_name_fuzzy", "filter_value": "acm"},
			map[string]any{"filter_name": "member_emails", "filter_value": []string{"user@acme.test"}},
		}}}), 200, "", func(t *testing.T, _ *world, r response) {
			assert.Len(t, r.body["organizations"], 2)
		}},
		{"search paginates", search(map[string]any{"limit": 1}), 200, "", func(t *testing.T, w *world, r response) {
			meta := r.obj("results_metadata")
			assert.InDelta(t, 2, meta["total"], 0)
			next := w.h.do(post("/v1/b2b/organizations/search", map[string]any{"limit": 1, "cursor": meta["next_cursor"]}))
			require.Equal(t, 200, next.status)
			assert.Equal(t, w.orgB.ID, next.body["organizations"].([]any)[0].(map[string]any)["organization_id"])
			assert.Empty(t, next.obj("results_metadata")["next_cursor"]) // "" on the last page
		}},
		{"search bad operator", search(map[string]any{"query": map[string]any{"operator": "XOR", "operands": []any{}}}), 400, "bad_request", nil},
		{"search unknown filter", search(map[string]any{"query": map[string]any{"operator": "AND", "operands": []any{map[string]any{"filter_name": "colour", "filter_value": "red"}}}}), 400, "bad_request", nil},
		{"search fuzzy too short", search(map[string]any{"query": map[string]any{"operator": "AND", "operands": []any{map[string]any{"filter_name": "organization_slug_fuzzy", "filter_value": "ac"}}}}), 400, "bad_request", nil},
	})
}

func TestMemberEndpoints(t *testing.T) {
	membersOf := func(w *world, org string) string { return w.orgPath(org) + "/members" }
	memberOf := func(w *world, org, id string) string { return w.orgPath(org) + "/members/" + id }
	runCases(t, []epCase{
		{"create", func(_ *testing.T, w *world) call {
			return post(membersOf(w, w.orgA.ID), map[string]any{"email_address": "new@acme.test", "name": "New", "roles": []string{"editor"}, "mfa_phone_number": "+15555550111"})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			m := r.obj("member")
			assert.Equal(t, "active", m["status"])
			roles := m["roles"].([]any)
			require.Len(t, roles, 2)
			assert.Equal(t, "editor", roles[1].(map[string]any)["role_id"])
		}},
		{"create duplicate email", func(_ *testing.T, w *world) call {
			return post(membersOf(w, w.orgA.ID), map[string]any{"email_address": "USER@acme.test"})
		}, 400, "duplicate_email", nil},
		{"create invalid email", func(_ *testing.T, w *world) call {
			return post(membersOf(w, w.orgA.ID), map[string]any{"email_address": "x"})
		}, 400, "invalid_email", nil},
		{"create invalid phone", func(_ *testing.T, w *world) call {
			return post(membersOf(w, w.orgA.ID), map[string]any{"email_address": "p@acme.test", "mfa_phone_number": "5550100"})
		}, 400, "invalid_phone_number", nil},
		{"create as member", func(_ *testing.T, w *world) call {
			return asMember(post(membersOf(w, w.orgA.ID), map[string]any{"email_address": "p@acme.test"}), w.userSes)
		}, 403, "session_authorization_error", nil},

		{"get by id", func(_ *testing.T, w *world) call { return get(w.orgPath(w.orgA.ID) + "/member?member_id=" + w.user.ID) }, 200, "", nil},
		{"get by email", func(_ *testing.T, w *world) call {
			return get(w.orgPath(w.orgA.ID) + "/member?email_address=" + url.QueryEscape(w.admin.Email))
		}, 200, "", func(t *testing.T, w *world, r response) { assert.Equal(t, w.admin.ID, r.str("member_id")) }},
		{"get without selector", func(_ *testing.T, w *world) call { return get(w.orgPath(w.orgA.ID) + "/member") }, 400, "bad_request", nil},
		{"get in the wrong organization", func(_ *testing.T, w *world) call { return get(w.orgPath(w.orgB.ID) + "/member?member_id=" + w.user.ID) }, 404, "member_not_found", nil},

		{"update", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, w.user.ID), body: map[string]any{"name": "U", "roles": []string{"stytch_admin"}, "trusted_metadata": map[string]any{"tier": "gold"}}}
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, true, r.obj("member")["is_admin"])
			assert.Equal(t, "gold", r.obj("member")["trusted_metadata"].(map[string]any)["tier"])
		}},
		{"update own name as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, w.user.ID), body: map[string]any{"name": "Me"}}, w.userSes)
		}, 200, "", nil},
		{"update another member as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, w.admin.ID), body: map[string]any{"name": "Pwned"}}, w.userSes)
		}, 403, "session_authorization_error", nil},
		{"update unknown", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, "member-test-nope"), body: map[string]any{}}
		}, 404, "member_not_found", nil},
		{"update phone when one is set", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: memberOf(w, w.orgB.ID, w.mfaUser.ID), body: map[string]any{"mfa_phone_number": "+15555550199"}}
		}, 400, "member_phone_number_already_set", nil},

		{"delete", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, w.user.ID)}
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.user.ID, r.str("member_id"))
			assert.Equal(t, 404, w.h.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_token": w.userSes.Token})).status)
		}},
		{"delete unknown", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, "nope")}
		}, 404, "member_not_found", nil},
		{"delete as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, w.admin.ID)}, w.userSes)
		}, 403, "session_authorization_error", nil},

		{"search by role", func(_ *testing.T, w *world) call {
			return post("/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{w.orgA.ID, w.orgB.ID}, "query": map[string]any{"operator": "AND", "operands": []any{
				map[string]any{"filter_name": "member_roles", "filter_value": []string{"stytch_member"}},
				map[string]any{"filter_name": "member_email_fuzzy", "filter_value": "user@"},
			}}})
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Len(t, r.body["members"], 2)
			assert.Len(t, r.obj("organizations"), 2)
		}},
		{"search without organizations", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{}})
		}, 400, "bad_request", nil},
		{"search unknown organization", func(_ *testing.T, _ *world) call {
			return post("/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{"nope"}})
		}, 404, "organization_not_found", nil},
		{"search as member", func(_ *testing.T, w *world) call {
			return asMember(post("/v1/b2b/organizations/members/search", map[string]any{"organization_ids": []string{w.orgA.ID}}), w.userSes)
		}, 403, "session_authorization_error", nil},

		{"dangerously_get", func(_ *testing.T, w *world) call {
			return get("/v1/b2b/organizations/members/dangerously_get/" + w.user.ID)
		}, 200, "", nil},
		{"dangerously_get unknown", func(_ *testing.T, _ *world) call { return get("/v1/b2b/organizations/members/dangerously_get/nope") }, 404, "member_not_found", nil},
		{"dangerously_get deleted", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, w.user.ID)}).status)
			return get("/v1/b2b/organizations/members/dangerously_get/" + w.user.ID)
		}, 404, "member_not_found", nil},
		{"dangerously_get deleted with include_deleted", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, w.user.ID)}).status)
			return get("/v1/b2b/organizations/members/dangerously_get/" + w.user.ID + "?include_deleted=true")
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Equal(t, "deleted", r.obj("member")["status"]) }},

		{"reactivate", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(call{method: http.MethodDelete, path: memberOf(w, w.orgA.ID, w.user.ID)}).status)
			return call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, w.user.ID) + "/reactivate"}
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Equal(t, "active", r.obj("member")["status"]) }},
		{"reactivate unknown", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, "nope") + "/reactivate", body: map[string]any{}}
		}, 404, "member_not_found", nil},
		{"reactivate as member", func(_ *testing.T, w *world) call {
			return asMember(call{method: http.MethodPut, path: memberOf(w, w.orgA.ID, w.admin.ID) + "/reactivate"}, w.userSes)
		}, 403, "session_authorization_error", nil},

		{"delete MFA phone", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: w.orgPath(w.orgB.ID) + "/members/mfa_phone_numbers/" + w.mfaUser.ID}
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Empty(t, r.obj("member")["mfa_phone_number"]) }},
		{"delete MFA phone when none", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID) + "/members/mfa_phone_numbers/" + w.user.ID}
		}, 400, "member_phone_number_not_found", nil},
		{"delete MFA phone unknown member", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID) + "/members/mfa_phone_numbers/nope"}
		}, 404, "member_not_found", nil},

		{"delete password", func(t *testing.T, w *world) call {
			pid, err := w.h.emu.AddMemberPassword(w.orgA.ID, w.user.ID)
			require.NoError(t, err)
			return call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID) + "/members/passwords/" + pid}
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Empty(t, r.obj("member")["member_password_id"]) }},
		{"delete unknown password", func(_ *testing.T, w *world) call {
			return call{method: http.MethodDelete, path: w.orgPath(w.orgA.ID) + "/members/passwords/member-password-test-nope"}
		}, 404, "member_password_not_found", nil},
		{"delete password in the wrong organization", func(t *testing.T, w *world) call {
			pid, err := w.h.emu.AddMemberPassword(w.orgA.ID, w.user.ID)
			require.NoError(t, err)
			return call{method: http.MethodDelete, path: w.orgPath(w.orgB.ID) + "/members/passwords/" + pid}
		}, 404, "member_password_not_found", nil},
	})
}

func TestM2MEndpoints(t *testing.T) {
	clientPath := func(w *world) string { return "/v1/m2m/clients/" + w.client.ClientID }
	tokenPath := func(w *world) string { return "/v1/public/" + w.h.emu.ProjectID() + "/oauth2/token" }
	form := func(w *world, secret, scope string) call {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {w.client.ClientID}, "client_secret": {secret}}
		if scope != "" {
			v.Set("scope", scope)
		}
		return call{method: http.MethodPost, path: tokenPath(w), body: v.Encode(), ctype: "application/x-www-form-urlencoded", noAuth: true}
	}
	runCases(t, []epCase{
		{"create", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients", map[string]any{"scopes": []string{"read:a"}, "client_name": "n", "client_id": "custom-id", "client_secret": "long-enough-secret"})
		}, 200, "", func(t *testing.T, _ *world, r response) {
			c := r.obj("m2m_client")
			assert.Equal(t, "custom-id", c["client_id"])
			assert.Equal(t, "long-enough-secret", c["client_secret"])
			assert.Equal(t, "cret", c["client_secret_last_four"])
		}},
		{"create without scopes", func(_ *testing.T, _ *world) call { return post("/v1/m2m/clients", map[string]any{"client_name": "n"}) }, 400, "bad_request", nil},
		{"create duplicate id", func(_ *testing.T, w *world) call {
			return post("/v1/m2m/clients", map[string]any{"scopes": []string{}, "client_id": w.client.ClientID})
		}, 400, "m2m_client_id_already_used", nil},
		{"create short secret", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients", map[string]any{"scopes": []string{}, "client_secret": "short"})
		}, 400, "bad_request", nil},

		{"search by name", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients/search", map[string]any{"query": map[string]any{"operator": "AND", "operands": []any{map[string]any{"filter_name": "client_name", "filter_value": "svc"}}}})
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Len(t, r.body["m2m_clients"], 1) }},
		{"search by scope finds nothing", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients/search", map[string]any{"query": map[string]any{"operator": "OR", "operands": []any{map[string]any{"filter_name": "scopes", "filter_value": []string{"admin:all"}}}}})
		}, 200, "", func(t *testing.T, _ *world, r response) { assert.Empty(t, r.body["m2m_clients"]) }},
		{"search bad cursor", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients/search", map[string]any{"cursor": "!!"})
		}, 400, "bad_request", nil},
		{"search limit too large", func(_ *testing.T, _ *world) call {
			return post("/v1/m2m/clients/search", map[string]any{"limit": 1001})
		}, 400, "bad_request", nil},

		{"get", func(_ *testing.T, w *world) call { return get(clientPath(w)) }, 200, "", func(t *testing.T, _ *world, r response) {
			assert.NotContains(t, r.obj("m2m_client"), "client_secret")
		}},
		{"get unknown", func(_ *testing.T, _ *world) call { return get("/v1/m2m/clients/nope") }, 404, "m2m_client_not_found", nil},
		{"get with wrong secret", func(_ *testing.T, w *world) call { return withWrongAuth(get(clientPath(w)), w) }, 401, "unauthorized_credentials", nil},

		{"update", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: clientPath(w), body: map[string]any{"status": "inactive", "scopes": []string{"read:users"}}}
		}, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, "inactive", r.obj("m2m_client")["status"])
			assert.Equal(t, 401, w.h.do(form(w, w.client.ClientSecret, "")).status, "inactive clients get no tokens")
		}},
		{"update unknown", func(_ *testing.T, _ *world) call {
			return call{method: http.MethodPut, path: "/v1/m2m/clients/nope", body: map[string]any{}}
		}, 404, "m2m_client_not_found", nil},
		{"update bad status", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPut, path: clientPath(w), body: map[string]any{"status": "paused"}}
		}, 400, "bad_request", nil},

		{"delete", func(_ *testing.T, w *world) call { return call{method: http.MethodDelete, path: clientPath(w)} }, 200, "", func(t *testing.T, w *world, r response) {
			assert.Equal(t, w.client.ClientID, r.str("client_id"))
		}},
		{"delete twice", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(call{method: http.MethodDelete, path: clientPath(w)}).status)
			return call{method: http.MethodDelete, path: clientPath(w)}
		}, 404, "m2m_client_not_found", nil},
		{"delete with wrong secret", func(_ *testing.T, w *world) call {
			return withWrongAuth(call{method: http.MethodDelete, path: clientPath(w)}, w)
		}, 401, "unauthorized_credentials", nil},

		{"rotate start", func(_ *testing.T, w *world) call { return post(clientPath(w)+"/secrets/rotate/start", nil) }, 200, "", func(t *testing.T, _ *world, r response) {
			c := r.obj("m2m_client")
			assert.NotEmpty(t, c["next_client_secret"])
			assert.Equal(t, lastFour(c["next_client_secret"].(string)), c["next_client_secret_last_four"])
		}},
		{"rotate start unknown", func(_ *testing.T, _ *world) call { return post("/v1/m2m/clients/nope/secrets/rotate/start", nil) }, 404, "m2m_client_not_found", nil},
		{"rotate start wrong secret", func(_ *testing.T, w *world) call {
			return withWrongAuth(post(clientPath(w)+"/secrets/rotate/start", nil), w)
		}, 401, "unauthorized_credentials", nil},

		{"rotate", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post(clientPath(w)+"/secrets/rotate/start", map[string]any{})).status)
			return post(clientPath(w)+"/secrets/rotate", nil)
		}, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Empty(t, r.obj("m2m_client")["next_client_secret_last_four"])
		}},
		{"rotate without start", func(_ *testing.T, w *world) call { return post(clientPath(w)+"/secrets/rotate", nil) }, 400, "m2m_client_secret_rotation_not_started", nil},
		{"rotate unknown", func(_ *testing.T, _ *world) call { return post("/v1/m2m/clients/nope/secrets/rotate", nil) }, 404, "m2m_client_not_found", nil},

		{"rotate cancel", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post(clientPath(w)+"/secrets/rotate/start", nil)).status)
			return post(clientPath(w)+"/secrets/rotate/cancel", nil)
		}, 200, "", nil},
		{"rotate cancel without start", func(_ *testing.T, w *world) call { return post(clientPath(w)+"/secrets/rotate/cancel", nil) }, 400, "m2m_client_secret_rotation_not_started", nil},
		{"rotate cancel unknown", func(_ *testing.T, _ *world) call { return post("/v1/m2m/clients/nope/secrets/rotate/cancel", nil) }, 404, "m2m_client_not_found", nil},

		{"token by form", func(_ *testing.T, w *world) call { return form(w, w.client.ClientSecret, "read:users") }, 200, "", func(t *testing.T, _ *world, r response) {
			assert.Equal(t, "bearer", r.str("token_type"))
			assert.InDelta(t, 3600, r.body["expires_in"], 0)
		}},
		{"token by JSON", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPost, path: tokenPath(w), noAuth: true, body: map[string]any{"grant_type": "client_credentials", "client_id": w.client.ClientID, "client_secret": w.client.ClientSecret}}
		}, 200, "", nil},
		{"token with client Basic auth", func(_ *testing.T, w *world) call {
			return call{method: http.MethodPost, path: tokenPath(w), body: "grant_type=client_credentials", ctype: "application/x-www-form-urlencoded", auth: [2]string{w.client.ClientID, w.client.ClientSecret}}
		}, 200, "", nil},
		{"token wrong secret", func(_ *testing.T, w *world) call { return form(w, "wrong-secret", "") }, 401, "invalid_client", nil},
		{"token after rotation with the old secret", func(_ *testing.T, w *world) call {
			require.Equal(t, 200, w.h.do(post(clientPath(w)+"/secrets/rotate/start", nil)).status)
			require.Equal(t, 200, w.h.do(post(clientPath(w)+"/secrets/rotate", nil)).status)
			return form(w, w.client.ClientSecret, "")
		}, 401, "invalid_client", nil},
		{"token scope not granted", func(_ *testing.T, w *world) call { return form(w, w.client.ClientSecret, "admin:all") }, 400, "invalid_scope", nil},
		{"token wrong grant type", func(_ *testing.T, w *world) call {
			c := form(w, w.client.ClientSecret, "")
			c.body = strings.Replace(c.body.(string), "client_credentials", "password", 1)
			return c
		}, 400, "unsupported_grant_type", nil},
		{"token other project", func(_ *testing.T, w *world) call {
			c := form(w, w.client.ClientSecret, "")
			c.path = "/v1/public/project-test-other/oauth2/token"
			return c
		}, 404, "invalid_request", nil},

		{"unknown route", func(_ *testing.T, _ *world) call { return get("/v1/b2b/nothing/here") }, 404, "route_not_found", nil},
		{"known path with the wrong method", func(_ *testing.T, _ *world) call { return get("/v1/b2b/sessions/authenticate") }, 404, "route_not_found", nil},
	})
}

func lastFour(s string) string { return s[len(s)-4:] }
