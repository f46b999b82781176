package idempotency_test

// End-to-end tests: the production app (internal/apptest) against the Stytch emulator, over gRPC
// and REST, with records in memory or in a real redis-server. The emulator's request counter and
// outbox are the evidence of what reached Stytch.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/redistest"
	"github.com/authsvc/authsvc/internal/stytchemu"
	"github.com/authsvc/authsvc/internal/testkit"
)

var uniq atomic.Int64

func newEmail(prefix string) string { return fmt.Sprintf("%s-%d@example.com", prefix, uniq.Add(1)) }

func newKey(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), uniq.Add(1))
}

// keysFile writes an AUTHSVC_IDEMPOTENCY_KEYS_FILE holding the given id:base64 entries.
func keysFile(t *testing.T, entries ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "idempotency-keys")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(entries, "\n")+"\n"), 0o600))
	return p
}

// slowRedis reports the answer authsvc gives when Redis did not answer within its production
// timeout (100 ms per I/O): UNAVAILABLE, REST 503. On a test machine starved of CPU that can happen
// to any call; it is the designed fail-closed behaviour, not what these tests are about.
func slowRedis(err error) bool { return status.Code(err) == codes.Unavailable }

// attempts runs attempt until it completes without meeting slowRedis, at most three times. Each
// retry starts over with a fresh request and key (a claim written before the timeout would hold
// the old key for a minute) after moving the emulator's clock, which apptest also gives the Redis
// client's breaker, past the breaker's one-second cooldown. Without Redis (shared false) a slow
// answer cannot happen and fails the test at once.
func attempts(t *testing.T, env *apptest.Env, shared bool, attempt func(t *testing.T) (slow bool)) {
	t.Helper()
	for range 3 {
		if !attempt(t) {
			return
		}
		require.True(t, shared, "UNAVAILABLE without Redis")
		env.Emu.Advance(2 * time.Second)
	}
	t.Fatal("Redis did not answer in time in three attempts")
}

// world is the fixtures every idempotent RPC needs: an organization, a service token allowed to
// create members and M2M clients, and a member with a phone and a session for SMS sends.
type world struct {
	env   *apptest.Env
	org   stytchemu.Organization
	token string
}

func newWorld(t *testing.T, env *apptest.Env) *world {
	t.Helper()
	org, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: fmt.Sprintf("Org %d", uniq.Add(1))})
	require.NoError(t, err)
	c, err := env.Emu.CreateM2MClient(fmt.Sprintf("idem-%d", uniq.Add(1)), []string{"write:members", "write:m2m_clients", "write:users", "write:sessions", "write:scim"})
	require.NoError(t, err)
	tok, err := m2mv1.NewM2MServiceClient(env.Conn).IssueToken(t.Context(), &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret})
	require.NoError(t, err)
	return &world{env: env, org: org, token: tok.GetAccessToken()}
}

// ist runs a discovery email OTP login and returns its intermediate session token.
func (w *world) ist(t *testing.T) string {
	t.Helper()
	addr := newEmail("founder")
	otps := b2bv1.NewOTPsServiceClient(w.env.Conn)
	attempts(t, w.env, true, func(t *testing.T) bool {
		_, err := otps.EmailDiscoverySend(t.Context(), &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: addr})
		if slowRedis(err) {
			return true
		}
		require.NoError(t, err)
		return false
	})
	msg, ok := w.env.Emu.LastMessage(addr)
	require.True(t, ok)
	r, err := otps.EmailDiscoveryAuthenticate(t.Context(), &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{EmailAddress: addr, Code: msg.Code})
	require.NoError(t, err)
	return r.GetIntermediateSessionToken()
}

