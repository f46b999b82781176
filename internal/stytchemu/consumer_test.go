package stytchemu_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// cworld is a small consumer project every consumer table case starts from.
type cworld struct {
	h        *harness
	alice    stytchemu.User // email and phone, verified, stytch_user
	bob      stytchemu.User // email only
	carol    stytchemu.User // phone only, pending
	aliceSes stytchemu.UserSession
}

func newConsumerWorld(t *testing.T, opts ...stytchemu.Option) *cworld {
	t.Helper()
	h := newHarness(t, append([]stytchemu.Option{stytchemu.WithConsumer()}, opts...)...)
	w := &cworld{h: h}
	var err error
	w.alice, err = h.emu.CreateUser(stytchemu.UserParams{Email: "alice@example.test", Phone: "+15555550111", FirstName: "Alice", Verified: true, ExternalID: "ext-alice"})
	require.NoError(t, err)
	w.bob, err = h.emu.CreateUser(stytchemu.UserParams{Email: "bob@example.test"})
	require.NoError(t, err)
	w.carol, err = h.emu.CreateUser(stytchemu.UserParams{Phone: "+15555550122", Pending: true})
	require.NoError(t, err)
	w.aliceSes, err = h.emu.CreateUserSession(w.alice.ID, time.Hour)
	require.NoError(t, err)
	return w
}

func (w *cworld) last(t *testing.T, to string) stytchemu.Message {
	t.Helper()
	m, ok := w.h.emu.LastMessage(to)
	require.True(t, ok, "no message")
	return m
}

// cCase is one request against a fresh consumer world.
type cCase struct {
	name    string
	req     func(t *testing.T, w *cworld) call
	status  int
	errType string
	check   func(t *testing.T, w *cworld, r response)
}

func runConsumerCases(t *testing.T, cases []cCase, opts ...stytchemu.Option) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newConsumerWorld(t, opts...)
			r := w.h.do(tc.req(t, w))
			require.Equal(t, tc.status, r.status, "body: %s", r.raw)
			if tc.errType != "" {
				assert.Equal(t, tc.errType, r.str("error_type"))
			}
			if tc.check != nil {
				tc.check(t, w, r)
			}
		})
	}
}

func (w *cworld) getUser(t *testing.T, id string) response {
	t.Helper()
	r := w.h.do(get("/v1/users/" + id))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r
}

// sendLink runs magic-link login_or_create and returns the token mailed.
func (w *cworld) sendLink(t *testing.T, email string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"email": email}
	for k, v := range extra {
		body[k] = v
	}
	r := w.h.do(post("/v1/magic_links/email/login_or_create", body))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return w.last(t, email).Token
}

// sendSMS sends an SMS code to phone and returns the method ID and code.
func (w *cworld) sendSMS(t *testing.T, phone string) (string, string) {
	t.Helper()
	r := w.h.do(post("/v1/otps/sms/send", map[string]any{"phone_number": phone}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r.str("phone_id"), w.last(t, phone).Code
}

func emails(r map[string]any) []any {
	l, _ := r["emails"].([]any)
	return l
}

func TestConsumerUserEndpoints(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"create with email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"email": "new@example.test", "name": map[string]any{"first_name": "Nia"}, "trusted_metadata": map[string]any{"tier": "gold"}})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, "active", r.str("status"))
			assert.NotEmpty(t, r.str("email_id"))
			assert.Empty(t, r.str("phone_id"))
			u := r.obj("user")
			assert.Equal(t, r.str("user_id"), u["user_id"])
			assert.Equal(t, "Nia", u["name"].(map[string]any)["first_name"])
			assert.Equal(t, map[string]any{"tier": "gold"}, u["trusted_metadata"])
			assert.Equal(t, []any{"stytch_user"}, u["roles"])
			assert.Equal(t, false, emails(u)[0].(map[string]any)["verified"])
		}},
		{"create pending with phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"phone_number": "+15555550199", "create_user_as_pending": true})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, "pending", r.str("status"))
			assert.NotEmpty(t, r.str("phone_id"))
			assert.Empty(t, r.str("email_id"))
		}},
		{"create without email or phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"name": map[string]any{"first_name": "X"}})
		}, 400, "bad_request", nil},
		{"create invalid email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"email": "nope"})
		}, 400, "invalid_email", nil},
		{"create invalid phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"phone_number": "5555"})
		}, 400, "invalid_phone_number", nil},
		{"create duplicate email", func(_ *testing.T, w *cworld) call {
			return post("/v1/users", map[string]any{"email": strings.ToUpper(w.alice.Email)})
		}, 400, "duplicate_email", nil},
		{"create duplicate phone", func(_ *testing.T, w *cworld) call {
			return post("/v1/users", map[string]any{"phone_number": w.alice.Phone})
		}, 400, "duplicate_phone_number", nil},
		{"create bad external_id", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", map[string]any{"email": "e@example.test", "external_id": "has space"})
		}, 400, "bad_request", nil},
		{"create malformed body", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users", "{not json")
		}, 400, "bad_request", nil},
		{"create wrong secret", func(_ *testing.T, w *cworld) call {
			c := post("/v1/users", map[string]any{"email": "e@example.test"})
			c.auth = [2]string{w.h.emu.ProjectID(), "wrong"}
			return c
		}, 401, "unauthorized_credentials", nil},

		{"get", func(_ *testing.T, w *cworld) call { return get("/v1/users/" + w.alice.ID) }, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.alice.ID, r.str("user_id"))
			assert.Equal(t, "ext-alice", r.str("external_id"))
			assert.Len(t, r.body["phone_numbers"], 1)
			assert.Equal(t, true, emails(r.body)[0].(map[string]any)["verified"])
		}},
		{"get by external_id", func(_ *testing.T, _ *cworld) call { return get("/v1/users/ext-alice") }, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.alice.ID, r.str("user_id"))
		}},
		{"get unknown", func(_ *testing.T, _ *cworld) call { return get("/v1/users/user-test-nope") }, 404, "user_not_found", nil},

		{"update", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.bob.ID, body: map[string]any{
				"name": map[string]any{"first_name": "Robert", "last_name": "B"}, "untrusted_metadata": map[string]any{"theme": "dark"},
				"external_id": "ext-bob", "roles": []string{"editor"},
			}}
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Len(t, r.body["emails"], 1)
			assert.Empty(t, r.body["crypto_wallets"])
			u := r.obj("user")
			assert.Equal(t, "Robert", u["name"].(map[string]any)["first_name"])
			assert.Equal(t, []any{"stytch_user", "editor"}, u["roles"])
			assert.Equal(t, w.bob.ID, w.getUser(t, "ext-bob").str("user_id"))
		}},
		{"update unknown", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/user-test-nope", body: map[string]any{}}
		}, 404, "user_not_found", nil},
		{"update duplicate external_id", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.bob.ID, body: map[string]any{"external_id": "ext-alice"}}
		}, 400, "duplicate_user_external_id", nil},

		{"delete revokes sessions", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodDelete, path: "/v1/users/" + w.alice.ID}
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.alice.ID, r.str("user_id"))
			assert.Equal(t, 404, w.h.do(get("/v1/users/"+w.alice.ID)).status)
			assert.Equal(t, 404, w.h.do(post("/v1/sessions/authenticate", map[string]any{"session_token": w.aliceSes.Token})).status)
		}},
		{"delete unknown", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodDelete, path: "/v1/users/user-test-nope"}
		}, 404, "user_not_found", nil},

		{"exchange primary factor email to phone", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.bob.ID + "/exchange_primary_factor", body: map[string]any{"phone_number": "+15555550133"}}
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			u := r.obj("user")
			assert.Empty(t, u["emails"])
			assert.Equal(t, "+15555550133", u["phone_numbers"].([]any)[0].(map[string]any)["phone_number"])
		}},
		{"exchange primary factor with two factors", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.alice.ID + "/exchange_primary_factor", body: map[string]any{"email_address": "a2@example.test"}}
		}, 400, "too_many_factors", nil},
		{"exchange primary factor needs exactly one field", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.bob.ID + "/exchange_primary_factor", body: map[string]any{"email_address": "a2@example.test", "phone_number": "+15555550133"}}
		}, 400, "bad_request", nil},
		{"exchange primary factor to a taken email", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/" + w.bob.ID + "/exchange_primary_factor", body: map[string]any{"email_address": w.alice.Email}}
		}, 400, "duplicate_email", nil},
		{"exchange primary factor unknown user", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodPut, path: "/v1/users/user-test-nope/exchange_primary_factor", body: map[string]any{"email_address": "a2@example.test"}}
		}, 404, "user_not_found", nil},
	})
}

