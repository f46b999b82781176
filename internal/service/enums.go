package service

import (
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

// enumNames is a two-way table between a protobuf enum and the strings Stytch uses for its values.
// A string authsvc does not know reads as the zero value (UNSPECIFIED), so a new Stytch value never
// fails an answer; a value with no string (UNSPECIFIED) is sent as "", which leaves the field out of
// the request. Each table is built once, at package initialisation, and only read afterwards.
type enumNames[E comparable] struct {
	names  map[E]string
	values map[string]E
}

// newEnumNames builds the table from each value's Stytch string; the strings must differ (the
// tables' test checks it).
func newEnumNames[E comparable](names map[E]string) enumNames[E] {
	t := enumNames[E]{names: names, values: make(map[string]E, len(names))}
	for v, n := range names {
		t.values[n] = v
	}
	return t
}

// name returns v's Stytch string, or "" when it has none.
func (t enumNames[E]) name(v E) string { return t.names[v] }

// value returns the enum value of a Stytch string, or the zero value when authsvc does not know it.
func (t enumNames[E]) value(name string) E { return t.values[name] }

// lookup returns the enum value of a Stytch string and whether authsvc knows it.
func (t enumNames[E]) lookup(name string) (E, bool) {
	v, ok := t.values[name]
	return v, ok
}

var (
	locales = newEnumNames(map[b2bv1.Locale]string{
		b2bv1.Locale_LOCALE_EN:      "en",
		b2bv1.Locale_LOCALE_ES:      "es",
		b2bv1.Locale_LOCALE_PT_BR:   "pt-br",
		b2bv1.Locale_LOCALE_FR:      "fr",
		b2bv1.Locale_LOCALE_IT:      "it",
		b2bv1.Locale_LOCALE_DE_DE:   "de-DE",
		b2bv1.Locale_LOCALE_ZH_HANS: "zh-Hans",
		b2bv1.Locale_LOCALE_CA_ES:   "ca-ES",
	})

	memberStatuses = newEnumNames(map[b2bv1.MemberStatus]string{
		b2bv1.MemberStatus_MEMBER_STATUS_ACTIVE:  "active",
		b2bv1.MemberStatus_MEMBER_STATUS_INVITED: "invited",
		b2bv1.MemberStatus_MEMBER_STATUS_PENDING: "pending",
		b2bv1.MemberStatus_MEMBER_STATUS_DELETED: "deleted",
	})

	// emailUpdateDelivery: MembersService.StartEmailUpdate's delivery methods.
	emailUpdateDelivery = newEnumNames(map[b2bv1.EmailUpdateDeliveryMethod]string{
		b2bv1.EmailUpdateDeliveryMethod_EMAIL_UPDATE_DELIVERY_METHOD_EMAIL_MAGIC_LINK: "EMAIL_MAGIC_LINK",
		b2bv1.EmailUpdateDeliveryMethod_EMAIL_UPDATE_DELIVERY_METHOD_EMAIL_OTP:        "EMAIL_OTP",
	})
	mfaMethods = newEnumNames(map[b2bv1.MfaMethod]string{
		b2bv1.MfaMethod_MFA_METHOD_SMS_OTP: "sms_otp",
		b2bv1.MfaMethod_MFA_METHOD_TOTP:    "totp",
	})

	mfaEnrollments = newEnumNames(map[b2bv1.MfaEnrollment]string{
		b2bv1.MfaEnrollment_MFA_ENROLLMENT_ENROLL:   "enroll",
		b2bv1.MfaEnrollment_MFA_ENROLLMENT_UNENROLL: "unenroll",
	})

	orgSettings = newEnumNames(map[b2bv1.OrganizationSetting]string{
		b2bv1.OrganizationSetting_ORGANIZATION_SETTING_ALL_ALLOWED: "ALL_ALLOWED",
		b2bv1.OrganizationSetting_ORGANIZATION_SETTING_RESTRICTED:  "RESTRICTED",
		b2bv1.OrganizationSetting_ORGANIZATION_SETTING_NOT_ALLOWED: "NOT_ALLOWED",
	})

	scimIdentityProviders = newEnumNames(map[b2bv1.SCIMIdentityProvider]string{
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_GENERIC:         "generic",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_OKTA:            "okta",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_MICROSOFT_ENTRA: "microsoft-entra",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_CYBERARK:        "cyberark",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_JUMPCLOUD:       "jumpcloud",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_ONELOGIN:        "onelogin",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_PINGFEDERATE:    "pingfederate",
		b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_RIPPLING:        "rippling",
	})

	mfaPolicies = newEnumNames(map[b2bv1.MfaPolicy]string{
		b2bv1.MfaPolicy_MFA_POLICY_REQUIRED_FOR_ALL: "REQUIRED_FOR_ALL",
		b2bv1.MfaPolicy_MFA_POLICY_OPTIONAL:         "OPTIONAL",
	})

	factorTypes = newEnumNames(map[b2bv1.AuthenticationFactorType]string{
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK:          "magic_link",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OTP:                 "otp",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP:           "email_otp",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH:               "oauth",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_SSO:                 "sso",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_PASSWORD:            "password",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TOTP:                "totp",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_RECOVERY_CODES:      "recovery_codes",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_WEBAUTHN:            "webauthn",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPORTED:            "imported",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPERSONATED:        "impersonated",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TRUSTED_AUTH_TOKEN:  "trusted_auth_token",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_CRYPTO:              "crypto",
		b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_SIGNATURE_CHALLENGE: "signature_challenge",
	})

	membershipTypes = newEnumNames(map[b2bv1.MembershipType]string{
		b2bv1.MembershipType_MEMBERSHIP_TYPE_ACTIVE_MEMBER:                    "active_member",
		b2bv1.MembershipType_MEMBERSHIP_TYPE_PENDING_MEMBER:                   "pending_member",
		b2bv1.MembershipType_MEMBERSHIP_TYPE_INVITED_MEMBER:                   "invited_member",
		b2bv1.MembershipType_MEMBERSHIP_TYPE_ELIGIBLE_TO_JOIN_BY_EMAIL_DOMAIN: "eligible_to_join_by_email_domain",
		b2bv1.MembershipType_MEMBERSHIP_TYPE_ELIGIBLE_TO_JOIN_BY_OAUTH_TENANT: "eligible_to_join_by_oauth_tenant",
	})

	clientStatuses = newEnumNames(map[m2mv1.ClientStatus]string{
		m2mv1.ClientStatus_CLIENT_STATUS_ACTIVE:   "active",
		m2mv1.ClientStatus_CLIENT_STATUS_INACTIVE: "inactive",
	})

	// The consumer API's tables (authsvc.consumer.v1).

	consumerLocales = newEnumNames(map[consumerv1.Locale]string{
		consumerv1.Locale_LOCALE_EN:    "en",
		consumerv1.Locale_LOCALE_ES:    "es",
		consumerv1.Locale_LOCALE_PT_BR: "pt-br",
		consumerv1.Locale_LOCALE_FR:    "fr",
	})

	userStatuses = newEnumNames(map[consumerv1.UserStatus]string{
		consumerv1.UserStatus_USER_STATUS_ACTIVE:  "active",
		consumerv1.UserStatus_USER_STATUS_PENDING: "pending",
	})

	userFactorTypes = newEnumNames(map[consumerv1.AuthenticationFactorType]string{
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_MAGIC_LINK:            "magic_link",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OTP:                   "otp",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP:             "email_otp",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_OAUTH:                 "oauth",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_PASSWORD:              "password",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TOTP:                  "totp",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_RECOVERY_CODES:        "recovery_codes",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_WEBAUTHN:              "webauthn",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPORTED:              "imported",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_IMPERSONATED:          "impersonated",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TRUSTED_AUTH_TOKEN:    "trusted_auth_token",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_CRYPTO:                "crypto",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_SIGNATURE_CHALLENGE:   "signature_challenge",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_BIOMETRIC:             "biometric",
		consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_EMBEDDABLE_MAGIC_LINK: "embeddable_magic_link",
	})
)