// requests builds a fresh, valid request for every RPC the table marks idempotent, with the
// bearer credential it needs ("" for public RPCs). A new idempotent RPC fails the replay test
// until it has an entry here.
func (w *world) requests() map[string]func(t *testing.T) (proto.Message, string) {
	out := map[string]func(t *testing.T) (proto.Message, string){
		b2bv1.MagicLinksService_LoginOrSignup_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.MagicLinksServiceLoginOrSignupRequest{OrganizationId: w.org.ID, EmailAddress: newEmail("ml")}, ""
		},
		b2bv1.MagicLinksService_Invite_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.MagicLinksServiceInviteRequest{OrganizationId: w.org.ID, EmailAddress: newEmail("invitee")}, w.token
		},
		b2bv1.MagicLinksService_DiscoverySend_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.MagicLinksServiceDiscoverySendRequest{EmailAddress: newEmail("mld")}, ""
		},
		b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: w.org.ID, EmailAddress: newEmail("otp")}, ""
		},
		b2bv1.PasswordsService_EmailResetStart_FullMethodName: func(t *testing.T) (proto.Message, string) {
			m, err := w.env.Emu.CreateMember(w.org.ID, stytchemu.MemberParams{Email: newEmail("pwr")})
			require.NoError(t, err)
			return &b2bv1.PasswordsServiceEmailResetStartRequest{OrganizationId: w.org.ID, EmailAddress: m.Email}, ""
		},
		b2bv1.PasswordsService_DiscoveryEmailResetStart_FullMethodName: func(t *testing.T) (proto.Message, string) {
			m, err := w.env.Emu.CreateMember(w.org.ID, stytchemu.MemberParams{Email: newEmail("pwdr")})
			require.NoError(t, err)
			return &b2bv1.PasswordsServiceDiscoveryEmailResetStartRequest{EmailAddress: m.Email}, ""
		},
		b2bv1.PasswordsService_Migrate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.PasswordsServiceMigrateRequest{
				OrganizationId: w.org.ID, EmailAddress: newEmail("pwm"), HashType: consumerv1.HashType_HASH_TYPE_MD_5,
				Hash: "5f4dcc3b5aa765d61d8327deb882cf99",
			}, w.token
		},
		b2bv1.OTPsService_EmailDiscoverySend_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.OTPsServiceEmailDiscoverySendRequest{EmailAddress: newEmail("otpd")}, ""
		},
		b2bv1.OTPsService_SmsSend_FullMethodName: func(t *testing.T) (proto.Message, string) {
			phone := fmt.Sprintf("+1555%07d", uniq.Add(1))
			s := testkit.MemberSession(t, w.env.Emu, w.org.ID, stytchemu.MemberParams{Email: newEmail("sms"), MFAPhoneNumber: phone})
			return &b2bv1.OTPsServiceSmsSendRequest{OrganizationId: w.org.ID, MemberId: s.MemberID, Credential: &b2bv1.OTPsServiceSmsSendRequest_SessionJwt{SessionJwt: s.JWT}}, ""
		},
		b2bv1.MembersService_Create_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &b2bv1.MembersServiceCreateRequest{OrganizationId: w.org.ID, EmailAddress: newEmail("new")}, w.token
		},
		b2bv1.MembersService_StartEmailUpdate_FullMethodName: func(t *testing.T) (proto.Message, string) {
			// An email update needs an active member with a verified address: one that logged in.
			s := testkit.MemberSession(t, w.env.Emu, w.org.ID, stytchemu.MemberParams{Email: newEmail("mover")})
			return &b2bv1.MembersServiceStartEmailUpdateRequest{OrganizationId: w.org.ID, MemberId: s.MemberID, EmailAddress: newEmail("moved")}, w.token
		},
		b2bv1.DiscoveryService_CreateOrganization_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &b2bv1.DiscoveryServiceCreateOrganizationRequest{IntermediateSessionToken: w.ist(t), OrganizationName: fmt.Sprintf("Founded %d", uniq.Add(1))}, ""
		},
		b2bv1.SCIMService_CreateConnection_FullMethodName: func(t *testing.T) (proto.Message, string) {
			// An organization has one SCIM connection: each request gets its own organization.
			o, err := w.env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: fmt.Sprintf("SCIM %d", uniq.Add(1))})
			require.NoError(t, err)
			return &b2bv1.SCIMServiceCreateConnectionRequest{OrganizationId: o.ID, DisplayName: "IdP"}, w.token
		},
		m2mv1.M2MService_CreateClient_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &m2mv1.CreateClientRequest{ClientName: fmt.Sprintf("svc-%d", uniq.Add(1)), Scopes: []string{"read:orders"}}, w.token
		},
	}
	for method, mk := range w.consumerRequests() {
		out[method] = mk
	}
	return out
}

