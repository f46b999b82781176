package access

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/policy"
)

// testFiles builds a registry holding one service, authsvc.test.v1.Svc, whose methods carry the
// given rules (nil: no option at all). Method i is named M<i>; streaming[i] makes it a server stream.
func testFiles(t *testing.T, rules []*accessv1.AccessRule, streaming ...bool) *protoregistry.Files {
	t.Helper()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	i64 := descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	svc := &descriptorpb.ServiceDescriptorProto{Name: proto.String("Svc")}
	for i, r := range rules {
		m := &descriptorpb.MethodDescriptorProto{
			Name:            proto.String("M" + string(rune('0'+i))),
			InputType:       proto.String(".authsvc.test.v1.Req"),
			OutputType:      proto.String(".authsvc.test.v1.Req"),
			ServerStreaming: proto.Bool(i < len(streaming) && streaming[i]),
		}
		if r != nil {
			m.Options = &descriptorpb.MethodOptions{}
			proto.SetExtension(m.Options, accessv1.E_Policy, &accessv1.Policy{Access: r, UnlimitedBecause: "test"})
		}
		svc.Method = append(svc.Method, m)
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("authsvc/test/v1/test.proto"),
		Package: proto.String("authsvc.test.v1"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Req"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("token"), Number: proto.Int32(1), Type: str, Label: opt, JsonName: proto.String("token")},
				{Name: proto.String("org_ids"), Number: proto.Int32(2), Type: str, Label: rep, JsonName: proto.String("orgIds")},
				{Name: proto.String("count"), Number: proto.Int32(3), Type: i64, Label: opt, JsonName: proto.String("count")},
				{Name: proto.String("user_id"), Number: proto.Int32(4), Type: str, Label: opt, JsonName: proto.String("userId")},
			},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{svc},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	require.NoError(t, err)
	files := &protoregistry.Files{}
	require.NoError(t, files.RegisterFile(fd))
	return files
}

func TestInvalidRulesStopStartup(t *testing.T) {
	h := newHarness(t)
	tests := map[string]struct {
		rule      *accessv1.AccessRule
		streaming bool
	}{
		"unknown credential field":      {rule: &accessv1.AccessRule{CredentialFields: []string{"nope"}}},
		"unknown organization field":    {rule: &accessv1.AccessRule{MemberSession: true, MemberOrganizationField: "nope"}},
		"non-string organization field": {rule: &accessv1.AccessRule{MemberSession: true, MemberOrganizationField: "count"}},
		"request rule on a stream":      {rule: &accessv1.AccessRule{CredentialFields: []string{"token"}}, streaming: true},
		"member and user session":       {rule: &accessv1.AccessRule{MemberSession: true, UserSession: true}},
		"unknown user field":            {rule: &accessv1.AccessRule{UserSession: true, UserField: "nope"}},
		"non-string user field":         {rule: &accessv1.AccessRule{UserSession: true, UserField: "count"}},
		"repeated user field":           {rule: &accessv1.AccessRule{UserSession: true, UserField: "org_ids"}},
		"user field on a stream":        {rule: &accessv1.AccessRule{UserSession: true, UserField: "user_id"}, streaming: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{Checker: h.checker, Files: testFiles(t, []*accessv1.AccessRule{tt.rule}, tt.streaming)})
			require.ErrorIs(t, err, ErrInvalidRule)
		})
	}
}

// An RPC without a policy is a defect that stops startup, naming the RPC: it is never served.
func TestRPCWithoutPolicyStopsStartup(t *testing.T) {
	h := newHarness(t)
	_, err := New(Config{Checker: h.checker, Files: testFiles(t, []*accessv1.AccessRule{nil, {Public: true}})})
	require.ErrorIs(t, err, policy.ErrInvalid)
	assert.Contains(t, err.Error(), "/authsvc.test.v1.Svc/M0")
}

// A method that has no rule at run time (one the registry does not know) is denied and logged as
// a defect.
func TestRPCWithoutRuleIsDeniedAndLoggedAsADefect(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	acc, err := New(Config{
		Checker: h.checker,
		Files:   testFiles(t, []*accessv1.AccessRule{{Public: true}}),
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	h.acc = acc

	admin := h.member(t, sandboxOrg, "admin@stytch.com", "stytch_admin")
	c := h.call(t, "/authsvc.test.v1.Svc/M9", nil, "authorization", "Bearer "+admin.JWT)
	requireRefused(t, c, codes.PermissionDenied)
	assert.Equal(t, "no_rule", c.field("access.reason"))
	assert.Contains(t, logs.String(), "/authsvc.test.v1.Svc/M9", "the defect is logged")

	require.NoError(t, h.call(t, "/authsvc.test.v1.Svc/M0", nil).err)
	// The authsvc services are not in this registry: their RPCs have no rule here, so they are denied.
	requireRefused(t, h.call(t, authenticate, &b2bv1.SessionsServiceAuthenticateRequest{}), codes.PermissionDenied)
}

func TestRequestOfTheWrongTypeIsAnInternalError(t *testing.T) {
	h := newHarness(t)
	c := h.call(t, membersGet, &b2bv1.SessionsServiceGetRequest{}, "authorization", "Bearer x")
	assert.Equal(t, codes.Internal, statusCode(c.err))
	assert.False(t, c.reached)
}

// Every rule of the linked authsvc API compiles (fields exist), and every RPC has one.
func TestEveryAuthsvcRPCHasAValidRule(t *testing.T) {
	rules, err := loadRules(protoregistry.GlobalFiles)
	require.NoError(t, err)
	require.NotEmpty(t, rules)
}