func TestConsumerUserSearch(t *testing.T) {
	q := func(op string, operands ...map[string]any) map[string]any {
		return map[string]any{"query": map[string]any{"operator": op, "operands": operands}}
	}
	f := func(name string, v any) map[string]any { return map[string]any{"filter_name": name, "filter_value": v} }
	ids := func(r response) []string {
		var out []string
		for _, u := range r.body["results"].([]any) {
			out = append(out, u.(map[string]any)["user_id"].(string))
		}
		return out
	}
	runConsumerCases(t, []cCase{
		{"no query returns everyone", func(_ *testing.T, _ *cworld) call { return post("/v1/users/search", map[string]any{}) }, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, []string{w.alice.ID, w.bob.ID, w.carol.ID}, ids(r))
			assert.InDelta(t, 3, r.obj("results_metadata")["total"], 0)
			assert.Empty(t, r.obj("results_metadata")["next_cursor"]) // "" on the last page
		}},
		{"email_address", func(_ *testing.T, w *cworld) call {
			return post("/v1/users/search", q("AND", f("email_address", []string{w.bob.Email})))
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, []string{w.bob.ID}, ids(r)) }},
		{"status and phone_verified", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", q("AND", f("status", "pending"), f("phone_verified", false)))
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, []string{w.carol.ID}, ids(r)) }},
		{"OR of fuzzy filters", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", q("OR", f("email_address_fuzzy", "BOB@"), f("phone_number_fuzzy", "550122")))
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, []string{w.bob.ID, w.carol.ID}, ids(r)) }},
		{"email_domain, user_id, full_name_fuzzy", func(_ *testing.T, w *cworld) call {
			return post("/v1/users/search", q("AND", f("email_domain", "example.test"), f("user_id", []string{w.alice.ID, w.carol.ID}), f("full_name_fuzzy", "ali")))
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, []string{w.alice.ID}, ids(r)) }},
		{"created_at_less_than", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", q("AND", f("created_at_less_than", epoch.Format(time.RFC3339))))
		}, 200, "", func(t *testing.T, _ *cworld, r response) { assert.Empty(t, ids(r)) }},
		{"paging", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/users/search", map[string]any{"limit": 2}))
			require.Equal(t, 200, r.status)
			require.Equal(t, []string{w.alice.ID, w.bob.ID}, ids(r))
			cur, _ := r.obj("results_metadata")["next_cursor"].(string)
			require.NotEmpty(t, cur)
			return post("/v1/users/search", map[string]any{"limit": 2, "cursor": cur})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, []string{w.carol.ID}, ids(r))
			assert.Empty(t, r.obj("results_metadata")["next_cursor"]) // "" on the last page
		}},
		{"bad operator", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", q("XOR", f("status", "active")))
		}, 400, "bad_request", nil},
		{"unknown filter", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", q("AND", f("shoe_size", "9")))
		}, 400, "bad_request", nil},
		{"bad cursor", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", map[string]any{"cursor": "!!"})
		}, 400, "bad_request", nil},
		{"limit too large", func(_ *testing.T, _ *cworld) call {
			return post("/v1/users/search", map[string]any{"limit": 1001})
		}, 400, "bad_request", nil},
	})
}

func TestConsumerFactorDelete(t *testing.T) {
	kinds := []struct {
		kind, path, field, errType string
	}{
		{stytchemu.FactorPassword, "/v1/users/passwords/", "password", "password_not_found"},
		{stytchemu.FactorTOTP, "/v1/users/totps/", "totps", "totp_not_found"},
		{stytchemu.FactorWebAuthn, "/v1/users/webauthn_registrations/", "webauthn_registrations", "webauthn_registration_not_found"},
		{stytchemu.FactorOAuth, "/v1/users/oauth/", "providers", "oauth_user_registration_not_found"},
		{stytchemu.FactorCrypto, "/v1/users/crypto_wallets/", "crypto_wallets", "crypto_wallet_not_found"},
		{stytchemu.FactorBiometric, "/v1/users/biometric_registrations/", "biometric_registrations", "biometric_registration_not_found"},
	}
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			w := newConsumerWorld(t)
			id, err := w.h.emu.SeedUserFactor(w.bob.ID, k.kind)
			require.NoError(t, err)
			before := w.getUser(t, w.bob.ID)
			require.NotEmpty(t, before.body[k.field], "seeded factor shows on the user")

			r := w.h.do(call{method: http.MethodDelete, path: k.path + id})
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Empty(t, r.obj("user")[k.field])

			r = w.h.do(call{method: http.MethodDelete, path: k.path + id})
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Equal(t, k.errType, r.str("error_type"))
		})
	}
	runConsumerCases(t, []cCase{
		{"delete email", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodDelete, path: "/v1/users/emails/" + w.alice.EmailID}
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Empty(t, r.obj("user")["emails"])
			assert.Len(t, r.obj("user")["phone_numbers"], 1)
			assert.Equal(t, 404, w.h.do(post("/v1/magic_links/email/send", map[string]any{"email": w.alice.Email})).status)
		}},
		{"delete email unknown", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodDelete, path: "/v1/users/emails/email-test-nope"}
		}, 404, "email_not_found", nil},
		{"delete phone invalidates its code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			r := w.h.do(call{method: http.MethodDelete, path: "/v1/users/phone_numbers/" + id})
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Empty(t, r.obj("user")["phone_numbers"])
			return post("/v1/otps/authenticate", map[string]any{"method_id": id, "code": code})
		}, 404, "otp_code_not_found", nil},
		{"delete phone unknown", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodDelete, path: "/v1/users/phone_numbers/phone-number-test-nope"}
		}, 404, "phone_number_not_found", nil},
	})
}

