package server

import (
	"context"
	"io"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

// details splits a status's details into the BadRequest fields and the buf.validate fields.
func details(t *testing.T, err error) (badRequest, violations []string) {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok)
	require.Equal(t, codes.InvalidArgument, st.Code())
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.BadRequest:
			for _, f := range v.GetFieldViolations() {
				assert.NotEmpty(t, f.GetDescription(), "field %s", f.GetField())
				badRequest = append(badRequest, f.GetField())
			}
		case *validate.Violations:
			for _, x := range v.GetViolations() {
				violations = append(violations, x.GetField().GetElements()[0].GetFieldName())
			}
		}
	}
	return badRequest, violations
}

// A request protovalidate refuses carries the BadRequest detail every other INVALID_ARGUMENT
// carries, naming the same fields as protovalidate's own detail, and the handler never runs.
func TestValidateNamesTheFieldsInBadRequest(t *testing.T) {
	mw, err := Validate()
	require.NoError(t, err)
	bad := &b2bv1.MembersServiceCreateRequest{OrganizationId: "organization-test-1", EmailAddress: "not-an-email"}
	called := false
	_, err = mw.Unary(t.Context(), bad, &grpc.UnaryServerInfo{FullMethod: "/x/Create"}, func(context.Context, any) (any, error) {
		called = true
		return nil, nil
	})
	require.Error(t, err)
	assert.False(t, called)
	br, vs := details(t, err)
	assert.Equal(t, []string{"email_address"}, br)
	assert.Equal(t, br, vs)

	// A handler's own INVALID_ARGUMENT passes unchanged, even with a buf.validate detail.
	st, err := status.New(codes.InvalidArgument, "handler").WithDetails(&validate.Violations{})
	require.NoError(t, err)
	good := &b2bv1.MembersServiceCreateRequest{OrganizationId: "organization-test-1", EmailAddress: "ada@example.com"}
	herr := st.Err()
	_, got := mw.Unary(t.Context(), good, &grpc.UnaryServerInfo{FullMethod: "/x/Create"}, func(context.Context, any) (any, error) {
		return nil, herr
	})
	assert.Same(t, herr, got, "the handler's error is passed on as it is") //nolint:testifylint // identity is the point

	// A streamed message is checked the same way.
	ss := &oneMessageStream{msg: bad}
	err = mw.Stream(nil, ss, &grpc.StreamServerInfo{FullMethod: "/x/Stream"}, func(_ any, s grpc.ServerStream) error {
		return s.RecvMsg(&b2bv1.MembersServiceCreateRequest{})
	})
	br, _ = details(t, err)
	assert.Equal(t, []string{"email_address"}, br)
}

// oneMessageStream is a server stream that delivers one request, then io.EOF.
type oneMessageStream struct {
	grpc.ServerStream
	msg  *b2bv1.MembersServiceCreateRequest
	sent bool
}

func (s *oneMessageStream) Context() context.Context { return context.Background() }

func (s *oneMessageStream) RecvMsg(m any) error {
	if s.sent {
		return io.EOF
	}
	s.sent = true
	dst := m.(*b2bv1.MembersServiceCreateRequest) //nolint:forcetypeassert // the test sends this type
	dst.OrganizationId, dst.EmailAddress = s.msg.GetOrganizationId(), s.msg.GetEmailAddress()
	return nil
}
