package gen_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/authsvc/authsvc/gen"
	accessv1 "github.com/authsvc/authsvc/gen/go/authsvc/access/v1"
	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
)

// These tests pin the contract's invariants that neither protoc nor buf lint
// can check: every RPC declares who may call it and has a REST route, the
// access rules name fields that exist, every validation rule compiles, the
// key validations fire, and secrets are redacted from debug output.

// contractFiles returns every registered proto file of the authsvc API. The
// packages are linked by the imports above, so a new file in them is found
// without editing this test.
func contractFiles(t *testing.T) []protoreflect.FileDescriptor {
	t.Helper()
	var files []protoreflect.FileDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(fd.Package()), "authsvc.") {
			files = append(files, fd)
		}
		return true
	})
	require.NotEmpty(t, files)
	return files
}

func contractMethods(t *testing.T) []protoreflect.MethodDescriptor {
	t.Helper()
	var methods []protoreflect.MethodDescriptor
	for _, fd := range contractFiles(t) {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				methods = append(methods, sd.Methods().Get(j))
			}
		}
	}
	// 5 + 6 + 5 + 9 + 3 B2B RPCs, RBACService.GetPolicy, 7 OrganizationsService RPCs and 5 more
	// MembersService RPCs (issue 17), 10 M2M RPCs (issue 5),
	// 6 + 7 + 6 + 14 + 8 consumer RPCs (issue 15), and 3 OAuth, 4 TOTP, 2 crypto wallet and 6
	// WebAuthn RPCs (issue 16), and 3 B2B TOTP, 3 recovery code and 4 B2B password RPCs (issue 18),
	// 13 SSOService RPCs (issue 18), 8 SCIMService RPCs and 6 member and organization administration
	// RPCs (issue 17), and SessionsService's Attest, Migrate and AuthenticateImpersonation (issue 18), and 7 more B2B password RPCs (issue 18),
	// and 4 B2B OAuthService RPCs (issue 18), and SessionsService.ExchangeAccessToken (issue 18).
	require.Len(t, methods, 153)
	return methods
}

func TestEveryRPCDeclaresAccess(t *testing.T) {
	for _, md := range contractMethods(t) {
		t.Run(string(md.FullName()), func(t *testing.T) {
			require.True(t, proto.HasExtension(md.Options(), accessv1.E_Policy), "RPC has no (authsvc.access.v1.policy) option")
			pol, ok := proto.GetExtension(md.Options(), accessv1.E_Policy).(*accessv1.Policy)
			require.True(t, ok)
			rule := pol.GetAccess()
			require.NotNil(t, rule, "the policy has no access rule")

			admitsSomeone := rule.GetPublic() || rule.GetMemberSession() || rule.GetUserSession() ||
				len(rule.GetServiceScopes()) > 0 || len(rule.GetCredentialFields()) > 0
			assert.True(t, admitsSomeone, "rule admits nobody")
			if rule.GetPublic() {
				assert.False(t, rule.GetMemberSession() || rule.GetUserSession() || len(rule.GetServiceScopes()) > 0 ||
					len(rule.GetCredentialFields()) > 0, "public makes every other way redundant")
			}
			if rule.GetUserField() != "" {
				assert.True(t, rule.GetUserSession(), "user_field needs user_session")
			}
			// A session of one project never satisfies the other's rule, so a
			// package's RPCs admit only that package's kind of session.
			switch md.ParentFile().Package() {
			case "authsvc.consumer.v1":
				assert.False(t, rule.GetMemberSession(), "a consumer RPC admits no member session")
			default:
				assert.False(t, rule.GetUserSession(), "only consumer RPCs admit user sessions")
			}
			if len(rule.GetMemberRoles()) > 0 || rule.GetMemberOrganizationField() != "" {
				assert.True(t, rule.GetMemberSession(), "member_roles / member_organization_field need member_session")
			}
			for _, scope := range rule.GetServiceScopes() {
				action, resource, found := strings.Cut(scope, ":")
				assert.True(t, found && action != "" && resource != "", "scope %q is not action:resource", scope)
			}

			in := md.Input()
			for _, name := range rule.GetCredentialFields() {
				assertStringField(t, in, name, false)
			}
			if name := rule.GetMemberOrganizationField(); name != "" {
				assertStringField(t, in, name, true)
			}
			if name := rule.GetUserField(); name != "" {
				assertStringField(t, in, name, false)
			}
		})
	}
}

