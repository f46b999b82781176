package stytchemu

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// emailUpdateTTL is how long the link or code of an email update lives
// (Stytch: 5 minutes); the new address stays reserved for the member as long.
const emailUpdateTTL = 5 * time.Minute

// OIDCTokens is what the emulator keeps from a member's OIDC login, served
// by the member's oidc_providers route.
type OIDCTokens struct {
	ProviderSubject      string
	IDToken              string
	AccessToken          string
	AccessTokenExpiresIn int
	Scopes               []string
	ConnectionID         string
	RefreshToken         string
}

// emailInUse reports whether email is used in orgID by a member other than
// self: as a current address, a retired one (until unlinked), or the
// pending address of another member's unexpired email update.
func (e *Emulator) emailInUse(orgID, email string, self *member, now time.Time) bool {
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if m == self || m.OrganizationID != orgID || m.Status == statusDeleted {
			continue
		}
		if strings.EqualFold(m.EmailAddress, email) {
			return true
		}
		if slices.ContainsFunc(m.RetiredEmailAddresses, func(r retiredEmail) bool { return strings.EqualFold(r.EmailAddress, email) }) {
			return true
		}
		if m.pendingEmail != "" && now.Before(m.pendingEmailExpiresAt) && strings.EqualFold(m.pendingEmail, email) {
			return true
		}
	}
	return false
}

// memberAwaitingEmail is the member of orgID whose unexpired email update
// goes to email.
func (e *Emulator) memberAwaitingEmail(orgID, email string, now time.Time) *member {
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if m.OrganizationID == orgID && m.Status == statusActive && m.pendingEmail != "" &&
			now.Before(m.pendingEmailExpiresAt) && strings.EqualFold(m.pendingEmail, email) {
			return m
		}
	}
	return nil
}

// finishEmailUpdate switches m to its pending address once the member proved
// it (a magic link or email code sent to it): the old address is retired,
// the new one verified. It reports false when no unexpired update to email
// is pending.
func (e *Emulator) finishEmailUpdate(m *member, email string, now time.Time) bool {
	if m.pendingEmail == "" || !now.Before(m.pendingEmailExpiresAt) || !strings.EqualFold(m.pendingEmail, email) {
		return false
	}
	m.RetiredEmailAddresses = append(m.RetiredEmailAddresses, retiredEmail{EmailID: m.emailID, EmailAddress: m.EmailAddress})
	m.EmailAddress, m.EmailAddressVerified = m.pendingEmail, true
	m.emailID = "member-email-test-" + newUUID()
	m.pendingEmail, m.pendingEmailExpiresAt = "", time.Time{}
	m.UpdatedAt = rfc3339(now)
	return true
}

