package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// MetadataKey is the request metadata carrying the key (REST: the Idempotency-Key header).
	MetadataKey = "idempotency-key"
	// BinaryMetadataKey carries a key that cannot travel as gRPC text metadata. The REST gateway
	// forwards an Idempotency-Key value that is not printable ASCII under it (grpc-gateway would
	// otherwise drop the value and the call would run without a key); the interceptor refuses any
	// value under it, so such a key is refused rather than ignored.
	BinaryMetadataKey = MetadataKey + "-bin"
	// Header is the REST name of the key, used in error messages.
	Header = "Idempotency-Key"
	// ReplayedHeader is set to "true" in the response header of a replayed call (REST:
	// Grpc-Metadata-Idempotent-Replayed).
	ReplayedHeader = "idempotent-replayed"
	// MaxKeyLen is the longest key accepted.
	MaxKeyLen = 255
	// DefaultTTL is how long a result is replayed.
	DefaultTTL = 24 * time.Hour
	// DefaultInFlightTTL is how long an unfinished claim holds a key.
	DefaultInFlightTTL = time.Minute

	// ErrorInfo reasons (domain "authsvc").
	ReasonKeyInvalid   = "idempotency_key_invalid"
	ReasonKeyReused    = "idempotency_key_reused"
	ReasonInProgress   = "idempotency_key_in_progress"
	ReasonUnavailable  = "idempotency_unavailable"
	ReasonNotSupported = "idempotency_key_not_supported"
	errorDomain        = "authsvc"
)

// Config builds an Interceptor.
type Config struct {
	// Store keeps records; nil means a MemoryStore.
	Store Store
	// Keys encrypts every stored response (see Keyring). Nil: with a MemoryStore (or a nil Store)
	// a random key of this process is used; with any other store responses are stored in the
	// clear, and an RPC whose response can carry a secret refuses keys (FAILED_PRECONDITION),
	// since its replay could not be stored without writing the secret down.
	Keys *Keyring
	// Applies reports whether an RPC (full method name) honours keys; typically
	// admission.Controller.Idempotent. Required.
	Applies func(fullMethod string) bool
	// Caller returns the authenticated caller's identity ("" for none); it scopes keys. Nil: keys
	// are scoped by RPC only.
	Caller func(ctx context.Context) string
	// TTL and InFlightTTL default to DefaultTTL and DefaultInFlightTTL.
	TTL, InFlightTTL time.Duration
	// Now is the memory store's clock; nil means time.Now.
	Now func() time.Time
	// Logger receives store failures, at most every 10 s; nil discards.
	Logger *slog.Logger
}

// Interceptor replays side-effecting calls that carry an idempotency key.
type Interceptor struct {
	store            Store
	keys             *Keyring // nil: records in the clear, secret-bearing RPCs refuse keys
	applies          func(string) bool
	caller           func(context.Context) string
	ttl, inFlightTTL time.Duration
	log              *slog.Logger
	logEvery         *rate.Sometimes
	secretive        sync.Map // full method -> bool: its response type has a debug_redact field
}

