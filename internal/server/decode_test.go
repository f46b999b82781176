package server

import (
	"testing"

	"buf.build/go/protovalidate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

// The paths name the field a client sent, down to the list element, and stop at a free-form JSON
// value (to the client it is one field; its keys are the client's data).
func TestInvalidUTF8NamesTheFieldPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *b2bv1.MembersServiceSearchRequest
		path string
	}{
		{"top level", &b2bv1.MembersServiceSearchRequest{Cursor: "a\xff"}, "cursor"},
		{"list element", &b2bv1.MembersServiceSearchRequest{OrganizationIds: []string{"ok", "\xff"}}, "organization_ids[1]"},
		{"nested message", &b2bv1.MembersServiceSearchRequest{Query: &b2bv1.MemberSearchQuery{Operands: []*b2bv1.MemberSearchOperand{
			{Filter: &b2bv1.MemberSearchOperand_MemberEmailFuzzy{MemberEmailFuzzy: "ok"}},
			{Filter: &b2bv1.MemberSearchOperand_MemberIds{MemberIds: &b2bv1.StringValues{Values: []string{"\xfe"}}}},
		}}}, "query.operands[1].member_ids.values[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, bad := invalidUTF8(tc.req.ProtoReflect(), "")
			require.True(t, bad)
			assert.Equal(t, tc.path, path)
		})
	}
	_, bad := invalidUTF8((&b2bv1.MembersServiceSearchRequest{Cursor: "ünïcode"}).ProtoReflect(), "")
	assert.False(t, bad)

	claims := &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
		structpb.NewStringValue("ok"),
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"x": structpb.NewStringValue("\xff")}}),
	}})}}
	path, bad := invalidUTF8((&b2bv1.MembersServiceCreateRequest{TrustedMetadata: claims}).ProtoReflect(), "")
	require.True(t, bad)
	assert.Equal(t, "trusted_metadata", path)
}

func nested(depth int, arrays bool) *structpb.Value {
	v := structpb.NewStringValue("x")
	for range depth {
		if arrays {
			v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewNullValue(), v}})
		} else {
			v = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": v, "b": structpb.NewBoolValue(true)}})
		}
	}
	return v
}

// MaxJSONDepth counts objects and arrays alike, the field's own object being level 1.
func TestJSONDepthRule(t *testing.T) {
	v := depthValidator{}
	for _, arrays := range []bool{false, true} {
		// The field's own object plus MaxJSONDepth-1 nested levels: allowed.
		ok := &structpb.Struct{Fields: map[string]*structpb.Value{"top": nested(MaxJSONDepth-1, arrays)}}
		assert.Nil(t, tooDeep((&b2bv1.MembersServiceCreateRequest{TrustedMetadata: ok}).ProtoReflect(), nil))

		deep := &structpb.Struct{Fields: map[string]*structpb.Value{"top": nested(MaxJSONDepth, arrays)}}
		err := v.Validate(&b2bv1.MembersServiceCreateRequest{UntrustedMetadata: deep})
		var verr *protovalidate.ValidationError
		require.ErrorAs(t, err, &verr)
		require.Len(t, verr.Violations, 1)
		assert.Equal(t, "untrusted_metadata", protovalidate.FieldPathString(verr.Violations[0].Proto.GetField()))
		assert.Equal(t, RuleJSONDepth, verr.Violations[0].Proto.GetRuleId()) //nolint:testifylint // a rule id that names JSON, not a JSON document
	}
}
