package stytchemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Member impersonation (POST /v1/b2b/impersonation/authenticate). Stytch
// issues impersonation tokens from its dashboard, naming the dashboard user
// who impersonates; the emulator issues them through CreateImpersonationToken
// and POST /emulator/impersonation_tokens instead.

// impersonationTokenLifetime is Stytch's default lifetime of an impersonation token.
const impersonationTokenLifetime = 5 * time.Minute

// impersonationToken is an issued, not yet used impersonation token.
type impersonationToken struct {
	memberID          string
	impersonatorID    string
	impersonatorEmail string
	expiresAt         time.Time
}

// CreateImpersonationToken issues a single-use impersonation token (valid 5
// minutes) for the member, on behalf of the impersonator (a dashboard
// user's ID and email address, both required).
func (e *Emulator) CreateImpersonationToken(memberID, impersonatorID, impersonatorEmail string) (string, error) {
	if e.projectType != ProjectB2B {
		return "", errors.New("stytchemu: impersonation is a B2B feature")
	}
	if impersonatorID == "" || !validEmail(impersonatorEmail) {
		return "", errors.New("stytchemu: CreateImpersonationToken: impersonator_id and a valid impersonator_email_address are required")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st.findMember("", memberID, false) == nil {
		return "", fmt.Errorf("stytchemu: CreateImpersonationToken: no member %q", memberID)
	}
	tok := randToken(33)
	e.st.impersonations[tok] = &impersonationToken{
		memberID: memberID, impersonatorID: impersonatorID, impersonatorEmail: impersonatorEmail,
		expiresAt: e.clock.Now().Add(impersonationTokenLifetime),
	}
	return tok, nil
}

// handleCreateImpersonationToken: POST /emulator/impersonation_tokens
// {"member_id", "impersonator_id", "impersonator_email_address"} →
// {"impersonation_token"}.
func (e *Emulator) handleCreateImpersonationToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MemberID                 string `json:"member_id"`
		ImpersonatorID           string `json:"impersonator_id"`
		ImpersonatorEmailAddress string `json:"impersonator_email_address"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be JSON"})
		return
	}
	tok, err := e.CreateImpersonationToken(in.MemberID, in.ImpersonatorID, in.ImpersonatorEmailAddress)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"impersonation_token": tok})
}

// impersonationAuthenticate: POST /v1/b2b/impersonation/authenticate. The
// token is single-use; the session carries the impersonated factor naming
// the impersonator. MFA is never required and the member is not activated
// (an impersonation proves nothing about the member's email).
func (e *Emulator) impersonationAuthenticate(rq *request) (any, error) {
	var in struct {
		ImpersonationToken string `json:"impersonation_token"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.ImpersonationToken == "" {
		return nil, badRequest("impersonation_token is required.")
	}
	it, ok := e.st.impersonations[in.ImpersonationToken]
	if !ok || !rq.now.Before(it.expiresAt) {
		delete(e.st.impersonations, in.ImpersonationToken)
		return nil, newErr(http.StatusNotFound, errImpersonationNotFound, "The impersonation token could not be found or has expired.")
	}
	delete(e.st.impersonations, in.ImpersonationToken)
	m := e.st.findMember("", it.memberID, false)
	if m == nil {
		return nil, memberNotFound()
	}
	org := e.st.orgs[m.OrganizationID]
	ts := rfc3339(rq.now)
	f := factor{
		Type: "impersonated", DeliveryMethod: "impersonation",
		LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		ImpersonatedFactor: &impersonatedFactor{ImpersonatorID: it.impersonatorID, ImpersonatorEmailAddress: it.impersonatorEmail},
	}
	res, err := e.sessionFor(rq, org, m, f, sessionArgs{})
	if err != nil {
		return nil, err
	}
	res["organization_id"] = org.OrganizationID
	res["intermediate_session_token"] = ""
	res["member_authenticated"] = true
	return res, nil
}
