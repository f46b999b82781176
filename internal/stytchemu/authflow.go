package stytchemu

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// sessionArgs are the session-related inputs most authenticate calls share.
type sessionArgs struct {
	SessionToken             string         `json:"session_token"`
	SessionJWT               string         `json:"session_jwt"`
	IntermediateSessionToken string         `json:"intermediate_session_token"`
	SessionDurationMinutes   *int           `json:"session_duration_minutes"`
	SessionCustomClaims      map[string]any `json:"session_custom_claims"`
}

// needsMFA reports whether m must still complete MFA in org given factors.
func needsMFA(org *organization, m *member, factors []factor) bool {
	if m.IsBreakglass {
		return false
	}
	if org.MFAPolicy != mfaRequired && !m.MFAEnrolled {
		return false
	}
	return !slices.ContainsFunc(factors, factor.isMFA)
}

func mfaRequiredWire(m *member, initiated bool) obj {
	o := obj{"member_options": obj{
		"mfa_phone_number":     m.MFAPhoneNumber,
		"totp_registration_id": m.TOTPRegistrationID,
	}, "secondary_auth_initiated": ""}
	if initiated {
		o["secondary_auth_initiated"] = "sms_otp"
	}
	return o
}

func istNotFound() *apiError {
	return newErr(http.StatusNotFound, errIntermediateNotFound, "Intermediate session could not be found or has expired.")
}

// liveIST returns the IST behind token if it exists and has not expired.
func (e *Emulator) liveIST(token string, now time.Time) (*intermediateSession, *apiError) {
	ist, ok := e.st.ists[token]
	if !ok {
		return nil, istNotFound()
	}
	if !now.Before(ist.expiresAt) {
		delete(e.st.ists, token)
		return nil, istNotFound()
	}
	return ist, nil
}

// completeAuth finishes a primary authentication of m in org with f: it
// reuses a session that was passed in, merges an IST's factors, activates
// the member, and returns either a session or (MFA still due) an IST.
func (e *Emulator) completeAuth(rq *request, org *organization, m *member, f factor, args sessionArgs) (obj, error) {
	d, aerr := sessionDuration(args.SessionDurationMinutes)
	if aerr != nil {
		return nil, aerr
	}
	if args.SessionToken != "" || args.SessionJWT != "" {
		ss, aerr := e.resolveSession(args.SessionToken, args.SessionJWT, rq.now)
		if aerr != nil {
			return nil, aerr
		}
		// A session of another member is ignored (Stytch's documented rule).
		if ss.memberID == m.MemberID {
			e.activate(m, rq.now)
			ss.factors = addFactors(ss.factors, f)
			ss.lastAccessedAt = rq.now
			if args.SessionDurationMinutes != nil {
				ss.expiresAt = rq.now.Add(d)
			}
			if ss.customClaims, aerr = mergeClaims(ss.customClaims, args.SessionCustomClaims); aerr != nil {
				return nil, aerr
			}
			return e.authenticatedResult(m, ss, rq.now)
		}
	}
	factors := []factor{f}
	var ist *intermediateSession
	if args.IntermediateSessionToken != "" {
		if ist, aerr = e.liveIST(args.IntermediateSessionToken, rq.now); aerr != nil {
			return nil, aerr
		}
		if !strings.EqualFold(ist.email, m.EmailAddress) {
			return nil, badRequest("The intermediate session belongs to a different email address.")
		}
		factors = addFactors(ist.factors, f)
	}
	e.activate(m, rq.now)
	return e.finishLogin(rq, org, m, factors, d, args.SessionCustomClaims, ist)
}

// finishLogin creates the session, or an IST when MFA is still due. A
// given IST is consumed on success and reused otherwise.
func (e *Emulator) finishLogin(rq *request, org *organization, m *member, factors []factor, d time.Duration, claims map[string]any, ist *intermediateSession) (obj, error) {
	if needsMFA(org, m, factors) {
		if ist == nil {
			ist = &intermediateSession{token: randToken(33)}
			e.st.ists[ist.token] = ist
		}
		ist.email, ist.orgID, ist.memberID = m.EmailAddress, org.OrganizationID, m.MemberID
		ist.factors = factors
		ist.expiresAt = rq.now.Add(istLifetime)
		initiated := false
		if m.MFAPhoneNumber != "" && m.DefaultMFAMethod != "totp" {
			e.sendSMSCode(m, m.MFAPhoneNumber, rq.now)
			initiated = true
		}
		return obj{
			"member_id":                  m.MemberID,
			"member":                     e.st.render(m),
			"organization_id":            org.OrganizationID,
			"organization":               org,
			"session_token":              "",
			"session_jwt":                "",
			"intermediate_session_token": ist.token,
			"member_authenticated":       false,
			"mfa_required":               mfaRequiredWire(m, initiated),
		}, nil
	}
	if ist != nil {
		delete(e.st.ists, ist.token)
	}
	cc, aerr := mergeClaims(nil, claims)
	if aerr != nil {
		return nil, aerr
	}
	ss := e.newSession(m, factors, d, cc, rq.now)
	return e.authenticatedResult(m, ss, rq.now)
}

