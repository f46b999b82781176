package stytchemu_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/authsvc/authsvc/internal/passwords"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Passwords used by these tests: strongPW and otherPW score 4 under zxcvbn
// and are not on the breached list; breachedPW scores 4 too, so only the
// list refuses it; weakPW fails zxcvbn.
const (
	strongPW   = "tangerine Orbit 42 velvet"
	otherPW    = "copper lantern Drifts 97 north"
	breachedPW = "$3cr3t2025!"
	weakPW     = "bananabread"
)

// requireDeclared checks that a 200 body holds every property the spec
// declares for the response schema, optional ones included, except those
// named in absent (user_device needs a telemetry_id; session needs a
// session). The validator checks types and required properties already.
func requireDeclared(t *testing.T, r response, schema string, absent ...string) {
	t.Helper()
	requireSpec(t)
	ref := specDoc.Components.Schemas[schema]
	require.NotNil(t, ref, schema)
	for name := range ref.Value.Properties {
		if name == "user_device" || contains(absent, name) {
			assert.NotContains(t, r.body, name, "%s.%s", schema, name)
			continue
		}
		assert.Contains(t, r.body, name, "%s.%s", schema, name)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// createPW creates a user with a password through the API.
func (w *cworld) createPW(t *testing.T, email, pw string) string {
	t.Helper()
	r := w.h.do(post("/v1/passwords", map[string]any{"email": email, "password": pw}))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	return r.str("user_id")
}

func authPW(email, pw string, extra map[string]any) call {
	body := map[string]any{"email": email, "password": pw}
	for k, v := range extra {
		body[k] = v
	}
	return post("/v1/passwords/authenticate", body)
}

func TestConsumerPasswordCreateAndAuthenticate(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"create with a session", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{
				"email": "pat@example.test", "password": strongPW, "session_duration_minutes": 30,
				"name": map[string]any{"first_name": "Pat"}, "session_custom_claims": map[string]any{"tier": "gold"},
			})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_CreateResponse")
			assert.NotContains(t, r.body, "reset_sessions")
			u := r.obj("user")
			pw, _ := u["password"].(map[string]any)
			require.NotNil(t, pw, "user.password after create")
			assert.True(t, strings.HasPrefix(pw["password_id"].(string), "password-test-"))
			assert.Equal(t, false, pw["requires_reset"])
			f := r.obj("session")["authentication_factors"].([]any)[0].(map[string]any)
			assert.Equal(t, "password", f["type"])
			assert.Equal(t, "knowledge", f["delivery_method"])
			assert.Equal(t, map[string]any{"tier": "gold"}, r.obj("session")["custom_claims"])
			// users/get sees the password too.
			assert.Equal(t, pw, w.getUser(t, r.str("user_id")).obj("password"))
		}},
		{"create without a session answers empty session fields", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "pat@example.test", "password": strongPW})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_CreateResponse", "session")
			assert.Empty(t, r.str("session_token"))
			assert.Empty(t, r.str("session_jwt"))
		}},
		{"create for an existing email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "BOB@example.test", "password": strongPW})
		}, 400, "duplicate_email", nil},
		{"create with a weak password", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "pat@example.test", "password": weakPW})
		}, 400, "weak_password", func(t *testing.T, w *cworld, r response) {
			assert.NotContains(t, string(r.raw), weakPW)
			assert.Empty(t, w.h.emu.Outbox())
			operand := map[string]any{"filter_name": "email_address", "filter_value": []any{"pat@example.test"}}
			query := map[string]any{"operator": "AND", "operands": []any{operand}}
			r = w.h.do(post("/v1/users/search", map[string]any{"query": query}))
			assert.Empty(t, r.body["results"], "no user is created for a refused password")
		}},
		{"create with a breached password", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "pat@example.test", "password": breachedPW})
		}, 400, "breached_password", func(t *testing.T, _ *cworld, r response) {
			assert.NotContains(t, string(r.raw), breachedPW)
		}},
		{"create with a password containing the email's local part", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "velvetorbit@example.test", "password": "velvetorbit Tangerine 42"})
		}, 400, "weak_password", nil},
		{"create with a bad session duration", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "pat@example.test", "password": strongPW, "session_duration_minutes": 1})
		}, 400, "bad_request", nil},
		{"authenticate with the right password", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return authPW("Pat@Example.test", strongPW, map[string]any{"session_duration_minutes": 60})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_AuthenticateResponse")
			assert.NotEmpty(t, r.str("session_token"))
			assert.NotEmpty(t, r.str("session_jwt"))
		}},
		{"authenticate adds the factor to a named session", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			r := w.h.do(authPW("pat@example.test", strongPW, map[string]any{"session_duration_minutes": 60}))
			return authPW("pat@example.test", strongPW, map[string]any{"session_token": r.str("session_token")})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Len(t, r.obj("session")["authentication_factors"], 1)
		}},
		{"authenticate with another user's session", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return authPW("pat@example.test", strongPW, map[string]any{"session_token": w.aliceSes.Token})
		}, 400, "bad_request", nil},
		{"authenticate with a wrong password", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return authPW("pat@example.test", otherPW, nil)
		}, 401, "unauthorized_credentials", func(t *testing.T, _ *cworld, r response) {
			assert.NotContains(t, string(r.raw), otherPW)
			assert.NotContains(t, string(r.raw), "pat@example.test")
		}},
		{"authenticate a user without a password", func(_ *testing.T, _ *cworld) call {
			return authPW("bob@example.test", strongPW, nil)
		}, 401, "unauthorized_credentials", nil},
		{"authenticate a seeded password that has no hash", func(t *testing.T, w *cworld) call {
			_, err := w.h.emu.SeedUserFactor(w.bob.ID, stytchemu.FactorPassword)
			require.NoError(t, err)
			return authPW("bob@example.test", strongPW, nil)
		}, 401, "unauthorized_credentials", nil},
		{"authenticate an unknown email", func(_ *testing.T, _ *cworld) call {
			return authPW("nobody@example.test", strongPW, nil)
		}, 404, "email_not_found", nil},
		{"authenticate with both session token and JWT", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return authPW("pat@example.test", strongPW, map[string]any{"session_token": w.aliceSes.Token, "session_jwt": w.aliceSes.JWT})
		}, 400, "too_many_session_arguments", nil},
		{"authenticate without a password", func(_ *testing.T, _ *cworld) call {
			return authPW("bob@example.test", "", nil)
		}, 400, "bad_request", nil},
		{"delete the password, then authenticate", func(t *testing.T, w *cworld) call {
			id := w.createPW(t, "pat@example.test", strongPW)
			pwID := w.getUser(t, id).obj("password")["password_id"].(string)
			r := w.h.do(call{method: http.MethodDelete, path: "/v1/users/passwords/" + pwID})
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.NotContains(t, r.obj("user"), "password")
			return authPW("pat@example.test", strongPW, nil)
		}, 401, "unauthorized_credentials", nil},
	})
}

