package service

import (
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// Conversions between the Stytch client's types and the protobuf API. They copy; no conversion
// fails: a value authsvc does not know (a new enum string) becomes the UNSPECIFIED value.

func ts(t stytchclient.Timestamp) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t.Time)
}

// toStruct converts JSON-decoded metadata. Stytch's metadata is JSON, so every value has a
// structpb form; should one not, the field is left unset rather than failing the whole answer.
func toStruct(m stytchclient.Metadata) *structpb.Struct {
	if m == nil {
		return nil
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil
	}
	return s
}

// fromStruct converts request metadata: nil stays nil (field not sent), an empty Struct is sent as
// {} (which clears, where Stytch supports it).
func fromStruct(s *structpb.Struct) stytchclient.Metadata {
	if s == nil {
		return nil
	}
	return s.AsMap()
}

func toMember(m *stytchclient.Member) *b2bv1.Member {
	if m == nil || m.MemberID == "" {
		return nil
	}
	out := &b2bv1.Member{
		OrganizationId:         m.OrganizationID,
		MemberId:               m.MemberID,
		EmailAddress:           m.EmailAddress,
		EmailAddressVerified:   m.EmailAddressVerified,
		Status:                 memberStatuses.value(m.Status),
		Name:                   m.Name,
		IsBreakglass:           m.IsBreakglass,
		MemberPasswordId:       m.MemberPasswordID,
		MfaPhoneNumber:         m.MFAPhoneNumber,
		MfaPhoneNumberVerified: m.MFAPhoneNumberVerified,
		MfaEnrolled:            m.MFAEnrolled,
		DefaultMfaMethod:       mfaMethods.value(m.DefaultMFAMethod),
		TotpRegistrationId:     m.TOTPRegistrationID,
		IsAdmin:                m.IsAdmin,
		TrustedMetadata:        toStruct(m.TrustedMetadata),
		UntrustedMetadata:      toStruct(m.UntrustedMetadata),
		CreatedAt:              ts(m.CreatedAt),
		UpdatedAt:              ts(m.UpdatedAt),
		ExternalId:             m.ExternalID,
		IsLocked:               m.IsLocked,
		LockCreatedAt:          ts(m.LockCreatedAt),
		LockExpiresAt:          ts(m.LockExpiresAt),
	}
	for _, r := range m.Roles {
		role := &b2bv1.MemberRole{RoleId: r.RoleID}
		for _, s := range r.Sources {
			role.Sources = append(role.Sources, &b2bv1.MemberRoleSource{Type: s.Type, Details: toStruct(s.Details)})
		}
		out.Roles = append(out.Roles, role)
	}
	for _, e := range m.RetiredEmailAddresses {
		out.RetiredEmailAddresses = append(out.RetiredEmailAddresses, &b2bv1.RetiredEmail{EmailId: e.EmailID, EmailAddress: e.EmailAddress})
	}
	for _, r := range m.SSORegistrations {
		out.SsoRegistrations = append(out.SsoRegistrations, &b2bv1.SsoRegistration{
			ConnectionId: r.ConnectionID, ExternalId: r.ExternalID, RegistrationId: r.RegistrationID, SsoAttributes: toStruct(r.SSOAttributes),
		})
	}
	for _, r := range m.OAuthRegistrations {
		out.OauthRegistrations = append(out.OauthRegistrations, &b2bv1.OAuthRegistration{
			ProviderType: r.ProviderType, ProviderSubject: r.ProviderSubject, MemberOauthRegistrationId: r.MemberOAuthRegistrationID,
			ProfilePictureUrl: r.ProfilePictureURL, Locale: r.Locale,
		})
	}
	if r := m.SCIMRegistration; r != nil {
		out.ScimRegistration = &b2bv1.ScimRegistration{ConnectionId: r.ConnectionID, RegistrationId: r.RegistrationID, ExternalId: r.ExternalID}
	}
	return out
}