// assertStringField checks that msg has a string field called name (a list
// only when allowList).
func assertStringField(t *testing.T, msg protoreflect.MessageDescriptor, name string, allowList bool) {
	t.Helper()
	fd := msg.Fields().ByName(protoreflect.Name(name))
	if !assert.NotNil(t, fd, "%s has no field %q", msg.FullName(), name) {
		return
	}
	assert.Equal(t, protoreflect.StringKind, fd.Kind(), "%s.%s must be a string", msg.FullName(), name)
	assert.False(t, fd.IsMap(), "%s.%s must not be a map", msg.FullName(), name)
	if !allowList {
		assert.False(t, fd.IsList(), "%s.%s must not be repeated", msg.FullName(), name)
	}
}

func TestEveryRPCHasARESTRouteInTheOpenAPIDocument(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(gen.OpenAPI, &doc))

	for _, md := range contractMethods(t) {
		t.Run(string(md.FullName()), func(t *testing.T) {
			rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
			require.True(t, ok)
			require.NotNil(t, rule, "RPC has no google.api.http option")

			var verb, path string
			switch p := rule.GetPattern().(type) {
			case *annotations.HttpRule_Get:
				verb, path = "get", p.Get
			case *annotations.HttpRule_Post:
				verb, path = "post", p.Post
			case *annotations.HttpRule_Put:
				verb, path = "put", p.Put
			case *annotations.HttpRule_Delete:
				verb, path = "delete", p.Delete
			default:
				require.Failf(t, "unexpected HTTP pattern", "%T", p)
			}
			assert.True(t, strings.HasPrefix(path, "/v1/"), "path %q", path)
			_, ok = doc.Paths[path][verb]
			assert.True(t, ok, "OpenAPI document lacks %s %s", verb, path)
		})
	}
}

func TestEveryValidationRuleCompiles(t *testing.T) {
	validator, err := protovalidate.New()
	require.NoError(t, err)

	for _, fd := range contractFiles(t) {
		var walk func(msgs protoreflect.MessageDescriptors)
		walk = func(msgs protoreflect.MessageDescriptors) {
			for i := range msgs.Len() {
				md := msgs.Get(i)
				walk(md.Messages())
				if md.IsMapEntry() {
					continue
				}
				t.Run(string(md.FullName()), func(t *testing.T) {
					mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
					require.NoError(t, err)
					err = validator.Validate(mt.New().Interface())
					var valErr *protovalidate.ValidationError
					if err != nil && !errors.As(err, &valErr) {
						require.NoError(t, err, "rules do not compile or evaluate")
					}
				})
			}
		}
		walk(fd.Messages())
	}
}

