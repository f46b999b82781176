package service

import (
	"context"
	"log/slog"
	"time"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Members implements b2bv1.MembersServiceServer. Writes are made on behalf of the calling member
// when there is one (X-Stytch-Member-Session), so that Stytch's RBAC decides.
type Members struct {
	b2bv1.UnimplementedMembersServiceServer
	base
	stytch  *stytchclient.Client
	revoked revoker
}

var _ b2bv1.MembersServiceServer = (*Members)(nil)

// NewMembers returns the MembersService. Deleting a member revokes its session JWTs in revocations
// (now is the clock of the cut-off: the verifier's).
func NewMembers(stytch *stytchclient.Client, revocations Revocations, now func() time.Time, log *slog.Logger) *Members {
	return &Members{base: newBase(log), stytch: stytch, revoked: revoker{list: revocations, now: now}}
}

func memberOrgResult(r *stytchclient.MemberOrgResult) (string, *b2bv1.Member, *b2bv1.Organization) {
	id := r.MemberID
	if id == "" {
		id = r.Member.MemberID
	}
	return id, toMember(&r.Member), toOrganization(&r.Organization)
}

// Create adds a member without sending any email.
func (s *Members) Create(ctx context.Context, req *b2bv1.MembersServiceCreateRequest) (*b2bv1.MembersServiceCreateResponse, error) {
	res, err := s.stytch.MemberCreate(ctx, stytchclient.MemberCreateParams{
		OrganizationID:        req.GetOrganizationId(),
		EmailAddress:          req.GetEmailAddress(),
		Name:                  req.GetName(),
		TrustedMetadata:       fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata:     fromStruct(req.GetUntrustedMetadata()),
		CreateMemberAsPending: req.GetCreateMemberAsPending(),
		IsBreakglass:          req.GetIsBreakglass(),
		MFAPhoneNumber:        req.GetMfaPhoneNumber(),
		MFAEnrolled:           req.GetMfaEnrolled(),
		Roles:                 req.GetRoles(),
		ExternalID:            req.GetExternalId(),
		ActingMember:          access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceCreateResponse{MemberId: id, Member: m, Organization: o}, nil
}

// Get returns a member by ID (or external ID) or by email address.
func (s *Members) Get(ctx context.Context, req *b2bv1.MembersServiceGetRequest) (*b2bv1.MembersServiceGetResponse, error) {
	res, err := s.stytch.MemberGet(ctx, stytchclient.MemberGetParams{
		OrganizationID: req.GetOrganizationId(),
		MemberID:       req.GetMemberId(),
		EmailAddress:   req.GetEmailAddress(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceGetResponse{MemberId: id, Member: m, Organization: o}, nil
}

// Update changes the fields that are set. Roles set to an empty list removes every explicit role.
func (s *Members) Update(ctx context.Context, req *b2bv1.MembersServiceUpdateRequest) (*b2bv1.MembersServiceUpdateResponse, error) {
	p := stytchclient.MemberUpdateParams{
		OrganizationID:    req.GetOrganizationId(),
		MemberID:          req.GetMemberId(),
		Name:              req.Name,
		TrustedMetadata:   fromStruct(req.GetTrustedMetadata()),
		UntrustedMetadata: fromStruct(req.GetUntrustedMetadata()),
		IsBreakglass:      req.IsBreakglass,
		MFAPhoneNumber:    req.MfaPhoneNumber,
		MFAEnrolled:       req.MfaEnrolled,
		EmailAddress:      req.EmailAddress,
		ExternalID:        req.ExternalId,
		ActingMember:      access.From(ctx).Acting(),
	}
	if r := req.GetRoles(); r != nil {
		// Non-nil even when empty: "remove every explicit role".
		p.Roles = append([]string{}, r.GetRoleIds()...)
	}
	if req.GetPreserveExistingSessions() {
		p.PreserveExistingSessions = new(true)
	}
	if m := mfaMethods.name(req.GetDefaultMfaMethod()); m != "" {
		p.DefaultMFAMethod = &m
	}
	if req.GetUnlinkEmail() {
		p.UnlinkEmail = new(true)
	}
	res, err := s.stytch.MemberUpdate(ctx, p)
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceUpdateResponse{MemberId: id, Member: m, Organization: o}, nil
}

// Delete deletes a member. Stytch revokes the member's sessions; authsvc remembers them as revoked
// too, so their JWTs stop verifying locally at once.
func (s *Members) Delete(ctx context.Context, req *b2bv1.MembersServiceDeleteRequest) (*b2bv1.MembersServiceDeleteResponse, error) {
	res, err := s.stytch.MemberDelete(ctx, req.GetOrganizationId(), req.GetMemberId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	// Stytch revoked the member's sessions; their JWTs would verify locally for up to 5 more
	// minutes unless remembered.
	s.revoked.member(ctx, req.GetMemberId())
	return &b2bv1.MembersServiceDeleteResponse{MemberId: res.MemberID}, nil
}

// Search finds members, a page at a time.
func (s *Members) Search(ctx context.Context, req *b2bv1.MembersServiceSearchRequest) (*b2bv1.MembersServiceSearchResponse, error) {
	res, err := s.stytch.MemberSearch(ctx, stytchclient.MemberSearchParams{
		OrganizationIDs: req.GetOrganizationIds(),
		Cursor:          req.GetCursor(),
		Limit:           req.GetLimit(),
		Query:           memberQuery(req.GetQuery()),
		ActingMember:    access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.MembersServiceSearchResponse{
		Members:       make([]*b2bv1.Member, 0, len(res.Members)),
		Organizations: make(map[string]*b2bv1.Organization, len(res.Organizations)),
		NextCursor:    res.ResultsMetadata.NextCursor,
		Total:         clampInt32(res.ResultsMetadata.Total),
	}
	for i := range res.Members {
		out.Members = append(out.Members, toMember(&res.Members[i]))
	}
	for id, o := range res.Organizations {
		out.Organizations[id] = toOrganization(&o)
	}
	return out, nil
}

func clampInt32(n int) int32 {
	switch {
	case n > 1<<31-1:
		return 1<<31 - 1
	case n < -1<<31:
		return -1 << 31
	}
	return int32(n)
}

// memberQuery turns the typed filters into Stytch's {filter_name, filter_value} operands.
func memberQuery(q *b2bv1.MemberSearchQuery) *stytchclient.SearchQuery {
	if q == nil {
		return nil
	}
	out := &stytchclient.SearchQuery{Operator: "AND", Operands: make([]map[string]any, 0, len(q.GetOperands()))}
	op := func(name string, value any) {
		out.Operands = append(out.Operands, map[string]any{"filter_name": name, "filter_value": value})
	}
	for _, o := range q.GetOperands() {
		switch f := o.GetFilter().(type) {
		case *b2bv1.MemberSearchOperand_MemberIds:
			op("member_ids", f.MemberIds.GetValues())
		case *b2bv1.MemberSearchOperand_MemberEmails:
			op("member_emails", f.MemberEmails.GetValues())
		case *b2bv1.MemberSearchOperand_MemberEmailFuzzy:
			op("member_email_fuzzy", f.MemberEmailFuzzy)
		case *b2bv1.MemberSearchOperand_MemberRoles:
			op("member_roles", f.MemberRoles.GetValues())
		case *b2bv1.MemberSearchOperand_Statuses:
			names := make([]string, 0, len(f.Statuses.GetValues()))
			for _, st := range f.Statuses.GetValues() {
				names = append(names, memberStatuses.name(st))
			}
			op("statuses", names)
		case *b2bv1.MemberSearchOperand_MemberIsBreakglass:
			op("member_is_breakglass", f.MemberIsBreakglass)
		case *b2bv1.MemberSearchOperand_MemberMfaPhoneNumbers:
			op("member_mfa_phone_numbers", f.MemberMfaPhoneNumbers.GetValues())
		case *b2bv1.MemberSearchOperand_MemberMfaPhoneNumberFuzzy:
			op("member_mfa_phone_number_fuzzy", f.MemberMfaPhoneNumberFuzzy)
		case *b2bv1.MemberSearchOperand_MemberPasswordExists:
			op("member_password_exists", f.MemberPasswordExists)
		case *b2bv1.MemberSearchOperand_MemberExternalIds:
			op("member_external_ids", f.MemberExternalIds.GetValues())
		}
	}
	return out
}

// Reactivate brings a deleted member back.
func (s *Members) Reactivate(ctx context.Context, req *b2bv1.MembersServiceReactivateRequest) (*b2bv1.MembersServiceReactivateResponse, error) {
	res, err := s.stytch.MemberReactivate(ctx, req.GetOrganizationId(), req.GetMemberId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceReactivateResponse{MemberId: id, Member: m, Organization: o}, nil
}

// DeleteMfaPhoneNumber removes a member's MFA phone number.
func (s *Members) DeleteMfaPhoneNumber(ctx context.Context, req *b2bv1.MembersServiceDeleteMfaPhoneNumberRequest) (*b2bv1.MembersServiceDeleteMfaPhoneNumberResponse, error) {
	res, err := s.stytch.MemberDeleteMFAPhoneNumber(ctx, req.GetOrganizationId(), req.GetMemberId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceDeleteMfaPhoneNumberResponse{MemberId: id, Member: m, Organization: o}, nil
}

// DeletePassword removes a member's password.
func (s *Members) DeletePassword(ctx context.Context, req *b2bv1.MembersServiceDeletePasswordRequest) (*b2bv1.MembersServiceDeletePasswordResponse, error) {
	res, err := s.stytch.MemberDeletePassword(ctx, req.GetOrganizationId(), req.GetMemberPasswordId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceDeletePasswordResponse{MemberId: id, Member: m, Organization: o}, nil
}

// DangerouslyGet returns a member by ID across organizations.
func (s *Members) DangerouslyGet(ctx context.Context, req *b2bv1.MembersServiceDangerouslyGetRequest) (*b2bv1.MembersServiceDangerouslyGetResponse, error) {
	res, err := s.stytch.MemberDangerouslyGet(ctx, req.GetMemberId(), req.GetIncludeDeleted())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceDangerouslyGetResponse{MemberId: id, Member: m, Organization: o}, nil
}

// StartEmailUpdate emails a link (or code) to the member's new address; the address changes when
// the member authenticates with it.
func (s *Members) StartEmailUpdate(ctx context.Context, req *b2bv1.MembersServiceStartEmailUpdateRequest) (*b2bv1.MembersServiceStartEmailUpdateResponse, error) {
	res, err := s.stytch.MemberStartEmailUpdate(ctx, stytchclient.MemberStartEmailUpdateParams{
		OrganizationID:   req.GetOrganizationId(),
		MemberID:         req.GetMemberId(),
		EmailAddress:     req.GetEmailAddress(),
		LoginRedirectURL: req.GetLoginRedirectUrl(),
		Locale:           locales.name(req.GetLocale()),
		LoginTemplateID:  req.GetLoginTemplateId(),
		DeliveryMethod:   emailUpdateDelivery.name(req.GetDeliveryMethod()),
		ActingMember:     access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceStartEmailUpdateResponse{MemberId: id, Member: m, Organization: o}, nil
}

// DeleteTotp deletes the member's TOTP registration.
func (s *Members) DeleteTotp(ctx context.Context, req *b2bv1.MembersServiceDeleteTotpRequest) (*b2bv1.MembersServiceDeleteTotpResponse, error) {
	res, err := s.stytch.MemberDeleteTOTP(ctx, req.GetOrganizationId(), req.GetMemberId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceDeleteTotpResponse{MemberId: id, Member: m, Organization: o}, nil
}

// DeleteExternalId removes the member's external ID.
func (s *Members) DeleteExternalId(ctx context.Context, req *b2bv1.MembersServiceDeleteExternalIdRequest) (*b2bv1.MembersServiceDeleteExternalIdResponse, error) { //nolint:staticcheck // ST1003: the generated interface names it so
	res, err := s.stytch.MemberDeleteExternalID(ctx, req.GetOrganizationId(), req.GetMemberId(), access.From(ctx).Acting())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(res)
	return &b2bv1.MembersServiceDeleteExternalIdResponse{MemberId: id, Member: m, Organization: o}, nil
}

// UnlinkRetiredEmail unlinks one of the member's retired email addresses.
func (s *Members) UnlinkRetiredEmail(ctx context.Context, req *b2bv1.MembersServiceUnlinkRetiredEmailRequest) (*b2bv1.MembersServiceUnlinkRetiredEmailResponse, error) {
	res, err := s.stytch.MemberUnlinkRetiredEmail(ctx, stytchclient.MemberUnlinkRetiredEmailParams{
		OrganizationID: req.GetOrganizationId(),
		MemberID:       req.GetMemberId(),
		EmailID:        req.GetEmailId(),
		EmailAddress:   req.GetEmailAddress(),
		ActingMember:   access.From(ctx).Acting(),
	})
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	id, m, o := memberOrgResult(&res.MemberOrgResult)
	orgID := res.OrganizationID
	if orgID == "" {
		orgID = o.GetOrganizationId()
	}
	return &b2bv1.MembersServiceUnlinkRetiredEmailResponse{MemberId: id, OrganizationId: orgID, Member: m, Organization: o}, nil
}

// OidcProviders returns the tokens Stytch saved from the member's OIDC logins.
func (s *Members) OidcProviders(ctx context.Context, req *b2bv1.MembersServiceOidcProvidersRequest) (*b2bv1.MembersServiceOidcProvidersResponse, error) {
	res, err := s.stytch.MemberOIDCProviders(ctx, req.GetOrganizationId(), req.GetMemberId(), req.GetIncludeRefreshToken())
	if err != nil {
		return nil, s.toStatus(ctx, err, nil)
	}
	out := &b2bv1.MembersServiceOidcProvidersResponse{Registrations: make([]*b2bv1.OidcProviderRegistration, 0, len(res.Registrations))}
	for _, r := range res.Registrations {
		out.Registrations = append(out.Registrations, &b2bv1.OidcProviderRegistration{
			ProviderSubject:      r.ProviderSubject,
			IdToken:              r.IDToken,
			AccessToken:          r.AccessToken,
			AccessTokenExpiresIn: clampInt32(r.AccessTokenExpiresIn),
			Scopes:               r.Scopes,
			ConnectionId:         r.ConnectionID,
			RefreshToken:         r.RefreshToken,
		})
	}
	return out, nil
}
