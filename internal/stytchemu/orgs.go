package stytchemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// orgSettings is the settable part of an organization, shared by create,
// update and create-via-discovery. Pointers tell "absent" from "empty".
type orgSettings struct {
	OrganizationName                     *string          `json:"organization_name"`
	OrganizationSlug                     *string          `json:"organization_slug"`
	OrganizationLogoURL                  *string          `json:"organization_logo_url"`
	TrustedMetadata                      map[string]any   `json:"trusted_metadata"`
	OrganizationExternalID               *string          `json:"organization_external_id"`
	SSOJITProvisioning                   *string          `json:"sso_jit_provisioning"`
	SSOJITProvisioningAllowedConnections []string         `json:"sso_jit_provisioning_allowed_connections"`
	EmailAllowedDomains                  []string         `json:"email_allowed_domains"`
	EmailJITProvisioning                 *string          `json:"email_jit_provisioning"`
	EmailInvites                         *string          `json:"email_invites"`
	AuthMethods                          *string          `json:"auth_methods"`
	AllowedAuthMethods                   []string         `json:"allowed_auth_methods"`
	MFAPolicy                            *string          `json:"mfa_policy"`
	RBACEmailImplicitRoleAssignments     []roleAssignment `json:"rbac_email_implicit_role_assignments"`
	MFAMethods                           *string          `json:"mfa_methods"`
	AllowedMFAMethods                    []string         `json:"allowed_mfa_methods"`
	OAuthTenantJITProvisioning           *string          `json:"oauth_tenant_jit_provisioning"`
	AllowedOAuthTenants                  map[string]any   `json:"allowed_oauth_tenants"`
	ClaimedEmailDomains                  []string         `json:"claimed_email_domains"`
	FirstPartyConnectedAppsAllowedType   *string          `json:"first_party_connected_apps_allowed_type"`
	AllowedFirstPartyConnectedApps       []string         `json:"allowed_first_party_connected_apps"`
	ThirdPartyConnectedAppsAllowedType   *string          `json:"third_party_connected_apps_allowed_type"`
	AllowedThirdPartyConnectedApps       []string         `json:"allowed_third_party_connected_apps"`
}

// anyAuthSetting reports whether any auth setting is given; Stytch's default
// for email_invites depends on it.
func (s *orgSettings) anyAuthSetting() bool {
	return s.SSOJITProvisioning != nil || s.EmailJITProvisioning != nil || s.EmailInvites != nil ||
		s.AuthMethods != nil || s.MFAPolicy != nil || s.MFAMethods != nil || s.OAuthTenantJITProvisioning != nil ||
		s.EmailAllowedDomains != nil || s.AllowedAuthMethods != nil || s.AllowedMFAMethods != nil
}

func oneOf(field string, v *string, allowed ...string) *apiError {
	if v != nil && !slices.Contains(allowed, *v) {
		return badRequest("%s must be one of %s.", field, strings.Join(allowed, ", "))
	}
	return nil
}

func (s *orgSettings) validate() *apiError {
	checks := []*apiError{
		oneOf("sso_jit_provisioning", s.SSOJITProvisioning, allAllowed, restricted, notAllowed),
		oneOf("email_jit_provisioning", s.EmailJITProvisioning, restricted, notAllowed),
		oneOf("email_invites", s.EmailInvites, allAllowed, restricted, notAllowed),
		oneOf("auth_methods", s.AuthMethods, allAllowed, restricted),
		oneOf("mfa_policy", s.MFAPolicy, mfaRequired, mfaOptional),
		oneOf("mfa_methods", s.MFAMethods, allAllowed, restricted),
		oneOf("oauth_tenant_jit_provisioning", s.OAuthTenantJITProvisioning, restricted, notAllowed),
		oneOf("first_party_connected_apps_allowed_type", s.FirstPartyConnectedAppsAllowedType, allAllowed, restricted, notAllowed),
		oneOf("third_party_connected_apps_allowed_type", s.ThirdPartyConnectedAppsAllowedType, allAllowed, restricted, notAllowed),
	}
	for _, c := range checks {
		if c != nil {
			return c
		}
	}
	if s.OrganizationName != nil && (len(*s.OrganizationName) < 1 || len(*s.OrganizationName) > 128) {
		return badRequest("organization_name must be between 1 and 128 characters.")
	}
	if s.OrganizationSlug != nil && !slugRE.MatchString(*s.OrganizationSlug) {
		return badRequest("organization_slug must be 2 to 128 characters of A-Z a-z 0-9 - . _ ~.")
	}
	return nil
}

