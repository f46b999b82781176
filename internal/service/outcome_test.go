package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// authResults are the two outcomes of a primary authentication as Stytch answers them: a session,
// and an intermediate session with MFA still required (whose member ID is only in the member).
// Each carries a field of the other outcome too, which the response must leave out.
func authResults() map[string]*stytchclient.B2BAuthenticateResult {
	at := stytchclient.Timestamp{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	member := stytchclient.Member{MemberID: "member-test-1", OrganizationID: "organization-test-1", EmailAddress: "a@example.com", Status: "active"}
	org := stytchclient.Organization{OrganizationID: "organization-test-1", OrganizationName: "Acme", MFAPolicy: "REQUIRED_FOR_ALL"}
	return map[string]*stytchclient.B2BAuthenticateResult{
		"session": {
			MemberID: "member-test-1", OrganizationID: "organization-test-1", MethodID: "method-1",
			Member: member, Organization: org, MemberAuthenticated: true,
			MemberSession: &stytchclient.MemberSessionInfo{MemberSessionID: "member-session-test-1", MemberID: "member-test-1", ExpiresAt: at},
			SessionToken:  "token", SessionJWT: "jwt",
			IntermediateSessionToken: "ignored-ist",
		},
		"mfa required": {
			Member: member, Organization: org,
			IntermediateSessionToken: "ist",
			MFARequired:              &stytchclient.MFARequired{SecondaryAuthInitiated: "sms_otp", MemberOptions: &stytchclient.MemberOptions{MFAPhoneNumber: "+15550000000"}},
			PrimaryRequired:          &stytchclient.PrimaryRequired{AllowedAuthMethods: []string{"magic_link"}},
			SessionToken:             "ignored-token",
		},
	}
}

// checkAuthResponse fills a T from each result and compares every field with the conversion of
// the result's own part; the fields particular to T stay unset.
func checkAuthResponse[T any, P interface {
	*T
	authResponse
}](t *testing.T) {
	for name, r := range authResults() {
		got := newAuthResponse[T, P](r)
		t.Run(string(got.ProtoReflect().Descriptor().Name())+"/"+name, func(t *testing.T) {
			assert.Equal(t, "member-test-1", got.GetMemberId(), "the member's ID when Stytch's answer has none at the top")
			assert.Equal(t, r.MemberAuthenticated, got.GetMemberAuthenticated())
			assert.True(t, proto.Equal(toMember(&r.Member), got.GetMember()))
			assert.True(t, proto.Equal(toOrganization(&r.Organization), got.GetOrganization()))
			set := 3 // member_id, member, organization
			if r.MemberAuthenticated {
				assert.True(t, proto.Equal(toMemberSession(r.MemberSession), got.GetMemberSession()))
				assert.Equal(t, "token", got.GetSessionToken())
				assert.Equal(t, "jwt", got.GetSessionJwt())
				assert.Empty(t, got.GetIntermediateSessionToken())
				assert.Nil(t, got.GetMfaRequired())
				assert.Nil(t, got.GetPrimaryRequired())
				set += 4 // member_authenticated, member_session, session_token, session_jwt
			} else {
				assert.Equal(t, "ist", got.GetIntermediateSessionToken())
				assert.True(t, proto.Equal(toMfaRequired(r.MFARequired), got.GetMfaRequired()))
				assert.Equal(t, b2bv1.MfaMethod_MFA_METHOD_SMS_OTP, got.GetMfaRequired().GetSecondaryAuthInitiated())
				assert.True(t, proto.Equal(toPrimaryRequired(r.PrimaryRequired), got.GetPrimaryRequired()))
				assert.Nil(t, got.GetMemberSession())
				assert.Empty(t, got.GetSessionToken())
				assert.Empty(t, got.GetSessionJwt())
				set += 3 // intermediate_session_token, mfa_required, primary_required (member_authenticated is false: unset)
			}
			n := 0
			got.ProtoReflect().Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { n++; return true })
			assert.Equal(t, set, n, "no other field is set")
		})
	}
}

func TestNewAuthResponseFillsEveryOutcomeResponse(t *testing.T) {
	checkAuthResponse[b2bv1.MagicLinksServiceAuthenticateResponse](t)
	checkAuthResponse[b2bv1.OTPsServiceEmailAuthenticateResponse](t)
	checkAuthResponse[b2bv1.SessionsServiceExchangeResponse](t)
	checkAuthResponse[b2bv1.DiscoveryServiceExchangeIntermediateSessionResponse](t)
	checkAuthResponse[b2bv1.DiscoveryServiceCreateOrganizationResponse](t)
}
