package stytchemu

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authsvc/authsvc/internal/rbac"
)

// reservedClaims are ignored in session_custom_claims (docs/stytch.md, "Sessions and their JWTs").
var reservedClaims = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

const maxCustomClaimsBytes = 4096

func sessionDuration(mins *int) (time.Duration, *apiError) {
	if mins == nil {
		return defaultSessionMins * time.Minute, nil
	}
	if *mins < minSessionMins || *mins > maxSessionMins {
		return 0, badRequest("session_duration_minutes must be between %d and %d.", minSessionMins, maxSessionMins)
	}
	return time.Duration(*mins) * time.Minute, nil
}

// mergeClaims applies a custom-claims update: null deletes a key, reserved
// names and Stytch's namespace are ignored.
func mergeClaims(dst, upd map[string]any) (map[string]any, *apiError) {
	if upd == nil {
		return dst, nil
	}
	out := maps.Clone(dst)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range upd {
		if slices.Contains(reservedClaims, k) || strings.HasPrefix(k, "https://stytch.com/") {
			continue
		}
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	if b, err := jsonSize(out); err != nil || b > maxCustomClaimsBytes {
		return nil, badRequest("session_custom_claims must not exceed 4 KB.")
	}
	return out, nil
}

func emailFactorFor(typ string, m *member, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: typ, DeliveryMethod: "email",
		LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		EmailFactor: &emailFactor{EmailID: m.emailID, EmailAddress: m.EmailAddress},
	}
}

func smsFactorFor(m *member, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: "otp", DeliveryMethod: "sms",
		LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		PhoneNumberFactor: &phoneFactor{PhoneID: m.phoneID, PhoneNumber: m.MFAPhoneNumber},
	}
}

// addFactors merges factors, a newer factor of the same kind replacing the older.
func addFactors(have []factor, add ...factor) []factor {
	out := slices.Clone(have)
	for _, f := range add {
		i := slices.IndexFunc(out, func(g factor) bool { return g.Type == f.Type && g.DeliveryMethod == f.DeliveryMethod })
		if i >= 0 {
			f.CreatedAt = out[i].CreatedAt
			out[i] = f
			continue
		}
		out = append(out, f)
	}
	return out
}

// newSession creates a member session. Caller holds e.mu.
func (e *Emulator) newSession(m *member, factors []factor, d time.Duration, claims map[string]any, now time.Time) *memberSession {
	ss := &memberSession{
		sessionBase: startSession("member-session-test-"+newUUID(), randToken(33), slices.Clone(factors), d, claims, now),
		memberID:    m.MemberID,
		orgID:       m.OrganizationID,
	}
	e.st.sessions[ss.id] = ss
	e.st.sessionByToken[ss.token] = ss.id
	return ss
}

func (e *Emulator) sessionWire(ss *memberSession) obj {
	m := e.st.members[ss.memberID]
	org := e.st.orgs[ss.orgID]
	o := obj{
		"member_session_id":      ss.id,
		"member_id":              ss.memberID,
		"started_at":             rfc3339(ss.startedAt),
		"last_accessed_at":       rfc3339(ss.lastAccessedAt),
		"expires_at":             rfc3339(ss.expiresAt),
		"authentication_factors": nonNilFactors(ss.factors),
		"organization_id":        ss.orgID,
		"roles":                  []string{},
		"organization_slug":      "",
		"custom_claims":          nonNilMap(ss.customClaims),
	}
	if m != nil {
		o["roles"] = e.st.roleIDs(m)
	}
	if org != nil {
		o["organization_slug"] = org.OrganizationSlug
	}
	return o
}

func nonNilFactors(f []factor) []factor {
	if f == nil {
		return []factor{}
	}
	return f
}

// sessionClaims are the claims of every session JWT, B2B or consumer: the
// custom claims, then the registered claims (sub is the member or user) and
// the session claim over them. The JWT lives 5 minutes.
func (e *Emulator) sessionClaims(ss *sessionBase, sub string, roles []string, now time.Time) jwt.MapClaims {
	claims := jwt.MapClaims{}
	maps.Copy(claims, ss.customClaims)
	claims["iss"] = "stytch.com/" + e.projectID
	claims["aud"] = []string{e.projectID}
	claims["sub"] = sub
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(jwtLifetime).Unix()
	claims["https://stytch.com/session"] = map[string]any{
		"id":                     ss.id,
		"started_at":             rfc3339(ss.startedAt),
		"last_accessed_at":       rfc3339(ss.lastAccessedAt),
		"expires_at":             rfc3339(ss.expiresAt),
		"attributes":             map[string]any{"ip_address": "", "user_agent": ""},
		"authentication_factors": nonNilFactors(ss.factors),
		"roles":                  roles,
	}
	return claims
}