func toOrganization(o *stytchclient.Organization) *b2bv1.Organization {
	if o == nil || o.OrganizationID == "" {
		return nil
	}
	out := &b2bv1.Organization{
		OrganizationId:                       o.OrganizationID,
		OrganizationName:                     o.OrganizationName,
		OrganizationSlug:                     o.OrganizationSlug,
		OrganizationLogoUrl:                  o.OrganizationLogoURL,
		OrganizationExternalId:               o.OrganizationExternalID,
		TrustedMetadata:                      toStruct(o.TrustedMetadata),
		CreatedAt:                            ts(o.CreatedAt),
		UpdatedAt:                            ts(o.UpdatedAt),
		EmailAllowedDomains:                  o.EmailAllowedDomains,
		EmailJitProvisioning:                 orgSettings.value(o.EmailJITProvisioning),
		EmailInvites:                         orgSettings.value(o.EmailInvites),
		AuthMethods:                          orgSettings.value(o.AuthMethods),
		AllowedAuthMethods:                   o.AllowedAuthMethods,
		MfaPolicy:                            mfaPolicies.value(o.MFAPolicy),
		MfaMethods:                           orgSettings.value(o.MFAMethods),
		SsoJitProvisioning:                   orgSettings.value(o.SSOJITProvisioning),
		SsoJitProvisioningAllowedConnections: o.SSOJITProvisioningAllowedConnections,
		SsoDefaultConnectionId:               o.SSODefaultConnectionID,
		OauthTenantJitProvisioning:           orgSettings.value(o.OAuthTenantJITProvisioning),
		AllowedOauthTenants:                  toStruct(o.AllowedOAuthTenants),
		ClaimedEmailDomains:                  o.ClaimedEmailDomains,
		FirstPartyConnectedAppsAllowedType:   orgSettings.value(o.FirstPartyConnectedAppsAllowedType),
		AllowedFirstPartyConnectedApps:       o.AllowedFirstPartyConnectedApps,
		ThirdPartyConnectedAppsAllowedType:   orgSettings.value(o.ThirdPartyConnectedAppsAllowedType),
		AllowedThirdPartyConnectedApps:       o.AllowedThirdPartyConnectedApps,
	}
	for _, m := range o.AllowedMFAMethods {
		if v, ok := mfaMethods.lookup(m); ok {
			out.AllowedMfaMethods = append(out.AllowedMfaMethods, v)
		}
	}
	for _, c := range o.SSOActiveConnections {
		out.SsoActiveConnections = append(out.SsoActiveConnections, &b2bv1.ActiveSsoConnection{
			ConnectionId: c.ConnectionID, DisplayName: c.DisplayName, IdentityProvider: c.IdentityProvider,
		})
	}
	if c := o.SCIMActiveConnection; c != nil {
		out.ScimActiveConnection = &b2bv1.ActiveScimConnection{
			ConnectionId: c.ConnectionID, DisplayName: c.DisplayName, BearerTokenLastFour: c.BearerTokenLastFour,
			BearerTokenExpiresAt: ts(c.BearerTokenExpiresAt),
		}
	}
	for _, a := range o.RBACEmailImplicitRoleAssignments {
		out.RbacEmailImplicitRoleAssignments = append(out.RbacEmailImplicitRoleAssignments, &b2bv1.EmailImplicitRoleAssignment{Domain: a.Domain, RoleId: a.RoleID})
	}
	for _, r := range o.CustomRoles {
		cr := &b2bv1.CustomRole{RoleId: r.RoleID, Description: r.Description}
		for _, p := range r.Permissions {
			cr.Permissions = append(cr.Permissions, &b2bv1.CustomRolePermission{ResourceId: p.ResourceID, Actions: p.Actions})
		}
		out.CustomRoles = append(out.CustomRoles, cr)
	}
	return out
}

func toMemberSession(s *stytchclient.MemberSessionInfo) *b2bv1.MemberSession {
	if s == nil || s.MemberSessionID == "" {
		return nil
	}
	out := &b2bv1.MemberSession{
		MemberSessionId:  s.MemberSessionID,
		MemberId:         s.MemberID,
		OrganizationId:   s.OrganizationID,
		OrganizationSlug: s.OrganizationSlug,
		StartedAt:        ts(s.StartedAt),
		LastAccessedAt:   ts(s.LastAccessedAt),
		ExpiresAt:        ts(s.ExpiresAt),
		Roles:            s.Roles,
		CustomClaims:     toStruct(s.CustomClaims),
	}
	for i := range s.AuthenticationFactors {
		out.AuthenticationFactors = append(out.AuthenticationFactors, toFactor(&s.AuthenticationFactors[i]))
	}
	return out
}

