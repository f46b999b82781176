package service_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const totpsSvc = "/authsvc.consumer.v1.TOTPsService/"

// factorTransport runs one RPC over gRPC or REST (without cookies; bearer as Authorization when
// set) and returns its gRPC code and the reason of its ErrorInfo, whichever way it went.
type factorTransport struct {
	e    *testEnv
	rest bool
}

func (tr factorTransport) String() string {
	if tr.rest {
		return "REST"
	}
	return "gRPC"
}

func (tr factorTransport) call(t *testing.T, bearer, method, path string, req, resp proto.Message) (codes.Code, string) {
	t.Helper()
	if tr.rest {
		r := tr.e.restWith(t, &http.Client{}, bearer, "POST", path, req, resp)
		if r.HTTP == http.StatusOK {
			return codes.OK, ""
		}
		require.NotNil(t, r.Status, "body: %s", r.Body)
		assert.Equal(t, r.HTTP, httpStatusFor(r.Status.Code()), "the HTTP status matches the gRPC code")
		return r.Status.Code(), errorReason(r.Status)
	}
	st := tr.e.grpcAs(t, bearer, method, req, resp)
	return st.Code(), errorReason(st)
}

// httpStatusFor is the HTTP status the gateway answers for the codes these tests meet.
func httpStatusFor(c codes.Code) int {
	return map[codes.Code]int{
		codes.InvalidArgument: http.StatusBadRequest, codes.Unauthenticated: http.StatusUnauthorized,
		codes.PermissionDenied: http.StatusForbidden, codes.NotFound: http.StatusNotFound,
		codes.ResourceExhausted: http.StatusTooManyRequests,
	}[c]
}

// errorReason is the reason of a status's ErrorInfo, empty when it has none.
func errorReason(st *status.Status) string {
	if info := rpcerr.ErrorInfo(st); info != nil {
		return info.GetReason()
	}
	return ""
}

// totpCode computes the current code of secret with the library the emulator checks codes with.
func totpCode(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now())
	require.NoError(t, err)
	return code
}

// wrongTOTPCode is a well-formed code that is none of the three the emulator accepts now.
func wrongTOTPCode(t *testing.T, secret string) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, err := totp.GenerateCode(secret, time.Now().Add(d))
		require.NoError(t, err)
		valid[c] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !valid[c] {
			return c
		}
	}
}

// enrol creates a user with a session and a TOTP created with that session (the user's own).
func (tr factorTransport) enrol(t *testing.T) (stytchemu.User, stytchemu.UserSession, *consumerv1.TOTPsServiceCreateResponse) {
	t.Helper()
	u := tr.e.user(t, stytchemu.UserParams{})
	ses := tr.e.userSession(t, u.ID)
	cr := &consumerv1.TOTPsServiceCreateResponse{}
	code, reason := tr.call(t, ses.JWT, totpsSvc+"Create", "/v1/totps", &consumerv1.TOTPsServiceCreateRequest{UserId: u.ID}, cr)
	require.Equal(t, codes.OK, code, reason)
	return u, ses, cr
}

func overGRPCAndREST(t *testing.T, e *testEnv, f func(t *testing.T, tr factorTransport)) {
	for _, rest := range []bool{false, true} {
		tr := factorTransport{e: e, rest: rest}
		t.Run(tr.String(), func(t *testing.T) { f(t, tr) })
	}
}

func TestConsumerTOTPEnrolAndLogin(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		u, _, cr := tr.enrol(t)
		assert.True(t, strings.HasPrefix(cr.GetQrCode(), "data:image/png;base64,"))
		assert.Len(t, cr.GetRecoveryCodes(), 10)
		assert.Empty(t, cr.GetUser().GetTotps(), "pending until the first code")

		other := tr.e.userSession(t, tr.e.user(t, stytchemu.UserParams{}).ID)
		code, _ := tr.call(t, other.JWT, totpsSvc+"Create", "/v1/totps", &consumerv1.TOTPsServiceCreateRequest{UserId: u.ID}, &consumerv1.TOTPsServiceCreateResponse{})
		assert.Equal(t, codes.PermissionDenied, code, "a user enrols only their own account")

		totpNow := totpCode(t, cr.GetSecret())
		auth := &consumerv1.TOTPsServiceAuthenticateResponse{}
		code, reason := tr.call(t, "", totpsSvc+"Authenticate", "/v1/totps/authenticate", &consumerv1.TOTPsServiceAuthenticateRequest{
			UserId: strings.ToUpper(u.ID), TotpCode: totpNow, SessionDurationMinutes: proto.Int32(30),
		}, auth)
		require.Equal(t, codes.OK, code, reason)
		assert.Equal(t, cr.GetTotpId(), auth.GetTotpId())
		assert.NotEmpty(t, auth.GetSessionJwt())
		factors := auth.GetSession().GetAuthenticationFactors()
		require.Len(t, factors, 1)
		assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_TOTP, factors[0].GetType())
		assert.Equal(t, "authenticator_app", factors[0].GetDeliveryMethod())
		assert.Equal(t, cr.GetTotpId(), factors[0].GetAuthenticatorAppFactor().GetTotpId())

		got := &consumerv1.UsersServiceGetResponse{}
		require.Equal(t, codes.OK, e.grpcSvc(t, usersSvc+"Get", &consumerv1.UsersServiceGetRequest{UserId: u.ID}, got).Code())
		require.Len(t, got.GetUser().GetTotps(), 1)
		assert.True(t, got.GetUser().GetTotps()[0].GetVerified())

		code, reason = tr.call(t, "", totpsSvc+"Authenticate", "/v1/totps/authenticate", &consumerv1.TOTPsServiceAuthenticateRequest{UserId: u.ID, TotpCode: totpNow}, auth)
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "totp_code_already_authenticated", reason, "a code is accepted once")

		code, reason = tr.call(t, "", totpsSvc+"Authenticate", "/v1/totps/authenticate", &consumerv1.TOTPsServiceAuthenticateRequest{UserId: u.ID, TotpCode: "12345"}, auth)
		assert.Equal(t, codes.InvalidArgument, code, "a code is 6 digits, checked before Stytch: %s", reason)

		// Users.DeleteTOTP ends the registration.
		st := e.grpcSvc(t, usersSvc+"DeleteTOTP", &consumerv1.UsersServiceDeleteTOTPRequest{TotpId: cr.GetTotpId()}, &consumerv1.UsersServiceDeleteTOTPResponse{})
		require.Equal(t, codes.OK, st.Code(), st.Message())
		code, reason = tr.call(t, "", totpsSvc+"Authenticate", "/v1/totps/authenticate", &consumerv1.TOTPsServiceAuthenticateRequest{UserId: u.ID, TotpCode: totpCode(t, cr.GetSecret())}, auth)
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unable_to_authenticate_totp", reason, "no TOTP answers like a wrong code")
	})
}