// sessionJWT mints the JWT of a member session with the claims docs/stytch.md lists: the
// session claims and the organization claim.
func (e *Emulator) sessionJWT(ss *memberSession, now time.Time) (string, error) {
	roles := []string{}
	if m := e.st.members[ss.memberID]; m != nil {
		roles = e.st.roleIDs(m)
	}
	slug := ""
	if org := e.st.orgs[ss.orgID]; org != nil {
		slug = org.OrganizationSlug
	}
	claims := e.sessionClaims(&ss.sessionBase, ss.memberID, roles, now)
	claims["https://stytch.com/organization"] = map[string]any{
		"organization_id": ss.orgID,
		"slug":            slug,
	}
	return e.keys.sign(claims)
}

func (e *Emulator) liveSession(id string, now time.Time) *memberSession {
	ss, ok := e.st.sessions[id]
	if !ok {
		return nil
	}
	if !now.Before(ss.expiresAt) {
		e.st.deleteSession(ss)
		return nil
	}
	return ss
}

func sessionNotFound() *apiError {
	return newErr(http.StatusNotFound, errSessionNotFound, "Session could not be found.")
}

// resolveSession finds the live session behind a session token or JWT. An
// expired JWT is fine while its session lives (Stytch re-issues a fresh
// one); a JWT that does not verify against the served keys, or whose
// session is gone, is session_not_found.
func (e *Emulator) resolveSession(token, sessionJWT string, now time.Time) (*memberSession, *apiError) {
	id, sandbox, err := e.sessionIDOf(token, sessionJWT, e.st.sessionByToken)
	switch {
	case err != nil:
		return nil, err
	case sandbox:
		return e.sandboxSession(now), nil
	}
	if ss := e.liveSession(id, now); ss != nil {
		return ss, nil
	}
	return nil, sessionNotFound()
}

// sessionIDOf is the part of resolving a session both project types share:
// exactly one of token and sessionJWT, the token looked up in byToken, the
// JWT verified against the served keys (expiry aside) for its session ID.
// sandbox reports Stytch's sandbox session token, which names no stored
// session. An unknown token or an unverifiable JWT is session_not_found.
func (e *Emulator) sessionIDOf(token, sessionJWT string, byToken map[string]string) (id string, sandbox bool, apiErr *apiError) {
	switch {
	case token != "" && sessionJWT != "":
		return "", false, newErr(http.StatusBadRequest, errTooManySessionArgs, "Only one of session_token or session_jwt may be provided.")
	case token != "":
		if e.sandbox && token == SandboxSessionToken {
			return "", true, nil
		}
		id, ok := byToken[token]
		if !ok {
			return "", false, sessionNotFound()
		}
		return id, false, nil
	case sessionJWT != "":
		claims, err := e.keys.parse(sessionJWT, e.projectID)
		if err != nil {
			return "", false, sessionNotFound()
		}
		sc, _ := claims["https://stytch.com/session"].(map[string]any)
		id, _ := sc["id"].(string)
		return id, false, nil
	default:
		return "", false, badRequest("One of session_token or session_jwt is required.")
	}
}

// sessionResult is the common session part of authenticate-style responses.
func (e *Emulator) sessionResult(ss *memberSession, now time.Time) (obj, error) {
	j, err := e.sessionJWT(ss, now)
	if err != nil {
		return nil, err
	}
	return obj{
		"member_session": e.sessionWire(ss),
		"session_token":  ss.token,
		"session_jwt":    j,
	}, nil
}

// actor is the member session named by X-Stytch-Member-Session[JWT], or nil.
func (e *Emulator) actor(rq *request) (*memberSession, *apiError) {
	tok := rq.r.Header.Get("X-Stytch-Member-Session")
	j := rq.r.Header.Get("X-Stytch-Member-SessionJWT")
	if tok == "" && j == "" {
		return nil, nil
	}
	return e.resolveSession(tok, j, rq.now)
}

// authorize enforces the project's RBAC policy for an acting member (see
// rbac.go): acting in another organization is a tenancy error; acting on
// oneself is checked on the stytch.self resource. A nil actor means the call
// is made with project credentials only.
func (e *Emulator) authorize(act *memberSession, orgID, targetMemberID, resource, action string) *apiError {
	if act == nil {
		return nil
	}
	if orgID == "" {
		orgID = act.orgID
	}
	if targetMemberID != "" && targetMemberID == act.memberID {
		resource = rbac.ResourceSelf
	}
	_, aerr := e.checkSession(act, rbac.Check{OrganizationID: orgID, ResourceID: resource, Action: action})
	return aerr
}