func toFactor(f *stytchclient.AuthenticationFactor) *b2bv1.AuthenticationFactor {
	out := &b2bv1.AuthenticationFactor{
		Type:                factorTypes.value(f.Type),
		DeliveryMethod:      f.DeliveryMethod,
		LastAuthenticatedAt: ts(f.LastAuthenticatedAt),
		CreatedAt:           ts(f.CreatedAt),
		UpdatedAt:           ts(f.UpdatedAt),
	}
	oauth := func(o *stytchclient.OAuthFactor) *b2bv1.AuthenticationFactor_OauthFactor {
		return &b2bv1.AuthenticationFactor_OauthFactor{OauthFactor: &b2bv1.OAuthFactor{Id: o.ID, ProviderSubject: o.ProviderSubject, EmailId: o.EmailID}}
	}
	switch {
	case f.EmailFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_EmailFactor{EmailFactor: &b2bv1.EmailFactor{EmailId: f.EmailFactor.EmailID, EmailAddress: f.EmailFactor.EmailAddress}}
	case f.PhoneNumberFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_PhoneNumberFactor{PhoneNumberFactor: &b2bv1.PhoneNumberFactor{PhoneId: f.PhoneNumberFactor.PhoneID, PhoneNumber: f.PhoneNumberFactor.PhoneNumber}}
	case f.AuthenticatorAppFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_AuthenticatorAppFactor{AuthenticatorAppFactor: &b2bv1.AuthenticatorAppFactor{TotpId: f.AuthenticatorAppFactor.TOTPID}}
	case f.RecoveryCodeFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_RecoveryCodeFactor{RecoveryCodeFactor: &b2bv1.RecoveryCodeFactor{TotpRecoveryCodeId: f.RecoveryCodeFactor.TOTPRecoveryCodeID}}
	case f.SAMLSSOFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_SamlSsoFactor{SamlSsoFactor: &b2bv1.SsoFactor{Id: f.SAMLSSOFactor.ID, ProviderId: f.SAMLSSOFactor.ProviderID, ExternalId: f.SAMLSSOFactor.ExternalID}}
	case f.OIDCSSOFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_OidcSsoFactor{OidcSsoFactor: &b2bv1.SsoFactor{Id: f.OIDCSSOFactor.ID, ProviderId: f.OIDCSSOFactor.ProviderID, ExternalId: f.OIDCSSOFactor.ExternalID}}
	case f.GoogleOAuthFactor != nil:
		out.Details = oauth(f.GoogleOAuthFactor)
	case f.MicrosoftOAuthFactor != nil:
		out.Details = oauth(f.MicrosoftOAuthFactor)
	case f.GithubOAuthFactor != nil:
		out.Details = oauth(f.GithubOAuthFactor)
	case f.SlackOAuthFactor != nil:
		out.Details = oauth(f.SlackOAuthFactor)
	case f.HubspotOAuthFactor != nil:
		out.Details = oauth(f.HubspotOAuthFactor)
	case f.ImpersonatedFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_ImpersonatedFactor{ImpersonatedFactor: &b2bv1.ImpersonatedFactor{
			ImpersonatorId: f.ImpersonatedFactor.ImpersonatorID, ImpersonatorEmailAddress: f.ImpersonatedFactor.ImpersonatorEmailAddress,
		}}
	case f.TrustedAuthTokenFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_TrustedAuthTokenFactor{TrustedAuthTokenFactor: &b2bv1.TrustedAuthTokenFactor{TokenId: f.TrustedAuthTokenFactor.TokenID}}
	case f.OAuthAccessTokenExchangeFactor != nil:
		out.Details = &b2bv1.AuthenticationFactor_OauthAccessTokenExchangeFactor{OauthAccessTokenExchangeFactor: &b2bv1.OAuthAccessTokenExchangeFactor{
			ClientId: f.OAuthAccessTokenExchangeFactor.ClientID,
		}}
	}
	return out
}

func toMfaRequired(m *stytchclient.MFARequired) *b2bv1.MfaRequired {
	if m == nil {
		return nil
	}
	out := &b2bv1.MfaRequired{SecondaryAuthInitiated: mfaMethods.value(m.SecondaryAuthInitiated)}
	if o := m.MemberOptions; o != nil {
		out.MemberOptions = &b2bv1.MfaMemberOptions{MfaPhoneNumber: o.MFAPhoneNumber, TotpRegistrationId: o.TOTPRegistrationID}
	}
	return out
}

func toPrimaryRequired(p *stytchclient.PrimaryRequired) *b2bv1.PrimaryRequired {
	if p == nil {
		return nil
	}
	return &b2bv1.PrimaryRequired{AllowedAuthMethods: p.AllowedAuthMethods}
}

func toDiscovered(list []stytchclient.DiscoveredOrganization) []*b2bv1.DiscoveredOrganization {
	out := make([]*b2bv1.DiscoveredOrganization, 0, len(list))
	for i := range list {
		d := &list[i]
		o := &b2bv1.DiscoveredOrganization{
			MemberAuthenticated: d.MemberAuthenticated,
			Organization:        toOrganization(d.Organization),
			PrimaryRequired:     toPrimaryRequired(d.PrimaryRequired),
			MfaRequired:         toMfaRequired(d.MFARequired),
		}
		if m := d.Membership; m != nil {
			o.Membership = &b2bv1.Membership{Type: membershipTypes.value(m.Type), Details: toStruct(m.Details), Member: toMember(m.Member)}
		}
		out = append(out, o)
	}
	return out
}