// New returns an Interceptor.
func New(cfg Config) (*Interceptor, error) {
	if cfg.Applies == nil {
		return nil, fmt.Errorf("idempotency: Applies is required")
	}
	i := &Interceptor{
		store: cfg.Store, keys: cfg.Keys, applies: cfg.Applies, caller: cfg.Caller, ttl: cfg.TTL, inFlightTTL: cfg.InFlightTTL,
		log: cfg.Logger, logEvery: &rate.Sometimes{Interval: 10 * time.Second},
	}
	if i.store == nil {
		i.store = NewMemoryStore(0, cfg.Now)
	}
	if _, local := i.store.(*MemoryStore); local && i.keys == nil {
		// Only this process reads a MemoryStore, so a key only this process knows suffices.
		k, err := NewRandomKeyring()
		if err != nil {
			return nil, err
		}
		i.keys = k
	}
	if i.caller == nil {
		i.caller = func(context.Context) string { return "" }
	}
	if i.ttl <= 0 {
		i.ttl = DefaultTTL
	}
	if i.inFlightTTL <= 0 {
		i.inFlightTTL = DefaultInFlightTTL
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	return i, nil
}

// Encrypts reports whether stored responses are encrypted. When false, RPCs whose responses can
// carry a secret refuse keys.
func (i *Interceptor) Encrypts() bool { return i.keys != nil }

// UnaryServerInterceptor returns the interceptor. Put it after caller access (it scopes keys by
// caller) and before admission control (a replay spends no budget).
func (i *Interceptor) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !i.applies(info.FullMethod) {
			return handler(ctx, req)
		}
		md, _ := metadata.FromIncomingContext(ctx)
		text, bin := md.Get(MetadataKey), md.Get(BinaryMetadataKey)
		if len(text)+len(bin) == 0 {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if problem := keyProblem(text, bin); problem != "" {
			return nil, withInfo(codes.InvalidArgument,
				"invalid "+Header+" header (gRPC metadata "+MetadataKey+"): "+problem+
					"; send one value of 1 to 255 printable ASCII characters without spaces (0x21-0x7E), such as a UUID",
				ReasonKeyInvalid, nil)
		}
		if i.keys == nil && i.mayHoldSecret(info.FullMethod) {
			return nil, withInfo(codes.FailedPrecondition,
				Header+" header (gRPC metadata "+MetadataKey+") is not accepted on "+strings.TrimPrefix(info.FullMethod, "/")+
					" by this deployment: its response carries a secret, which is kept for replay only encrypted, and the operator has not configured AUTHSVC_IDEMPOTENCY_KEYS_FILE; call without the key",
				ReasonNotSupported, nil)
		}
		h, err := requestHash(msg)
		if err != nil {
			return nil, status.Error(codes.Internal, "internal error")
		}
		key := scopeKey(info.FullMethod, i.caller(ctx), text[0])
		rec, claimed, err := i.store.Begin(ctx, key, h, i.inFlightTTL)
		if err != nil {
			i.warn(ctx, "begin", err)
			return nil, withInfo(codes.Unavailable, "idempotency keys are temporarily unavailable; retry later", ReasonUnavailable, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
		}
		if !claimed {
			return i.replay(ctx, info.FullMethod, key, h, rec)
		}
		resp, herr := handler(ctx, req)
		// The call's outcome is decided; a caller hanging up must not leave the key claimed.
		sctx := context.WithoutCancel(ctx)
		if herr != nil {
			if err := i.store.Release(sctx, key); err != nil {
				i.warn(ctx, "release", err)
			}
			return resp, herr
		}
		i.complete(sctx, key, h, resp)
		return resp, nil
	}
}

func (i *Interceptor) replay(ctx context.Context, method, key string, h []byte, rec Record) (any, error) {
	if !bytes.Equal(rec.Hash, h) {
		return nil, withInfo(codes.InvalidArgument, Header+" (idempotency-key) was already used with a different request", ReasonKeyReused, nil)
	}
	if !rec.Done {
		return nil, withInfo(codes.Aborted, "a request with this "+Header+" (idempotency-key) is in progress; retry later", ReasonInProgress, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	}
	resp, err := i.decode(method, key, rec)
	if err != nil {
		// The call ran and succeeded; running it again would repeat its side effect, so the
		// caller gets an error and the operator a log line (a removed key, a corrupt record).
		i.warn(ctx, "replay", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(ReplayedHeader, "true")) // best effort: the response is what matters
	return resp, nil
}

func (i *Interceptor) decode(method, key string, rec Record) (proto.Message, error) {
	resp, err := newResponse(method)
	if err != nil {
		return nil, err
	}
	b := rec.Response
	switch {
	case rec.KeyID != "":
		if i.keys == nil {
			return nil, fmt.Errorf("idempotency: record encrypted with key %q, and no key is configured", rec.KeyID)
		}
		if b, err = i.keys.open(rec.KeyID, recordAAD(key, rec.Hash), b); err != nil {
			return nil, err
		}
	case i.mayHoldSecret(method):
		// Never written by authsvc: such records are always encrypted.
		return nil, fmt.Errorf("idempotency: unencrypted record for %s, whose responses carry secrets", method)
	}
	if err := proto.Unmarshal(b, resp); err != nil {
		return nil, fmt.Errorf("idempotency: decode stored response: %w", err)
	}
	return resp, nil
}

func (i *Interceptor) complete(ctx context.Context, key string, h []byte, resp any) {
	m, ok := resp.(proto.Message)
	if !ok {
		if err := i.store.Release(ctx, key); err != nil {
			i.warn(ctx, "release", err)
		}
		return
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err == nil {
		rec := Record{Hash: h, Done: true, Response: b}
		if i.keys != nil {
			rec.KeyID, rec.Response = i.keys.seal(recordAAD(key, h), b)
		}
		err = i.store.Complete(ctx, key, rec, i.ttl)
	}
	if err != nil {
		// The claim expires after InFlightTTL; until then a retry is told to wait, then runs.
		i.warn(ctx, "complete", err)
	}
}

func (i *Interceptor) warn(ctx context.Context, op string, err error) {
	i.logEvery.Do(func() {
		i.log.WarnContext(ctx, "idempotency: store or stored record failed (logged at most every 10s)", "op", op, "error", err.Error())
	})
}

// mayHoldSecret reports whether method's response type has a debug_redact field at any depth.
func (i *Interceptor) mayHoldSecret(method string) bool {
	if v, ok := i.secretive.Load(method); ok {
		return v.(bool)
	}
	secret := true // a method that cannot be resolved is treated as secret-bearing
	if resp, err := newResponse(method); err == nil {
		secret = HoldsSecretType(resp.ProtoReflect().Descriptor())
	}
	i.secretive.Store(method, secret)
	return secret
}

// HoldsSecretType reports whether messages of type md can hold a secret: a field marked
// debug_redact, at any depth (session tokens, client secrets).
func HoldsSecretType(md protoreflect.MessageDescriptor) bool {
	return holdsSecretType(md, map[protoreflect.FullName]bool{})
}

func holdsSecretType(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for j := range fields.Len() {
		fd := fields.Get(j)
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDebugRedact() {
			return true
		}
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if fd.Message() != nil && holdsSecretType(fd.Message(), seen) {
			return true
		}
	}
	return false
}

// keyProblem says what is wrong with the key values a call carries ("" when they are one good
// key). It never quotes the key.
func keyProblem(text, bin []string) string {
	switch n := len(text) + len(bin); {
	case n > 1:
		return fmt.Sprintf("sent %d times", n)
	case len(bin) == 1:
		if charProblem(bin[0]) == "" && bin[0] != "" {
			return "sent as binary metadata (" + BinaryMetadataKey + "); send it as text"
		}
		return "contains characters that are not printable ASCII"
	}
	k := text[0]
	switch {
	case k == "":
		return "is empty"
	case len(k) > MaxKeyLen:
		return fmt.Sprintf("is %d characters long, more than %d", len(k), MaxKeyLen)
	}
	return charProblem(k)
}

// charProblem: a key is visible ASCII. Space is refused too: HTTP drops leading and trailing
// spaces from header values, so a key with spaces would not be the same key over REST and gRPC.
func charProblem(k string) string {
	for j := range len(k) {
		if c := k[j]; c < 0x21 || c > 0x7e {
			if c == ' ' {
				return fmt.Sprintf("has a space at position %d", j+1)
			}
			return fmt.Sprintf("has a character that is not printable ASCII at position %d", j+1)
		}
	}
	return ""
}

// requestHash identifies the request's content; deterministic encoding makes equal messages
// hash equally.
func requestHash(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("idempotency: encode request: %w", err)
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// scopeKey hashes the scope so that stored keys hold no caller identity and have a fixed size.
func scopeKey(method, caller, key string) string {
	h := sha256.New()
	for _, s := range []string{method, caller, key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recordAAD binds an encrypted response to where it is stored and to the request it answers, so
// that a record moved to another key or request does not decrypt.
func recordAAD(key string, h []byte) []byte {
	return append([]byte("authsvc-idempotency-v1\x00"+key+"\x00"), h...)
}

// newResponse returns an empty response message of method.
func newResponse(fullMethod string) (proto.Message, error) {
	svc, name, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("idempotency: bad method %q", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, fmt.Errorf("idempotency: %s: %w", fullMethod, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("idempotency: %s is not a service", svc)
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return nil, fmt.Errorf("idempotency: %s: no such method", fullMethod)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, fmt.Errorf("idempotency: %s: %w", fullMethod, err)
	}
	return mt.New().Interface(), nil
}

func withInfo(code codes.Code, msg, reason string, retry *errdetails.RetryInfo) error {
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}}
	if retry != nil {
		details = append(details, retry)
	}
	if d, err := st.WithDetails(details...); err == nil {
		st = d
	}
	return st.Err()
}