func TestConsumerTOTPRecoveryCodesAreForServices(t *testing.T) {
	e := startEnvNoLimits(t)
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		u, ses, cr := tr.enrol(t)
		req := &consumerv1.TOTPsServiceRecoveryCodesRequest{UserId: u.ID}
		code, _ := tr.call(t, ses.JWT, totpsSvc+"RecoveryCodes", "/v1/totps/recovery_codes", req, &consumerv1.TOTPsServiceRecoveryCodesResponse{})
		assert.Equal(t, codes.Unauthenticated, code, "a user session is no credential for a service-only RPC: it cannot read recovery codes")
		got := &consumerv1.TOTPsServiceRecoveryCodesResponse{}
		code, reason := tr.call(t, e.svcToken(t), totpsSvc+"RecoveryCodes", "/v1/totps/recovery_codes", req, got)
		require.Equal(t, codes.OK, code, reason)
		require.Len(t, got.GetTotps(), 1)
		assert.False(t, got.GetTotps()[0].GetVerified())
		assert.Equal(t, cr.GetRecoveryCodes(), got.GetTotps()[0].GetRecoveryCodes())
	})
}

// The brute-force story, over gRPC and REST: enrol, log in with a computed code, guess
// wrong codes until the per-user budget refuses the next guess before Stytch (429), then recover
// with a recovery code, whose second use is refused.
func TestConsumerTOTPBruteForceThenRecover(t *testing.T) {
	e := startEnv(t, apptest.WithEnv(map[string]string{"AUTHSVC_ADMISSION_LIMITS": "check_failures_target=3/10m"}))
	overGRPCAndREST(t, e, func(t *testing.T, tr factorTransport) {
		u, _, cr := tr.enrol(t)
		auth := func(code string) (codes.Code, string) {
			return tr.call(t, "", totpsSvc+"Authenticate", "/v1/totps/authenticate",
				&consumerv1.TOTPsServiceAuthenticateRequest{UserId: u.ID, TotpCode: code}, &consumerv1.TOTPsServiceAuthenticateResponse{})
		}
		code, reason := auth(totpCode(t, cr.GetSecret()))
		require.Equal(t, codes.OK, code, reason)

		wrong := wrongTOTPCode(t, cr.GetSecret())
		for i := range 3 {
			code, reason = auth(wrong)
			require.Equal(t, codes.Unauthenticated, code, "guess %d: %s", i+1, reason)
		}
		before := e.consumer(t).Requests("POST /v1/totps/authenticate")
		code, reason = auth(wrong)
		assert.Equal(t, codes.ResourceExhausted, code, reason)
		code, _ = auth(totpCode(t, cr.GetSecret()))
		assert.Equal(t, codes.ResourceExhausted, code, "the user is locked, even for a right code")
		assert.Equal(t, before, e.consumer(t).Requests("POST /v1/totps/authenticate"), "refused before Stytch")

		recover := func() (codes.Code, string, *consumerv1.TOTPsServiceRecoverResponse) {
			r := &consumerv1.TOTPsServiceRecoverResponse{}
			c, why := tr.call(t, "", totpsSvc+"Recover", "/v1/totps/recover", &consumerv1.TOTPsServiceRecoverRequest{
				UserId: u.ID, RecoveryCode: cr.GetRecoveryCodes()[0], SessionDurationMinutes: proto.Int32(30),
			}, r)
			return c, why, r
		}
		code, reason, rec := recover()
		require.Equal(t, codes.OK, code, "recovery codes have a budget of their own: %s", reason)
		factors := rec.GetSession().GetAuthenticationFactors()
		require.Len(t, factors, 1)
		assert.Equal(t, consumerv1.AuthenticationFactorType_AUTHENTICATION_FACTOR_TYPE_RECOVERY_CODES, factors[0].GetType())
		assert.NotEmpty(t, factors[0].GetRecoveryCodeFactor().GetTotpRecoveryCodeId())

		code, reason, _ = recover()
		assert.Equal(t, codes.Unauthenticated, code)
		assert.Equal(t, "unable_to_authenticate_recovery_code", reason, "a recovery code works once")
	})
}