func TestConsumerPasswordStrengthCheck(t *testing.T) {
	cases := []cCase{
		{"strong", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/strength_check", map[string]any{"password": strongPW})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_StrengthCheckResponse")
			assert.Equal(t, true, r.body["valid_password"])
			assert.Equal(t, "zxcvbn", r.str("strength_policy"))
			assert.Equal(t, true, r.body["breach_detection_on_create"])
			assert.GreaterOrEqual(t, r.body["score"], float64(3))
			assert.NotContains(t, r.obj("feedback"), "luds_requirements")
		}},
		{"weak", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/strength_check", map[string]any{"password": weakPW})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, false, r.body["valid_password"])
			assert.NotEmpty(t, r.obj("feedback")["suggestions"])
		}},
		{"breached", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/strength_check", map[string]any{"password": breachedPW, "email": "pat@example.test"})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, false, r.body["valid_password"])
			assert.Equal(t, true, r.body["breached_password"])
		}},
		{"no password", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/strength_check", map[string]any{})
		}, 400, "bad_request", nil},
	}
	runConsumerCases(t, cases)

	luds := passwords.DefaultPolicy()
	luds.Kind = passwords.PolicyLUDS
	runConsumerCases(t, []cCase{
		{"LUDS policy reports its requirements", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/strength_check", map[string]any{"password": "abcdefg"})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			assert.Equal(t, "luds", r.str("strength_policy"))
			assert.Equal(t, false, r.body["valid_password"])
			lr := r.obj("feedback")["luds_requirements"].(map[string]any)
			assert.Equal(t, true, lr["has_lower_case"])
			assert.Equal(t, false, lr["has_digit"])
			assert.InDelta(t, 2, lr["missing_complexity"], 0)
			assert.InDelta(t, 1, lr["missing_characters"], 0)
		}},
		{"LUDS policy decides create", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords", map[string]any{"email": "pat@example.test", "password": "Zq9#kLm2"})
		}, 200, "", nil},
	}, stytchemu.WithPasswordPolicy(luds))
}