// consumerRequests are the consumer API's idempotent RPCs, on the dev-mode consumer project.
func (w *world) consumerRequests() map[string]func(t *testing.T) (proto.Message, string) {
	user := func(t *testing.T, p stytchemu.UserParams) stytchemu.User {
		t.Helper()
		require.NotNil(t, w.env.Consumer, "the test app serves no consumer project")
		u, err := w.env.Consumer.CreateUser(p)
		require.NoError(t, err)
		return u
	}
	phone := func() string { return fmt.Sprintf("+1555%07d", uniq.Add(1)) }
	return map[string]func(t *testing.T) (proto.Message, string){
		consumerv1.MagicLinksService_Send_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.MagicLinksServiceSendRequest{Email: user(t, stytchemu.UserParams{Email: newEmail("cml")}).Email}, ""
		},
		consumerv1.MagicLinksService_LoginOrCreate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: newEmail("cmlc")}, ""
		},
		consumerv1.MagicLinksService_Invite_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.MagicLinksServiceInviteRequest{Email: newEmail("cinvitee")}, w.token
		},
		consumerv1.MagicLinksService_Create_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.MagicLinksServiceCreateRequest{UserId: user(t, stytchemu.UserParams{Email: newEmail("cemb")}).ID}, w.token
		},
		consumerv1.OTPsService_SmsSend_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceSmsSendRequest{PhoneNumber: user(t, stytchemu.UserParams{Phone: phone()}).Phone}, ""
		},
		consumerv1.OTPsService_SmsLoginOrCreate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceSmsLoginOrCreateRequest{PhoneNumber: phone()}, ""
		},
		consumerv1.OTPsService_WhatsAppSend_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceWhatsAppSendRequest{PhoneNumber: user(t, stytchemu.UserParams{Phone: phone()}).Phone}, ""
		},
		consumerv1.OTPsService_WhatsAppLoginOrCreate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceWhatsAppLoginOrCreateRequest{PhoneNumber: phone()}, ""
		},
		consumerv1.OTPsService_EmailSend_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceEmailSendRequest{Email: user(t, stytchemu.UserParams{Email: newEmail("cotp")}).Email}, ""
		},
		consumerv1.OTPsService_EmailLoginOrCreate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.OTPsServiceEmailLoginOrCreateRequest{Email: newEmail("cotpc")}, ""
		},
		consumerv1.UsersService_Create_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.UsersServiceCreateRequest{Email: newEmail("cuser")}, w.token
		},
		consumerv1.PasswordsService_Create_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.PasswordsServiceCreateRequest{Email: newEmail("cpw"), Password: "tangerine-Kayak-47-orbit", SessionDurationMinutes: proto.Int32(60)}, ""
		},
		consumerv1.PasswordsService_Migrate_FullMethodName: func(*testing.T) (proto.Message, string) {
			return &consumerv1.PasswordsServiceMigrateRequest{
				Email: newEmail("cpwm"), Hash: "5f4dcc3b5aa765d61d8327deb882cf99", HashType: consumerv1.HashType_HASH_TYPE_MD_5,
			}, w.token
		},
		consumerv1.PasswordsService_EmailResetStart_FullMethodName: func(t *testing.T) (proto.Message, string) {
			return &consumerv1.PasswordsServiceEmailResetStartRequest{Email: user(t, stytchemu.UserParams{Email: newEmail("cpwr")}).Email}, ""
		},
		consumerv1.SessionsService_Migrate_FullMethodName: func(t *testing.T) (proto.Message, string) {
			tok := fmt.Sprintf("external-idp-token-%d", uniq.Add(1))
			require.NoError(t, w.env.Consumer.AddMigrationToken(tok, newEmail("cmig")))
			return &consumerv1.SessionsServiceMigrateRequest{SessionToken: tok, SessionDurationMinutes: proto.Int32(60)}, w.token
		},
	}
}

