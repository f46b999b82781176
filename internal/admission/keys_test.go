package admission

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

func TestKeyExtract(t *testing.T) {
	ip4 := netip.MustParseAddr("203.0.113.9")
	ip6 := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	sms := &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: "org", MemberId: "mem", MfaPhoneNumber: "+447700900123"}
	smsNoPhone := &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: "org", MemberId: "mem"}
	email := &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: "  Dana.X+promo@Example.COM "}
	orgMember := ByField("organization_id").And(ByField("member_id"))
	for name, tc := range map[string]struct {
		key    Key
		msg    proto.Message
		ip     netip.Addr
		caller string
		want   string
		ok     bool
	}{
		"IPv4":                   {ByIP(), email, ip4, "", "203.0.113.9", true},
		"IPv6 by /64":            {ByIP(), email, ip6, "", "2001:db8:1:2::/64", true},
		"no IP":                  {ByIP(), email, netip.Addr{}, "", "", false},
		"caller":                 {ByCaller(), email, ip4, "service:c1", "service:c1", true},
		"no caller skips":        {ByCaller(), email, ip4, "", "", false},
		"email normalized":       {ByEmail("email_address"), email, ip4, "", "dana.x@example.com", true},
		"phone digits":           {ByPhone("mfa_phone_number"), sms, ip4, "", "447700900123", true},
		"phone prefix":           {ByPhonePrefix("mfa_phone_number"), sms, ip4, "", "447700", true},
		"phone prefix, no phone": {ByPhonePrefix("mfa_phone_number"), smsNoPhone, ip4, "", "", false},
		"phone or member":        {ByPhone("mfa_phone_number").Or(orgMember), smsNoPhone, ip4, "", "org\x00mem", true},
		"field and IP":           {ByField("organization_id").And(ByIP()), sms, ip4, "", "org\x00203.0.113.9", true},
		"pair with a part empty": {ByField("organization_id").And(ByIP()), sms, netip.Addr{}, "", "", false},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := tc.key.extract(tc.msg.ProtoReflect(), tc.ip, tc.caller, 6)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestStoreKeyHidesTheValue(t *testing.T) {
	k := storeKey(LimitSendEmail, "dana@example.com")
	assert.NotContains(t, k, "dana")
	assert.Equal(t, k, storeKey(LimitSendEmail, "dana@example.com"))
	assert.NotEqual(t, k, storeKey(LimitSendEmail, "dana@example.org"))
	assert.NotEqual(t, k, storeKey(LimitSendPhone, "dana@example.com"), "limits never share a key")
}
