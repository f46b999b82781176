package session_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/rpcerr"
	"github.com/authsvc/authsvc/internal/session"
)

// The harness's member signed in by email magic link two minutes (emulator time) before the checks
// below: a requirement for that factor within five minutes holds, within one minute does not, and a
// factor the session never had fails however long the window. Both paths decide the same way, and
// neither spends a Stytch call on the requirement.
func TestFactorRequirementsAreDecidedFromTheSession(t *testing.T) {
	s := newSessionHarness(t)
	s.emu.Advance(2 * time.Minute)

	tests := []struct {
		name    string
		want    []session.FactorRequirement
		refused *session.FactorRequirement
	}{
		{"type held", []session.FactorRequirement{{Type: "magic_link"}}, nil},
		{"type and delivery method held, recently", []session.FactorRequirement{{Type: "magic_link", DeliveryMethod: "email", Within: 5 * time.Minute}}, nil},
		{"held but too long ago", []session.FactorRequirement{{Type: "magic_link", Within: time.Minute}}, &session.FactorRequirement{Type: "magic_link", Within: time.Minute}},
		{"wrong delivery method", []session.FactorRequirement{{Type: "magic_link", DeliveryMethod: "sms"}}, &session.FactorRequirement{Type: "magic_link", DeliveryMethod: "sms"}},
		{"never held", []session.FactorRequirement{{Type: "webauthn", Within: time.Hour}}, &session.FactorRequirement{Type: "webauthn", Within: time.Hour}},
		{"every requirement must hold", []session.FactorRequirement{{Type: "magic_link"}, {Type: "totp"}}, &session.FactorRequirement{Type: "totp"}},
	}
	for _, path := range []struct {
		name string
		req  session.Request
		want session.Path
	}{
		{"local JWT", session.Request{JWT: s.jwt}, session.PathLocal},
		{"remote token", session.Request{Token: s.token}, session.PathRemote},
	} {
		for _, tt := range tests {
			t.Run(path.name+"/"+tt.name, func(t *testing.T) {
				s.emu.ResetRequests()
				req := path.req
				req.Factors = tt.want
				res, err := s.auth.Check(t.Context(), req)
				require.NotNil(t, res)
				assert.Equal(t, path.want, res.Path)
				if path.want == session.PathLocal {
					assert.Equal(t, 0, s.emu.Requests("*"), "a factor requirement never needs Stytch")
				} else {
					assert.Equal(t, 1, s.emu.Requests("*"))
				}
				if tt.refused == nil {
					require.NoError(t, err)
					assert.Equal(t, s.memberID, res.Session.MemberID)
					return
				}
				require.Error(t, err)
				st, ok := status.FromError(err)
				require.True(t, ok)
				assert.Equal(t, codes.PermissionDenied, st.Code())
				info := rpcerr.ErrorInfo(st)
				require.NotNil(t, info)
				assert.Equal(t, "session_factor_required", info.GetReason())
				assert.Equal(t, tt.refused.Type, info.GetMetadata()["factor_type"])
				assert.Equal(t, tt.refused.DeliveryMethod, info.GetMetadata()["delivery_method"])
				wantWithin := ""
				if tt.refused.Within > 0 {
					wantWithin = strconv.Itoa(int(tt.refused.Within.Seconds()))
				}
				assert.Equal(t, wantWithin, info.GetMetadata()["within_seconds"])
				assert.Empty(t, res.Session.MemberID, "a refused check hands out no session")
			})
		}
	}
}
