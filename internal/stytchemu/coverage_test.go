package stytchemu_test

// Emulator completeness (issue #17): which of Stytch's operations the
// emulator serves, and whether each 2xx body carries every property the
// spec declares for it.
//
// Property completeness. kin-openapi checks only `required`; Stytch's real
// responses carry every declared field (null, empty or a value), and clients
// written against them may read any of them. missingProperties walks the
// response schema of the operation and status beside the decoded body:
//   - an object must hold every name in `properties` (a JSON null counts as
//     present); present, non-null values are walked with their own schema;
//   - array items are each walked with `items`;
//   - `additionalProperties` with a schema (a map such as the organizations of
//     a member search) has each value walked with that schema; `true` or an
//     empty schema is a free-form object (metadata, claims) with no declared
//     keys, so nothing inside is checked;
//   - allOf declares the union of its members' properties; for oneOf/anyOf a
//     value is complete when it is complete against at least one branch (the
//     branch with the fewest missing properties is reported). Stytch's document
//     uses none of the three today.
//
// Every response of this package's tests passes through validator.wrap, which
// records the exercised operation and reports missing properties (besides
// those in missingPropsAllowed) as a failure of the test that produced them.
// After a full run (no -run filter) TestMain fails when a served B2B/M2M
// operation was never exercised with a 2xx response, and lists the consumer
// ones.

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authsvc/authsvc/internal/stytchemu"
)

// notServed is the one list of Stytch B2B/M2M operations the emulator does
// not serve, each with the reason. TestEmulatorCoverage fails on any other
// unserved B2B/M2M operation, and on an entry here that is served or not in
// the spec, so the list only shrinks.
var notServed = map[string]string{}

