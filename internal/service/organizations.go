package service

import (
	"context"
	"log/slog"
	"time"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Organizations implements b2bv1.OrganizationsServiceServer. Changes are made on behalf of the
// calling member when there is one (X-Stytch-Member-Session), so that Stytch's RBAC decides too.
type Organizations struct {
	b2bv1.UnimplementedOrganizationsServiceServer
	base
	stytch  *stytchclient.Client
	revoked revoker
}

var _ b2bv1.OrganizationsServiceServer = (*Organizations)(nil)

// NewOrganizations returns the OrganizationsService. Deleting an organization revokes its
// members' session JWTs in revocations (now is the clock of the cut-off: the verifier's).
func NewOrganizations(stytch *stytchclient.Client, revocations Revocations, now func() time.Time, log *slog.Logger) *Organizations {
	return &Organizations{base: newBase(log), stytch: stytch, revoked: revoker{list: revocations, now: now}}
}

// Create creates an organization.
func (s *Organizations) Create(ctx context.Context, req *b2bv1.OrganizationsServiceCreateRequest) (*b2bv1.OrganizationsServiceCreateResponse, error) {
	res, err := s.stytch.OrganizationCreate(ctx, stytchclient.OrganizationCreateParams{
		OrganizationName:                   req.GetOrganizationName(),
		OrganizationSlug:                   req.GetOrganizationSlug(),
		OrganizationLogoURL:                req.GetOrganizationLogoUrl(),
		TrustedMetadata:                    fromStruct(req.GetTrustedMetadata()),
		OrganizationExternalID:             req.GetOrganizationExternalId(),
		SSOJITProvisioning:                 orgSettings.name(req.GetSsoJitProvisioning()),
		EmailAllowedDomains:                req.GetEmailAllowedDomains(),
		EmailJITProvisioning:               orgSettings.name(req.GetEmailJitProvisioning()),
		EmailInvites:                       orgSettings.name(req.GetEmailInvites()),
		AuthMethods:                        orgSettings.name(req.GetAuthMethods()),
		AllowedAuthMethods:                 req.GetAllowedAuthMethods(),
		MFAPolicy:                          mfaPolicies.name(req.GetMfaPolicy()),
		RBACEmailImplicitRoleAssignments:   fromRoleAssignments(req.GetRbacEmailImplicitRoleAssignments()),
		MFAMethods:                         orgSettings.name(req.GetMfaMethods()),
		AllowedMFAMethods:                  fromMfaMethods(req.GetAllowedMfaMethods()),
		OAuthTenantJITProvisioning:         orgSettings.name(req.GetOauthTenantJitProvisioning()),
		AllowedOAuthTenants:                fromStruct(req.GetAllowedOauthTenants()),
		ClaimedEmailDomains:                req.GetClaimedEmailDomains(),
		FirstPartyConnectedAppsAllowedType: orgSettings.name(req.GetFirstPartyConnectedAppsAllowedType()),
		AllowedFirstPartyConnectedApps:     req.GetAllowedFirstPartyConnectedApps(),
		ThirdPartyConnectedAppsAllowedType: orgSettings.name(req.GetThirdPartyConnectedAppsAllowedType()),
		AllowedThirdPartyConnectedApps:     req.GetAllowedThirdPartyConnectedApps(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OrganizationsServiceCreateResponse{Organization: toOrganization(&res.Organization)}, nil
}

// Get returns an organization.
func (s *Organizations) Get(ctx context.Context, req *b2bv1.OrganizationsServiceGetRequest) (*b2bv1.OrganizationsServiceGetResponse, error) {
	res, err := s.stytch.OrganizationGet(ctx, req.GetOrganizationId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OrganizationsServiceGetResponse{Organization: toOrganization(&res.Organization)}, nil
}

// Update changes the fields that are set; a list wrapper set with no values clears that list.
func (s *Organizations) Update(ctx context.Context, req *b2bv1.OrganizationsServiceUpdateRequest) (*b2bv1.OrganizationsServiceUpdateResponse, error) {
	p := stytchclient.OrganizationUpdateParams{
		OrganizationID:                     req.GetOrganizationId(),
		OrganizationName:                   req.OrganizationName,
		OrganizationSlug:                   req.OrganizationSlug,
		OrganizationLogoURL:                req.OrganizationLogoUrl,
		TrustedMetadata:                    fromStruct(req.GetTrustedMetadata()),
		OrganizationExternalID:             req.OrganizationExternalId,
		SSOJITProvisioning:                 settingPtr(req.GetSsoJitProvisioning()),
		EmailJITProvisioning:               settingPtr(req.GetEmailJitProvisioning()),
		EmailInvites:                       settingPtr(req.GetEmailInvites()),
		AuthMethods:                        settingPtr(req.GetAuthMethods()),
		MFAMethods:                         settingPtr(req.GetMfaMethods()),
		OAuthTenantJITProvisioning:         settingPtr(req.GetOauthTenantJitProvisioning()),
		AllowedOAuthTenants:                fromStruct(req.GetAllowedOauthTenants()),
		FirstPartyConnectedAppsAllowedType: settingPtr(req.GetFirstPartyConnectedAppsAllowedType()),
		ThirdPartyConnectedAppsAllowedType: settingPtr(req.GetThirdPartyConnectedAppsAllowedType()),
		ActingMember:                       access.From(ctx).Acting(),
	}
	if m := mfaPolicies.name(req.GetMfaPolicy()); m != "" {
		p.MFAPolicy = &m
	}
	p.SSOJITProvisioningAllowedConnections = wrappedStrings(req.GetSsoJitProvisioningAllowedConnections())
	p.EmailAllowedDomains = wrappedStrings(req.GetEmailAllowedDomains())
	p.AllowedAuthMethods = wrappedStrings(req.GetAllowedAuthMethods())
	p.ClaimedEmailDomains = wrappedStrings(req.GetClaimedEmailDomains())
	p.AllowedFirstPartyConnectedApps = wrappedStrings(req.GetAllowedFirstPartyConnectedApps())
	p.AllowedThirdPartyConnectedApps = wrappedStrings(req.GetAllowedThirdPartyConnectedApps())
	if w := req.GetAllowedMfaMethods(); w != nil {
		// Non-nil even when empty: "clear the list".
		p.AllowedMFAMethods = append([]string{}, fromMfaMethods(w.GetValues())...)
	}
	if w := req.GetRbacEmailImplicitRoleAssignments(); w != nil {
		p.RBACEmailImplicitRoleAssignments = append([]stytchclient.EmailImplicitRoleAssignment{}, fromRoleAssignments(w.GetAssignments())...)
	}
	res, err := s.stytch.OrganizationUpdate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OrganizationsServiceUpdateResponse{Organization: toOrganization(&res.Organization)}, nil
}

// Delete deletes an organization and its members. Stytch revokes the members' sessions; authsvc
// remembers them as revoked too, so their JWTs stop verifying locally at once. The members are
// listed before the deletion (afterwards they are gone); when they cannot be listed nothing is
// deleted, rather than leave JWTs that keep verifying. A member added between the listing and the
// deletion is not remembered: its JWTs expire within minutes, as after any Stytch-side deletion.
func (s *Organizations) Delete(ctx context.Context, req *b2bv1.OrganizationsServiceDeleteRequest) (*b2bv1.OrganizationsServiceDeleteResponse, error) {
	members, err := s.memberIDs(ctx, req.GetOrganizationId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	res, err := s.stytch.OrganizationDelete(ctx, req.GetOrganizationId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	for _, id := range members {
		s.revoked.member(ctx, id)
	}
	return &b2bv1.OrganizationsServiceDeleteResponse{OrganizationId: res.OrganizationID}, nil
}

// DeleteExternalId removes the organization's external ID.
func (s *Organizations) DeleteExternalId(ctx context.Context, req *b2bv1.OrganizationsServiceDeleteExternalIdRequest) (*b2bv1.OrganizationsServiceDeleteExternalIdResponse, error) { //nolint:staticcheck // ST1003: the generated interface names it so
	res, err := s.stytch.OrganizationDeleteExternalID(ctx, req.GetOrganizationId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OrganizationsServiceDeleteExternalIdResponse{Organization: toOrganization(&res.Organization)}, nil
}

// memberIDs lists the IDs of every member of the organization (given by ID, slug or external ID),
// a page of 1000 at a time. It is authsvc's own bookkeeping, so it does not act as the caller: the
// access layer has already admitted the caller to this organization.
func (s *Organizations) memberIDs(ctx context.Context, orgRef string) ([]string, error) {
	org, err := s.stytch.OrganizationGet(ctx, orgRef)
	if err != nil {
		return nil, err
	}
	var ids []string
	p := stytchclient.MemberSearchParams{OrganizationIDs: []string{org.Organization.OrganizationID}, Limit: 1000}
	for {
		page, err := s.stytch.MemberSearch(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Members {
			ids = append(ids, m.MemberID)
		}
		if page.ResultsMetadata.NextCursor == "" || len(page.Members) == 0 {
			return ids, nil
		}
		p.Cursor = page.ResultsMetadata.NextCursor
	}
}

// Search finds organizations, a page at a time.
func (s *Organizations) Search(ctx context.Context, req *b2bv1.OrganizationsServiceSearchRequest) (*b2bv1.OrganizationsServiceSearchResponse, error) {
	res, err := s.stytch.OrganizationSearch(ctx, stytchclient.SearchParams{
		Cursor: req.GetCursor(),
		Limit:  req.GetLimit(),
		Query:  organizationQuery(req.GetQuery()),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.OrganizationsServiceSearchResponse{
		Organizations: make([]*b2bv1.Organization, 0, len(res.Organizations)),
		NextCursor:    res.ResultsMetadata.NextCursor,
		Total:         clampInt32(res.ResultsMetadata.Total),
	}
	for i := range res.Organizations {
		out.Organizations = append(out.Organizations, toOrganization(&res.Organizations[i]))
	}
	return out, nil
}

// Metrics returns an organization's member count.
func (s *Organizations) Metrics(ctx context.Context, req *b2bv1.OrganizationsServiceMetricsRequest) (*b2bv1.OrganizationsServiceMetricsResponse, error) {
	res, err := s.stytch.OrganizationMetrics(ctx, req.GetOrganizationId())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	return &b2bv1.OrganizationsServiceMetricsResponse{MemberCount: clampInt32(res.MemberCount)}, nil
}

// organizationQuery turns the typed filters into Stytch's {filter_name, filter_value} operands.
func organizationQuery(q *b2bv1.OrganizationSearchQuery) *stytchclient.SearchQuery {
	if q == nil {
		return nil
	}
	operator := "AND"
	if q.GetOperator() == b2bv1.SearchOperator_SEARCH_OPERATOR_OR {
		operator = "OR"
	}
	out := &stytchclient.SearchQuery{Operator: operator, Operands: make([]map[string]any, 0, len(q.GetOperands()))}
	op := func(name string, value any) {
		out.Operands = append(out.Operands, map[string]any{"filter_name": name, "filter_value": value})
	}
	for _, o := range q.GetOperands() {
		switch f := o.GetFilter().(type) {
		case *b2bv1.OrganizationSearchOperand_OrganizationIds:
			op("organization_ids", f.OrganizationIds.GetValues())
		case *b2bv1.OrganizationSearchOperand_OrganizationSlugs:
			op("organization_slugs", f.OrganizationSlugs.GetValues())
		case *b2bv1.OrganizationSearchOperand_OrganizationNameFuzzy:
			op("organization_name_fuzzy", f.OrganizationNameFuzzy)
		case *b2bv1.OrganizationSearchOperand_OrganizationSlugFuzzy:
			op("organization_slug_fuzzy", f.OrganizationSlugFuzzy)
		case *b2bv1.OrganizationSearchOperand_MemberEmails:
			op("member_emails", f.MemberEmails.GetValues())
		case *b2bv1.OrganizationSearchOperand_MemberEmailFuzzy:
			op("member_email_fuzzy", f.MemberEmailFuzzy)
		case *b2bv1.OrganizationSearchOperand_AllowedDomains:
			op("allowed_domains", f.AllowedDomains.GetValues())
		case *b2bv1.OrganizationSearchOperand_AllowedDomainFuzzy:
			op("allowed_domain_fuzzy", f.AllowedDomainFuzzy)
		}
	}
	return out
}

// settingPtr is the Stytch string of a setting to change, or nil (unchanged) when unspecified.
func settingPtr(v b2bv1.OrganizationSetting) *string {
	if n := orgSettings.name(v); n != "" {
		return &n
	}
	return nil
}

// wrappedStrings is nil (unchanged) for an unset wrapper and a non-nil list (possibly empty:
// "clear it") for a set one.
func wrappedStrings(w *b2bv1.OrganizationStrings) []string {
	if w == nil {
		return nil
	}
	return append([]string{}, w.GetValues()...)
}

func fromMfaMethods(in []b2bv1.MfaMethod) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, m := range in {
		if n := mfaMethods.name(m); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func fromRoleAssignments(in []*b2bv1.EmailImplicitRoleAssignment) []stytchclient.EmailImplicitRoleAssignment {
	if len(in) == 0 {
		return nil
	}
	out := make([]stytchclient.EmailImplicitRoleAssignment, 0, len(in))
	for _, a := range in {
		out = append(out, stytchclient.EmailImplicitRoleAssignment{Domain: a.GetDomain(), RoleID: a.GetRoleId()})
	}
	return out
}
