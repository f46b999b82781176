package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

const (
	consumerMagicLinksSvc = "/authsvc.consumer.v1.MagicLinksService/"
	consumerOTPsSvc       = "/authsvc.consumer.v1.OTPsService/"
	consumerSessionsSvc   = "/authsvc.consumer.v1.SessionsService/"
	usersSvc              = "/authsvc.consumer.v1.UsersService/"
)

// consumer is the dev-mode consumer project the test app serves.
func (e *testEnv) consumer(t *testing.T) *stytchemu.Emulator {
	t.Helper()
	require.NotNil(t, e.App.Consumer, "the test app serves no consumer project")
	return e.App.Consumer
}

// consumerMessage is the last delivery of the consumer project to recipient, of method.
func (e *testEnv) consumerMessage(t *testing.T, recipient, method string) stytchemu.Message {
	t.Helper()
	msg, ok := e.consumer(t).LastMessage(recipient)
	require.True(t, ok, "no consumer message to the recipient")
	require.Equal(t, method, msg.Method)
	return msg
}

// user creates a consumer user with a fresh address (and phone, when given).
func (e *testEnv) user(t *testing.T, p stytchemu.UserParams) stytchemu.User {
	t.Helper()
	if p.Email == "" && p.Phone == "" {
		p.Email = email("user")
	}
	u, err := e.consumer(t).CreateUser(p)
	require.NoError(t, err)
	return u
}

// userSession mints a live session for a consumer user.
func (e *testEnv) userSession(t *testing.T, userID string) stytchemu.UserSession {
	t.Helper()
	s, err := e.consumer(t).CreateUserSession(userID, time.Hour)
	require.NoError(t, err)
	return s
}

// phone returns a fresh E.164 number.
func phone() string { return fmt.Sprintf("+1555%07d", uniq.Add(1)) }

// assertFieldViolation checks that st names field (protovalidate's violations or BadRequest).
func assertFieldViolation(t *testing.T, st *status.Status, field string) {
	t.Helper()
	assert.Contains(t, violatedFields(st), field, "violations in %v", st.Proto())
}

// newMessageNamed returns a new message of the named type.
func newMessageNamed(t *testing.T, name string) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	require.NoError(t, err)
	return mt.New().Interface()
}