// missingPropsAllowed lists "component.property" entries (a component schema
// of Stytch's document and one property it declares) the property check
// tolerates for now, each with the reason; TestPropertyAllowList prints it so
// CI output shows what is still incomplete, and fails on an entry the spec
// does not declare.
var missingPropsAllowed = map[string]string{
	"api_b2b_magic_v1_AuthenticateResponse.member_device":                                reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_existing_password_ResetResponse.member_device":    reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_existing_password_ResetResponse.member_session":   reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_existing_password_ResetResponse.mfa_required":     reasonNullMFA,
	"api_b2b_password_v1_b2b_passwords_existing_password_ResetResponse.primary_required": reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_session_ResetResponse.member_device":              reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_session_ResetResponse.mfa_required":               reasonNullMFA,
	"api_b2b_oauth_v1_AuthenticateResponse.member_device":                                reasonNullObject,
	"api_b2b_oauth_v1_AuthenticateResponse.member_session":                               reasonNullObject,
	"api_b2b_oauth_v1_AuthenticateResponse.mfa_required":                                 reasonNullMFA,
	"api_b2b_oauth_v1_AuthenticateResponse.primary_required":                             reasonNullObject,
	"api_b2b_password_v1_AuthenticateResponse.member_device":                             reasonNullObject,
	"api_b2b_password_v1_AuthenticateResponse.member_session":                            reasonNullObject,
	"api_b2b_password_v1_AuthenticateResponse.mfa_required":                              reasonNullMFA,
	"api_b2b_password_v1_AuthenticateResponse.primary_required":                          reasonNullObject,
	"api_b2b_password_v1_StrengthCheckResponse.luds_feedback":                            reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_email_ResetResponse.member_device":                reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_email_ResetResponse.member_session":               reasonNullObject,
	"api_b2b_password_v1_b2b_passwords_email_ResetResponse.mfa_required":                 reasonNullMFA,
	"api_b2b_password_v1_b2b_passwords_email_ResetResponse.primary_required":             reasonNullObject,
	"api_b2b_magic_v1_AuthenticateResponse.member_session":                               reasonNullObject,
	"api_b2b_magic_v1_AuthenticateResponse.mfa_required":                                 reasonNullMFA,
	"api_b2b_magic_v1_AuthenticateResponse.primary_required":                             reasonNullObject,
	"api_b2b_otp_v1_b2b_otp_email_AuthenticateResponse.member_device":                    reasonNullObject,
	"api_b2b_otp_v1_b2b_otp_email_AuthenticateResponse.mfa_required":                     reasonNullMFA,
	"api_b2b_otp_v1_b2b_otp_email_AuthenticateResponse.primary_required":                 reasonNullObject,
	"api_b2b_otp_v1_b2b_otp_sms_AuthenticateResponse.member_device":                      reasonNullObject,
	"api_b2b_recovery_codes_v1_RecoverResponse.member_device":                            reasonNullObject,
	"api_b2b_session_v1_AuthenticateResponse.verdict":                                    reasonNullObject,
	"api_b2b_impersonation_v1_AuthenticateResponse.mfa_required":                         reasonNullMFA,
	"api_b2b_session_v1_AttestResponse.member_device":                                    reasonNullObject,
	"api_b2b_session_v1_ExchangeAccessTokenResponse.member_device":                       reasonNullObject,
	"api_sso_v1_AuthenticateResponse.member_device":                                      reasonNullObject,
	"api_sso_v1_AuthenticateResponse.member_session":                                     reasonNullObject,
	"api_sso_v1_AuthenticateResponse.mfa_required":                                       reasonNullMFA,
	"api_sso_v1_AuthenticateResponse.primary_required":                                   reasonNullObject,
	"api_b2b_session_v1_ExchangeResponse.member_device":                                  reasonNullObject,
	"api_b2b_session_v1_ExchangeResponse.member_session":                                 reasonNullObject,
	"api_b2b_session_v1_ExchangeResponse.mfa_required":                                   reasonNullMFA,
	"api_b2b_session_v1_ExchangeResponse.primary_required":                               reasonNullObject,
	"api_b2b_totp_v1_AuthenticateResponse.member_device":                                 reasonNullObject,
	"api_discovery_v1_DiscoveredOrganization.mfa_required":                               reasonNullMFA,
	"api_discovery_v1_DiscoveredOrganization.primary_required":                           reasonNullObject,
	"api_discovery_v1_discovery_intermediate_sessions_ExchangeResponse.member_device":    reasonNullObject,
	"api_discovery_v1_discovery_intermediate_sessions_ExchangeResponse.mfa_required":     reasonNullMFA,
	"api_discovery_v1_discovery_intermediate_sessions_ExchangeResponse.primary_required": reasonNullObject,
	"api_discovery_v1_discovery_organizations_CreateResponse.member_device":              reasonNullObject,
	"api_discovery_v1_discovery_organizations_CreateResponse.mfa_required":               reasonNullMFA,
	"api_discovery_v1_discovery_organizations_CreateResponse.primary_required":           reasonNullObject,
	"api_organization_v1_Member.scim_registration":                                       reasonNullObject,
	"api_organization_v1_Organization.scim_active_connection":                            reasonNullObject,
	"api_crypto_wallet_v1_AuthenticateResponse.session":                                  reasonNullObject,
	"api_crypto_wallet_v1_AuthenticateResponse.siwe_params":                              reasonNullObject,
	"api_crypto_wallet_v1_AuthenticateResponse.user_device":                              reasonNullObject,
	"api_magic_v1_AuthenticateResponse.session":                                          reasonNullObject,
	"api_magic_v1_AuthenticateResponse.user_device":                                      reasonNullObject,
	"api_oauth_v1_AuthenticateResponse.user_device":                                      reasonNullObject,
	"api_oauth_v1_AuthenticateResponse.user_session":                                     reasonNullObject,
	"api_otp_v1_AuthenticateResponse.session":                                            reasonNullObject,
	"api_otp_v1_AuthenticateResponse.user_device":                                        reasonNullObject,
	"api_password_v1_AuthenticateResponse.session":                                       reasonNullObject,
	"api_password_v1_AuthenticateResponse.user_device":                                   reasonNullObject,
	"api_password_v1_CreateResponse.session":                                             reasonNullObject,
	"api_password_v1_CreateResponse.user_device":                                         reasonNullObject,
	"api_password_v1_Feedback.luds_requirements":                                         reasonNullObject,
	"api_password_v1_passwords_email_ResetResponse.session":                              reasonNullObject,
	"api_password_v1_passwords_email_ResetResponse.user_device":                          reasonNullObject,
	"api_password_v1_passwords_existing_password_ResetResponse.user_device":              reasonNullObject,
	"api_password_v1_passwords_session_ResetResponse.user_device":                        reasonNullObject,
	"api_session_v1_AuthenticateResponse.verdict":                                        reasonNullObject,
	"api_session_v1_MigrateResponse.session":                                             reasonNullObject,
	"api_session_v1_MigrateResponse.user_device":                                         reasonNullObject,
	"api_session_v1_ExchangeAccessTokenResponse.user_device":                             reasonNullObject,
	"api_totp_v1_AuthenticateResponse.session":                                           reasonNullObject,
	"api_totp_v1_AuthenticateResponse.user_device":                                       reasonNullObject,
	"api_totp_v1_RecoverResponse.user_device":                                            reasonNullObject,
	"api_user_v1_GetResponse.password":                                                   reasonNullObject,
	"api_user_v1_User.password":                                                          reasonNullObject,
	"api_webauthn_v1_AuthenticateResponse.user_device":                                   reasonNullObject,
	"api_webauthn_v1_RegisterResponse.session":                                           reasonNullObject,
	"api_webauthn_v1_RegisterResponse.user_device":                                       reasonNullObject,
}

