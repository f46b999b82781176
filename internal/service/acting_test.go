package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/access"
	"github.com/authsvc/authsvc/internal/revocation"
	"github.com/authsvc/authsvc/internal/service"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

// TestActingMemberIsForwarded calls the handler directly (the access interceptor that puts the
// caller's session in the context is not what is tested here): a member's writes carry the member's
// session to Stytch, whose RBAC then decides.
func TestActingMemberIsForwarded(t *testing.T) {
	emu := testkit.Emulator(t)
	sc := testkit.Client(t, emu)
	revs, err := revocation.New(revocation.Config{})
	require.NoError(t, err)
	members := service.NewMembers(sc, revs, emu.Now, nil)
	actingAs := func(s stytchclient.MemberSession) context.Context {
		return access.WithPrincipal(context.Background(), access.Principal{Kind: access.KindMember, Session: s})
	}

	org, err := emu.CreateOrganization(stytchemu.OrganizationParams{Name: "Acme"})
	require.NoError(t, err)
	admin, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "admin@example.com", Roles: []string{stytchemu.RoleAdmin}})
	require.NoError(t, err)
	plain, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "plain@example.com"})
	require.NoError(t, err)
	target, err := emu.CreateMember(org.ID, stytchemu.MemberParams{Email: "target@example.com"})
	require.NoError(t, err)
	adminSess, err := emu.CreateSession(org.ID, admin.ID, time.Hour)
	require.NoError(t, err)
	plainSess, err := emu.CreateSession(org.ID, plain.ID, time.Hour)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		ctx  context.Context
		code codes.Code
	}{
		{"a service (no member session)", context.Background(), codes.OK},
		{"an admin's session JWT", actingAs(stytchclient.MemberSession{JWT: adminSess.JWT}), codes.OK},
		{"an admin's session token", actingAs(stytchclient.MemberSession{Token: adminSess.Token}), codes.OK},
		{"a plain member acting on someone else", actingAs(stytchclient.MemberSession{JWT: plainSess.JWT}), codes.PermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := members.Update(tc.ctx, &b2bv1.MembersServiceUpdateRequest{OrganizationId: org.ID, MemberId: target.ID, Name: new("renamed")})
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
			_, err = members.Delete(tc.ctx, &b2bv1.MembersServiceDeleteRequest{OrganizationId: org.ID, MemberId: "member-test-nope"})
			if tc.code == codes.OK {
				assert.Equal(t, codes.NotFound, status.Code(err))
			}
		})
	}
}
