package stytchemu

import (
	"net/http"
	"slices"
	"time"
)

// userSessionArgs are the session inputs of consumer authenticate calls.
type userSessionArgs struct {
	SessionToken           string         `json:"session_token"`
	SessionJWT             string         `json:"session_jwt"`
	SessionDurationMinutes *int           `json:"session_duration_minutes"`
	SessionCustomClaims    map[string]any `json:"session_custom_claims"`
}

// newUserSession creates a consumer session. Caller holds e.mu.
func (e *Emulator) newUserSession(u *user, factors []factor, d time.Duration, claims map[string]any, now time.Time) *userSession {
	ss := &userSession{
		sessionBase: startSession(consumerSessionIDPrefix+newUUID(), randToken(33), slices.Clone(factors), d, claims, now),
		userID:      u.id,
	}
	e.cs.sessions[ss.id] = ss
	e.cs.sessionByToken[ss.token] = ss.id
	return ss
}

func (e *Emulator) userRoles(userID string) []string {
	if u := e.cs.users[userID]; u != nil {
		return u.roleIDs()
	}
	return []string{RoleUser}
}

// userSessionWire is the Session object (api_session_v1_Session).
func (e *Emulator) userSessionWire(ss *userSession) obj {
	return obj{
		"session_id":             ss.id,
		"user_id":                ss.userID,
		"authentication_factors": nonNilFactors(ss.factors),
		"roles":                  e.userRoles(ss.userID),
		"started_at":             rfc3339(ss.startedAt),
		"last_accessed_at":       rfc3339(ss.lastAccessedAt),
		"expires_at":             rfc3339(ss.expiresAt),
		"attributes":             obj{"ip_address": "", "user_agent": ""},
		"custom_claims":          nonNilMap(ss.customClaims),
	}
}

// userSessionJWT mints the 5-minute consumer session JWT: sub is the user
// ID, the session claim carries the factors and roles, and there is no
// organization claim.
func (e *Emulator) userSessionJWT(ss *userSession, now time.Time) (string, error) {
	return e.keys.sign(e.sessionClaims(&ss.sessionBase, ss.userID, e.userRoles(ss.userID), now))
}

func (e *Emulator) liveUserSession(id string, now time.Time) *userSession {
	ss, ok := e.cs.sessions[id]
	if !ok {
		return nil
	}
	if !now.Before(ss.expiresAt) {
		e.cs.deleteSession(ss)
		return nil
	}
	return ss
}

// resolveUserSession finds the live consumer session behind a token or JWT,
// with the same rules as resolveSession.
func (e *Emulator) resolveUserSession(token, sessionJWT string, now time.Time) (*userSession, *apiError) {
	id, sandbox, err := e.sessionIDOf(token, sessionJWT, e.cs.sessionByToken)
	switch {
	case err != nil:
		return nil, err
	case sandbox:
		return e.sandboxUserSession(now), nil
	}
	if ss := e.liveUserSession(id, now); ss != nil {
		return ss, nil
	}
	return nil, sessionNotFound()
}

// userSessionResult is the session part of consumer responses; ss nil means
// no session (empty token and JWT, as the spec requires both fields).
func (e *Emulator) userSessionResult(res obj, ss *userSession, now time.Time) (obj, error) {
	res["session_token"], res["session_jwt"] = "", ""
	if ss == nil {
		return res, nil
	}
	j, err := e.userSessionJWT(ss, now)
	if err != nil {
		return nil, err
	}
	res["session_token"], res["session_jwt"], res["session"] = ss.token, j, e.userSessionWire(ss)
	return res, nil
}

