package stytchemu

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

type memberInput struct {
	EmailAddress          string         `json:"email_address"`
	Name                  string         `json:"name"`
	TrustedMetadata       map[string]any `json:"trusted_metadata"`
	UntrustedMetadata     map[string]any `json:"untrusted_metadata"`
	CreateMemberAsPending bool           `json:"create_member_as_pending"`
	IsBreakglass          bool           `json:"is_breakglass"`
	MFAPhoneNumber        string         `json:"mfa_phone_number"`
	MFAEnrolled           bool           `json:"mfa_enrolled"`
	Roles                 []string       `json:"roles"`
	ExternalID            string         `json:"external_id"`
}

var externalIDRE = regexp.MustCompile(`^[A-Za-z0-9._\-|]{1,128}$`)

func memberNotFound() *apiError {
	return newErr(http.StatusNotFound, errMemberNotFound, "Member could not be found.")
}

// createMember validates and stores a member; caller holds e.mu.
func (e *Emulator) createMember(org *organization, in memberInput, status string, now time.Time) (*member, *apiError) {
	if in.EmailAddress == "" {
		return nil, badRequest("email_address is required.")
	}
	if !validEmail(in.EmailAddress) {
		return nil, newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
	}
	if in.MFAPhoneNumber != "" && !validPhone(in.MFAPhoneNumber) {
		return nil, newErr(http.StatusBadRequest, errInvalidPhoneNumber, "mfa_phone_number must be in E.164 format.")
	}
	if e.st.memberByEmail(org.OrganizationID, in.EmailAddress) != nil {
		return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "A member with this email address already exists in the organization.")
	}
	if in.ExternalID != "" {
		if aerr := e.checkExternalID(org.OrganizationID, in.ExternalID, ""); aerr != nil {
			return nil, aerr
		}
	}
	m := &member{
		OrganizationID:    org.OrganizationID,
		MemberID:          "member-test-" + newUUID(),
		EmailAddress:      in.EmailAddress,
		Status:            status,
		Name:              in.Name,
		IsBreakglass:      in.IsBreakglass,
		MFAPhoneNumber:    in.MFAPhoneNumber,
		MFAEnrolled:       in.MFAEnrolled,
		DefaultMFAMethod:  "sms_otp",
		TrustedMetadata:   in.TrustedMetadata,
		UntrustedMetadata: in.UntrustedMetadata,
		ExternalID:        in.ExternalID,
		CreatedAt:         rfc3339(now),
		UpdatedAt:         rfc3339(now),
		explicitRoles:     slices.Clone(in.Roles),
		emailID:           "member-email-test-" + newUUID(),
		phoneID:           "member-phone-test-" + newUUID(),
	}
	e.st.addMember(m)
	return m, nil
}

func (e *Emulator) checkExternalID(orgID, ext, self string) *apiError {
	if !externalIDRE.MatchString(ext) {
		return badRequest("external_id must be 1 to 128 characters of A-Z a-z 0-9 . _ - |.")
	}
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if m.OrganizationID == orgID && m.ExternalID == ext && m.MemberID != self {
			return badRequest("external_id is already used by another member of the organization.")
		}
	}
	return nil
}

// memberResult is the {member_id, member, organization} response body.
func (e *Emulator) memberResult(m *member) obj {
	return obj{"member_id": m.MemberID, "member": e.st.render(m), "organization": e.st.orgs[m.OrganizationID]}
}

// memberByPath resolves {organization_id} and {member_id}.
func (e *Emulator) memberByPath(rq *request) (*organization, *member, *apiError) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, nil, aerr
	}
	m := e.st.findMember(org.OrganizationID, rq.r.PathValue("member_id"), false)
	if m == nil {
		return nil, nil, memberNotFound()
	}
	return org, m, nil
}

func (e *Emulator) memberCreate(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, org.OrganizationID, "", "stytch.member", "create"); err != nil {
		return nil, err
	}
	var in memberInput
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	status := statusActive
	if in.CreateMemberAsPending {
		status = statusPending
	}
	m, aerr := e.createMember(org, in, status, rq.now)
	if aerr != nil {
		return nil, aerr
	}
	return e.memberResult(m), nil
}

func (e *Emulator) memberGet(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	q := rq.r.URL.Query()
	id, email := q.Get("member_id"), q.Get("email_address")
	var m *member
	switch {
	case id != "":
		m = e.st.findMember(org.OrganizationID, id, false)
	case email != "":
		m = e.st.memberByEmail(org.OrganizationID, email)
	default:
		return nil, badRequest("One of member_id or email_address is required.")
	}
	if m == nil {
		return nil, memberNotFound()
	}
	return e.memberResult(m), nil
}

func (e *Emulator) memberDangerouslyGet(rq *request) (any, error) {
	includeDeleted := rq.r.URL.Query().Get("include_deleted") == "true"
	m := e.st.findMember("", rq.r.PathValue("member_id"), includeDeleted)
	if m == nil {
		return nil, memberNotFound()
	}
	return e.memberResult(m), nil
}