const (
	reasonNullObject = "Stytch sends null when there is none; the spec marks nothing nullable and the object has required properties, so neither null nor {} validates: omitted instead"
	reasonNullMFA    = "Stytch sends null when no MFA step is due and clients test for it; the spec marks nothing nullable and {} would read as MFA due: omitted instead"
)

// exercised records the operations a test got a 2xx response from,
// and the missingPropsAllowed entries some response still needed.
var exercised = struct {
	sync.Mutex
	ops        map[string]bool
	allowedHit map[string]bool
}{ops: map[string]bool{}, allowedHit: map[string]bool{}}

func recordExercised(pattern string, status int) {
	if status < 200 || status >= 300 {
		return
	}
	exercised.Lock()
	defer exercised.Unlock()
	exercised.ops[pattern] = true
}

// specOperations lists "METHOD /path" for every operation in the spec.
func specOperations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

func isB2BOrM2M(op string) bool {
	_, path, _ := strings.Cut(op, " ")
	return strings.HasPrefix(path, "/v1/b2b/") || strings.HasPrefix(path, "/v1/m2m/")
}

// servedRoutes is the union of the B2B and consumer emulators' routes.
func servedRoutes(t *testing.T) map[string]bool {
	t.Helper()
	served := map[string]bool{}
	for _, pt := range []stytchemu.ProjectType{stytchemu.ProjectB2B, stytchemu.ProjectConsumer} {
		emu, err := stytchemu.New(stytchemu.WithSigningKey(testKey), stytchemu.WithProjectType(pt))
		require.NoError(t, err)
		for _, rt := range emu.Routes() {
			served[rt] = true
		}
	}
	return served
}

// reasonGroups prints entries grouped by reason, with a count.
func reasonGroups(t *testing.T, title string, entries map[string]string) {
	t.Helper()
	byReason := map[string][]string{}
	for k, r := range entries {
		byReason[r] = append(byReason[r], k)
	}
	t.Logf("%s: %d", title, len(entries))
	for _, r := range slices.Sorted(maps.Keys(byReason)) {
		ks := byReason[r]
		sort.Strings(ks)
		t.Logf("  %s (%d):", r, len(ks))
		for _, k := range ks {
			t.Logf("    %s", k)
		}
	}
}

// TestEmulatorCoverage fails on a B2B/M2M operation of the spec the emulator
// does not serve unless notServed names it, prints notServed, and prints the
// consumer operations served and not served.
func TestEmulatorCoverage(t *testing.T) {
	requireSpec(t)
	served := servedRoutes(t)
	inSpec := map[string]bool{}
	var b2bTotal, b2bServed, conTotal, conServed int
	var conMissing []string
	for _, op := range specOperations(specDoc) {
		inSpec[op] = true
		if isB2BOrM2M(op) {
			b2bTotal++
			if served[op] {
				b2bServed++
				continue
			}
			if _, ok := notServed[op]; !ok {
				t.Errorf("%s is in openapi.json but not served and not in notServed", op)
			}
			continue
		}
		conTotal++
		if served[op] {
			conServed++
		} else {
			conMissing = append(conMissing, op)
		}
	}
	for op := range notServed {
		if served[op] {
			t.Errorf("notServed lists %s, which the emulator serves: remove it", op)
		}
		if !inSpec[op] {
			t.Errorf("notServed lists %s, which is not a B2B/M2M operation in openapi.json", op)
		}
	}
	t.Logf("B2B/M2M operations served: %d of %d in openapi.json", b2bServed, b2bTotal)
	reasonGroups(t, "B2B/M2M operations not served (notServed)", notServed)
	t.Logf("consumer operations served: %d of %d in openapi.json; not served (%d):", conServed, conTotal, len(conMissing))
	for _, op := range conMissing {
		t.Logf("    %s", op)
	}
}

