package service

import (
	"testing"

	"github.com/stretchr/testify/assert"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

// Every provider of the proto enum has Stytch's name, and the names are the providers the
// emulator serves (taken, like the enum, from the delivery methods Stytch's session factors name).
func TestIdentityProviderNames(t *testing.T) {
	checkEnumNames(t, "identityProviders", identityProviders)
	values := consumerv1.IdentityProvider(0).Descriptor().Values()
	var names []string
	for i := range values.Len() {
		v := consumerv1.IdentityProvider(values.Get(i).Number())
		if v == consumerv1.IdentityProvider_IDENTITY_PROVIDER_UNSPECIFIED {
			continue
		}
		n := identityProviders.name(v)
		assert.NotEmpty(t, n, "%s has no Stytch name", values.Get(i).Name())
		names = append(names, n)
	}
	assert.ElementsMatch(t, stytchemu.OAuthProviders(), names)
}