// memberStartEmailUpdate sends a link (or code) to the member's new address;
// the address changes when the member authenticates with it.
func (e *Emulator) memberStartEmailUpdate(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		EmailAddress     string `json:"email_address"`
		LoginRedirectURL string `json:"login_redirect_url"`
		Locale           string `json:"locale"`
		LoginTemplateID  string `json:"login_template_id"`
		DeliveryMethod   string `json:"delivery_method"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update.info.email"); err != nil {
		return nil, err
	}
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	if !validEmail(in.EmailAddress) {
		return nil, newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
	}
	if in.DeliveryMethod != "" && in.DeliveryMethod != "EMAIL_MAGIC_LINK" && in.DeliveryMethod != "EMAIL_OTP" {
		return nil, badRequest("delivery_method must be EMAIL_MAGIC_LINK or EMAIL_OTP.")
	}
	if m.Status != statusActive || !m.EmailAddressVerified {
		return nil, badRequest("Only an active member with a verified email address can update it.")
	}
	if strings.EqualFold(in.EmailAddress, m.EmailAddress) {
		return nil, badRequest("email_address is already the member's email address.")
	}
	if e.emailInUse(m.OrganizationID, in.EmailAddress, m, rq.now) {
		return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "The email address is used by another member of the organization.")
	}
	if in.DeliveryMethod == "EMAIL_OTP" {
		e.sendEmailCode(TemplateEmailUpdate, m.OrganizationID, m.MemberID, in.EmailAddress, emailUpdateTTL, rq.now)
	} else if aerr := e.sendMagicLink(TemplateEmailUpdate, m.OrganizationID, m.MemberID, in.EmailAddress, in.LoginRedirectURL, "", emailUpdateTTL, rq.now); aerr != nil {
		return nil, aerr
	}
	m.pendingEmail, m.pendingEmailExpiresAt = in.EmailAddress, rq.now.Add(emailUpdateTTL)
	return e.memberResult(m), nil
}

func (e *Emulator) memberDeleteTOTP(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update.info.delete.mfa-totp"); err != nil {
		return nil, err
	}
	if m.TOTPRegistrationID == "" && e.st.totps[m.MemberID] == nil {
		return nil, newErr(http.StatusNotFound, errTOTPNotFound, "The member has no TOTP registration.")
	}
	delete(e.st.totps, m.MemberID)
	m.TOTPRegistrationID = ""
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

// memberDeleteExternalID removes the member's external ID. Stytch names no
// RBAC action for it; the emulator asks a member session for every action
// on stytch.member, as authsvc does.
func (e *Emulator) memberDeleteExternalID(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, m.OrganizationID, "", "stytch.member", "*"); err != nil {
		return nil, err
	}
	m.ExternalID = ""
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) memberUnlinkRetiredEmail(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		EmailID      string `json:"email_id"`
		EmailAddress string `json:"email_address"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update.info.unlink.retired-email"); err != nil {
		return nil, err
	}
	if in.EmailID == "" && in.EmailAddress == "" {
		return nil, badRequest("One of email_id or email_address is required.")
	}
	i := slices.IndexFunc(m.RetiredEmailAddresses, func(r retiredEmail) bool {
		return (in.EmailID == "" || strings.EqualFold(r.EmailID, in.EmailID)) &&
			(in.EmailAddress == "" || strings.EqualFold(r.EmailAddress, in.EmailAddress))
	})
	if i < 0 {
		if in.EmailID != "" && in.EmailAddress != "" {
			return nil, badRequest("email_id and email_address do not name the same retired email of the member.")
		}
		return nil, newErr(http.StatusNotFound, errRetiredEmailNotFound, "The member has no such retired email address.")
	}
	m.RetiredEmailAddresses = slices.Delete(m.RetiredEmailAddresses, i, i+1)
	m.UpdatedAt = rfc3339(rq.now)
	res := e.memberResult(m)
	res["organization_id"] = m.OrganizationID
	return res, nil
}

// memberOIDCProviders serves the tokens kept from the member's OIDC logins;
// refresh tokens only with include_refresh_token=true.
func (e *Emulator) memberOIDCProviders(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	withRefresh := false
	if v := rq.r.URL.Query().Get("include_refresh_token"); v != "" {
		switch v {
		case "true":
			withRefresh = true
		case "false":
		default:
			return nil, badRequest("include_refresh_token must be true or false.")
		}
	}
	regs := make([]obj, 0, len(m.oidcTokens))
	for _, t := range m.oidcTokens {
		r := obj{
			"provider_subject":        t.ProviderSubject,
			"id_token":                t.IDToken,
			"access_token":            t.AccessToken,
			"access_token_expires_in": t.AccessTokenExpiresIn,
			"scopes":                  append([]string{}, t.Scopes...),
			"connection_id":           t.ConnectionID,
			"refresh_token":           "",
		}
		if withRefresh {
			r["refresh_token"] = t.RefreshToken
		}
		regs = append(regs, r)
	}
	return obj{"registrations": regs}, nil
}

// orgDeleteExternalID removes the organization's external ID (a member
// session needs every action on stytch.organization, as in authsvc).
func (e *Emulator) orgDeleteExternalID(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, o.OrganizationID, "", "stytch.organization", "*"); err != nil {
		return nil, err
	}
	o.OrganizationExternalID = ""
	o.UpdatedAt = rfc3339(rq.now)
	return obj{"organization": o}, nil
}