func (e *Emulator) memberUpdate(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		Name                     *string        `json:"name"`
		TrustedMetadata          map[string]any `json:"trusted_metadata"`
		UntrustedMetadata        map[string]any `json:"untrusted_metadata"`
		IsBreakglass             *bool          `json:"is_breakglass"`
		MFAPhoneNumber           *string        `json:"mfa_phone_number"`
		MFAEnrolled              *bool          `json:"mfa_enrolled"`
		Roles                    []string       `json:"roles"`
		PreserveExistingSessions *bool          `json:"preserve_existing_sessions"`
		DefaultMFAMethod         *string        `json:"default_mfa_method"`
		EmailAddress             *string        `json:"email_address"`
		ExternalID               *string        `json:"external_id"`
		UnlinkEmail              *bool          `json:"unlink_email"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update"); err != nil {
		return nil, err
	}
	if act != nil && in.TrustedMetadata != nil {
		return nil, newErr(http.StatusForbidden, errSessionAuthz, "Trusted metadata cannot be updated when acting as a Member.")
	}
	if act != nil && in.Roles != nil && act.memberID == m.MemberID && !slices.Contains(e.st.roleIDs(e.st.members[act.memberID]), RoleAdmin) {
		return nil, newErr(http.StatusForbidden, errSessionAuthz, "The member session is not authorized to change roles.")
	}
	if in.MFAPhoneNumber != nil && *in.MFAPhoneNumber != "" {
		if !validPhone(*in.MFAPhoneNumber) {
			return nil, newErr(http.StatusBadRequest, errInvalidPhoneNumber, "mfa_phone_number must be in E.164 format.")
		}
		if m.MFAPhoneNumber != "" && m.MFAPhoneNumber != *in.MFAPhoneNumber {
			return nil, badRequest("The member already has an MFA phone number; delete it first.").withType(errPhoneAlreadySet)
		}
	}
	if in.DefaultMFAMethod != nil && *in.DefaultMFAMethod != "sms_otp" && *in.DefaultMFAMethod != "totp" {
		return nil, badRequest("default_mfa_method must be sms_otp or totp.")
	}
	if in.EmailAddress != nil && !strings.EqualFold(*in.EmailAddress, m.EmailAddress) {
		if !validEmail(*in.EmailAddress) {
			return nil, newErr(http.StatusBadRequest, errInvalidEmail, "email_address is not a valid email address.")
		}
		if e.st.memberByEmail(m.OrganizationID, *in.EmailAddress) != nil {
			return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "A member with this email address already exists in the organization.")
		}
	}
	if in.ExternalID != nil && *in.ExternalID != "" {
		if aerr := e.checkExternalID(m.OrganizationID, *in.ExternalID, m.MemberID); aerr != nil {
			return nil, aerr
		}
	}
	// All checks passed: apply.
	if in.Name != nil {
		m.Name = *in.Name
	}
	if in.TrustedMetadata != nil {
		m.TrustedMetadata = in.TrustedMetadata
	}
	if in.UntrustedMetadata != nil {
		m.UntrustedMetadata = in.UntrustedMetadata
	}
	if in.IsBreakglass != nil {
		m.IsBreakglass = *in.IsBreakglass
	}
	if in.MFAPhoneNumber != nil && *in.MFAPhoneNumber != m.MFAPhoneNumber {
		m.MFAPhoneNumber, m.MFAPhoneNumberVerified = *in.MFAPhoneNumber, false
	}
	if in.MFAEnrolled != nil {
		m.MFAEnrolled = *in.MFAEnrolled
	}
	if in.Roles != nil {
		m.explicitRoles = slices.Clone(in.Roles)
	}
	if in.DefaultMFAMethod != nil {
		m.DefaultMFAMethod = *in.DefaultMFAMethod
	}
	if in.EmailAddress != nil && !strings.EqualFold(*in.EmailAddress, m.EmailAddress) {
		if in.UnlinkEmail == nil || !*in.UnlinkEmail {
			m.RetiredEmailAddresses = append(m.RetiredEmailAddresses, retiredEmail{EmailID: m.emailID, EmailAddress: m.EmailAddress})
		}
		m.EmailAddress, m.EmailAddressVerified = *in.EmailAddress, false
		m.emailID = "member-email-test-" + newUUID()
		e.clearPassword(m)
	}
	if in.ExternalID != nil {
		m.ExternalID = *in.ExternalID
	}
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) clearPassword(m *member) {
	if m.MemberPasswordID != "" {
		delete(e.st.passwords, m.MemberPasswordID)
		m.MemberPasswordID = ""
	}
	m.pw = nil
}

func (e *Emulator) memberDelete(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "delete"); err != nil {
		return nil, err
	}
	m.Status = statusDeleted
	m.UpdatedAt = rfc3339(rq.now)
	e.st.deleteSessionsOf(m.MemberID)
	rq.event("member", "DELETE", m.MemberID, obj{"member_id": m.MemberID, "organization_id": m.OrganizationID, "status": m.Status})
	// Pending invite and login links die with the member.
	for _, ml := range e.st.magicLinks {
		if ml.memberID == m.MemberID {
			ml.used = true
		}
	}
	return obj{"member_id": m.MemberID}, nil
}

func (e *Emulator) memberReactivate(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	// Reactivate takes a member_id only (no external_id).
	m, ok := byID(e.st.members, rq.r.PathValue("member_id"))
	if !ok || m.OrganizationID != org.OrganizationID {
		return nil, memberNotFound()
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	// Stytch checks create for a reactivation (its SDKs document it; the API
	// reference's action list names none).
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "create"); err != nil {
		return nil, err
	}
	if other := e.st.memberByEmail(m.OrganizationID, m.EmailAddress); other != nil && other != m {
		return nil, newErr(http.StatusBadRequest, errDuplicateEmail, "Another member of the organization uses this email address.")
	}
	m.Status = statusActive
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) memberDeleteMFAPhone(rq *request) (any, error) {
	_, m, aerr := e.memberByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update"); err != nil {
		return nil, err
	}
	if m.MFAPhoneNumber == "" {
		return nil, badRequest("The member has no MFA phone number.").withType(errNoMFAPhone)
	}
	m.MFAPhoneNumber, m.MFAPhoneNumberVerified = "", false
	m.phoneID = "member-phone-test-" + newUUID()
	delete(e.st.smsOTPs, m.MemberID)
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) memberDeletePassword(rq *request) (any, error) {
	org, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	mid, ok := byID(e.st.passwords, rq.r.PathValue("member_password_id"))
	m := e.st.findMember(org.OrganizationID, mid, false)
	if !ok || m == nil {
		return nil, newErr(http.StatusNotFound, errMemberPasswordNotFound, "Member password could not be found.")
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, m.OrganizationID, m.MemberID, "stytch.member", "update"); err != nil {
		return nil, err
	}
	e.clearPassword(m)
	m.UpdatedAt = rfc3339(rq.now)
	return e.memberResult(m), nil
}

func (e *Emulator) memberSearch(rq *request) (any, error) {
	var in searchRequest
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if len(in.OrganizationIDs) == 0 {
		return nil, badRequest("organization_ids must contain at least one organization.")
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	orgs := obj{}
	var orgIDs []string
	for _, ref := range in.OrganizationIDs {
		o := e.st.findOrg(ref)
		if o == nil {
			return nil, orgNotFound()
		}
		if err := e.authorize(act, o.OrganizationID, "", "stytch.member", "search"); err != nil {
			return nil, err
		}
		orgs[o.OrganizationID] = o
		orgIDs = append(orgIDs, o.OrganizationID)
	}
	includeDeleted := false
	match, aerr := compileQuery(in.Query, e.memberFilters(&includeDeleted))
	if aerr != nil {
		return nil, aerr
	}
	var hits []*member
	for _, id := range e.st.memberOrder {
		m := e.st.members[id]
		if !slices.Contains(orgIDs, m.OrganizationID) || (m.Status == statusDeleted && !includeDeleted) {
			continue
		}
		if match(m) {
			hits = append(hits, m)
		}
	}
	page, meta, aerr := paginate(hits, in.Cursor, in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]*member, 0, len(page))
	for _, m := range page {
		out = append(out, e.st.render(m))
	}
	return obj{"members": out, "results_metadata": meta, "organizations": orgs}, nil
}

// memberFilters are the member search filters of Stytch's SDKs. A statuses
// filter naming "deleted" is the way to see deleted members.
func (e *Emulator) memberFilters(includeDeleted *bool) map[string]filterFunc {
	list := func(get func(*member) []string) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			want, err := stringList(v)
			return func(x any) bool {
				return slices.ContainsFunc(get(x.(*member)), func(s string) bool {
					return slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, s) })
				})
			}, err
		}
	}
	fz := func(get func(*member) string) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			want, err := fuzzy(v)
			return func(x any) bool { return strings.Contains(strings.ToLower(get(x.(*member))), want) }, err
		}
	}
	flag := func(get func(*member) bool) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			want, err := boolValue(v)
			return func(x any) bool { return get(x.(*member)) == want }, err
		}
	}
	one := func(get func(*member) string) func(*member) []string {
		return func(m *member) []string { return []string{get(m)} }
	}
	return map[string]filterFunc{
		"member_ids":         list(one(func(m *member) string { return m.MemberID })),
		"member_emails":      list(one(func(m *member) string { return m.EmailAddress })),
		"member_email_fuzzy": fz(func(m *member) string { return m.EmailAddress }),
		"statuses": func(v json.RawMessage) (func(any) bool, error) {
			want, err := stringList(v)
			if slices.Contains(want, statusDeleted) {
				*includeDeleted = true
			}
			return func(x any) bool { return slices.Contains(want, x.(*member).Status) }, err
		},
		"member_is_breakglass":          flag(func(m *member) bool { return m.IsBreakglass }),
		"member_mfa_phone_numbers":      list(one(func(m *member) string { return m.MFAPhoneNumber })),
		"member_mfa_phone_number_fuzzy": fz(func(m *member) string { return m.MFAPhoneNumber }),
		"member_password_exists":        flag(func(m *member) bool { return m.MemberPasswordID != "" }),
		"member_roles":                  list(func(m *member) []string { return e.st.roleIDs(m) }),
	}
}
