package stytchemu

import "net/http"

func (e *Emulator) discoveryListOrganizations(rq *request) (any, error) {
	var in struct {
		IntermediateSessionToken string `json:"intermediate_session_token"`
		SessionToken             string `json:"session_token"`
		SessionJWT               string `json:"session_jwt"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	var email, hint string // hint: the organization an IST is bound to, "" for none
	var factors []factor
	switch {
	case in.IntermediateSessionToken != "" && (in.SessionToken != "" || in.SessionJWT != ""):
		return nil, newErr(http.StatusBadRequest, errTooManySessionArgs, "Pass either an intermediate session token or a session, not both.")
	case in.IntermediateSessionToken != "":
		ist, aerr := e.liveIST(in.IntermediateSessionToken, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		email, factors, hint = ist.email, ist.factors, ist.orgID
	default:
		ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		email, factors = e.st.members[ss.memberID].EmailAddress, ss.factors
	}
	return obj{
		"email_address":            email,
		"discovered_organizations": e.discoveredOrganizations(email, factors),
		"organization_id_hint":     hint,
	}, nil
}

func (e *Emulator) discoveryCreateOrganization(rq *request) (any, error) {
	var in struct {
		IntermediateSessionToken string         `json:"intermediate_session_token"`
		SessionDurationMinutes   *int           `json:"session_duration_minutes"`
		SessionCustomClaims      map[string]any `json:"session_custom_claims"`
		orgSettings
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.IntermediateSessionToken == "" {
		return nil, badRequest("intermediate_session_token is required.")
	}
	ist, aerr := e.liveIST(in.IntermediateSessionToken, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	d, aerr := sessionDuration(in.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	if in.OrganizationName == nil || *in.OrganizationName == "" {
		// Stytch derives a name from the email domain when none is given.
		name := emailDomain(ist.email)
		in.OrganizationName = &name
	}
	org, aerr := e.createOrg("", &in.orgSettings, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	m, aerr := e.createMember(org, memberInput{EmailAddress: ist.email, Roles: []string{RoleAdmin}}, statusActive, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	e.activate(m, rq.now)
	res, err := e.finishLogin(rq, org, m, ist.factors, d, in.SessionCustomClaims, ist)
	if err != nil {
		return nil, err
	}
	delete(res, "organization_id")
	return res, nil
}

func (e *Emulator) discoveryExchange(rq *request) (any, error) {
	var in struct {
		IntermediateSessionToken string         `json:"intermediate_session_token"`
		OrganizationID           string         `json:"organization_id"`
		SessionDurationMinutes   *int           `json:"session_duration_minutes"`
		SessionCustomClaims      map[string]any `json:"session_custom_claims"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.IntermediateSessionToken == "" {
		return nil, badRequest("intermediate_session_token is required.")
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	ist, aerr := e.liveIST(in.IntermediateSessionToken, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	d, aerr := sessionDuration(in.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	m, aerr := e.memberForExchange(org, ist.email, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	e.activate(m, rq.now)
	res, err := e.finishLogin(rq, org, m, ist.factors, d, in.SessionCustomClaims, ist)
	if err != nil {
		return nil, err
	}
	delete(res, "organization_id")
	return res, nil
}