func pkcePair() (verifier, challenge string) {
	verifier = "a-verifier-of-enough-length-0123456789abcdefghijkl"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestConsumerMagicLinkEndpoints(t *testing.T) {
	const authPath = "/v1/magic_links/authenticate"
	verifier, challenge := pkcePair()
	runConsumerCases(t, []cCase{
		{"send to an existing user", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": w.alice.Email, "login_magic_link_url": "https://app.test/cb"})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.alice.ID, r.str("user_id"))
			assert.Equal(t, w.alice.EmailID, r.str("email_id"))
			m := w.last(t, w.alice.Email)
			assert.Equal(t, stytchemu.TemplateLogin, m.Template)
			assert.Equal(t, w.alice.ID, m.UserID)
			assert.True(t, strings.HasPrefix(m.URL, "https://app.test/cb?"), m.URL)
			assert.Contains(t, m.URL, "stytch_token_type=magic_links")
		}},
		{"send to an unknown email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": "ghost@example.test"})
		}, 404, "email_not_found", nil},
		{"send with user_id adds an unverified email", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": "bob2@example.test", "user_id": w.bob.ID})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			u := w.getUser(t, w.bob.ID)
			require.Len(t, emails(u.body), 2)
			assert.Equal(t, false, emails(u.body)[1].(map[string]any)["verified"])
			tok := w.last(t, "bob2@example.test").Token
			a := w.h.do(post(authPath, map[string]any{"token": tok}))
			require.Equal(t, 200, a.status, "%s", a.raw)
			assert.Equal(t, r.str("email_id"), a.str("method_id"))
			assert.Equal(t, true, emails(a.obj("user"))[1].(map[string]any)["verified"])
		}},
		{"send with a session adds the email to its user", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": "alice2@example.test", "session_token": w.aliceSes.Token})
		}, 200, "", func(t *testing.T, w *cworld, r response) { assert.Equal(t, w.alice.ID, r.str("user_id")) }},
		{"send with user_id of another user's email", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": w.alice.Email, "user_id": w.bob.ID})
		}, 400, "duplicate_email", nil},
		{"send with unknown user_id", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": "x@example.test", "user_id": "user-test-nope"})
		}, 404, "user_not_found", nil},
		{"send invalid email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": "nope"})
		}, 400, "invalid_email", nil},
		{"send bad redirect URL", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/send", map[string]any{"email": w.alice.Email, "login_magic_link_url": "not a url"})
		}, 400, "bad_request", nil},

		{"login_or_create creates a user", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/login_or_create", map[string]any{"email": "new@example.test", "create_user_as_pending": true, "signup_magic_link_url": "https://app.test/signup"})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, true, r.body["user_created"])
			m := w.last(t, "new@example.test")
			assert.Equal(t, stytchemu.TemplateSignup, m.Template)
			assert.Equal(t, epoch.Add(10080*time.Minute), m.ExpiresAt)
			assert.True(t, strings.HasPrefix(m.URL, "https://app.test/signup?"))
			assert.Equal(t, "pending", w.getUser(t, r.str("user_id")).str("status"))
		}},
		{"login_or_create existing user gets a login link", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/login_or_create", map[string]any{"email": w.bob.Email, "login_expiration_minutes": 15})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, false, r.body["user_created"])
			assert.Equal(t, w.bob.EmailID, r.str("email_id"))
			m := w.last(t, w.bob.Email)
			assert.Equal(t, stytchemu.TemplateLogin, m.Template)
			assert.Equal(t, epoch.Add(15*time.Minute), m.ExpiresAt)
		}},
		{"login_or_create expiration out of range", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/login_or_create", map[string]any{"email": "new@example.test", "signup_expiration_minutes": 4})
		}, 400, "bad_request", nil},
		{"login_or_create missing email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/login_or_create", map[string]any{})
		}, 400, "bad_request", nil},

		{"invite creates a pending user", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/invite", map[string]any{"email": "inv@example.test", "name": map[string]any{"first_name": "Ivy"}})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			m := w.last(t, "inv@example.test")
			assert.Equal(t, stytchemu.TemplateInvite, m.Template)
			assert.Equal(t, epoch.Add(time.Hour), m.ExpiresAt)
			u := w.getUser(t, r.str("user_id"))
			assert.Equal(t, "pending", u.str("status"))
			a := w.h.do(post(authPath, map[string]any{"token": m.Token}))
			require.Equal(t, 200, a.status, "%s", a.raw)
			assert.Equal(t, "active", a.obj("user")["status"])
		}},
		{"invite an active user", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/invite", map[string]any{"email": w.bob.Email})
		}, 400, "user_already_active", nil},
		{"invite expiration out of range", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/invite", map[string]any{"email": "inv@example.test", "invite_expiration_minutes": 10081})
		}, 400, "bad_request", nil},

		{"revoke_invite spends the invite", func(t *testing.T, w *cworld) call {
			require.Equal(t, 200, w.h.do(post("/v1/magic_links/email/invite", map[string]any{"email": "inv@example.test"})).status)
			tok := w.last(t, "inv@example.test").Token
			r := w.h.do(post("/v1/magic_links/email/revoke_invite", map[string]any{"email": "inv@example.test"}))
			require.Equal(t, 200, r.status, "%s", r.raw)
			return post(authPath, map[string]any{"token": tok})
		}, 401, "unable_to_auth_magic_link", nil},
		{"revoke_invite without an invite", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links/email/revoke_invite", map[string]any{"email": w.bob.Email})
		}, 404, "invite_not_found", nil},
		{"revoke_invite invalid email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/revoke_invite", map[string]any{"email": "x"})
		}, 400, "invalid_email", nil},

		{"create embeddable link", func(_ *testing.T, w *cworld) call {
			return post("/v1/magic_links", map[string]any{"user_id": w.bob.ID, "expiration_minutes": 5})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			require.NotEmpty(t, r.str("token"))
			assert.Empty(t, w.h.emu.Outbox(), "an embeddable link is not sent")
			a := w.h.do(post(authPath, map[string]any{"token": r.str("token"), "session_duration_minutes": 5}))
			require.Equal(t, 200, a.status, "%s", a.raw)
			f := a.obj("session")["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "embedded", f["delivery_method"])
			assert.NotEmpty(t, f["embeddable_magic_link_factor"])
			assert.Equal(t, false, emails(a.obj("user"))[0].(map[string]any)["verified"], "nothing is verified")
		}},
		{"create embeddable for unknown user", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links", map[string]any{"user_id": "user-test-nope"})
		}, 404, "user_not_found", nil},
		{"create embeddable without user_id", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links", map[string]any{})
		}, 400, "bad_request", nil},
		{"create embeddable expired", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/magic_links", map[string]any{"user_id": w.bob.ID, "expiration_minutes": 5}))
			require.Equal(t, 200, r.status)
			w.h.emu.Advance(5 * time.Minute)
			return post(authPath, map[string]any{"token": r.str("token")})
		}, 401, "unable_to_auth_magic_link", nil},

		{"authenticate without a duration creates no session", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, nil)})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Equal(t, w.bob.EmailID, r.str("method_id"))
			assert.Contains(t, r.body, "session_token")
			assert.Empty(t, r.str("session_token"))
			assert.Contains(t, r.body, "session_jwt")
			assert.Empty(t, r.str("session_jwt"))
			assert.NotContains(t, r.body, "session")
			assert.Equal(t, false, r.body["reset_sessions"])
			assert.Equal(t, true, emails(r.obj("user"))[0].(map[string]any)["verified"])
		}},
		{"authenticate with a duration creates a session", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, nil), "session_duration_minutes": 30, "session_custom_claims": map[string]any{"plan": "pro"}})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			s := r.obj("session")
			assert.Equal(t, w.bob.ID, s["user_id"])
			assert.Equal(t, epoch.Add(30*time.Minute).Format(time.RFC3339), s["expires_at"])
			assert.Equal(t, map[string]any{"plan": "pro"}, s["custom_claims"])
			f := s["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "magic_link", f["type"])
			assert.Equal(t, "email", f["delivery_method"])
			assert.NotEmpty(t, r.str("session_token"))
			assert.NotEmpty(t, r.str("session_jwt"))
		}},
		{"authenticate into an existing session adds the factor", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			r := w.h.do(post("/v1/otps/authenticate", map[string]any{"method_id": id, "code": code, "session_token": w.aliceSes.Token}))
			require.Equal(t, 200, r.status, "%s", r.raw)
			return post(authPath, map[string]any{"token": w.sendLink(t, w.alice.Email, nil), "session_token": w.aliceSes.Token, "session_duration_minutes": 90})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			s := r.obj("session")
			assert.Equal(t, w.aliceSes.ID, s["session_id"])
			assert.Equal(t, w.aliceSes.Token, r.str("session_token"))
			assert.Len(t, s["authentication_factors"], 2)
			assert.Equal(t, epoch.Add(90*time.Minute).Format(time.RFC3339), s["expires_at"])
		}},
		{"authenticate with another user's session", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, nil), "session_token": w.aliceSes.Token})
		}, 400, "bad_request", nil},
		{"authenticate with both session token and JWT", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.alice.Email, nil), "session_token": w.aliceSes.Token, "session_jwt": w.aliceSes.JWT})
		}, 400, "too_many_session_arguments", nil},
		{"authenticate session duration out of range", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.alice.Email, nil), "session_duration_minutes": 4})
		}, 400, "bad_request", nil},
		{"authenticate unknown token", func(_ *testing.T, _ *cworld) call {
			return post(authPath, map[string]any{"token": "no-such-token"})
		}, 404, "magic_link_not_found", nil},
		{"authenticate missing token", func(_ *testing.T, _ *cworld) call {
			return post(authPath, map[string]any{})
		}, 400, "bad_request", nil},
		{"authenticate reused token", func(t *testing.T, w *cworld) call {
			tok := w.sendLink(t, w.bob.Email, nil)
			require.Equal(t, 200, w.h.do(post(authPath, map[string]any{"token": tok})).status)
			return post(authPath, map[string]any{"token": tok})
		}, 401, "unable_to_auth_magic_link", nil},
		{"authenticate expired token", func(t *testing.T, w *cworld) call {
			tok := w.sendLink(t, w.bob.Email, nil)
			w.h.emu.Advance(61 * time.Minute)
			return post(authPath, map[string]any{"token": tok})
		}, 401, "unable_to_auth_magic_link", nil},
		{"authenticate with PKCE", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, map[string]any{"code_challenge": challenge}), "code_verifier": verifier})
		}, 200, "", nil},
		{"authenticate with a bad PKCE verifier", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, map[string]any{"code_challenge": challenge}), "code_verifier": "wrong"})
		}, 400, "pkce_mismatch", nil},
		{"authenticate without the PKCE verifier", func(t *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"token": w.sendLink(t, w.bob.Email, map[string]any{"code_challenge": challenge})})
		}, 400, "pkce_mismatch", nil},
		{"a PKCE refusal does not spend the token", func(t *testing.T, w *cworld) call {
			tok := w.sendLink(t, w.bob.Email, map[string]any{"code_challenge": challenge})
			require.Equal(t, 400, w.h.do(post(authPath, map[string]any{"token": tok, "code_verifier": "wrong"})).status)
			return post(authPath, map[string]any{"token": tok, "code_verifier": verifier})
		}, 200, "", nil},
		{"authenticate after the user was deleted", func(t *testing.T, w *cworld) call {
			tok := w.sendLink(t, w.bob.Email, nil)
			require.Equal(t, 200, w.h.do(call{method: http.MethodDelete, path: "/v1/users/" + w.bob.ID}).status)
			return post(authPath, map[string]any{"token": tok})
		}, 404, "magic_link_not_found", nil},
	})
}

