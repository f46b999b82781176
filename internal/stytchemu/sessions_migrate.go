package stytchemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// userInfoTimeout bounds the call to the external UserInfo endpoint.
const userInfoTimeout = 10 * time.Second

// maxUserInfoBody bounds the UserInfo answer read.
const maxUserInfoBody = 64 << 10

// WithUserInfoURL names the external OIDC provider's UserInfo endpoint that
// POST /v1/b2b/sessions/migrate calls with the given session token as a
// bearer token (Stytch's project setting). Unset: migrate answers 400.
func WithUserInfoURL(u string) Option { return func(c *config) { c.userInfoURL = u } }

// userInfo is the part of an OIDC UserInfo answer migrate reads.
type userInfo struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
}

// fetchUserInfo asks the UserInfo endpoint about token. A refusal (any
// non-2xx), an answer without an email address or with email_verified
// false is invalid_migration_token; an unreachable endpoint is a 500.
func (e *Emulator) fetchUserInfo(rq *request, token string) (string, *apiError) {
	req, err := http.NewRequestWithContext(rq.r.Context(), http.MethodGet, e.userInfoURL, nil)
	if err != nil {
		return "", newErr(http.StatusInternalServerError, errInternal, "The UserInfo endpoint URL is not valid.")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := e.userInfo.Do(req)
	if err != nil {
		e.logger.Warn("migrate: UserInfo endpoint unreachable", "error", err.Error())
		return "", newErr(http.StatusInternalServerError, errInternal, "The UserInfo endpoint could not be reached.")
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", invalidMigrationToken()
	}
	var ui userInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxUserInfoBody)).Decode(&ui); err != nil {
		return "", invalidMigrationToken()
	}
	ui.Email = strings.TrimSpace(ui.Email)
	if !validEmail(ui.Email) || (ui.EmailVerified != nil && !*ui.EmailVerified) {
		return "", invalidMigrationToken()
	}
	return ui.Email, nil
}

func invalidMigrationToken() *apiError {
	return newErr(http.StatusUnauthorized, errInvalidMigrationToken, "The identity provider did not accept the session_token or named no verified email address.")
}

// sessionsMigrate: POST /v1/b2b/sessions/migrate. Stytch calls the
// project's UserInfo endpoint with the external session token and matches
// the email address it returns to an existing member of the organization
// (migrate creates no members).
//
// The UserInfo call is made with the state lock released, so a slow
// provider does not stall the emulator; the organization and member are
// looked up after it returns.
func (e *Emulator) sessionsMigrate(rq *request) (any, error) {
	var in struct {
		SessionToken           string         `json:"session_token"`
		OrganizationID         string         `json:"organization_id"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.SessionToken == "" || in.OrganizationID == "" {
		return nil, badRequest("session_token and organization_id are required.")
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	if _, aerr := e.orgByField(in.OrganizationID); aerr != nil {
		return nil, aerr
	}
	if e.userInfoURL == "" {
		return nil, badRequest("The project has no UserInfo endpoint configured for session migration.")
	}
	e.mu.Unlock()
	email, aerr := e.fetchUserInfo(rq, in.SessionToken)
	e.mu.Lock()
	if aerr != nil {
		return nil, aerr
	}
	rq.now = e.clock.Now()
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.memberByEmail(org.OrganizationID, email)
	if m == nil {
		return nil, memberNotFound()
	}
	e.activate(m, rq.now)
	res, err := e.sessionFor(rq, org, m, emailFactorFor("imported", m, rq.now), sessionArgs{
		SessionDurationMinutes: in.SessionDurationMinutes, SessionCustomClaims: in.SessionCustomClaims,
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return res, nil
}