// idempotentMethods enumerates the admission table, so that a new idempotent RPC is covered.
func idempotentMethods(t *testing.T) []string {
	t.Helper()
	table, err := admission.DefaultTable()
	require.NoError(t, err)
	var out []string
	for m, r := range table {
		if r.Idempotent {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

func methodDesc(t *testing.T, fullMethod string) protoreflect.MethodDescriptor {
	t.Helper()
	svc, name, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	require.NoError(t, err)
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(name))
	require.NotNil(t, md, fullMethod)
	return md
}

func newMessage(d protoreflect.MessageDescriptor) proto.Message {
	mt, _ := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	return mt.New().Interface()
}

// callGRPC invokes method on the gRPC port with an idempotency key.
func callGRPC(t *testing.T, env *apptest.Env, method string, req proto.Message, bearer, key string) (proto.Message, metadata.MD, error) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(t.Context(), idempotency.MetadataKey, key)
	if bearer != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	}
	resp := newMessage(methodDesc(t, method).Output())
	var hdr metadata.MD
	err := env.Conn.Invoke(ctx, method, req, resp, grpc.Header(&hdr))
	return resp, hdr, err
}

// restPath is the method's REST route (google.api.http) with path parameters filled from req.
func restPath(t *testing.T, md protoreflect.MethodDescriptor, req proto.Message) string {
	t.Helper()
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	require.NotEmpty(t, rule.GetPost(), "%s: a POST route", md.FullName())
	require.Equal(t, "*", rule.GetBody())
	path := rule.GetPost()
	for strings.Contains(path, "{") {
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		fd := req.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(path[i+1 : j]))
		require.NotNil(t, fd, path)
		path = path[:i] + url.PathEscape(req.ProtoReflect().Get(fd).String()) + path[j+1:]
	}
	return path
}

// callREST posts req as JSON to the method's route with the Idempotency-Key header.
func callREST(t *testing.T, env *apptest.Env, method string, req proto.Message, bearer string, keys ...string) (proto.Message, apptest.Response) {
	t.Helper()
	md := methodDesc(t, method)
	body, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
	require.NoError(t, err)
	h := http.Header{idempotency.Header: keys}
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	r := env.RESTWithHeaders(t, http.MethodPost, restPath(t, md, req), string(body), h)
	resp := newMessage(md.Output())
	if r.Status == http.StatusOK {
		require.NoError(t, protojson.Unmarshal(r.Body, resp), "%s", r.Body)
	}
	return resp, r
}

