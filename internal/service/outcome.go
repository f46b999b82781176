package service

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/stytchclient"
)

// authResponse is a response of an RPC that ends a primary authentication (magic link, email OTP,
// session exchange, discovery exchange and create). Each such response is its own generated type;
// the getters, which protoc-gen-go writes one per field, make the compiler check that a type has
// the ten fields newAuthResponse fills, with these types, before newAuthResponse sets them by name.
type authResponse interface {
	proto.Message
	GetMemberId() string
	GetMemberAuthenticated() bool
	GetMemberSession() *b2bv1.MemberSession
	GetSessionToken() string
	GetSessionJwt() string
	GetIntermediateSessionToken() string
	GetMember() *b2bv1.Member
	GetOrganization() *b2bv1.Organization
	GetMfaRequired() *b2bv1.MfaRequired
	GetPrimaryRequired() *b2bv1.PrimaryRequired
}

// newAuthResponse returns a new response of type T holding the outcome of a primary
// authentication: either a session (member_session, session_token, session_jwt) or an
// intermediate session token with what is still required (mfa_required, primary_required); the
// member and organization in both cases. Fields particular to T are left for the caller.
func newAuthResponse[T any, P interface {
	*T
	authResponse
}](r *stytchclient.B2BAuthenticateResult) P {
	out := P(new(T))
	m := out.ProtoReflect()
	fields := m.Descriptor().Fields()
	// Zero values and absent messages are left unset, as a struct literal leaves them.
	setString := func(name protoreflect.Name, s string) {
		if s != "" {
			m.Set(fields.ByName(name), protoreflect.ValueOfString(s))
		}
	}
	setMessage := func(name protoreflect.Name, v proto.Message) {
		if rv := v.ProtoReflect(); rv.IsValid() { // a nil *Member is not valid
			m.Set(fields.ByName(name), protoreflect.ValueOfMessage(rv))
		}
	}

	member := toMember(&r.Member)
	memberID := r.MemberID
	if memberID == "" {
		memberID = member.GetMemberId()
	}
	setString("member_id", memberID)
	if r.MemberAuthenticated {
		m.Set(fields.ByName("member_authenticated"), protoreflect.ValueOfBool(true))
	}
	setMessage("member", member)
	setMessage("organization", toOrganization(&r.Organization))
	if r.MemberAuthenticated {
		setMessage("member_session", toMemberSession(r.MemberSession))
		setString("session_token", r.SessionToken)
		setString("session_jwt", r.SessionJWT)
	} else {
		setString("intermediate_session_token", r.IntermediateSessionToken)
		setMessage("mfa_required", toMfaRequired(r.MFARequired))
		setMessage("primary_required", toPrimaryRequired(r.PrimaryRequired))
	}
	return out
}