func TestConsumerOTPEndpoints(t *testing.T) {
	const authPath = "/v1/otps/authenticate"
	runConsumerCases(t, []cCase{
		{"sms send to an existing phone", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/sms/send", map[string]any{"phone_number": w.alice.Phone})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.alice.PhoneID, r.str("phone_id"))
			assert.Equal(t, w.alice.ID, r.str("user_id"))
			m := w.last(t, w.alice.Phone)
			assert.Equal(t, stytchemu.KindSMS, m.Kind)
			assert.Regexp(t, `^[0-9]{6}$`, m.Code)
			assert.Equal(t, epoch.Add(2*time.Minute), m.ExpiresAt)
		}},
		{"sms send to an unknown phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/sms/send", map[string]any{"phone_number": "+15555550999"})
		}, 404, "phone_number_not_found", nil},
		{"sms send with user_id adds the phone", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/sms/send", map[string]any{"phone_number": "+15555550144", "user_id": w.bob.ID})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Len(t, w.getUser(t, w.bob.ID).body["phone_numbers"], 1)
		}},
		{"sms send invalid phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/sms/send", map[string]any{"phone_number": "12345"})
		}, 400, "invalid_phone_number", nil},
		{"sms send expiration out of range", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/sms/send", map[string]any{"phone_number": w.alice.Phone, "expiration_minutes": 11})
		}, 400, "bad_request", nil},
		{"sms login_or_create new phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/sms/login_or_create", map[string]any{"phone_number": "+15555550155", "expiration_minutes": 10})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, true, r.body["user_created"])
			m := w.last(t, "+15555550155")
			assert.Equal(t, stytchemu.TemplateSignup, m.Template)
			assert.Equal(t, epoch.Add(10*time.Minute), m.ExpiresAt)
		}},
		{"sms login_or_create existing phone", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/sms/login_or_create", map[string]any{"phone_number": w.alice.Phone})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, false, r.body["user_created"])
			assert.Equal(t, w.alice.PhoneID, r.str("phone_id"))
		}},
		{"whatsapp send", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/whatsapp/send", map[string]any{"phone_number": w.carol.Phone})
		}, 200, "", func(t *testing.T, w *cworld, _ response) {
			assert.Equal(t, stytchemu.KindWhatsApp, w.last(t, w.carol.Phone).Kind)
		}},
		{"whatsapp send unknown phone", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/whatsapp/send", map[string]any{"phone_number": "+15555550999"})
		}, 404, "phone_number_not_found", nil},
		{"whatsapp login_or_create and authenticate", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/otps/whatsapp/login_or_create", map[string]any{"phone_number": "+15555550166", "create_user_as_pending": true}))
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Equal(t, true, r.body["user_created"])
			return post(authPath, map[string]any{"method_id": r.str("phone_id"), "code": w.last(t, "+15555550166").Code, "session_duration_minutes": 10})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, "active", r.obj("user")["status"])
			f := r.obj("session")["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "otp", f["type"])
			assert.Equal(t, "whatsapp", f["delivery_method"])
			assert.Equal(t, "+15555550166", f["phone_number_factor"].(map[string]any)["phone_number"])
		}},
		{"email send", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/email/send", map[string]any{"email": w.bob.Email, "expiration_minutes": 1})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.EmailID, r.str("email_id"))
			m := w.last(t, w.bob.Email)
			assert.Equal(t, stytchemu.MethodOTP, m.Method)
			assert.Equal(t, epoch.Add(time.Minute), m.ExpiresAt)
		}},
		{"email send unknown email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/email/send", map[string]any{"email": "ghost@example.test"})
		}, 404, "email_not_found", nil},
		{"email send expiration out of range", func(_ *testing.T, w *cworld) call {
			return post("/v1/otps/email/send", map[string]any{"email": w.bob.Email, "expiration_minutes": 0})
		}, 400, "bad_request", nil},
		{"email login_or_create", func(_ *testing.T, _ *cworld) call {
			return post("/v1/otps/email/login_or_create", map[string]any{"email": "otp@example.test"})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, true, r.body["user_created"])
			assert.NotEmpty(t, r.str("email_id"))
		}},

		{"authenticate sms code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.carol.Phone)
			return post(authPath, map[string]any{"method_id": id, "code": code})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.carol.PhoneID, r.str("method_id"))
			assert.Contains(t, r.body, "session_token")
			assert.Empty(t, r.str("session_token"))
			u := r.obj("user")
			assert.Equal(t, "active", u["status"])
			assert.Equal(t, true, u["phone_numbers"].([]any)[0].(map[string]any)["verified"])
		}},
		{"authenticate email code with a session", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/otps/email/send", map[string]any{"email": w.bob.Email}))
			require.Equal(t, 200, r.status)
			return post(authPath, map[string]any{"method_id": r.str("email_id"), "code": w.last(t, w.bob.Email).Code, "session_duration_minutes": 60})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			f := r.obj("session")["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "email", f["delivery_method"])
			assert.Equal(t, w.bob.Email, f["email_factor"].(map[string]any)["email_address"])
		}},
		{"authenticate wrong code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			return post(authPath, map[string]any{"method_id": id, "code": wrong})
		}, 401, "unable_to_auth_otp_code", nil},
		{"authenticate used code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			require.Equal(t, 200, w.h.do(post(authPath, map[string]any{"method_id": id, "code": code})).status)
			return post(authPath, map[string]any{"method_id": id, "code": code})
		}, 401, "unable_to_auth_otp_code", nil},
		{"authenticate expired code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			w.h.emu.Advance(2 * time.Minute)
			return post(authPath, map[string]any{"method_id": id, "code": code})
		}, 401, "unable_to_auth_otp_code", nil},
		{"a new send invalidates the previous code", func(t *testing.T, w *cworld) call {
			id, first := w.sendSMS(t, w.alice.Phone)
			_, second := w.sendSMS(t, w.alice.Phone)
			if first == second {
				t.Skip("the two random codes are equal")
			}
			return post(authPath, map[string]any{"method_id": id, "code": first})
		}, 401, "unable_to_auth_otp_code", nil},
		{"authenticate unknown method", func(_ *testing.T, _ *cworld) call {
			return post(authPath, map[string]any{"method_id": "phone-number-test-nope", "code": "123456"})
		}, 404, "otp_code_not_found", nil},
		{"authenticate a method with no code sent", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"method_id": w.bob.EmailID, "code": "123456"})
		}, 404, "otp_code_not_found", nil},
		{"authenticate missing code", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"method_id": w.bob.EmailID})
		}, 400, "bad_request", nil},
		{"authenticate with a dead session keeps the code", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			require.Equal(t, 404, w.h.do(post(authPath, map[string]any{"method_id": id, "code": code, "session_token": "nope"})).status)
			return post(authPath, map[string]any{"method_id": id, "code": code})
		}, 200, "", nil},
	})
}