// Every RPC the admission table marks idempotent, called twice with one key over gRPC and over
// REST, returns the same response field by field, and Stytch sees the first call only. With
// Redis and a configured key the stored records hold no secret in the clear.
func TestEveryIdempotentRPCReplays(t *testing.T) {
	for name, start := range map[string]func(t *testing.T) (*apptest.Env, *redis.Client){
		// No key configured: the in-memory store uses a key of its own.
		"memory": func(t *testing.T) (*apptest.Env, *redis.Client) { return apptest.Start(t), nil },
		"redis": func(t *testing.T) (*apptest.Env, *redis.Client) {
			srv := redistest.Start(t)
			env := apptest.Start(t, apptest.WithEnv(map[string]string{
				"AUTHSVC_REDIS_URL":             srv.URL(),
				"AUTHSVC_IDEMPOTENCY_KEYS_FILE": keysFile(t, "k1:"+testKey(0x11)),
			}))
			return env, srv.Client(t)
		},
	} {
		t.Run(name, func(t *testing.T) {
			env, rdb := start(t)
			w := newWorld(t, env)
			reqs := w.requests()
			served := env.ServedServices(t)
			var secrets []string
			for _, method := range idempotentMethods(t) {
				if svc, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/"); !served[svc] {
					t.Logf("%s: its service is declared but not served yet, skipped", method)
					continue
				}
				mk, ok := reqs[method]
				if !assert.True(t, ok, "%s is marked idempotent but the replay test has no request for it", method) {
					continue
				}
				t.Run(strings.TrimPrefix(method, "/")+"/grpc", func(t *testing.T) {
					attempts(t, env, rdb != nil, func(t *testing.T) bool {
						req, bearer := mk(t)
						key := newKey("grpc")
						before, mails := env.StytchCalls("*"), env.Deliveries()
						first, hdr, err := callGRPC(t, env, method, req, bearer, key)
						if slowRedis(err) {
							return true
						}
						require.NoError(t, err)
						assert.Empty(t, hdr.Get(idempotency.ReplayedHeader))
						calls := env.StytchCalls("*") - before
						require.Positive(t, calls, "the first call reaches Stytch")
						again, hdr, err := callGRPC(t, env, method, req, bearer, key)
						if slowRedis(err) {
							return true
						}
						require.NoError(t, err)
						assert.True(t, proto.Equal(first, again), "replayed response differs:\nfirst: %v\nagain: %v", first, again)
						assert.Equal(t, []string{"true"}, hdr.Get(idempotency.ReplayedHeader))
						assert.Equal(t, calls, env.StytchCalls("*")-before, "the replay does not reach Stytch")
						assert.LessOrEqual(t, env.Deliveries()-mails, 1, "at most one message sent")
						secrets = append(secrets, secretsOf(first)...)
						return false
					})
				})
				t.Run(strings.TrimPrefix(method, "/")+"/rest", func(t *testing.T) {
					attempts(t, env, rdb != nil, func(t *testing.T) bool {
						req, bearer := mk(t)
						key := newKey("rest")
						before, mails := env.StytchCalls("*"), env.Deliveries()
						first, r1 := callREST(t, env, method, req, bearer, key)
						if r1.Status == http.StatusServiceUnavailable {
							return true
						}
						require.Equal(t, http.StatusOK, r1.Status, "%s", r1.Body)
						calls := env.StytchCalls("*") - before
						require.Positive(t, calls)
						again, r2 := callREST(t, env, method, req, bearer, key)
						if r2.Status == http.StatusServiceUnavailable {
							return true
						}
						require.Equal(t, http.StatusOK, r2.Status, "%s", r2.Body)
						assert.True(t, proto.Equal(first, again), "replayed response differs:\nfirst: %s\nagain: %s", r1.Body, r2.Body)
						assert.Equal(t, "true", r2.Header.Get("Grpc-Metadata-Idempotent-Replayed"))
						assert.Equal(t, calls, env.StytchCalls("*")-before, "the replay does not reach Stytch")
						assert.LessOrEqual(t, env.Deliveries()-mails, 1, "at most one message sent")
						secrets = append(secrets, secretsOf(first)...)
						return false
					})
				})
			}
			if rdb == nil {
				return
			}
			// CreateClient's client_secret, CreateConnection's bearer_token and CreateOrganization's
			// session token and JWT, twice each.
			require.GreaterOrEqual(t, len(secrets), 8)
			recs := rawRecords(t, rdb)
			require.NotEmpty(t, recs)
			for _, raw := range recs {
				for _, s := range secrets {
					assertNoPlaintext(t, raw, s)
				}
			}
		})
	}
}

// secretsOf returns the values of the populated top-level debug_redact string fields of a
// response (client_secret, session_token, session_jwt).
func secretsOf(m proto.Message) []string {
	var out []string
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if o, ok := fd.Options().(*descriptorpb.FieldOptions); ok && o.GetDebugRedact() && fd.Kind() == protoreflect.StringKind && !fd.IsList() {
			out = append(out, v.String())
		}
		return true
	})
	return out
}

// With records in Redis and no AUTHSVC_IDEMPOTENCY_KEYS_FILE, a key on a secret-bearing RPC is
// refused before Stytch is called (FAILED_PRECONDITION / 400 naming the header), over gRPC and
// REST; a send still replays.
func TestSecretBearingRefusedOnRedisWithoutKey(t *testing.T) {
	srv := redistest.Start(t)
	env := apptest.Start(t, apptest.WithEnv(map[string]string{"AUTHSVC_REDIS_URL": srv.URL()}))
	assert.Contains(t, env.Logs(), "AUTHSVC_IDEMPOTENCY_KEYS_FILE is not set")
	w := newWorld(t, env)
	reqs := w.requests()
	for _, method := range []string{
		m2mv1.M2MService_CreateClient_FullMethodName, b2bv1.DiscoveryService_CreateOrganization_FullMethodName,
		b2bv1.SCIMService_CreateConnection_FullMethodName,
	} {
		req, bearer := reqs[method](t)
		before := env.Emu.Requests("*")
		_, _, err := callGRPC(t, env, method, req, bearer, newKey("g"))
		require.Equal(t, codes.FailedPrecondition, status.Code(err), "%s: %v", method, err)
		assert.Contains(t, status.Convert(err).Message(), "Idempotency-Key")
		assert.Contains(t, status.Convert(err).Message(), "AUTHSVC_IDEMPOTENCY_KEYS")
		_, r := callREST(t, env, method, req, bearer, newKey("r"))
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		assert.Contains(t, string(r.Body), "Idempotency-Key")
		assert.Equal(t, before, env.Emu.Requests("*"), "%s: nothing reached Stytch", method)
	}
	attempts(t, env, true, func(t *testing.T) bool {
		req, _ := reqs[b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName](t)
		key := newKey("send")
		first, _, err := callGRPC(t, env, b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName, req, "", key)
		if slowRedis(err) {
			return true
		}
		require.NoError(t, err)
		again, hdr, err := callGRPC(t, env, b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName, req, "", key)
		if slowRedis(err) {
			return true
		}
		require.NoError(t, err)
		assert.True(t, proto.Equal(first, again))
		assert.Equal(t, []string{"true"}, hdr.Get(idempotency.ReplayedHeader))
		return false
	})
}

