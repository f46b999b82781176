package admission

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

func TestKeyExtract(t *testing.T) {
	ip4 := netip.MustParseAddr("203.0.113.9")
	ip6 := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	sms := &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: "org", MemberId: "mem", MfaPhoneNumber: "+447700900123"}
	smsNoPhone := &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: "org", MemberId: "mem"}
	email := &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: "org", EmailAddress: "  Dana.X+promo@Example.COM "}
	orgMember := ByMember("organization_id", "member_id")
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
		"phone or member":        {ByPhone("mfa_phone_number").Or(orgMember), smsNoPhone, ip4, "", "?org\x00?mem", true},
		"field and IP":           {ByField("organization_id").And(ByIP()), sms, ip4, "", "org\x00203.0.113.9", true},
		"pair with a part empty": {ByField("organization_id").And(ByIP()), sms, netip.Addr{}, "", "", false},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := tc.key.extract(t.Context(), tc.msg.ProtoReflect(), &callInfo{ip: tc.ip, caller: tc.caller, prefixDigits: 6})
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

// Every spelling Stytch accepts for one target gives one key; with no Resolver, a slug or
// external ID keys by its fallback, which still limits (every letter case of it shares it).
func TestCanonicalKeys(t *testing.T) {
	const (
		org    = "organization-test-0a1b2c3d-0000-4000-8000-00000000abcd"
		member = "member-test-0a1b2c3d-0000-4000-8000-00000000ef01"
	)
	emailKey := ByOrganization("organization_id").And(ByEmail("email_address"))
	memberKey := ByMember("organization_id", "member_id")
	ci := &callInfo{ip: netip.MustParseAddr("203.0.113.9"), prefixDigits: 6}
	extract := func(k Key, m proto.Message) string {
		t.Helper()
		v, ok := k.extract(t.Context(), m.ProtoReflect(), ci)
		assert.True(t, ok)
		return v
	}
	email := func(org, addr string) string {
		return extract(emailKey, &b2bv1.OTPsServiceEmailAuthenticateRequest{OrganizationId: org, EmailAddress: addr, Code: "123456"})
	}
	sms := func(org, mem string) string {
		return extract(memberKey, &b2bv1.OTPsServiceSmsAuthenticateRequest{OrganizationId: org, MemberId: mem, Code: "123456"})
	}

	want := org + "\x00dana@example.com"
	for _, o := range []string{org, strings.ToUpper(org), "Organization-TEST-0A1B2C3D-0000-4000-8000-00000000AbCd"} {
		for _, e := range []string{"dana@example.com", "Dana@Example.COM", " dana+x@example.com"} {
			assert.Equal(t, want, email(o, e), "%s %s", o, e)
		}
	}
	assert.Equal(t, "?acme-corp\x00dana@example.com", email("ACME-Corp", "dana@example.com"), "an unresolved slug keys by its own namespace")
	assert.NotEqual(t, want, email("organization-test-not-a-uuid", "dana@example.com"), "only the ID shape is taken as an ID")

	for _, o := range []string{org, strings.ToUpper(org), "acme-corp", ""} {
		for _, m := range []string{member, strings.ToUpper(member), "Member-Test-0A1B2C3D-0000-4000-8000-00000000EF01"} {
			assert.Equal(t, member, sms(o, m), "a member ID is unique across organizations: %q %q", o, m)
		}
	}
	assert.Equal(t, org+"\x00?ext-7", sms(strings.ToUpper(org), "EXT-7"), "an unresolved member external ID keys within its organization")
	assert.Equal(t, "?acme\x00?ext-7", sms("acme", "ext-7"))
}

// A key that needs a lookup (an organization or member reference) comes after a per-IP limit in
// every rule that has one, so that calls an IP may not make never cause a lookup.
func TestLookupsComeAfterPerIPLimits(t *testing.T) {
	needsLookup := func(k *Key) bool {
		for k != nil {
			for _, p := range k.parts {
				if p.kind == partOrganization || p.kind == partMember {
					return true
				}
			}
			k = k.or
		}
		return false
	}
	isIP := func(k Key) bool { return len(k.parts) == 1 && k.parts[0].kind == partIP && k.or == nil }
	var lookups []string
	table, err := DefaultTable()
	require.NoError(t, err)
	for method, r := range table {
		ipSeen, ipLimits := 0, 0
		for _, a := range r.Limits {
			if isIP(a.Key) {
				ipLimits++
			}
		}
		for _, a := range r.Limits {
			if isIP(a.Key) {
				ipSeen++
			}
			if needsLookup(&a.Key) {
				lookups = append(lookups, strings.TrimPrefix(method, "/authsvc.b2b.v1.")+" "+a.Limit)
				assert.Equal(t, ipLimits, ipSeen, "%s: %s needs a lookup and must follow every per-IP limit", method, a.Limit)
			}
		}
	}
	slices.Sort(lookups)
	assert.Equal(t, []string{
		"OTPsService/EmailAuthenticate check_failures_target",
		"OTPsService/SmsAuthenticate check_failures_target",
		"OTPsService/SmsSend send_phone",
		"PasswordsService/Authenticate check_failures_target",
		"PasswordsService/EmailResetStart send_email",
		"PasswordsService/ExistingPasswordReset check_failures_target",
		"RecoveryCodesService/Recover check_failures_recovery",
		"TOTPsService/Authenticate check_failures_target",
	}, lookups, "the budgets keyed on organizations or members")
}