func TestConsumerPasswordOptionsAreValidated(t *testing.T) {
	_, err := stytchemu.New(stytchemu.WithConsumer(), stytchemu.WithPasswordPolicy(passwords.Policy{Kind: "strict"}))
	require.Error(t, err)
	_, err = stytchemu.New(stytchemu.WithConsumer(), stytchemu.WithPasswordHashParams(passwords.Params{}))
	require.Error(t, err)
}

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	return string(h)
}

func TestConsumerPasswordMigrate(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"migrate creates the user and authenticate verifies the import", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/passwords/migrate", map[string]any{
				"email": "mig@example.test", "hash_type": "bcrypt", "hash": bcryptOf(t, strongPW),
				"set_email_verified": true, "external_id": "legacy-7", "phone_number": "+15555550199", "set_phone_number_verified": true,
			}))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			requireDeclared(t, r, "api_password_v1_MigrateResponse")
			assert.Equal(t, true, r.body["user_created"])
			u := r.obj("user")
			assert.NotNil(t, u["password"])
			assert.Equal(t, true, emails(u)[0].(map[string]any)["verified"])
			assert.Equal(t, "legacy-7", u["external_id"])
			// A wrong password fails against the imported hash.
			bad := w.h.do(authPW("mig@example.test", otherPW, nil))
			assert.Equal(t, "unauthorized_credentials", bad.str("error_type"))
			return authPW("mig@example.test", strongPW, nil)
		}, 200, "", func(t *testing.T, w *cworld, _ response) {
			// The import was replaced by a native hash: the password still works.
			r := w.h.do(authPW("mig@example.test", strongPW, nil))
			assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		}},
		{"migrate onto an existing user", func(t *testing.T, w *cworld) call {
			return post("/v1/passwords/migrate", map[string]any{"email": "bob@example.test", "hash_type": "bcrypt", "hash": bcryptOf(t, strongPW)})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			assert.Equal(t, false, r.body["user_created"])
			assert.Equal(t, w.bob.ID, r.str("user_id"))
			assert.Equal(t, http.StatusOK, w.h.do(authPW("bob@example.test", strongPW, nil)).status)
		}},
		{"a migrated breached password must be reset", func(t *testing.T, w *cworld) call {
			r := w.h.do(post("/v1/passwords/migrate", map[string]any{"email": "bob@example.test", "hash_type": "bcrypt", "hash": bcryptOf(t, breachedPW)}))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			return authPW("bob@example.test", breachedPW, nil)
		}, 400, "reset_password", func(t *testing.T, w *cworld, _ response) {
			assert.Equal(t, true, w.getUser(t, w.bob.ID).obj("password")["requires_reset"])
		}},
		{"md_5 with salts", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/migrate", map[string]any{
				"email": "md5@example.test", "hash_type": "md_5", "hash": "not-a-digest",
				"md_5_config": map[string]any{"prepend_salt": "a", "append_salt": "b"},
			})
		}, 400, "bad_request", func(t *testing.T, _ *cworld, r response) {
			assert.NotContains(t, string(r.raw), "not-a-digest", "the hash is never quoted")
		}},
		{"unknown hash type", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/migrate", map[string]any{"email": "x@example.test", "hash_type": "rot13", "hash": "x"})
		}, 400, "bad_request", nil},
		{"pbkdf_2 without its config", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/migrate", map[string]any{"email": "x@example.test", "hash_type": "pbkdf_2", "hash": "AAAA"})
		}, 400, "bad_request", nil},
	})
}