// Two replicas share Redis while the key rotates: one still configured with A, one with B,A. A
// CreateClient stored by the first replays on the second with the same client and secret.
func TestRotationAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	emu := testkit.Emulator(t, stytchemu.WithSandbox())
	a, b := "a:"+testKey(0xa1), "b:"+testKey(0xb2)
	replica := func(entries ...string) *apptest.Env {
		return apptest.Start(t, apptest.WithEmulator(emu), apptest.WithEnv(map[string]string{
			"AUTHSVC_REDIS_URL":             srv.URL(),
			"AUTHSVC_IDEMPOTENCY_KEYS_FILE": keysFile(t, entries...),
		}))
	}
	old, rotated := replica(a), replica(b, a)
	w := newWorld(t, old)
	attempts(t, old, true, func(t *testing.T) bool {
		req, bearer := w.requests()[m2mv1.M2MService_CreateClient_FullMethodName](t)
		key := newKey("rot")
		first, _, err := callGRPC(t, old, m2mv1.M2MService_CreateClient_FullMethodName, req, bearer, key)
		if slowRedis(err) {
			return true
		}
		require.NoError(t, err)
		before := emu.Requests("*")
		again, hdr, err := callGRPC(t, rotated, m2mv1.M2MService_CreateClient_FullMethodName, req, bearer, key)
		if slowRedis(err) {
			return true
		}
		require.NoError(t, err)
		assert.True(t, proto.Equal(first, again))
		assert.NotEmpty(t, again.(*m2mv1.CreateClientResponse).GetClientSecret())
		assert.Equal(t, []string{"true"}, hdr.Get(idempotency.ReplayedHeader))
		assert.Equal(t, before, emu.Requests("*"))
		return false
	})
}

// A malformed key is refused with INVALID_ARGUMENT / 400 naming the header, over REST and gRPC,
// and nothing reaches Stytch. Before, grpc-gateway dropped a non-ASCII or control-character value
// silently and the send ran once per retry.
func TestInvalidKeysAreRefused(t *testing.T) {
	env := apptest.Start(t)
	org, err := env.Emu.CreateOrganization(stytchemu.OrganizationParams{Name: fmt.Sprintf("Org %d", uniq.Add(1))})
	require.NoError(t, err)
	const method = b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName
	req := func() proto.Message {
		return &b2bv1.OTPsServiceEmailLoginOrSignupRequest{OrganizationId: org.ID, EmailAddress: newEmail("bad-key")}
	}
	quiet := func(t *testing.T, f func()) {
		t.Helper()
		calls, mails := env.Emu.Requests("*"), len(env.Emu.Outbox())
		f()
		assert.Equal(t, calls, env.Emu.Requests("*"), "nothing reached Stytch")
		assert.Len(t, env.Emu.Outbox(), mails, "nothing was sent")
	}

	for name, keys := range map[string][]string{
		"non-ASCII":      {"schlüssel-1"},
		"control":        {"tab\there"},
		"256 characters": {strings.Repeat("k", 256)},
		"empty":          {""},
		"two values":     {"k-1", "k-2"},
		"space":          {"has space"},
	} {
		t.Run("rest/"+name, func(t *testing.T) {
			quiet(t, func() {
				for range 3 { // three retries, none sent
					_, r := callREST(t, env, method, req(), "", keys...)
					require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
					msg, _ := r.JSON(t)["message"].(string)
					assert.Contains(t, msg, "Idempotency-Key")
				}
			})
		})
	}
	// The Go gRPC client refuses to send non-ASCII and control characters itself; those are
	// sent over raw HTTP/2 below, as another client could.
	for name, keys := range map[string][]string{
		"256 characters": {strings.Repeat("k", 256)},
		"empty":          {""},
		"two values":     {"k-1", "k-2"},
		"space":          {"has space"},
	} {
		t.Run("grpc/"+name, func(t *testing.T) {
			quiet(t, func() {
				md := metadata.MD{}
				md.Append(idempotency.MetadataKey, keys...)
				err := env.Conn.Invoke(metadata.NewOutgoingContext(t.Context(), md), method, req(), &b2bv1.OTPsServiceEmailLoginOrSignupResponse{})
				require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
				assert.Contains(t, status.Convert(err).Message(), "idempotency-key")
			})
		})
	}
	for name, key := range map[string]string{"non-ASCII": "schlüssel-1", "control": "tab\there"} {
		t.Run("grpc-raw/"+name, func(t *testing.T) {
			quiet(t, func() {
				code, msg := rawGRPC(t, env.App.GRPCAddr(), method, req(), key)
				assert.Equal(t, fmt.Sprint(int(codes.InvalidArgument)), code, msg)
				assert.Contains(t, msg, "idempotency-key")
			})
		})
	}
}