// TestPropertyAllowList prints the missing properties still tolerated and
// the union rule, and fails on an entry the spec does not declare.
func TestPropertyAllowList(t *testing.T) {
	requireSpec(t)
	for k := range missingPropsAllowed {
		owner, prop, _ := strings.Cut(k, ".")
		ref := specDoc.Components.Schemas[owner]
		if !assert.NotNil(t, ref, "missingPropsAllowed %q: no such component", k) {
			continue
		}
		ps := ref.Value.Properties[prop]
		if !assert.NotNil(t, ps, "missingPropsAllowed %q: no such property", k) {
			continue
		}
		if missingPropsAllowed[k] == reasonNullObject {
			// The reason must hold: an object with required properties, not nullable.
			assert.True(t, ps.Value.Type.Is(openapi3.TypeObject) && len(ps.Value.Required) > 0 && !ps.Value.Nullable,
				"missingPropsAllowed %q: reasonNullObject needs a non-nullable object with required properties", k)
		}
	}
	reasonGroups(t, "response properties the property check still tolerates (missingPropsAllowed)", missingPropsAllowed)
	reasonGroups(t, "properties of which a body carries only the one that applies (unionProperties)", unionProperties)
}

// responseSchema returns the JSON schema of the operation's response for
// status, or nil when the spec has none.
func responseSchema(pattern string, status int) *openapi3.Schema {
	if specDoc == nil {
		return nil
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil
	}
	item := specDoc.Paths.Value(path)
	if item == nil {
		return nil
	}
	op := item.GetOperation(method)
	if op == nil || op.Responses == nil {
		return nil
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// checkProperties reports, as one error, the declared properties missing
// from a 2xx body of pattern that missingPropsAllowed does not tolerate.
func checkProperties(pattern string, status int, body any) error {
	s := responseSchema(pattern, status)
	if s == nil {
		return nil
	}
	var bad []string
	for _, m := range missingProperties(s, body, "") {
		if _, ok := missingPropsAllowed[m.key()]; !ok {
			bad = append(bad, m.String())
			continue
		}
		exercised.Lock()
		exercised.allowedHit[m.key()] = true
		exercised.Unlock()
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("%s %d: declared properties missing from the body: %s", pattern, status, strings.Join(bad, ", "))
}

// missing is one declared property absent from a body: path is where in the
// body (a.b[].c, map values as a.{}.c), owner the component schema that
// declares it ("" for an inline schema) and prop its name.
type missing struct{ path, owner, prop string }

// key is the missingPropsAllowed key: "component.property".
func (m missing) key() string { return m.owner + "." + m.prop }

func (m missing) String() string {
	if m.owner == "" {
		return m.path
	}
	return m.path + " (" + m.key() + ")"
}

// unionProperties are component properties of which a body carries only
// the one that applies, so their absence is not a gap: an authentication
// factor holds the details object of its own type (email_factor for a
// magic link, phone_number_factor for an SMS OTP, ...), never the other
// forty. Printed by TestPropertyAllowList.
var unionProperties = map[string]string{
	"api_session_v1_AuthenticationFactor.*_factor": "a factor carries only the details object of its own type",
}

func isUnionProperty(owner, prop string) bool {
	for k := range unionProperties {
		o, pat, _ := strings.Cut(k, ".")
		if o == owner && (pat == prop || strings.HasPrefix(pat, "*") && strings.HasSuffix(prop, pat[1:])) {
			return true
		}
	}
	return false
}

var (
	schemaNamesOnce sync.Once
	schemaNames     map[*openapi3.Schema]string
)

// schemaName names a component schema of Stytch's document, "" for an inline one.
func schemaName(s *openapi3.Schema) string {
	schemaNamesOnce.Do(func() {
		schemaNames = map[*openapi3.Schema]string{}
		if specDoc == nil {
			return
		}
		for name, ref := range specDoc.Components.Schemas {
			if ref.Value != nil {
				schemaNames[ref.Value] = name
			}
		}
	})
	return schemaNames[s]
}

// missingProperties returns the properties s declares that v lacks; see the
// file comment for the rules.
func missingProperties(s *openapi3.Schema, v any, at string) []missing {
	if s == nil || v == nil {
		return nil
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		var best []missing
		first := true
		for _, br := range append(slices.Clone(s.OneOf), s.AnyOf...) {
			m := missingProperties(br.Value, v, at)
			if first || len(m) < len(best) {
				best, first = m, false
			}
			if len(m) == 0 {
				break
			}
		}
		return best
	}
	var out []missing
	for _, sub := range s.AllOf {
		out = append(out, missingProperties(sub.Value, v, at)...)
	}
	switch val := v.(type) {
	case map[string]any:
		owner := schemaName(s)
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			child, ok := val[name]
			if !ok {
				if !isUnionProperty(owner, name) {
					out = append(out, missing{path: join(at, name), owner: owner, prop: name})
				}
				continue
			}
			out = append(out, missingProperties(s.Properties[name].Value, child, join(at, name))...)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil && ap.Value != nil {
			for _, k := range slices.Sorted(maps.Keys(val)) {
				if _, declared := s.Properties[k]; !declared {
					out = append(out, missingProperties(ap.Value, val[k], join(at, "{}"))...)
				}
			}
		}
	case []any:
		if s.Items != nil && s.Items.Value != nil {
			for _, it := range val {
				out = append(out, missingProperties(s.Items.Value, it, at+"[]")...)
			}
		}
	}
	return dedupe(out)
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func dedupe(in []missing) []missing {
	seen := map[missing]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TestPropertyCheckFails proves the property walk can fail: a body lacking
// an optional declared property, in nested objects, array items and map
// values, is reported, and a complete body is not.
func TestPropertyCheckFails(t *testing.T) {
	str := openapi3.NewStringSchema()
	item := openapi3.NewObjectSchema().WithProperty("id", str).WithProperty("label", str)
	s := openapi3.NewObjectSchema().
		WithProperty("name", str).
		WithProperty("nested", openapi3.NewObjectSchema().WithProperty("deep", str)).
		WithProperty("list", openapi3.NewArraySchema().WithItems(item)).
		WithProperty("byKey", openapi3.NewObjectSchema().WithAdditionalProperties(item)).
		WithProperty("meta", openapi3.NewObjectSchema().WithAnyAdditionalProperties())
	complete := map[string]any{
		"name": nil, "nested": map[string]any{"deep": ""},
		"list":  []any{map[string]any{"id": "1", "label": nil}},
		"byKey": map[string]any{"k": map[string]any{"id": "1", "label": "x"}},
		"meta":  map[string]any{"anything": 1},
	}
	assert.Empty(t, missingProperties(s, complete, ""))
	lacking := map[string]any{
		"nested": map[string]any{},
		"list":   []any{map[string]any{"id": "1", "label": nil}, map[string]any{"id": "2"}},
		"byKey":  map[string]any{"k": map[string]any{"label": "x"}},
		"meta":   map[string]any{},
	}
	assert.Equal(t, []string{"byKey.{}.id", "list[].label", "name", "nested.deep"},
		paths(missingProperties(s, lacking, "")))
	all := openapi3.NewAllOfSchema(openapi3.NewObjectSchema().WithProperty("a", str), openapi3.NewObjectSchema().WithProperty("b", str))
	assert.Equal(t, []string{"b"}, paths(missingProperties(all, map[string]any{"a": "x"}, "")))
	one := openapi3.NewOneOfSchema(openapi3.NewObjectSchema().WithProperty("a", str).WithProperty("c", str), openapi3.NewObjectSchema().WithProperty("b", str))
	assert.Empty(t, missingProperties(one, map[string]any{"b": "x"}, ""))
	assert.Equal(t, []string{"b"}, paths(missingProperties(one, map[string]any{"z": "x"}, "")))

	// The same through the wrapper, with Stytch's schema: an M2M client
	// without its optional trusted_metadata is refused.
	requireSpec(t)
	body := map[string]any{"request_id": "r", "status_code": float64(http.StatusOK), "m2m_client": map[string]any{
		"client_id": "c", "client_name": "n", "client_description": "", "status": "active",
		"scopes": []any{}, "client_secret_last_four": "abcd",
	}}
	err := checkProperties("GET /v1/m2m/clients/{client_id}", http.StatusOK, body)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "m2m_client.trusted_metadata")
}

func paths(in []missing) []string {
	out := make([]string, 0, len(in))
	for _, m := range in {
		out = append(out, m.path)
	}
	sort.Strings(out)
	return out
}

// reportUnexercised runs after a full test run: it lists served operations
// no test got a 2xx response from and returns false when a B2B/M2M one is
// among them (unexercisedAllowed excepted), or when a missingPropsAllowed
// entry was needed by no response (fixed: the list must shrink with it).
func reportUnexercised() bool {
	emuB2B, errB := stytchemu.New(stytchemu.WithSigningKey(testKey), stytchemu.WithProjectType(stytchemu.ProjectB2B))
	emuCon, errC := stytchemu.New(stytchemu.WithSigningKey(testKey), stytchemu.WithProjectType(stytchemu.ProjectConsumer))
	if errB != nil || errC != nil {
		fmt.Println("unexercised operations: build emulators:", errB, errC)
		return false
	}
	served := map[string]bool{}
	for _, rt := range append(emuB2B.Routes(), emuCon.Routes()...) {
		if specDoc.Paths.Value(strings.SplitN(rt, " ", 2)[1]) != nil {
			served[rt] = true
		}
	}
	exercised.Lock()
	defer exercised.Unlock()
	var b2b, con []string
	for _, op := range slices.Sorted(maps.Keys(served)) {
		if exercised.ops[op] {
			continue
		}
		if isB2BOrM2M(op) {
			if _, ok := unexercisedAllowed[op]; !ok {
				b2b = append(b2b, op)
			}
		} else {
			con = append(con, op)
		}
	}
	fmt.Printf("served operations exercised with a 2xx response: %d of %d\n", len(served)-len(b2b)-len(con)-len(unexercisedAllowed), len(served))
	fmt.Printf("served consumer operations no test exercised (%d):\n", len(con))
	for _, op := range con {
		fmt.Println("   ", op)
	}
	fmt.Printf("served B2B/M2M operations no test exercised, tolerated (%d):\n", len(unexercisedAllowed))
	for _, op := range slices.Sorted(maps.Keys(unexercisedAllowed)) {
		fmt.Printf("    %s: %s\n", op, unexercisedAllowed[op])
	}
	var stale []string
	for _, k := range slices.Sorted(maps.Keys(missingPropsAllowed)) {
		if !exercised.allowedHit[k] {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		fmt.Printf("FAIL: missingPropsAllowed entries no response needed: remove them (%d):\n", len(stale))
		for _, k := range stale {
			fmt.Println("   ", k)
		}
	}
	if len(b2b) > 0 {
		fmt.Printf("FAIL: served B2B/M2M operations no test exercised with a 2xx response (%d):\n", len(b2b))
		for _, op := range b2b {
			fmt.Println("   ", op)
		}
		return false
	}
	return len(stale) == 0
}

// unexercisedAllowed lists served B2B/M2M operations no test exercises yet,
// each with the reason.
var unexercisedAllowed = map[string]string{}

// TestOrganizationMetrics counts the organization's active members (the
// world has two in orgA and one in orgB).
func TestOrganizationMetrics(t *testing.T) {
	w := newWorld(t)
	r := w.h.do(get("/v1/b2b/organizations/" + w.orgA.ID + "/metrics"))
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.InDelta(t, 2, r.body["member_count"], 0)
	r = w.h.do(get("/v1/b2b/organizations/" + w.orgB.ID + "/metrics"))
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	assert.InDelta(t, 1, r.body["member_count"], 0)
}