// prepareUserSession checks the session inputs of an authenticate call before
// anything is spent: the existing session (if named) must belong to u.
func (e *Emulator) prepareUserSession(u *user, args userSessionArgs, now time.Time) (*userSession, *apiError) {
	if _, aerr := sessionDuration(args.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	if args.SessionToken == "" && args.SessionJWT == "" {
		return nil, nil
	}
	ss, aerr := e.resolveUserSession(args.SessionToken, args.SessionJWT, now)
	if aerr != nil {
		return nil, aerr
	}
	if u != nil && ss.userID != u.id {
		return nil, badRequest("The session belongs to a different user.")
	}
	return ss, nil
}

// finishUserAuth completes a consumer authenticate call: the user becomes
// active, the factor joins the given session (extended when a duration is
// given) or a new session when session_duration_minutes is set, or no
// session at all.
func (e *Emulator) finishUserAuth(u *user, ss *userSession, f factor, args userSessionArgs, now time.Time) (obj, error) {
	if u.status == statusPending {
		u.status = statusActive
	}
	res := obj{"user_id": u.id, "user": u.wire(), "reset_sessions": false}
	switch {
	case ss != nil:
		cc, aerr := mergeClaims(ss.customClaims, args.SessionCustomClaims)
		if aerr != nil {
			return nil, aerr
		}
		ss.customClaims = cc
		ss.factors = addFactors(ss.factors, f)
		ss.lastAccessedAt = now
		if args.SessionDurationMinutes != nil {
			ss.expiresAt = now.Add(time.Duration(*args.SessionDurationMinutes) * time.Minute)
		}
	case args.SessionDurationMinutes != nil:
		cc, aerr := mergeClaims(nil, args.SessionCustomClaims)
		if aerr != nil {
			return nil, aerr
		}
		ss = e.newUserSession(u, []factor{f}, time.Duration(*args.SessionDurationMinutes)*time.Minute, cc, now)
	}
	return e.userSessionResult(res, ss, now)
}

func (e *Emulator) userSessionsGet(rq *request) (any, error) {
	ref := rq.r.URL.Query().Get("user_id")
	if ref == "" {
		return nil, badRequest("user_id is required.")
	}
	u := e.cs.findUser(ref)
	if u == nil {
		return nil, userNotFound()
	}
	var live []*userSession
	for id, ss := range e.cs.sessions {
		if ss.userID == u.id && e.liveUserSession(id, rq.now) != nil {
			live = append(live, ss)
		}
	}
	slices.SortFunc(live, func(a, b *userSession) int { return a.compare(&b.sessionBase) })
	out := make([]obj, 0, len(live))
	for _, ss := range live {
		out = append(out, e.userSessionWire(ss))
	}
	return obj{"sessions": out}, nil
}

func (e *Emulator) userSessionsAuthenticate(rq *request) (any, error) {
	var in struct {
		userSessionArgs
		AuthorizationCheck *struct {
			ResourceID string `json:"resource_id"`
			Action     string `json:"action"`
		} `json:"authorization_check"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	ss, aerr := e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now)
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
	u := e.cs.users[ss.userID]
	if u == nil {
		return nil, sessionNotFound()
	}
	var verdict obj
	if ac := in.AuthorizationCheck; ac != nil {
		if ac.ResourceID == "" || ac.Action == "" {
			return nil, badRequest("authorization_check needs resource_id and action.")
		}
		granting := consumerGrantingRoles(u.roleIDs(), ac.ResourceID)
		if len(granting) == 0 {
			return nil, newErr(http.StatusForbidden, errSessionAuthz, "The user is not authorized to perform %s on %s.", ac.Action, ac.ResourceID)
		}
		verdict = obj{"authorized": true, "granting_roles": granting}
	}
	ss.customClaims = cc
	ss.lastAccessedAt = rq.now
	ss.expiresAt = rq.now.Add(d)
	res, err := e.userSessionResult(obj{"user": u.wire()}, ss, rq.now)
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		res["verdict"] = verdict
	}
	return res, nil
}

func (e *Emulator) userSessionsRevoke(rq *request) (any, error) {
	var in struct {
		SessionID    string `json:"session_id"`
		SessionToken string `json:"session_token"`
		SessionJWT   string `json:"session_jwt"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	n := 0
	for _, s := range []string{in.SessionID, in.SessionToken, in.SessionJWT} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, badRequest("Exactly one of session_id, session_token or session_jwt is required.")
	}
	var ss *userSession
	if in.SessionID != "" {
		if ss = e.liveUserSession(in.SessionID, rq.now); ss == nil {
			return nil, sessionNotFound()
		}
	} else {
		var aerr *apiError
		if ss, aerr = e.resolveUserSession(in.SessionToken, in.SessionJWT, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	e.cs.deleteSession(ss)
	rq.event("session", "DELETE", ss.id, obj{"session_id": ss.id, "user_id": ss.userID})
	return obj{}, nil
}

// userSessionsMigrate exchanges an external identity provider's token for a
// Stytch session. Stytch calls the project's UserInfo endpoint; the emulator
// looks the token up among those registered with AddMigrationToken and finds
// or creates the user with that email.
func (e *Emulator) userSessionsMigrate(rq *request) (any, error) {
	var in struct {
		SessionToken           string         `json:"session_token"`
		SessionDurationMinutes *int           `json:"session_duration_minutes"`
		SessionCustomClaims    map[string]any `json:"session_custom_claims"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if in.SessionToken == "" {
		return nil, badRequest("session_token is required.")
	}
	if _, aerr := sessionDuration(in.SessionDurationMinutes); aerr != nil {
		return nil, aerr
	}
	email, ok := e.cs.migrations[in.SessionToken]
	if !ok {
		return nil, newErr(http.StatusUnauthorized, errInvalidMigrationToken, "The identity provider did not accept the session_token.")
	}
	u, em := e.cs.userByEmail(email)
	if u == nil {
		var aerr *apiError
		if u, aerr = e.createUser(userInput{Email: email}, rq.now); aerr != nil {
			return nil, aerr
		}
		em = u.emails[0]
	}
	ts := rfc3339(rq.now)
	f := factor{
		Type: "imported", DeliveryMethod: "email", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		EmailFactor: &emailFactor{EmailID: em.EmailID, EmailAddress: em.Email},
	}
	res, err := e.finishUserAuth(u, nil, f, userSessionArgs{SessionDurationMinutes: in.SessionDurationMinutes, SessionCustomClaims: in.SessionCustomClaims}, rq.now)
	if err != nil {
		return nil, err
	}
	delete(res, "reset_sessions")
	return res, nil
}

// sandboxUserSession returns the always-valid consumer sandbox session.
func (e *Emulator) sandboxUserSession(now time.Time) *userSession {
	if id, ok := e.cs.sessionByToken[SandboxSessionToken]; ok {
		if ss := e.liveUserSession(id, now); ss != nil {
			return ss
		}
	}
	ts := rfc3339(now)
	f := factor{
		Type: "magic_link", DeliveryMethod: "email", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		EmailFactor: &emailFactor{EmailAddress: SandboxEmail},
	}
	if u := e.sandboxUser(now); len(u.emails) > 0 {
		f.EmailFactor.EmailID = u.emails[0].EmailID
	}
	ss := &userSession{
		sessionBase: startSession(consumerSessionIDPrefix+newUUID(), SandboxSessionToken, []factor{f}, defaultSessionMins*time.Minute, nil, now),
		userID:      SandboxUserID,
	}
	e.cs.sessions[ss.id] = ss
	e.cs.sessionByToken[ss.token] = ss.id
	return ss
}

// consumerGrantingRoles applies the emulator's consumer RBAC policy: an
// explicitly assigned stytch_admin may do everything, stytch_user (every
// user) may act only on the stytch.self resource.
func consumerGrantingRoles(roles []string, resource string) []string {
	var out []string
	for _, r := range roles {
		if r == RoleAdmin || (r == RoleUser && resource == "stytch.self") {
			out = append(out, r)
		}
	}
	return out
}