func (e *Emulator) authenticatedResult(m *member, ss *memberSession, now time.Time) (obj, error) {
	res, err := e.sessionResult(ss, now)
	if err != nil {
		return nil, err
	}
	res["member_id"] = m.MemberID
	res["member"] = e.st.render(m)
	res["organization_id"] = m.OrganizationID
	res["organization"] = e.st.orgs[m.OrganizationID]
	res["intermediate_session_token"] = ""
	res["member_authenticated"] = true
	return res, nil
}

// activate marks a pending or invited member active after it proved its email.
func (e *Emulator) activate(m *member, now time.Time) {
	if m.Status == statusPending || m.Status == statusInvited {
		m.Status = statusActive
		m.UpdatedAt = rfc3339(now)
	}
	m.EmailAddressVerified = true
}

// sendSMSCode issues a new SMS OTP for m, invalidating the previous one.
func (e *Emulator) sendSMSCode(m *member, phone string, now time.Time) {
	code := randDigits(6)
	sandbox := e.sandbox && phone == SandboxPhoneNumber
	if sandbox {
		code = "000000"
	}
	e.st.smsOTPs[m.MemberID] = &otpCode{
		code: code, template: TemplateMFA, orgID: m.OrganizationID, memberID: m.MemberID,
		phone: phone, expiresAt: now.Add(smsOTPLifetime),
	}
	if sandbox {
		return
	}
	e.send(Message{
		Kind: KindSMS, Method: MethodOTP, Template: TemplateMFA, To: phone,
		OrganizationID: m.OrganizationID, MemberID: m.MemberID, Code: code,
		SentAt: now, ExpiresAt: now.Add(smsOTPLifetime),
	})
}

// jitEligible reports whether email may join org by email domain.
func jitEligible(org *organization, email string) bool {
	if org.EmailJITProvisioning != restricted {
		return false
	}
	d := emailDomain(email)
	return slices.ContainsFunc(org.EmailAllowedDomains, func(a string) bool { return strings.EqualFold(a, d) })
}

// discoveredOrganizations lists the organizations email belongs to or may
// join, in creation order.
func (e *Emulator) discoveredOrganizations(email string, factors []factor) []obj {
	out := []obj{}
	for _, id := range e.st.orgOrder {
		org := e.st.orgs[id]
		if m := e.st.memberByEmail(id, email); m != nil {
			need := needsMFA(org, m, factors)
			d := obj{
				"member_authenticated": !need,
				"organization":         org,
				"membership": obj{
					"type":    m.Status + "_member",
					"details": obj{}, // only eligible_to_join_by_email_domain has details
					"member":  e.st.render(m),
				},
			}
			if need {
				d["mfa_required"] = mfaRequiredWire(m, false)
			}
			out = append(out, d)
			continue
		}
		if jitEligible(org, email) {
			out = append(out, obj{
				"member_authenticated": org.MFAPolicy != mfaRequired,
				"organization":         org,
				"membership": obj{
					"type":    "eligible_to_join_by_email_domain",
					"details": obj{"domain": emailDomain(email)},
				},
			})
		}
	}
	return out
}

// newDiscoveryIST creates an IST bound to no organization.
func (e *Emulator) newDiscoveryIST(email string, f factor, now time.Time) *intermediateSession {
	ist := &intermediateSession{token: randToken(33), email: email, factors: []factor{f}, expiresAt: now.Add(istLifetime)}
	e.st.ists[ist.token] = ist
	return ist
}

// memberForExchange finds email's member in org, or JIT-provisions one
// when the organization allows it for the email's domain.
func (e *Emulator) memberForExchange(org *organization, email string, now time.Time) (*member, *apiError) {
	if m := e.st.memberByEmail(org.OrganizationID, email); m != nil {
		return m, nil
	}
	if !jitEligible(org, email) {
		return nil, memberNotFound()
	}
	return e.createMember(org, memberInput{EmailAddress: email}, statusActive, now)
}

func discoveryEmailFactor(typ, email string, now time.Time) factor {
	ts := rfc3339(now)
	return factor{
		Type: typ, DeliveryMethod: "email", LastAuthenticatedAt: ts, CreatedAt: ts, UpdatedAt: ts,
		EmailFactor: &emailFactor{EmailID: "member-email-test-" + newUUID(), EmailAddress: email},
	}
}
