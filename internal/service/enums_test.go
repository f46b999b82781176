package service

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkEnumNames: every value of the table has a string of its own and reads back from it; the
// zero value and an unknown string stay unnamed and unknown.
func checkEnumNames[E comparable](t *testing.T, name string, tbl enumNames[E]) {
	t.Run(name, func(t *testing.T) {
		assert.NotEmpty(t, tbl.names)
		assert.Len(t, tbl.values, len(tbl.names), "two values share a Stytch string")
		var zero E
		for v, n := range tbl.names {
			assert.NotEqual(t, zero, v, "UNSPECIFIED has no Stytch string")
			assert.NotEmpty(t, n)
			assert.Equal(t, n, tbl.name(v))
			assert.Equal(t, v, tbl.value(n))
			got, ok := tbl.lookup(n)
			assert.True(t, ok)
			assert.Equal(t, v, got)
		}
		assert.Empty(t, tbl.name(zero))
		assert.Equal(t, zero, tbl.value("a-value-stytch-added-later"))
		_, ok := tbl.lookup("a-value-stytch-added-later")
		assert.False(t, ok)
	})
}

func TestEnumNames(t *testing.T) {
	checkEnumNames(t, "locales", locales)
	checkEnumNames(t, "memberStatuses", memberStatuses)
	checkEnumNames(t, "emailUpdateDelivery", emailUpdateDelivery)
	checkEnumNames(t, "mfaMethods", mfaMethods)
	checkEnumNames(t, "mfaEnrollments", mfaEnrollments)
	checkEnumNames(t, "orgSettings", orgSettings)
	checkEnumNames(t, "mfaPolicies", mfaPolicies)
	checkEnumNames(t, "scimIdentityProviders", scimIdentityProviders)
	checkEnumNames(t, "factorTypes", factorTypes)
	checkEnumNames(t, "membershipTypes", membershipTypes)
	checkEnumNames(t, "clientStatuses", clientStatuses)
	checkEnumNames(t, "consumerLocales", consumerLocales)
	checkEnumNames(t, "userStatuses", userStatuses)
	checkEnumNames(t, "userFactorTypes", userFactorTypes)

	// A few pairs as Stytch spells them.
	assert.Equal(t, "pt-br", locales.name(b2bv1.Locale_LOCALE_PT_BR))
	assert.Equal(t, "microsoft-entra", scimIdentityProviders.name(b2bv1.SCIMIdentityProvider_SCIM_IDENTITY_PROVIDER_MICROSOFT_ENTRA))
	assert.Equal(t, b2bv1.OrganizationSetting_ORGANIZATION_SETTING_NOT_ALLOWED, orgSettings.value("NOT_ALLOWED"))
	assert.Equal(t, "inactive", clientStatuses.name(m2mv1.ClientStatus_CLIENT_STATUS_INACTIVE))
	assert.Equal(t, b2bv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP, factorTypes.value("email_otp"))
}

// client/authn turns a session's factor type back into Stytch's string from the enum value's name
// (it has no copy of these tables): AUTHENTICATION_FACTOR_TYPE_EMAIL_OTP is "email_otp". Every
// declared value must follow that rule and be in the table, in both packages.
func TestFactorTypeNamesFollowTheEnumNames(t *testing.T) {
	check := func(t *testing.T, values protoreflect.EnumValueDescriptors, name func(protoreflect.EnumNumber) string) {
		t.Helper()
		for i := range values.Len() {
			v := values.Get(i)
			if v.Number() == 0 {
				continue // UNSPECIFIED
			}
			want := strings.ToLower(strings.TrimPrefix(string(v.Name()), "AUTHENTICATION_FACTOR_TYPE_"))
			assert.Equal(t, want, name(v.Number()), "%s", v.Name())
		}
	}
	t.Run("b2b", func(t *testing.T) {
		check(t, b2bv1.AuthenticationFactorType(0).Descriptor().Values(), func(n protoreflect.EnumNumber) string {
			return factorTypes.name(b2bv1.AuthenticationFactorType(n))
		})
	})
	t.Run("consumer", func(t *testing.T) {
		check(t, consumerv1.AuthenticationFactorType(0).Descriptor().Values(), func(n protoreflect.EnumNumber) string {
			return userFactorTypes.name(consumerv1.AuthenticationFactorType(n))
		})
	})
}