// rawGRPC makes a unary gRPC call over plain HTTP/2 with any idempotency-key header bytes, and
// returns grpc-status and the decoded grpc-message.
func rawGRPC(t *testing.T, addr, method string, req proto.Message, key string) (code, msg string) {
	t.Helper()
	payload, err := proto.Marshal(req)
	require.NoError(t, err)
	frame := make([]byte, 5, 5+len(payload))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	frame = append(frame, payload...)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	hreq, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+method, bytes.NewReader(frame))
	require.NoError(t, err)
	hreq.Header.Set("Content-Type", "application/grpc")
	hreq.Header.Set("TE", "trailers")
	hreq.Header[idempotency.MetadataKey] = []string{key}
	resp, err := tr.RoundTrip(hreq)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	h := resp.Header // a trailers-only response carries the status in its headers
	if h.Get("Grpc-Status") == "" {
		h = resp.Trailer
	}
	msg, err = url.PathUnescape(h.Get("Grpc-Message"))
	require.NoError(t, err)
	return h.Get("Grpc-Status"), msg
}

// A stored secret is replayed only to the caller that created it, for the same request: another
// service using the same key gets a call of its own, and an anonymous caller reusing a
// CreateOrganization key with another intermediate session is refused, not handed the session.
func TestStoredSecretsStayWithTheirCaller(t *testing.T) {
	env := apptest.Start(t)
	w, other := newWorld(t, env), newWorld(t, env)
	reqs := w.requests()

	req, _ := reqs[m2mv1.M2MService_CreateClient_FullMethodName](t)
	key := newKey("scoped")
	mine, _, err := callGRPC(t, env, m2mv1.M2MService_CreateClient_FullMethodName, req, w.token, key)
	require.NoError(t, err)
	theirs, hdr, err := callGRPC(t, env, m2mv1.M2MService_CreateClient_FullMethodName, req, other.token, key)
	require.NoError(t, err)
	assert.Empty(t, hdr.Get(idempotency.ReplayedHeader))
	assert.NotEqual(t, mine.(*m2mv1.CreateClientResponse).GetClientSecret(), theirs.(*m2mv1.CreateClientResponse).GetClientSecret())

	org, _ := reqs[b2bv1.DiscoveryService_CreateOrganization_FullMethodName](t)
	key = newKey("org")
	_, _, err = callGRPC(t, env, b2bv1.DiscoveryService_CreateOrganization_FullMethodName, org, "", key)
	require.NoError(t, err)
	stolen, _ := reqs[b2bv1.DiscoveryService_CreateOrganization_FullMethodName](t)
	stolen.(*b2bv1.DiscoveryServiceCreateOrganizationRequest).OrganizationName = org.(*b2bv1.DiscoveryServiceCreateOrganizationRequest).GetOrganizationName()
	_, _, err = callGRPC(t, env, b2bv1.DiscoveryService_CreateOrganization_FullMethodName, stolen, "", key)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	assert.Equal(t, idempotency.ReasonKeyReused, reason(err))
}