func TestValidationRejectsBadInput(t *testing.T) {
	validator, err := protovalidate.New()
	require.NoError(t, err)

	validLogin := func() *b2bv1.MagicLinksServiceLoginOrSignupRequest {
		return &b2bv1.MagicLinksServiceLoginOrSignupRequest{
			OrganizationId: "organization-test-1",
			EmailAddress:   "ada@example.com",
		}
	}
	tests := []struct {
		name      string
		msg       proto.Message
		wantField string // empty: the message is valid
	}{
		{"valid login", validLogin(), ""},
		{"bad email", func() proto.Message {
			m := validLogin()
			m.EmailAddress = "not-an-email"
			return m
		}(), "email_address"},
		{"empty organization id", func() proto.Message {
			m := validLogin()
			m.OrganizationId = ""
			return m
		}(), "organization_id"},
		{"redirect url not a URI", func() proto.Message {
			m := validLogin()
			m.LoginRedirectUrl = "not a url"
			return m
		}(), "login_redirect_url"},
		{"magic link expiration below 5", func() proto.Message {
			m := validLogin()
			m.LoginExpirationMinutes = proto.Int32(4)
			return m
		}(), "login_expiration_minutes"},
		{"magic link expiration above 10080", func() proto.Message {
			m := validLogin()
			m.SignupExpirationMinutes = proto.Int32(10081)
			return m
		}(), "signup_expiration_minutes"},
		{"locale not accepted by sends", func() proto.Message {
			m := validLogin()
			m.Locale = b2bv1.Locale_LOCALE_IT
			return m
		}(), "locale"},
		{"session duration 3", &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:             &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: "a.b.c"},
			SessionDurationMinutes: proto.Int32(3),
		}, "session_duration_minutes"},
		{"session duration above 527040", &b2bv1.SessionsServiceAuthenticateRequest{
			SessionDurationMinutes: proto.Int32(527041),
		}, "session_duration_minutes"},
		{"session authenticate with a JWT", &b2bv1.SessionsServiceAuthenticateRequest{
			Credential:             &b2bv1.SessionsServiceAuthenticateRequest_SessionJwt{SessionJwt: "a.b.c"},
			SessionDurationMinutes: proto.Int32(5),
		}, ""},
		{"email OTP expiration above 15", &b2bv1.OTPsServiceEmailLoginOrSignupRequest{
			OrganizationId:         "organization-test-1",
			EmailAddress:           "ada@example.com",
			LoginExpirationMinutes: proto.Int32(16),
		}, "login_expiration_minutes"},
		{"email OTP expiration below 2", &b2bv1.OTPsServiceEmailDiscoverySendRequest{
			EmailAddress:               "ada@example.com",
			DiscoveryExpirationMinutes: proto.Int32(1),
		}, "discovery_expiration_minutes"},
		{"phone not E.164", &b2bv1.OTPsServiceSmsSendRequest{
			OrganizationId: "organization-test-1",
			MemberId:       "member-test-1",
			MfaPhoneNumber: "4155550123",
			Credential:     &b2bv1.OTPsServiceSmsSendRequest_IntermediateSessionToken{IntermediateSessionToken: "ist"},
		}, "mfa_phone_number"},
		{"sms send without the session it completes", &b2bv1.OTPsServiceSmsSendRequest{
			OrganizationId: "organization-test-1",
			MemberId:       "member-test-1",
			MfaPhoneNumber: "+14155550123",
		}, "credential"},
		{"otp code not six digits", &b2bv1.OTPsServiceEmailDiscoveryAuthenticateRequest{
			EmailAddress: "ada@example.com",
			Code:         "12345",
		}, "code"},
		{"member get needs id or email", &b2bv1.MembersServiceGetRequest{
			OrganizationId: "organization-test-1",
		}, "lookup"},
		{"member search limit 0", &b2bv1.MembersServiceSearchRequest{
			OrganizationIds: []string{"organization-test-1"},
			Limit:           proto.Int32(0),
		}, "limit"},
		{"member search without organizations", &b2bv1.MembersServiceSearchRequest{}, "organization_ids"},
		{"member search OR is no longer supported", &b2bv1.MembersServiceSearchRequest{
			OrganizationIds: []string{"organization-test-1"},
			Query:           &b2bv1.MemberSearchQuery{Operator: b2bv1.SearchOperator_SEARCH_OPERATOR_OR},
		}, "query.operator"},
		{"member search empty operand", &b2bv1.MembersServiceSearchRequest{
			OrganizationIds: []string{"organization-test-1"},
			Query: &b2bv1.MemberSearchQuery{
				Operator: b2bv1.SearchOperator_SEARCH_OPERATOR_AND,
				Operands: []*b2bv1.MemberSearchOperand{{}},
			},
		}, "query.operands[0].filter"},
		{"member update clears roles", &b2bv1.MembersServiceUpdateRequest{
			OrganizationId: "organization-test-1",
			MemberId:       "member-test-1",
			Roles:          &b2bv1.RoleIds{},
		}, ""},
		{"m2m secret too short", &m2mv1.CreateClientRequest{
			Scopes:       []string{"read:members"},
			ClientSecret: "short",
		}, "client_secret"},
		{"m2m scope with a space", &m2mv1.IssueTokenRequest{
			ClientId:     "m2m-client-test-1",
			ClientSecret: "secret",
			Scopes:       []string{"read members"},
		}, "scopes[0]"},
		{"m2m search limit above 1000", &m2mv1.SearchClientsRequest{
			Limit: proto.Int32(1001),
		}, "limit"},
		{"consumer login_or_create", &consumerv1.MagicLinksServiceLoginOrCreateRequest{Email: "ada@example.com"}, ""},
		{"consumer magic link bad email", &consumerv1.MagicLinksServiceSendRequest{Email: "ada"}, "email"},
		{"consumer magic link expiration above 10080", &consumerv1.MagicLinksServiceLoginOrCreateRequest{
			Email:                  "ada@example.com",
			LoginExpirationMinutes: proto.Int32(10081),
		}, "login_expiration_minutes"},
		{"consumer otp expiration above 10", &consumerv1.OTPsServiceSmsLoginOrCreateRequest{
			PhoneNumber:       "+14155550123",
			ExpirationMinutes: proto.Int32(11),
		}, "expiration_minutes"},
		{"consumer phone not E.164", &consumerv1.OTPsServiceWhatsAppSendRequest{PhoneNumber: "4155550123"}, "phone_number"},
		{"consumer otp method_id in upper case", &consumerv1.OTPsServiceAuthenticateRequest{
			MethodId: "PHONE-NUMBER-TEST-D5A3B680-E8A3-40C0-B815-AB79986666D0",
			Code:     "000000",
		}, "method_id"},
		{"consumer otp authenticate", &consumerv1.OTPsServiceAuthenticateRequest{
			MethodId: "phone-number-test-d5a3b680-e8a3-40c0-b815-ab79986666d0",
			Code:     "000000",
		}, ""},
		{"user create with a phone number only", &consumerv1.UsersServiceCreateRequest{PhoneNumber: "+14155550123"}, ""},
		{"user get path traversal", &consumerv1.UsersServiceGetRequest{UserId: ".."}, "user_id"},
		{"user factor delete needs a Stytch ID", &consumerv1.UsersServiceDeleteEmailRequest{EmailId: "email/1"}, "email_id"},
		{"user search fuzzy too short", &consumerv1.UsersServiceSearchRequest{
			Query: &consumerv1.UserSearchQuery{Operands: []*consumerv1.UserSearchOperand{
				{Filter: &consumerv1.UserSearchOperand_EmailAddressFuzzy{EmailAddressFuzzy: "ad"}},
			}},
		}, "query.operands[0].email_address_fuzzy"},
		{"exchange primary factor needs one", &consumerv1.UsersServiceExchangePrimaryFactorRequest{UserId: "user-test-1"}, "factor"},
		{"password migrate without hash type", &consumerv1.PasswordsServiceMigrateRequest{
			Email: "ada@example.com",
			Hash:  "$2a$10$abc",
		}, "hash_type"},
		{"empty password", &consumerv1.PasswordsServiceAuthenticateRequest{Email: "ada@example.com"}, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validator.Validate(tt.msg)
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			var valErr *protovalidate.ValidationError
			require.ErrorAs(t, err, &valErr)
			var fields []string
			for _, v := range valErr.Violations {
				fields = append(fields, protovalidate.FieldPathString(v.Proto.GetField()))
			}
			assert.Contains(t, fields, tt.wantField)
		})
	}
}

