package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Requests that do not decode are the caller's mistake and must be INVALID_ARGUMENT naming the
// field. grpc-go turns every codec error into INTERNAL ("failed to unmarshal the received
// message"), which would page operators for a client's bad bytes (a string that is not UTF-8, a
// Struct nested past protobuf's recursion limit), and protobuf-go's error names no field. So the
// server's codec does not fail: it records a status for the message it could not fill, and the
// first interceptor after the access log (DecodeCheck) answers with it before anything reads the
// half-decoded message. The codec and the interceptor come together from one DecodeFailures.

// DecodeFailures holds the statuses of requests the codec could not decode, keyed by the request
// message (a pointer the generated handler allocates per call) until the interceptor takes them.
type DecodeFailures struct {
	// pending counts the entries of failed, so that the interceptor answers a request that decoded
	// (all of them, nearly) with one atomic load rather than a lock every RPC would contend on.
	pending atomic.Int64
	mu      sync.Mutex
	failed  map[any]error
}

// NewDecodeFailures returns the store shared by the server's codec (Config.Decode) and the
// decode-check step of the chain (DecodeCheck).
func NewDecodeFailures() *DecodeFailures {
	return &DecodeFailures{failed: map[any]error{}}
}

func (d *DecodeFailures) put(v any, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failed[v] = err
	d.pending.Add(1)
}

// take returns and forgets the status recorded for v, nil if v decoded.
func (d *DecodeFailures) take(v any) error {
	if d.pending.Load() == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	err, ok := d.failed[v]
	if !ok {
		return nil
	}
	delete(d.failed, v)
	d.pending.Add(-1)
	return err
}

// codec is the server's codec: grpc-go's proto codec, except that a request that does not decode is
// recorded (see DecodeFailures) instead of failing the call with INTERNAL.
func (d *DecodeFailures) codec() encoding.CodecV2 {
	return requestCodec{CodecV2: encoding.GetCodecV2(protocodec.Name), failures: d}
}

type requestCodec struct {
	encoding.CodecV2
	failures *DecodeFailures
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	// data is freed when Unmarshal returns; diagnose now, on a copy.
	c.failures.put(v, undecodable(m, data.Materialize()))
	return nil
}

// unaryCheck answers a request the codec could not decode with its INVALID_ARGUMENT status.
func (d *DecodeFailures) unaryCheck() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := d.take(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// streamCheck does the same for every message a streaming handler receives.
func (d *DecodeFailures) streamCheck() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, checkedStream{ServerStream: ss, failures: d})
	}
}

type checkedStream struct {
	grpc.ServerStream
	failures *DecodeFailures
}

func (s checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.failures.take(m)
}

// undecodable explains why b is not a valid m: INVALID_ARGUMENT naming the top-level field whose
// bytes fail to decode on their own. protobuf-go's fast path reports neither the field nor (for
// recursion) a distinguishable error, so each top-level field is decoded alone into a fresh message
// until one fails; this runs only for requests that already failed. The message holds field names
// from the descriptor and never any of the payload.
func undecodable(m proto.Message, b []byte) error {
	md := m.ProtoReflect().Descriptor()
	typ := m.ProtoReflect().Type()
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		field := fieldLabel(md, num)
		vn := protowire.ConsumeFieldValue(num, wt, b[n:])
		if vn < 0 {
			return fieldViolation(field, "is truncated or malformed")
		}
		if err := proto.Unmarshal(b[:n+vn], typ.New().Interface()); err != nil {
			var u interface{ InvalidUTF8() bool }
			if errors.As(err, &u) && u.InvalidUTF8() {
				return fieldViolation(field, "contains a string that is not valid UTF-8")
			}
			return fieldViolation(field, "is malformed or nested too deeply")
		}
		b = b[n+vn:]
	}
	return fieldViolation("", fmt.Sprintf("the request is not a valid %s message", md.Name()))
}

func fieldLabel(md protoreflect.MessageDescriptor, num protowire.Number) string {
	if fd := md.Fields().ByNumber(num); fd != nil {
		return string(fd.Name())
	}
	return fmt.Sprintf("field number %d", num)
}

// fieldViolation is INVALID_ARGUMENT with a BadRequest detail naming field (none when empty).
func fieldViolation(field, description string) error {
	msg := description
	if field != "" {
		msg = field + ": " + description
	}
	st := status.New(codes.InvalidArgument, msg)
	if field == "" {
		return st.Err()
	}
	withDetails, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: field, Description: description},
	}})
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// gatewayUTF8Check runs on the gateway's connection to the gRPC server. The gateway copies path and
// query parameters into string fields without checking UTF-8 (`/organizations/%FF/...`), and
// marshaling such a request fails in grpc-go as INTERNAL before it leaves the gateway. Only after a
// failure is the request searched for the offending field, so valid requests pay nothing.
func gatewayUTF8Check(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if status.Code(err) != codes.Internal {
		return err
	}
	if m, ok := req.(proto.Message); ok {
		if field, bad := invalidUTF8(m.ProtoReflect(), ""); bad {
			return fieldViolation(field, "contains a string that is not valid UTF-8")
		}
	}
	return err
}

// invalidUTF8 finds a string (or string map key) in m that is not UTF-8 and returns its field path
// ("organization_id", "query.operands[0].filter_value"). A google.protobuf.Struct, Value or
// ListValue is reported as the field that holds it: to a JSON client it is one value.
func invalidUTF8(m protoreflect.Message, path string) (string, bool) {
	var found string
	var bad bool
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := joinPath(path, string(fd.Name()))
		if isJSONValue(m.Descriptor()) {
			p = path
		}
		found, bad = valueInvalidUTF8(fd, v, p)
		return !bad
	})
	return found, bad
}

func valueInvalidUTF8(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) (string, bool) {
	switch {
	case fd.IsList():
		l := v.List()
		for i := range l.Len() {
			p := path
			if !isJSONValue(fd.ContainingMessage()) {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if f, bad := scalarOrMessageInvalidUTF8(fd, l.Get(i), p); bad {
				return f, true
			}
		}
	case fd.IsMap():
		var found string
		var bad bool
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			if s, ok := k.Interface().(string); ok && !utf8.ValidString(s) {
				found, bad = path, true
				return false
			}
			// Map keys are the caller's data: the path names the map field only.
			found, bad = scalarOrMessageInvalidUTF8(fd.MapValue(), mv, path)
			return !bad
		})
		return found, bad
	default:
		return scalarOrMessageInvalidUTF8(fd, v, path)
	}
	return "", false
}

func scalarOrMessageInvalidUTF8(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) (string, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return path, !utf8.ValidString(v.String())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return invalidUTF8(v.Message(), path)
	default:
		return "", false
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
