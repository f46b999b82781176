package stytchemu

import (
	"slices"

	"github.com/authsvc/authsvc/internal/rbac"
)

func (e *Emulator) sessionsGet(rq *request) (any, error) {
	q := rq.r.URL.Query()
	if q.Get("organization_id") == "" || q.Get("member_id") == "" {
		return nil, badRequest("organization_id and member_id are required.")
	}
	org := e.st.findOrg(q.Get("organization_id"))
	if org == nil {
		return nil, orgNotFound()
	}
	m := e.st.findMember(org.OrganizationID, q.Get("member_id"), false)
	if m == nil {
		return nil, memberNotFound()
	}
	var live []*memberSession
	for id, ss := range e.st.sessions {
		if ss.memberID == m.MemberID && e.liveSession(id, rq.now) != nil {
			live = append(live, ss)
		}
	}
	slices.SortFunc(live, func(a, b *memberSession) int { return a.compare(&b.sessionBase) })
	out := make([]obj, 0, len(live))
	for _, ss := range live {
		out = append(out, e.sessionWire(ss))
	}
	return obj{"member_sessions": out}, nil
}

func (e *Emulator) sessionsAuthenticate(rq *request) (any, error) {
	var in struct {
		SessionToken           string         `json:"session_token"`
		SessionJWT             string         `json:"session_jwt"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
		AuthorizationCheck     *struct {
			OrganizationID string `json:"organization_id"`
			ResourceID     string `json:"resource_id"`
			Action         string `json:"action"`
		} `json:"authorization_check"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	d := ss.expiresAt.Sub(rq.now)
	if in.SessionDurationMinutes != nil {
		if d, aerr = sessionDuration(in.SessionDurationMinutes); aerr != nil {
			return nil, aerr
		}
	}
	cc, aerr := mergeClaims(ss.customClaims, in.SessionCustomClaims)
	if aerr != nil {
		return nil, aerr
	}
	m := e.st.members[ss.memberID]
	var verdict obj
	if ac := in.AuthorizationCheck; ac != nil {
		granting, aerr := e.checkSession(ss, rbac.Check{OrganizationID: ac.OrganizationID, ResourceID: ac.ResourceID, Action: ac.Action})
		if aerr != nil {
			return nil, aerr
		}
		verdict = obj{"authorized": true, "granting_roles": granting}
	}
	ss.customClaims = cc
	ss.lastAccessedAt = rq.now
	if in.SessionDurationMinutes != nil {
		ss.expiresAt = rq.now.Add(d)
	}
	res, err := e.sessionResult(ss, rq.now)
	if err != nil {
		return nil, err
	}
	res["member"] = e.st.render(m)
	res["organization"] = e.st.orgs[ss.orgID]
	if verdict != nil {
		res["verdict"] = verdict
	}
	return res, nil
}

func (e *Emulator) sessionsRevoke(rq *request) (any, error) {
	var in struct {
		MemberSessionID string `json:"member_session_id"`
		SessionToken    string `json:"session_token"`
		SessionJWT      string `json:"session_jwt"`
		MemberID        string `json:"member_id"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	n := 0
	for _, s := range []string{in.MemberSessionID, in.SessionToken, in.SessionJWT, in.MemberID} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, badRequest("Exactly one of member_session_id, session_token, session_jwt or member_id is required.")
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if in.MemberID != "" {
		m := e.st.findMember("", in.MemberID, false)
		if m == nil {
			return nil, memberNotFound()
		}
		if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "revoke-sessions"); err != nil {
			return nil, err
		}
		for _, ss := range e.st.sessions {
			if ss.memberID == m.MemberID {
				rq.event("session", "DELETE", ss.id, obj{"member_session_id": ss.id, "member_id": ss.memberID, "organization_id": ss.orgID})
			}
		}
		e.st.deleteSessionsOf(m.MemberID)
		return obj{}, nil
	}
	var ss *memberSession
	if in.MemberSessionID != "" {
		ss = e.liveSession(in.MemberSessionID, rq.now)
		if ss == nil {
			return nil, sessionNotFound()
		}
	} else if ss, aerr = e.resolveSession(in.SessionToken, in.SessionJWT, rq.now); aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, ss.orgID, ss.memberID, "stytch.member", "revoke-sessions"); err != nil {
		return nil, err
	}
	e.st.deleteSession(ss)
	rq.event("session", "DELETE", ss.id, obj{"member_session_id": ss.id, "member_id": ss.memberID, "organization_id": ss.orgID})
	return obj{}, nil
}

func (e *Emulator) sessionsExchange(rq *request) (any, error) {
	var in struct {
		OrganizationID         string         `json:"organization_id"`
		SessionToken           string         `json:"session_token"`
		SessionJWT             string         `json:"session_jwt"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	org, aerr := e.orgByField(in.OrganizationID)
	if aerr != nil {
		return nil, aerr
	}
	ss, aerr := e.resolveSession(in.SessionToken, in.SessionJWT, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	d, aerr := sessionDuration(in.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	src := e.st.members[ss.memberID]
	m, aerr := e.memberForExchange(org, src.EmailAddress, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	// Email proof carries over; an MFA factor proves nothing about the
	// target organization's policy, so only primary factors move.
	factors := slices.DeleteFunc(slices.Clone(ss.factors), factor.isMFA)
	e.activate(m, rq.now)
	res, err := e.finishLogin(rq, org, m, factors, d, in.SessionCustomClaims, nil)
	if err != nil {
		return nil, err
	}
	delete(res, "organization_id") // not part of the exchange response
	return res, nil
}
