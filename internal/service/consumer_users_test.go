package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

func TestConsumerUsers(t *testing.T) {
	e := startEnvNoLimits(t)
	u := e.user(t, stytchemu.UserParams{FirstName: "Ada", Verified: true})
	var created string
	userPath := func(m proto.Message) string {
		return "/v1/users/" + m.ProtoReflect().Get(m.ProtoReflect().Descriptor().Fields().ByName("user_id")).String()
	}
	userResp := func() proto.Message { return &consumerv1.UsersServiceGetResponse{} }

	runCases(t, e, []rpcCase{
		{
			svc: true, name: "Create", method: usersSvc + "Create", verb: "POST", path: fixed("/v1/users"),
			req: func(t *testing.T) proto.Message {
				created = email("created")
				return &consumerv1.UsersServiceCreateRequest{
					Email: created, Name: &consumerv1.Name{FirstName: "Grace", LastName: "Hopper"}, CreateUserAsPending: true,
					TrustedMetadata: mustStruct(t, map[string]any{"plan": "gold"}),
				}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceCreateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.UsersServiceCreateResponse)
				assert.Equal(t, consumerv1.UserStatus_USER_STATUS_PENDING, r.GetStatus())
				assert.Equal(t, "Hopper", r.GetUser().GetName().GetLastName())
				assert.Equal(t, "gold", r.GetUser().GetTrustedMetadata().GetFields()["plan"].GetStringValue())
				assert.NotEmpty(t, r.GetEmailId())
			},
		},
		{
			svc: true, name: "Create with neither email nor phone (validation)", method: usersSvc + "Create", verb: "POST", path: fixed("/v1/users"),
			req:  func(*testing.T) proto.Message { return &consumerv1.UsersServiceCreateRequest{} },
			resp: func() proto.Message { return &consumerv1.UsersServiceCreateResponse{} }, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assert.Contains(t, st.Message(), "email, phone_number or both") },
		},
		{
			svc: true, name: "Get", method: usersSvc + "Get", verb: "GET", path: userPath, noBody: true,
			req:  func(*testing.T) proto.Message { return &consumerv1.UsersServiceGetRequest{UserId: u.ID} },
			resp: userResp, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				usr := msg.(*consumerv1.UsersServiceGetResponse).GetUser()
				assert.Equal(t, u.ID, usr.GetUserId())
				assert.Equal(t, "Ada", usr.GetName().GetFirstName())
				assert.Equal(t, consumerv1.UserStatus_USER_STATUS_ACTIVE, usr.GetStatus())
				assert.Equal(t, u.Email, usr.GetEmails()[0].GetEmail())
			},
		},
		{
			svc: true, name: "Get an unknown user", method: usersSvc + "Get", verb: "GET", path: userPath, noBody: true,
			req: func(*testing.T) proto.Message {
				return &consumerv1.UsersServiceGetRequest{UserId: "user-test-00000000-0000-4000-8000-000000000000"}
			},
			resp: userResp, code: codes.NotFound, reason: "user_not_found",
		},
		{
			svc: true, name: "Get with a user_id that is not one path segment (validation)", method: usersSvc + "Get", verb: "GET", path: fixed("/v1/users/a%20b"), noBody: true,
			req:  func(*testing.T) proto.Message { return &consumerv1.UsersServiceGetRequest{UserId: "a b"} },
			resp: userResp, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) { assertFieldViolation(t, st, "user_id") },
		},
		{
			svc: true, name: "Update", method: usersSvc + "Update", verb: "PUT", path: userPath,
			req: func(t *testing.T) proto.Message {
				return &consumerv1.UsersServiceUpdateRequest{
					UserId: u.ID, Name: &consumerv1.Name{FirstName: "Augusta"}, UntrustedMetadata: mustStruct(t, map[string]any{"theme": "dark"}),
					TrustedMetadata: mustStruct(t, map[string]any{"tier": "2"}), Roles: &consumerv1.RoleIds{RoleIds: []string{"editor"}},
				}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceUpdateResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				usr := msg.(*consumerv1.UsersServiceUpdateResponse).GetUser()
				assert.Equal(t, "Augusta", usr.GetName().GetFirstName())
				assert.Equal(t, "dark", usr.GetUntrustedMetadata().GetFields()["theme"].GetStringValue())
				assert.Equal(t, "2", usr.GetTrustedMetadata().GetFields()["tier"].GetStringValue())
				assert.Contains(t, usr.GetRoles(), "editor")
			},
		},
		{
			svc: true, name: "Search by email", method: usersSvc + "Search", verb: "POST", path: fixed("/v1/users/search"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.UsersServiceSearchRequest{Query: &consumerv1.UserSearchQuery{Operands: []*consumerv1.UserSearchOperand{
					{Filter: &consumerv1.UserSearchOperand_EmailAddresses{EmailAddresses: &consumerv1.EmailValues{Values: []string{u.Email}}}},
					{Filter: &consumerv1.UserSearchOperand_Statuses{Statuses: &consumerv1.UserStatusValues{Values: []consumerv1.UserStatus{consumerv1.UserStatus_USER_STATUS_ACTIVE}}}},
					{Filter: &consumerv1.UserSearchOperand_CreatedAtGreaterThan{CreatedAtGreaterThan: timestamppb.New(time.Unix(0, 0))}},
				}}}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceSearchResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.UsersServiceSearchResponse)
				require.Len(t, r.GetResults(), 1)
				assert.Equal(t, u.ID, r.GetResults()[0].GetUserId())
				assert.Equal(t, int32(1), r.GetTotal())
			},
		},
		{
			svc: true, name: "Search a page at a time", method: usersSvc + "Search", verb: "POST", path: fixed("/v1/users/search"),
			req:  func(*testing.T) proto.Message { return &consumerv1.UsersServiceSearchRequest{Limit: proto.Int32(1)} },
			resp: func() proto.Message { return &consumerv1.UsersServiceSearchResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.(*consumerv1.UsersServiceSearchResponse)
				require.Len(t, r.GetResults(), 1)
				require.NotEmpty(t, r.GetNextCursor(), "more users than one page")
				next := &consumerv1.UsersServiceSearchResponse{}
				st := e.grpcSvc(t, usersSvc+"Search", &consumerv1.UsersServiceSearchRequest{Limit: proto.Int32(1), Cursor: r.GetNextCursor()}, next)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				require.Len(t, next.GetResults(), 1)
				assert.NotEqual(t, r.GetResults()[0].GetUserId(), next.GetResults()[0].GetUserId())
			},
		},
		{
			svc: true, name: "Search with a two-letter fuzzy filter (validation)", method: usersSvc + "Search", verb: "POST", path: fixed("/v1/users/search"),
			req: func(*testing.T) proto.Message {
				return &consumerv1.UsersServiceSearchRequest{Query: &consumerv1.UserSearchQuery{Operands: []*consumerv1.UserSearchOperand{
					{Filter: &consumerv1.UserSearchOperand_FullNameFuzzy{FullNameFuzzy: "ad"}},
				}}}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceSearchResponse{} }, code: codes.InvalidArgument,
			checkSt: func(t *testing.T, st *status.Status) {
				assertFieldViolation(t, st, "query.operands[0].full_name_fuzzy")
			},
		},
		{
			svc: true, name: "ExchangePrimaryFactor", method: usersSvc + "ExchangePrimaryFactor", verb: "PUT",
			path: func(m proto.Message) string { return userPath(m) + "/exchange_primary_factor" },
			req: func(t *testing.T) proto.Message {
				only := e.user(t, stytchemu.UserParams{})
				return &consumerv1.UsersServiceExchangePrimaryFactorRequest{
					UserId: only.ID, Factor: &consumerv1.UsersServiceExchangePrimaryFactorRequest_EmailAddress{EmailAddress: email("exchanged")},
				}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceExchangePrimaryFactorResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				usr := msg.(*consumerv1.UsersServiceExchangePrimaryFactorResponse).GetUser()
				require.Len(t, usr.GetEmails(), 1)
				assert.Contains(t, usr.GetEmails()[0].GetEmail(), "exchanged")
			},
		},
		{
			svc: true, name: "Delete", method: usersSvc + "Delete", verb: "DELETE", path: userPath, noBody: true,
			req: func(t *testing.T) proto.Message {
				return &consumerv1.UsersServiceDeleteRequest{UserId: e.user(t, stytchemu.UserParams{}).ID}
			},
			resp: func() proto.Message { return &consumerv1.UsersServiceDeleteResponse{} }, code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				id := msg.(*consumerv1.UsersServiceDeleteResponse).GetUserId()
				st := e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: id}, &consumerv1.UsersServiceGetResponse{})
				assert.Equal(t, codes.NotFound, st.Code())
			},
		},
	})

	// Every factor delete, over gRPC and REST, as a service.
	type factor struct {
		rpc, seg, kind string
		req            func(id string) proto.Message
	}
	factors := []factor{
		{"DeletePassword", "passwords", stytchemu.FactorPassword, func(id string) proto.Message { return &consumerv1.UsersServiceDeletePasswordRequest{PasswordId: id} }},
		{"DeleteTOTP", "totps", stytchemu.FactorTOTP, func(id string) proto.Message { return &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: id} }},
		{"DeleteWebAuthnRegistration", "webauthn_registrations", stytchemu.FactorWebAuthn, func(id string) proto.Message {
			return &consumerv1.UsersServiceDeleteWebAuthnRegistrationRequest{WebauthnRegistrationId: id}
		}},
		{"DeleteOAuthRegistration", "oauth", stytchemu.FactorOAuth, func(id string) proto.Message {
			return &consumerv1.UsersServiceDeleteOAuthRegistrationRequest{OauthUserRegistrationId: id}
		}},
		{"DeleteCryptoWallet", "crypto_wallets", stytchemu.FactorCrypto, func(id string) proto.Message {
			return &consumerv1.UsersServiceDeleteCryptoWalletRequest{CryptoWalletId: id}
		}},
		{"DeleteBiometricRegistration", "biometric_registrations", stytchemu.FactorBiometric, func(id string) proto.Message {
			return &consumerv1.UsersServiceDeleteBiometricRegistrationRequest{BiometricRegistrationId: id}
		}},
		{"DeleteEmail", "emails", "email", func(id string) proto.Message { return &consumerv1.UsersServiceDeleteEmailRequest{EmailId: id} }},
		{"DeletePhoneNumber", "phone_numbers", "phone", func(id string) proto.Message { return &consumerv1.UsersServiceDeletePhoneNumberRequest{PhoneId: id} }},
	}
	var cases []rpcCase
	for _, f := range factors {
		var owner string
		var factorID string
		cases = append(cases, rpcCase{
			svc: true, name: f.rpc, method: usersSvc + f.rpc, verb: "DELETE", noBody: true,
			path: func(proto.Message) string { return fmt.Sprintf("/v1/users/%s/%s", f.seg, factorID) },
			req: func(t *testing.T) proto.Message {
				usr := e.user(t, stytchemu.UserParams{Email: email("factors"), Phone: phone()})
				owner = usr.ID
				switch f.kind {
				case "email":
					factorID = usr.EmailID
				case "phone":
					factorID = usr.PhoneID
				default:
					id, err := e.consumer(t).SeedUserFactor(usr.ID, f.kind)
					require.NoError(t, err)
					factorID = id
				}
				return f.req(factorID)
			},
			resp: func() proto.Message {
				return newMessageNamed(t, "authsvc.consumer.v1.UsersService"+f.rpc+"Response")
			},
			code: codes.OK,
			check: func(t *testing.T, msg proto.Message) {
				r := msg.ProtoReflect()
				assert.Equal(t, owner, r.Get(r.Descriptor().Fields().ByName("user_id")).String())
				got := &consumerv1.UsersServiceGetResponse{}
				require.Equal(t, codes.OK, e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: owner}, got).Code())
				assert.NotContains(t, fmt.Sprint(got.GetUser()), factorID, "the factor is gone")
			},
		}, rpcCase{
			svc: true, name: f.rpc + " with an ID that is not a Stytch ID (validation)", method: usersSvc + f.rpc, verb: "DELETE", noBody: true,
			path: fixed(fmt.Sprintf("/v1/users/%s/not-an-id", f.seg)),
			req:  func(*testing.T) proto.Message { return f.req("not-an-id") },
			resp: func() proto.Message {
				return newMessageNamed(t, "authsvc.consumer.v1.UsersService"+f.rpc+"Response")
			},
			code: codes.InvalidArgument,
		})
	}
	runCases(t, e, cases)
}