func TestConsumerSessionEndpoints(t *testing.T) {
	const authPath = "/v1/sessions/authenticate"
	runConsumerCases(t, []cCase{
		{"get a user's sessions", func(t *testing.T, w *cworld) call {
			_, err := w.h.emu.CreateUserSession(w.alice.ID, 2*time.Hour)
			require.NoError(t, err)
			_, err = w.h.emu.CreateUserSession(w.bob.ID, 0)
			require.NoError(t, err)
			return get("/v1/sessions?user_id=ext-alice")
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			l := r.body["sessions"].([]any)
			require.Len(t, l, 2)
			for _, s := range l {
				assert.Equal(t, w.alice.ID, s.(map[string]any)["user_id"])
			}
		}},
		{"get sessions leaves out expired ones", func(_ *testing.T, w *cworld) call {
			w.h.emu.Advance(time.Hour)
			return get("/v1/sessions?user_id=" + w.alice.ID)
		}, 200, "", func(t *testing.T, _ *cworld, r response) { assert.Empty(t, r.body["sessions"]) }},
		{"get sessions without user_id", func(_ *testing.T, _ *cworld) call { return get("/v1/sessions") }, 400, "bad_request", nil},
		{"get sessions unknown user", func(_ *testing.T, _ *cworld) call { return get("/v1/sessions?user_id=user-test-nope") }, 404, "user_not_found", nil},

		{"authenticate token", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.aliceSes.ID, r.obj("session")["session_id"])
			assert.Equal(t, w.alice.ID, r.obj("user")["user_id"])
			assert.Equal(t, w.aliceSes.Token, r.str("session_token"))
			assert.NotEmpty(t, r.str("session_jwt"))
			assert.NotContains(t, r.body, "verdict")
		}},
		{"authenticate an expired JWT of a live session", func(_ *testing.T, w *cworld) call {
			w.h.emu.Advance(10 * time.Minute)
			return post(authPath, map[string]any{"session_jwt": w.aliceSes.JWT})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.NotEqual(t, w.aliceSes.JWT, r.str("session_jwt"))
			assert.Equal(t, epoch.Add(10*time.Minute).Format(time.RFC3339), r.obj("session")["last_accessed_at"])
		}},
		{"authenticate extends and sets claims", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token, "session_duration_minutes": 600, "session_custom_claims": map[string]any{"k": "v", "sub": "ignored"}})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			s := r.obj("session")
			assert.Equal(t, epoch.Add(600*time.Minute).Format(time.RFC3339), s["expires_at"])
			assert.Equal(t, map[string]any{"k": "v"}, s["custom_claims"])
		}},
		{"authenticate with an authorization check", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token, "authorization_check": map[string]any{"resource_id": "stytch.self", "action": "update"}})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, map[string]any{"authorized": true, "granting_roles": []any{"stytch_user"}}, r.obj("verdict"))
		}},
		{"authenticate with a failing authorization check", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token, "authorization_check": map[string]any{"resource_id": "documents", "action": "delete"}})
		}, 403, "session_authorization_error", nil},
		{"authenticate both token and JWT", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token, "session_jwt": w.aliceSes.JWT})
		}, 400, "too_many_session_arguments", nil},
		{"authenticate neither", func(_ *testing.T, _ *cworld) call { return post(authPath, map[string]any{}) }, 400, "bad_request", nil},
		{"authenticate unknown token", func(_ *testing.T, _ *cworld) call {
			return post(authPath, map[string]any{"session_token": "nope"})
		}, 404, "session_not_found", nil},
		{"authenticate garbage JWT", func(_ *testing.T, _ *cworld) call {
			return post(authPath, map[string]any{"session_jwt": "a.b.c"})
		}, 404, "session_not_found", nil},
		{"authenticate expired session", func(_ *testing.T, w *cworld) call {
			w.h.emu.Advance(time.Hour)
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token})
		}, 404, "session_not_found", nil},
		{"authenticate bad duration", func(_ *testing.T, w *cworld) call {
			return post(authPath, map[string]any{"session_token": w.aliceSes.Token, "session_duration_minutes": 527041})
		}, 400, "bad_request", nil},

		{"revoke by session_id", func(_ *testing.T, w *cworld) call {
			return post("/v1/sessions/revoke", map[string]any{"session_id": w.aliceSes.ID})
		}, 200, "", func(t *testing.T, w *cworld, _ response) {
			assert.Equal(t, 404, w.h.do(post(authPath, map[string]any{"session_token": w.aliceSes.Token})).status)
		}},
		{"revoke by JWT", func(_ *testing.T, w *cworld) call {
			return post("/v1/sessions/revoke", map[string]any{"session_jwt": w.aliceSes.JWT})
		}, 200, "", func(t *testing.T, w *cworld, _ response) {
			assert.Equal(t, 404, w.h.do(post(authPath, map[string]any{"session_jwt": w.aliceSes.JWT})).status)
		}},
		{"revoke by token", func(_ *testing.T, w *cworld) call {
			return post("/v1/sessions/revoke", map[string]any{"session_token": w.aliceSes.Token})
		}, 200, "", func(t *testing.T, w *cworld, _ response) {
			assert.Empty(t, w.h.do(get("/v1/sessions?user_id=" + w.alice.ID)).body["sessions"])
		}},
		{"revoke with two identifiers", func(_ *testing.T, w *cworld) call {
			return post("/v1/sessions/revoke", map[string]any{"session_id": w.aliceSes.ID, "session_token": w.aliceSes.Token})
		}, 400, "bad_request", nil},
		{"revoke unknown session", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/revoke", map[string]any{"session_id": "session-test-nope"})
		}, 404, "session_not_found", nil},

		{"migrate a registered token", func(t *testing.T, w *cworld) call {
			require.NoError(t, w.h.emu.AddMigrationToken("idp-token-1", "migrant@example.test"))
			return post("/v1/sessions/migrate", map[string]any{"session_token": "idp-token-1", "session_duration_minutes": 60})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.NotEmpty(t, r.str("session_token"))
			assert.Equal(t, "migrant@example.test", emails(r.obj("user"))[0].(map[string]any)["email"])
			assert.Equal(t, "imported", r.obj("session")["authentication_factors"].([]any)[0].(map[string]any)["type"])
		}},
		{"migrate an existing user's token without a session", func(t *testing.T, w *cworld) call {
			require.NoError(t, w.h.emu.AddMigrationToken("idp-token-2", w.bob.Email))
			return post("/v1/sessions/migrate", map[string]any{"session_token": "idp-token-2"})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Contains(t, r.body, "session_token")
			assert.Empty(t, r.str("session_token"))
		}},
		{"migrate an unknown token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/migrate", map[string]any{"session_token": "idp-nope"})
		}, 401, "invalid_migration_token", nil},
		{"migrate without a token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/migrate", map[string]any{})
		}, 400, "bad_request", nil},

		{"exchange_access_token answers as for an unknown token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/exchange_access_token", map[string]any{"access_token": "eyJ.any.token"})
		}, 404, "idp_access_token_not_found", nil},
		{"exchange_access_token without a token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/exchange_access_token", map[string]any{})
		}, 400, "bad_request", nil},

		{"jwks of the consumer project", func(_ *testing.T, w *cworld) call {
			return call{method: http.MethodGet, path: "/v1/sessions/jwks/" + w.h.emu.ProjectID(), noAuth: true}
		}, 200, "", func(t *testing.T, _ *cworld, r response) { assert.Len(t, r.body["keys"], 1) }},
		{"jwks of another project", func(_ *testing.T, _ *cworld) call {
			return call{method: http.MethodGet, path: "/v1/sessions/jwks/project-test-other", noAuth: true}
		}, 400, "bad_request", nil},
	})
}

