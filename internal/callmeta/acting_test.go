package callmeta_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/metadata"

	"github.com/authsvc/authsvc/internal/callmeta"
)

func TestMemberSession(t *testing.T) {
	_, ok := callmeta.MemberSessionFrom(context.Background())
	assert.False(t, ok, "absent")

	ctx := callmeta.WithMemberSession(context.Background(), callmeta.MemberSession{JWT: "jwt"})
	s, ok := callmeta.MemberSessionFrom(ctx)
	assert.True(t, ok)
	assert.Equal(t, callmeta.MemberSession{JWT: "jwt"}, s)

	_, ok = callmeta.MemberSessionFrom(callmeta.WithMemberSession(context.Background(), callmeta.MemberSession{}))
	assert.False(t, ok, "an empty session is no session")

	// Incoming metadata can never claim a member session: only the context value counts.
	md := metadata.MD{}
	md.Set(callmeta.CookieSessionJWT, "from-the-wire")
	_, ok = callmeta.MemberSessionFrom(metadata.NewIncomingContext(context.Background(), md))
	assert.False(t, ok)
}