// startReset runs reset/start and returns the token mailed.
func (w *cworld) startReset(t *testing.T, email string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"email": email}
	for k, v := range extra {
		body[k] = v
	}
	r := w.h.do(post("/v1/passwords/email/reset/start", body))
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	requireDeclared(t, r, "api_password_v1_passwords_email_ResetStartResponse")
	m := w.last(t, email)
	require.Equal(t, stytchemu.TemplateResetPassword, m.Template)
	require.Contains(t, m.URL, "stytch_token_type=reset_password")
	return m.Token
}

func TestConsumerPasswordEmailReset(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"reset by email with a session, single use", func(t *testing.T, w *cworld) call {
			tok := w.startReset(t, "alice@example.test", map[string]any{"reset_password_expiration_minutes": 10})
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW, "session_duration_minutes": 60})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_passwords_email_ResetResponse")
			assert.NotEmpty(t, r.str("session_token"))
			assert.NotNil(t, r.obj("user")["password"])
			// Alice's earlier session was revoked by the reset.
			s := w.h.do(post("/v1/sessions/authenticate", map[string]any{"session_token": w.aliceSes.Token}))
			assert.Equal(t, "session_not_found", s.str("error_type"))
			// The new password works, and the token is spent.
			assert.Equal(t, http.StatusOK, w.h.do(authPW("alice@example.test", strongPW, nil)).status)
			again := w.h.do(post("/v1/passwords/email/reset", map[string]any{"token": w.last(t, "alice@example.test").Token, "password": otherPW}))
			assert.Equal(t, "unable_to_auth_magic_link", again.str("error_type"))
		}},
		{"reset by email without a session", func(t *testing.T, w *cworld) call {
			tok := w.startReset(t, "bob@example.test", nil)
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW})
		}, 200, "", func(t *testing.T, _ *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_passwords_email_ResetResponse", "session")
			assert.Empty(t, r.str("session_token"))
		}},
		{"a weak new password leaves the token usable", func(t *testing.T, w *cworld) call {
			tok := w.startReset(t, "bob@example.test", nil)
			r := w.h.do(post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": weakPW}))
			require.Equal(t, "weak_password", r.str("error_type"))
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW})
		}, 200, "", nil},
		{"expired token", func(t *testing.T, w *cworld) call {
			tok := w.startReset(t, "bob@example.test", nil)
			w.h.emu.Advance(31 * time.Minute)
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW})
		}, 401, "unable_to_auth_magic_link", nil},
		{"unknown token", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/email/reset", map[string]any{"token": "nope", "password": strongPW})
		}, 404, "magic_link_not_found", nil},
		{"PKCE mismatch", func(t *testing.T, w *cworld) call {
			_, challenge := pkcePair()
			tok := w.startReset(t, "bob@example.test", map[string]any{"code_challenge": challenge})
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW, "code_verifier": "wrong"})
		}, 400, "pkce_mismatch", nil},
		{"PKCE match", func(t *testing.T, w *cworld) call {
			verifier, challenge := pkcePair()
			tok := w.startReset(t, "bob@example.test", map[string]any{"code_challenge": challenge})
			return post("/v1/passwords/email/reset", map[string]any{"token": tok, "password": strongPW, "code_verifier": verifier})
		}, 200, "", nil},
		{"reset start for an unknown email", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/email/reset/start", map[string]any{"email": "nobody@example.test"})
		}, 404, "email_not_found", nil},
		{"reset start with a too short expiry", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/email/reset/start", map[string]any{"email": "bob@example.test", "reset_password_expiration_minutes": 4})
		}, 400, "bad_request", nil},
	})
}