func TestConsumerSandbox(t *testing.T) {
	sb := stytchemu.WithSandbox()
	runConsumerCases(t, []cCase{
		{"magic link send to the sandbox address sends nothing", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/email/login_or_create", map[string]any{"email": stytchemu.SandboxEmail})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, stytchemu.SandboxUserID, r.str("user_id"))
			assert.Equal(t, false, r.body["user_created"])
			assert.Empty(t, w.h.emu.Outbox())
		}},
		{"magic link send and invite to the sandbox address", func(t *testing.T, w *cworld) call {
			require.Equal(t, 200, w.h.do(post("/v1/magic_links/email/send", map[string]any{"email": stytchemu.SandboxEmail})).status)
			return post("/v1/magic_links/email/invite", map[string]any{"email": stytchemu.SandboxEmail})
		}, 200, "", func(t *testing.T, w *cworld, _ response) { assert.Empty(t, w.h.emu.Outbox()) }},
		{"sandbox magic link token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/authenticate", map[string]any{"token": stytchemu.SandboxMagicLinkToken, "session_duration_minutes": 60})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, stytchemu.SandboxUserID, r.str("user_id"))
			assert.NotEmpty(t, r.str("session_token"))
		}},
		{"sandbox magic link token used", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/authenticate", map[string]any{"token": stytchemu.SandboxMagicLinkTokenUnauth})
		}, 401, "unable_to_auth_magic_link", nil},
		{"sandbox magic link token not found", func(_ *testing.T, _ *cworld) call {
			return post("/v1/magic_links/authenticate", map[string]any{"token": stytchemu.SandboxMagicLinkTokenNotFound})
		}, 404, "magic_link_not_found", nil},
		{"sandbox phone: send nothing, authenticate 000000", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/otps/sms/send", map[string]any{"phone_number": stytchemu.SandboxPhoneNumber}))
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Empty(t, w.h.emu.Outbox())
			r2 := w.h.do(post("/v1/otps/whatsapp/login_or_create", map[string]any{"phone_number": stytchemu.SandboxPhoneNumber}))
			require.Equal(t, 200, r2.status, "%s", r2.raw)
			assert.Equal(t, r.str("phone_id"), r2.str("phone_id"))
			return post("/v1/otps/authenticate", map[string]any{"method_id": r.str("phone_id"), "code": "000000"})
		}, 200, "", func(t *testing.T, _ *cworld, r response) { assert.Equal(t, stytchemu.SandboxUserID, r.str("user_id")) }},
		{"sandbox email OTP", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/otps/email/send", map[string]any{"email": stytchemu.SandboxEmail}))
			require.Equal(t, 200, r.status, "%s", r.raw)
			assert.Empty(t, w.h.emu.Outbox())
			return post("/v1/otps/authenticate", map[string]any{"method_id": r.str("email_id"), "code": "000000"})
		}, 200, "", nil},
		{"sandbox code for a non-sandbox user is refused", func(t *testing.T, w *cworld) call {
			id, code := w.sendSMS(t, w.alice.Phone)
			if code == "000000" {
				t.Skip("the random code is the sandbox code")
			}
			return post("/v1/otps/authenticate", map[string]any{"method_id": id, "code": "000000"})
		}, 401, "unable_to_auth_otp_code", nil},
		{"sandbox session token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/authenticate", map[string]any{"session_token": stytchemu.SandboxSessionToken})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, stytchemu.SandboxUserID, r.obj("user")["user_id"])
		}},
		{"sandbox session token not found", func(_ *testing.T, _ *cworld) call {
			return post("/v1/sessions/authenticate", map[string]any{"session_token": stytchemu.SandboxSessionTokenNotFound})
		}, 404, "session_not_found", nil},
	}, sb)

	// Without WithSandbox the sandbox values are ordinary values.
	w := newConsumerWorld(t)
	r := w.h.do(post("/v1/magic_links/authenticate", map[string]any{"token": stytchemu.SandboxMagicLinkToken}))
	assert.Equal(t, http.StatusNotFound, r.status)
	r = w.h.do(post("/v1/otps/sms/send", map[string]any{"phone_number": stytchemu.SandboxPhoneNumber}))
	assert.Equal(t, http.StatusNotFound, r.status)
}