// secretField matches field names that carry a credential: tokens, JWTs,
// secrets, OTP codes, PKCE verifiers (not the public PKCE challenge),
// passwords and password hashes. Only string fields carry the secret itself
// (User.password is the password's metadata, valid_password a verdict).
var secretField = regexp.MustCompile(`(^|_)(token|jwt|secret|code|code_verifier|password|hash)$`)

// Fields carrying credentials are marked debug_redact, so that code which
// logs or records messages (interceptors, span attributes) can find and drop
// them generically from the descriptors instead of keeping a list that
// drifts. protobuf-go's String() does not act on the marker itself.
func TestSecretFieldsAreMarkedDebugRedact(t *testing.T) {
	marked := 0
	for _, fd := range contractFiles(t) {
		var walk func(msgs protoreflect.MessageDescriptors)
		walk = func(msgs protoreflect.MessageDescriptors) {
			for i := range msgs.Len() {
				md := msgs.Get(i)
				walk(md.Messages())
				for j := range md.Fields().Len() {
					f := md.Fields().Get(j)
					opts, _ := f.Options().(*descriptorpb.FieldOptions)
					redact := opts.GetDebugRedact()
					if f.Kind() == protoreflect.StringKind && secretField.MatchString(string(f.Name())) {
						assert.True(t, redact, "%s carries a credential but is not marked debug_redact", f.FullName())
					}
					if redact {
						marked++
					}
				}
			}
		}
		walk(fd.Messages())
	}
	assert.Positive(t, marked)
}