func TestConsumerPasswordExistingAndSessionReset(t *testing.T) {
	runConsumerCases(t, []cCase{
		{"existing password reset", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return post("/v1/passwords/existing_password/reset", map[string]any{
				"email": "pat@example.test", "existing_password": strongPW, "new_password": otherPW, "session_duration_minutes": 60,
			})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_passwords_existing_password_ResetResponse")
			assert.Equal(t, "unauthorized_credentials", w.h.do(authPW("pat@example.test", strongPW, nil)).str("error_type"))
			assert.Equal(t, http.StatusOK, w.h.do(authPW("pat@example.test", otherPW, nil)).status)
		}},
		{"existing password reset with a wrong existing password", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return post("/v1/passwords/existing_password/reset", map[string]any{
				"email": "pat@example.test", "existing_password": otherPW, "new_password": otherPW,
			})
		}, 401, "unauthorized_credentials", nil},
		{"existing password reset to a breached password", func(t *testing.T, w *cworld) call {
			w.createPW(t, "pat@example.test", strongPW)
			return post("/v1/passwords/existing_password/reset", map[string]any{
				"email": "pat@example.test", "existing_password": strongPW, "new_password": breachedPW,
			})
		}, 400, "breached_password", nil},
		{"session reset with a fresh session JWT keeps that session only", func(t *testing.T, w *cworld) call {
			_, err := w.h.emu.CreateUserSession(w.alice.ID, time.Hour)
			require.NoError(t, err)
			return post("/v1/passwords/session/reset", map[string]any{"session_jwt": w.aliceSes.JWT, "password": strongPW, "session_duration_minutes": 90})
		}, 200, "", func(t *testing.T, w *cworld, r response) {
			requireDeclared(t, r, "api_password_v1_passwords_session_ResetResponse")
			assert.Equal(t, w.aliceSes.ID, r.obj("session")["session_id"])
			list := w.h.do(get("/v1/sessions?user_id=" + w.alice.ID))
			assert.Len(t, list.body["sessions"], 1, "the other session was revoked")
			assert.Equal(t, http.StatusOK, w.h.do(authPW("alice@example.test", strongPW, nil)).status)
		}},
		{"session reset with an old session", func(_ *testing.T, w *cworld) call {
			w.h.emu.Advance(6 * time.Minute)
			return post("/v1/passwords/session/reset", map[string]any{"session_token": w.aliceSes.Token, "password": strongPW})
		}, 400, "session_too_old_to_reset_password", nil},
		{"session reset without a session", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/session/reset", map[string]any{"password": strongPW})
		}, 400, "bad_request", nil},
		{"session reset with an unknown session", func(_ *testing.T, _ *cworld) call {
			return post("/v1/passwords/session/reset", map[string]any{"session_token": "nope", "password": strongPW})
		}, 404, "session_not_found", nil},
		{"session reset to a weak password", func(_ *testing.T, w *cworld) call {
			return post("/v1/passwords/session/reset", map[string]any{"session_token": w.aliceSes.Token, "password": weakPW})
		}, 400, "weak_password", nil},
	})
}

func TestConsumerPasswordRoutesRefusedByB2B(t *testing.T) {
	w := newWorld(t)
	r := w.h.do(post("/v1/passwords/authenticate", map[string]any{"email": "a@example.test", "password": strongPW}))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_consumer_endpoint", r.str("error_type"))
}
