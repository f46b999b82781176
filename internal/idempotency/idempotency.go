package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
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
	// ReplayedHeader is set to "true" in the response header of a replayed call (REST:
	// Grpc-Metadata-Idempotent-Replayed).
	ReplayedHeader = "idempotent-replayed"
	// MaxKeyLen is the longest key accepted.
	MaxKeyLen = 128
	// DefaultTTL is how long a result is replayed.
	DefaultTTL = 24 * time.Hour
	// DefaultInFlightTTL is how long an unfinished claim holds a key.
	DefaultInFlightTTL = time.Minute

	// ErrorInfo reasons (domain "authsvc").
	ReasonKeyInvalid  = "idempotency_key_invalid"
	ReasonKeyReused   = "idempotency_key_reused"
	ReasonInProgress  = "idempotency_key_in_progress"
	ReasonUnavailable = "idempotency_unavailable"
	errorDomain       = "authsvc"
)

// Config builds an Interceptor.
type Config struct {
	// Store keeps records; nil means a MemoryStore.
	Store Store
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
	applies          func(string) bool
	caller           func(context.Context) string
	ttl, inFlightTTL time.Duration
	log              *slog.Logger
	logEvery         *rate.Sometimes
}

// New returns an Interceptor.
func New(cfg Config) (*Interceptor, error) {
	if cfg.Applies == nil {
		return nil, fmt.Errorf("idempotency: Applies is required")
	}
	i := &Interceptor{
		store: cfg.Store, applies: cfg.Applies, caller: cfg.Caller, ttl: cfg.TTL, inFlightTTL: cfg.InFlightTTL,
		log: cfg.Logger, logEvery: &rate.Sometimes{Interval: 10 * time.Second},
	}
	if i.store == nil {
		i.store = NewMemoryStore(0, cfg.Now)
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

// UnaryServerInterceptor returns the interceptor. Put it after caller access (it scopes keys by
// caller) and before admission control (a replay spends no budget).
func (i *Interceptor) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !i.applies(info.FullMethod) {
			return handler(ctx, req)
		}
		md, _ := metadata.FromIncomingContext(ctx)
		vals := md.Get(MetadataKey)
		if len(vals) == 0 {
			return handler(ctx, req)
		}
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if len(vals) > 1 || !validKey(vals[0]) {
			return nil, withInfo(codes.InvalidArgument, "idempotency-key must be one value of 1 to 128 characters A-Z a-z 0-9 . _ : -", ReasonKeyInvalid, nil)
		}
		h, err := requestHash(msg)
		if err != nil {
			return nil, status.Error(codes.Internal, "internal error")
		}
		key := scopeKey(info.FullMethod, i.caller(ctx), vals[0])

		rec, claimed, err := i.store.Begin(ctx, key, h, i.inFlightTTL)
		if err != nil {
			i.warn(ctx, "begin", err)
			return nil, withInfo(codes.Unavailable, "idempotency keys are temporarily unavailable; retry later", ReasonUnavailable, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
		}
		if !claimed {
			return i.replay(ctx, info.FullMethod, h, rec)
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

func (i *Interceptor) replay(ctx context.Context, method string, h []byte, rec Record) (any, error) {
	if !bytes.Equal(rec.Hash, h) {
		return nil, withInfo(codes.InvalidArgument, "idempotency-key was already used with a different request", ReasonKeyReused, nil)
	}
	if !rec.Done {
		return nil, withInfo(codes.Aborted, "a request with this idempotency-key is in progress; retry later", ReasonInProgress, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	}
	resp, err := newResponse(method)
	if err == nil {
		err = proto.Unmarshal(rec.Response, resp)
	}
	if err != nil {
		i.warn(ctx, "replay", err)
		return nil, status.Error(codes.Internal, "internal error")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(ReplayedHeader, "true")) // best effort: the response is what matters
	return resp, nil
}

func (i *Interceptor) complete(ctx context.Context, key string, h []byte, resp any) {
	m, ok := resp.(proto.Message)
	if !ok || holdsSecret(m.ProtoReflect()) {
		if err := i.store.Release(ctx, key); err != nil {
			i.warn(ctx, "release", err)
		}
		return
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err == nil {
		err = i.store.Complete(ctx, key, Record{Hash: h, Done: true, Response: b}, i.ttl)
	}
	if err != nil {
		// The claim expires after InFlightTTL; until then a retry is told to wait, then runs.
		i.warn(ctx, "complete", err)
	}
}

func (i *Interceptor) warn(ctx context.Context, op string, err error) {
	i.logEvery.Do(func() {
		i.log.WarnContext(ctx, "idempotency: store failed (logged at most every 10s)", "op", op, "error", err.Error())
	})
}

func validKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && !strings.ContainsRune("._:-", rune(c)) {
			return false
		}
	}
	return true
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

// holdsSecret reports whether any populated field, at any depth, is marked debug_redact.
func holdsSecret(m protoreflect.Message) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDebugRedact() {
			found = true
			return false
		}
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len() && !found; j++ {
				found = holdsSecret(l.Get(j).Message())
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = holdsSecret(mv.Message())
				return !found
			})
		default:
			found = holdsSecret(v.Message())
		}
		return !found
	})
	return found
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