// apply writes the given settings onto o.
func (s *orgSettings) apply(o *organization) {
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setL := func(dst *[]string, v []string) {
		if v != nil {
			*dst = slices.Clone(v)
		}
	}
	setS(&o.OrganizationName, s.OrganizationName)
	setS(&o.OrganizationSlug, s.OrganizationSlug)
	setS(&o.OrganizationLogoURL, s.OrganizationLogoURL)
	setS(&o.OrganizationExternalID, s.OrganizationExternalID)
	setS(&o.SSOJITProvisioning, s.SSOJITProvisioning)
	setS(&o.EmailJITProvisioning, s.EmailJITProvisioning)
	setS(&o.EmailInvites, s.EmailInvites)
	setS(&o.AuthMethods, s.AuthMethods)
	setS(&o.MFAPolicy, s.MFAPolicy)
	setS(&o.MFAMethods, s.MFAMethods)
	setS(&o.OAuthTenantJITProvisioning, s.OAuthTenantJITProvisioning)
	setS(&o.FirstPartyConnectedAppsAllowedType, s.FirstPartyConnectedAppsAllowedType)
	setS(&o.ThirdPartyConnectedAppsAllowedType, s.ThirdPartyConnectedAppsAllowedType)
	setL(&o.SSOJITProvisioningAllowedConnections, s.SSOJITProvisioningAllowedConnections)
	setL(&o.EmailAllowedDomains, s.EmailAllowedDomains)
	setL(&o.AllowedAuthMethods, s.AllowedAuthMethods)
	setL(&o.AllowedMFAMethods, s.AllowedMFAMethods)
	setL(&o.ClaimedEmailDomains, s.ClaimedEmailDomains)
	setL(&o.AllowedFirstPartyConnectedApps, s.AllowedFirstPartyConnectedApps)
	setL(&o.AllowedThirdPartyConnectedApps, s.AllowedThirdPartyConnectedApps)
	if s.RBACEmailImplicitRoleAssignments != nil {
		o.RBACEmailImplicitRoleAssignments = slices.Clone(s.RBACEmailImplicitRoleAssignments)
	}
	if s.TrustedMetadata != nil {
		o.TrustedMetadata = s.TrustedMetadata
	}
	if s.AllowedOAuthTenants != nil {
		o.AllowedOAuthTenants = s.AllowedOAuthTenants
	}
	o.normalize()
}

