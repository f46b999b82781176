package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// explainJSON says why body, one JSON document that protojson refused, does not decode into v: the
// top-level field at fault and what it should hold, quoting none of the body. protojson's own
// errors name the field only sometimes (never for a syntax error inside a value) and quote the
// offending value, so an email address or token sent in the wrong field would come back in the
// error. It decodes each top-level member alone to find the culprit; it runs only for bodies that
// already failed.
func explainJSON(body []byte, v any, opts protojson.UnmarshalOptions) error {
	if err := fieldError(body, v, opts); err != nil {
		return err
	}
	if msg, ok := v.(proto.Message); ok {
		return fmt.Errorf("the request body does not decode as a %s", msg.ProtoReflect().Descriptor().Name())
	}
	return errors.New("the request body does not decode")
}

// fieldError finds the top-level member of body that does not decode into v on its own and says
// why; nil when no single member is at fault.
func fieldError(body []byte, v any, opts protojson.UnmarshalOptions) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return nil
	}
	md := msg.ProtoReflect().Descriptor()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("the request body must be a JSON object")
	}
	seen := map[protoreflect.FieldNumber]bool{}
	oneofs := map[protoreflect.FullName]protoreflect.Name{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil //nolint:nilerr // the body breaks between members: no single member is at fault (explainJSON says so)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(key))
		}
		if fd == nil {
			if identifier.MatchString(key) {
				return fmt.Errorf("unknown field %q", key)
			}
			return errors.New("unknown field")
		}
		name := fd.Name()
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s: not valid JSON, or nested too deeply", name)
		}
		if seen[fd.Number()] {
			return fmt.Errorf("%s: given more than once", name)
		}
		seen[fd.Number()] = true
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if other, ok := oneofs[od.FullName()]; ok {
				return fmt.Errorf("%s: only one of %s and %s may be set", name, other, name)
			}
			oneofs[od.FullName()] = name
		}
		if !utf8.Valid(raw) {
			return fmt.Errorf("%s: contains a string that is not valid UTF-8", name)
		}
		one := append(append([]byte(`{"`+fd.JSONName()+`":`), raw...), '}')
		if err := opts.Unmarshal(one, msg.ProtoReflect().Type().New().Interface()); err != nil {
			return fmt.Errorf("%s: invalid value (want %s)", name, jsonWant(fd))
		}
	}
	return nil
}

// identifier matches what a field name looks like; an unknown key that does not is not echoed.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// jsonWant describes the JSON a field takes.
func jsonWant(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "an object"
	case fd.IsList():
		return "an array"
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BytesKind:
		return "base64"
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.EnumKind:
		return "a " + string(fd.Enum().Name()) + " name"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return "a 32-bit integer"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return "an unsigned 32-bit integer"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return "a 64-bit integer"
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "an unsigned 64-bit integer"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Struct":
			return "a JSON object"
		case "google.protobuf.Value":
			return "a JSON value"
		case "google.protobuf.ListValue":
			return "a JSON array"
		case "google.protobuf.Timestamp":
			return "an RFC 3339 timestamp"
		case "google.protobuf.Duration":
			return `a duration such as "30s"`
		}
		return "an object"
	}
	return "a different value"
}