// A deleted user's session JWTs stop verifying at once, on the local path too: Stytch ended the
// sessions, and authsvc remembers them as revoked by user ID instead of trusting the JWTs' last
// minutes.
func TestConsumerDeletedUsersJWTIsRefusedLocally(t *testing.T) {
	e := startEnvNoLimits(t)
	u := e.user(t, stytchemu.UserParams{})
	sess := e.userSession(t, u.ID)
	check := func() (*consumerv1.SessionsServiceAuthenticateResponse, *status.Status) {
		out := &consumerv1.SessionsServiceAuthenticateResponse{}
		st := e.grpcCall(t, consumerSessionsSvc+"Authenticate", &consumerv1.SessionsServiceAuthenticateRequest{
			Credential: &consumerv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: sess.JWT},
		}, out)
		return out, st
	}
	out, st := check()
	require.Equal(t, codes.OK, st.Code(), st.Message())
	require.Equal(t, consumerv1.SessionVerifier_SESSION_VERIFIER_LOCAL, out.GetVerifiedBy())

	st = e.grpcSvc(t, "/authsvc.consumer.v1.UsersService/Delete", &consumerv1.UsersServiceDeleteRequest{UserId: u.ID}, &consumerv1.UsersServiceDeleteResponse{})
	require.Equal(t, codes.OK, st.Code(), st.Message())

	before := e.consumer(t).Requests("POST /v1/sessions/authenticate")
	_, st = check()
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Equal(t, before, e.consumer(t).Requests("POST /v1/sessions/authenticate"), "decided locally, without Stytch")
}
