package server

import (
	"fmt"
	"slices"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// MaxJSONDepth is how deeply the free-form JSON of a request (metadata, custom claims: any
// google.protobuf.Struct, Value or ListValue field) may nest objects and arrays; the field's own
// object is level 1. Stytch documents no depth limit, real metadata is a few levels deep, and an
// unbounded depth would otherwise be cut by whichever layer's recursion limit breaks first
// (protojson at the gateway, the protobuf decoder, Stytch's JSON parser) with a confusing error.
const MaxJSONDepth = 32

// RuleJSONDepth is the rule_id of the buf.validate violation for a field that nests deeper than
// MaxJSONDepth.
const RuleJSONDepth = "authsvc.json_depth"

// depthValidator is protovalidate plus one rule protovalidate cannot express (CEL has no
// recursion): the MaxJSONDepth bound. A violation has the shape of every other validation error.
type depthValidator struct{ protovalidate.Validator }

func (v depthValidator) Validate(msg proto.Message, opts ...protovalidate.ValidationOption) error {
	if viol := tooDeep(msg.ProtoReflect(), nil); viol != nil {
		return &protovalidate.ValidationError{Violations: []*protovalidate.Violation{viol}}
	}
	return v.Validator.Validate(msg, opts...)
}

// tooDeep returns a violation for the first JSON field in m nested deeper than MaxJSONDepth.
func tooDeep(m protoreflect.Message, path []*validate.FieldPathElement) *protovalidate.Violation {
	var out *protovalidate.Violation
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || (fd.IsMap() && fd.MapValue().Message() == nil) {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if out = tooDeepIn(fd, l.Get(i).Message(), appendPath(path, fd, uint64(i), true)); out != nil {
					return false
				}
			}
		case fd.IsMap():
			// Map keys are the caller's data; the path names the map field only.
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				out = tooDeepIn(fd, mv.Message(), appendPath(path, fd, 0, false))
				return out == nil
			})
		default:
			out = tooDeepIn(fd, v.Message(), appendPath(path, fd, 0, false))
		}
		return out == nil
	})
	return out
}

func tooDeepIn(fd protoreflect.FieldDescriptor, m protoreflect.Message, path []*validate.FieldPathElement) *protovalidate.Violation {
	if !isJSONValue(m.Descriptor()) {
		return tooDeep(m, path)
	}
	if jsonDepth(m.Interface(), MaxJSONDepth+1) <= MaxJSONDepth {
		return nil
	}
	return &protovalidate.Violation{
		Proto: validate.Violation_builder{
			Field:   validate.FieldPath_builder{Elements: path}.Build(),
			RuleId:  new(RuleJSONDepth),
			Message: new(fmt.Sprintf("must not nest objects and arrays more than %d levels deep", MaxJSONDepth)),
		}.Build(),
		FieldDescriptor: fd,
	}
}

func appendPath(path []*validate.FieldPathElement, fd protoreflect.FieldDescriptor, index uint64, indexed bool) []*validate.FieldPathElement {
	el := validate.FieldPathElement_builder{
		FieldNumber: new(int32(fd.Number())),
		FieldName:   new(string(fd.Name())),
		FieldType:   descriptorpb.FieldDescriptorProto_Type(fd.Kind()).Enum(),
	}
	if indexed {
		el.Index = new(index)
	}
	return append(slices.Clip(path), el.Build())
}

// isJSONValue reports whether md is one of the well-known types that carry free-form JSON.
func isJSONValue(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return true
	default:
		return false
	}
}

// jsonDepth is the nesting depth of objects and arrays in a Struct, ListValue or Value, counted no
// further than limit (so the walk stays shallow however deep the value is).
func jsonDepth(v any, limit int) int {
	if limit <= 0 {
		return 0
	}
	switch x := v.(type) {
	case *structpb.Struct:
		d := 0
		for _, f := range x.GetFields() {
			if d = max(d, jsonDepth(f, limit-1)); d >= limit-1 {
				break
			}
		}
		return 1 + d
	case *structpb.ListValue:
		d := 0
		for _, e := range x.GetValues() {
			if d = max(d, jsonDepth(e, limit-1)); d >= limit-1 {
				break
			}
		}
		return 1 + d
	case *structpb.Value:
		switch k := x.GetKind().(type) {
		case *structpb.Value_StructValue:
			return jsonDepth(k.StructValue, limit)
		case *structpb.Value_ListValue:
			return jsonDepth(k.ListValue, limit)
		}
	}
	return 0
}