// createOrg validates and stores a new organization; caller holds e.mu.
func (e *Emulator) createOrg(id string, s *orgSettings, now time.Time) (*organization, *apiError) {
	if s.OrganizationName == nil || *s.OrganizationName == "" {
		return nil, badRequest("organization_name is required.")
	}
	if s.OrganizationSlug == nil || *s.OrganizationSlug == "" {
		// Stytch's description says a unique slug is required even though the
		// schema marks it optional; derive one rather than fail.
		slug := slugify(*s.OrganizationName)
		s.OrganizationSlug = &slug
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if e.st.findOrg(*s.OrganizationSlug) != nil {
		return nil, badRequest("organization_slug is already used by another organization.").withType(errDuplicateSlug)
	}
	if id == "" {
		id = "organization-test-" + newUUID()
	}
	invites := notAllowed
	if !s.anyAuthSetting() {
		invites = allAllowed
	}
	o := &organization{
		OrganizationID:                     id,
		SSOJITProvisioning:                 allAllowed,
		EmailJITProvisioning:               notAllowed,
		EmailInvites:                       invites,
		AuthMethods:                        allAllowed,
		MFAPolicy:                          mfaOptional,
		MFAMethods:                         allAllowed,
		OAuthTenantJITProvisioning:         notAllowed,
		FirstPartyConnectedAppsAllowedType: allAllowed,
		ThirdPartyConnectedAppsAllowedType: allAllowed,
		CreatedAt:                          rfc3339(now),
		UpdatedAt:                          rfc3339(now),
	}
	s.apply(o)
	e.st.addOrg(o)
	return o, nil
}

func slugify(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_', r == '~':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) < 2 {
		s += "-org"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s + "-" + randDigits(4)
}

func orgNotFound() *apiError {
	return newErr(http.StatusNotFound, errOrganizationNotFound, "Organization could not be found.")
}

func (e *Emulator) orgByPath(rq *request) (*organization, *apiError) {
	o := e.st.findOrg(rq.r.PathValue("organization_id"))
	if o == nil {
		return nil, orgNotFound()
	}
	return o, nil
}

func (e *Emulator) orgCreate(rq *request) (any, error) {
	var in orgSettings
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	o, err := e.createOrg("", &in, rq.now)
	if err != nil {
		return nil, err
	}
	return obj{"organization": o}, nil
}

func (e *Emulator) orgGet(rq *request) (any, error) {
	o, err := e.orgByPath(rq)
	if err != nil {
		return nil, err
	}
	return obj{"organization": o}, nil
}

func (e *Emulator) orgUpdate(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	var in orgSettings
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := e.authorize(act, o.OrganizationID, "", "stytch.organization", "update"); err != nil {
		return nil, err
	}
	if act != nil && in.TrustedMetadata != nil {
		return nil, newErr(http.StatusForbidden, errSessionAuthz, "Trusted metadata cannot be updated when acting as a Member.")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if in.OrganizationSlug != nil {
		if other := e.st.findOrg(*in.OrganizationSlug); other != nil && other != o {
			return nil, badRequest("organization_slug is already used by another organization.").withType(errDuplicateSlug)
		}
	}
	in.apply(o)
	o.UpdatedAt = rfc3339(rq.now)
	return obj{"organization": o}, nil
}

func (e *Emulator) orgDelete(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if err := e.authorize(act, o.OrganizationID, "", "stytch.organization", "delete"); err != nil {
		return nil, err
	}
	for _, id := range slices.Clone(e.st.memberOrder) {
		if m := e.st.members[id]; m.OrganizationID == o.OrganizationID {
			e.st.deleteSessionsOf(id)
			delete(e.st.members, id)
		}
	}
	e.st.memberOrder = slices.DeleteFunc(e.st.memberOrder, func(id string) bool { _, ok := e.st.members[id]; return !ok })
	delete(e.st.orgs, o.OrganizationID)
	delete(e.st.scim, o.OrganizationID)
	e.st.orgOrder = slices.DeleteFunc(e.st.orgOrder, func(id string) bool { return id == o.OrganizationID })
	return obj{"organization_id": o.OrganizationID}, nil
}

func (e *Emulator) orgSearch(rq *request) (any, error) {
	var in searchRequest
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	match, aerr := compileQuery(in.Query, e.orgFilters())
	if aerr != nil {
		return nil, aerr
	}
	var hits []*organization
	for _, id := range e.st.orgOrder {
		if o := e.st.orgs[id]; match(o) {
			hits = append(hits, o)
		}
	}
	page, meta, aerr := paginate(hits, in.Cursor, in.Limit)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"organizations": nonNilSlice(page), "results_metadata": meta}, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orgFilters are the organization search filters of Stytch's SDKs.
func (e *Emulator) orgFilters() map[string]filterFunc {
	list := func(get func(*organization) []string) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			want, err := stringList(v)
			return func(x any) bool {
				return slices.ContainsFunc(get(x.(*organization)), func(s string) bool {
					return slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, s) })
				})
			}, err
		}
	}
	fz := func(get func(*organization) []string) filterFunc {
		return func(v json.RawMessage) (func(any) bool, error) {
			want, err := fuzzy(v)
			return func(x any) bool {
				return slices.ContainsFunc(get(x.(*organization)), func(s string) bool {
					return strings.Contains(strings.ToLower(s), want)
				})
			}, err
		}
	}
	memberEmails := func(o *organization) []string {
		var out []string
		for _, id := range e.st.memberOrder {
			if m := e.st.members[id]; m.OrganizationID == o.OrganizationID && m.Status != statusDeleted {
				out = append(out, m.EmailAddress)
			}
		}
		return out
	}
	return map[string]filterFunc{
		"organization_ids":        list(func(o *organization) []string { return []string{o.OrganizationID} }),
		"organization_slugs":      list(func(o *organization) []string { return []string{o.OrganizationSlug} }),
		"organization_name_fuzzy": fz(func(o *organization) []string { return []string{o.OrganizationName} }),
		"organization_slug_fuzzy": fz(func(o *organization) []string { return []string{o.OrganizationSlug} }),
		"member_emails":           list(memberEmails),
		"member_email_fuzzy":      fz(memberEmails),
		"allowed_domains":         list(func(o *organization) []string { return o.EmailAllowedDomains }),
		"allowed_domain_fuzzy":    fz(func(o *organization) []string { return o.EmailAllowedDomains }),
	}
}

// orgMetrics counts the organization's members that are not deleted.
func (e *Emulator) orgMetrics(rq *request) (any, error) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	n := 0
	for _, id := range e.st.memberOrder {
		if m := e.st.members[id]; m.OrganizationID == o.OrganizationID && m.Status != statusDeleted {
			n++
		}
	}
	return obj{"member_count": n}, nil
}