// TestWrongProjectType: each project type answers the other's routes as
// Stytch does (400 invalid_consumer_endpoint / invalid_b2b_endpoint), and
// lists only its own routes.
func TestWrongProjectType(t *testing.T) {
	b2b := newWorld(t)
	r := b2b.h.do(post("/v1/users", map[string]any{"email": "a@example.test"}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_consumer_endpoint", r.str("error_type"))
	assert.Contains(t, r.str("error_message"), "B2B project")
	assert.Equal(t, 1, b2b.h.emu.Requests("POST /v1/users"))

	c := newConsumerWorld(t)
	r = c.h.do(post("/v1/b2b/organizations/search", map[string]any{}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_b2b_endpoint", r.str("error_type"))
	assert.Contains(t, r.str("error_message"), "consumer project")

	// M2M exists in both project types.
	r = c.h.do(post("/v1/m2m/clients/search", map[string]any{}))
	assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)

	assert.Contains(t, b2b.h.emu.Routes(), "POST /v1/b2b/sessions/authenticate")
	assert.NotContains(t, b2b.h.emu.Routes(), "POST /v1/users")
	assert.Contains(t, c.h.emu.Routes(), "POST /v1/users")
	assert.NotContains(t, c.h.emu.Routes(), "POST /v1/b2b/sessions/authenticate")
	assert.Contains(t, c.h.emu.Routes(), "POST /v1/m2m/clients")
	assert.Equal(t, stytchemu.ProjectConsumer, c.h.emu.ProjectType())
	assert.Equal(t, stytchemu.ProjectB2B, b2b.h.emu.ProjectType())

	_, err := b2b.h.emu.CreateUser(stytchemu.UserParams{Email: "a@example.test"})
	require.Error(t, err)
	_, err = stytchemu.New(stytchemu.WithProjectType("enterprise"))
	require.Error(t, err)
}

// multiHarness serves a B2B and a consumer project, with distinct keys, on
// one validated address.
func newMultiHarness(t *testing.T) (b2b, consumer *harness) {
	t.Helper()
	be, err := stytchemu.New(stytchemu.WithSigningKey(testKey), stytchemu.WithStartTime(epoch), stytchemu.WithProjectID("project-test-b2b"))
	require.NoError(t, err)
	ce, err := stytchemu.New(stytchemu.WithSigningKey(testKey2), stytchemu.WithStartTime(epoch), stytchemu.WithConsumer(), stytchemu.WithProjectID("project-test-consumer"))
	require.NoError(t, err)
	m, err := stytchemu.NewMulti(be, ce)
	require.NoError(t, err)
	v := &validator{}
	srv := httptest.NewServer(v.wrap(m))
	t.Cleanup(func() {
		srv.Close()
		v.check(t)
	})
	return &harness{t: t, emu: be, url: srv.URL}, &harness{t: t, emu: ce, url: srv.URL}
}

func TestMultiDispatch(t *testing.T) {
	b, c := newMultiHarness(t)

	r := c.do(post("/v1/users", map[string]any{"email": "multi@example.test"}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, 1, c.emu.Requests("POST /v1/users"))
	assert.Equal(t, 0, b.emu.Requests("*"))

	r = b.do(post("/v1/b2b/organizations/search", map[string]any{}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	r = b.do(post("/v1/users", map[string]any{"email": "multi@example.test"}))
	assert.Equal(t, http.StatusBadRequest, r.status, "B2B credentials reach the B2B project")
	assert.Equal(t, "invalid_consumer_endpoint", r.str("error_type"))

	// JWKS without credentials: the project in the path answers.
	cj := c.do(call{method: http.MethodGet, path: "/v1/sessions/jwks/project-test-consumer", noAuth: true})
	bj := b.do(call{method: http.MethodGet, path: "/v1/b2b/sessions/jwks/project-test-b2b", noAuth: true})
	require.Equal(t, http.StatusOK, cj.status)
	require.Equal(t, http.StatusOK, bj.status)
	assert.Equal(t, c.emu.KeyIDs()[0], cj.body["keys"].([]any)[0].(map[string]any)["kid"])
	assert.Equal(t, b.emu.KeyIDs()[0], bj.body["keys"].([]any)[0].(map[string]any)["kid"])
	assert.NotEqual(t, c.emu.KeyIDs(), b.emu.KeyIDs())

	// Unknown credentials: the default project refuses them.
	r = c.do(call{method: http.MethodPost, path: "/v1/users", body: map[string]any{}, auth: [2]string{"project-test-nope", "x"}})
	assert.Equal(t, http.StatusUnauthorized, r.status)

	// Control endpoints pick a project by ?project_id=.
	_, err := c.emu.CreateUser(stytchemu.UserParams{Email: "u@example.test"})
	require.NoError(t, err)
	r = c.do(post("/v1/magic_links/email/login_or_create", map[string]any{"email": "u@example.test"}))
	require.Equal(t, http.StatusOK, r.status)
	r = c.do(call{method: http.MethodGet, path: "/emulator/outbox?project_id=project-test-consumer", noAuth: true})
	assert.Len(t, r.body["messages"], 1)
	r = c.do(call{method: http.MethodGet, path: "/emulator/outbox", noAuth: true})
	assert.Empty(t, r.body["messages"], "the default project is the B2B one")

	_, err = stytchemu.NewMulti(b.emu, b.emu)
	require.Error(t, err)
	_, err = stytchemu.NewMulti()
	require.Error(t, err)
}

func TestMultiServer(t *testing.T) {
	be, err := stytchemu.New(stytchemu.WithSigningKey(testKey))
	require.NoError(t, err)
	ce, err := stytchemu.New(stytchemu.WithSigningKey(testKey2), stytchemu.WithConsumer())
	require.NoError(t, err)
	m, err := stytchemu.NewMulti(be, ce)
	require.NoError(t, err)
	srv, err := m.Listen(t.Context(), "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Close()) }()
	assert.Same(t, be, srv.Emulator)
	assert.Same(t, ce, srv.Project(ce.ProjectID()))
	assert.Nil(t, srv.Project("project-test-nope"))
	assert.Len(t, m.Projects(), 2)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/users/user-test-nope", nil)
	require.NoError(t, err)
	req.SetBasicAuth(ce.ProjectID(), ce.Secret())
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "the consumer project answered")
}

// TestConsumerSessionJWT: a consumer session JWT carries the consumer claims
// and verifies against the consumer project's JWKS, not the B2B project's.
func TestConsumerSessionJWT(t *testing.T) {
	b, c := newMultiHarness(t)
	u, err := c.emu.CreateUser(stytchemu.UserParams{Email: "jwt@example.test", Roles: []string{"editor"}})
	require.NoError(t, err)
	ses, err := c.emu.CreateUserSessionWithClaims(u.ID, 2*time.Hour, map[string]any{"tenant": "t1", "aud": "ignored"})
	require.NoError(t, err)

	claims, err := c.verify(c.jwksKeyfunc(t, "/v1/sessions/jwks/"), ses.JWT)
	require.NoError(t, err)
	assert.Equal(t, "stytch.com/project-test-consumer", claims["iss"])
	assert.Equal(t, []any{"project-test-consumer"}, claims["aud"])
	assert.Equal(t, u.ID, claims["sub"])
	assert.InDelta(t, epoch.Unix(), claims["iat"], 0)
	assert.InDelta(t, epoch.Add(5*time.Minute).Unix(), claims["exp"], 0)
	assert.Equal(t, "t1", claims["tenant"])
	assert.NotContains(t, claims, "https://stytch.com/organization")
	s := claims["https://stytch.com/session"].(map[string]any)
	assert.Equal(t, ses.ID, s["id"])
	assert.Equal(t, epoch.Add(2*time.Hour).Format(time.RFC3339), s["expires_at"])
	assert.Equal(t, []any{"stytch_user", "editor"}, s["roles"])
	assert.Contains(t, s, "attributes")
	f := s["authentication_factors"].([]any)[0].(map[string]any)
	assert.Equal(t, "magic_link", f["type"])
	assert.Equal(t, u.Email, f["email_factor"].(map[string]any)["email_address"])

	// The B2B project's keys do not verify it, under either JWKS path.
	for _, path := range []string{"/v1/b2b/sessions/jwks/", "/v1/sessions/jwks/"} {
		_, err = b.verify(b.jwksKeyfunc(t, path), ses.JWT)
		require.Error(t, err, path)
	}
	// And the B2B project does not accept it as a session.
	bs := b.do(post("/v1/b2b/sessions/authenticate", map[string]any{"session_jwt": ses.JWT}))
	assert.Equal(t, http.StatusNotFound, bs.status)

	// A JWT from the HTTP login verifies the same way, and after the
	// session's revocation sessions/authenticate refuses it.
	tokRes := c.do(post("/v1/magic_links", map[string]any{"user_id": u.ID}))
	require.Equal(t, http.StatusOK, tokRes.status)
	r := c.do(post("/v1/magic_links/authenticate", map[string]any{"token": tokRes.str("token"), "session_duration_minutes": 30}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	claims, err = c.verify(c.jwksKeyfunc(t, "/v1/sessions/jwks/"), r.str("session_jwt"))
	require.NoError(t, err)
	assert.Equal(t, r.obj("session")["session_id"], claims["https://stytch.com/session"].(map[string]any)["id"])
	require.Equal(t, http.StatusOK, c.do(post("/v1/sessions/revoke", map[string]any{"session_jwt": r.str("session_jwt")})).status)
	assert.Equal(t, http.StatusNotFound, c.do(post("/v1/sessions/authenticate", map[string]any{"session_jwt": r.str("session_jwt")})).status)
}

// Faults and request counters work on consumer routes as on B2B ones.
func TestConsumerFaultsAndCounters(t *testing.T) {
	w := newConsumerWorld(t)
	_, err := w.h.emu.AddFault(stytchemu.Fault{Pattern: "POST /v1/otps/*", Status: http.StatusTooManyRequests, Times: 1})
	require.NoError(t, err)
	r := w.h.do(post("/v1/otps/sms/send", map[string]any{"phone_number": w.alice.Phone}))
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "too_many_requests", r.str("error_type"))
	_, sent := w.h.emu.LastMessage(w.alice.Phone)
	assert.False(t, sent, "a faulted send delivers nothing")
	r = w.h.do(post("/v1/otps/sms/send", map[string]any{"phone_number": w.alice.Phone}))
	assert.Equal(t, http.StatusOK, r.status, "the fault fired once")
	assert.Equal(t, 2, w.h.emu.Requests("POST /v1/otps/sms/send"))
	assert.Equal(t, 2, w.h.emu.Requests("* /v1/otps/*"))
}
