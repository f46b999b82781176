package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	m2mv1 "github.com/authsvc/authsvc/gen/go/authsvc/m2m/v1"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const orgsSvc = "/authsvc.b2b.v1.OrganizationsService/"

// orgsCaller calls one OrganizationsService RPC through one transport with a bearer credential.
type orgsCaller func(t *testing.T, bearer, method, verb, path string, req, resp proto.Message) *status.Status

// orgsTransports are gRPC and REST (REST sends the request as the JSON body, except for GET and
// DELETE, whose request travels in the path).
func orgsTransports(e *testEnv) map[string]orgsCaller {
	return map[string]orgsCaller{
		"grpc": func(t *testing.T, bearer, method, _, _ string, req, resp proto.Message) *status.Status {
			t.Helper()
			return e.grpcAs(t, bearer, method, req, resp)
		},
		"rest": func(t *testing.T, bearer, _, verb, path string, req, resp proto.Message) *status.Status {
			t.Helper()
			if verb == "GET" || verb == "DELETE" {
				req = nil
			}
			return e.restWith(t, e.HTTP, bearer, verb, path, req, resp).Status
		},
	}
}

// orgsToken is an M2M token holding scopes.
func orgsToken(t *testing.T, e *testEnv, scopes ...string) string {
	t.Helper()
	c, err := e.Emu.CreateM2MClient("orgs-tests", scopes)
	require.NoError(t, err)
	r := &m2mv1.IssueTokenResponse{}
	st := e.grpcCall(t, "/authsvc.m2m.v1.M2MService/IssueToken", &m2mv1.IssueTokenRequest{ClientId: c.ClientID, ClientSecret: c.ClientSecret}, r)
	require.Equal(t, codes.OK, st.Code(), st.Message())
	return r.GetAccessToken()
}

func orgsOperand(names ...string) []*b2bv1.OrganizationSearchOperand {
	var out []*b2bv1.OrganizationSearchOperand
	for _, n := range names {
		out = append(out, &b2bv1.OrganizationSearchOperand{Filter: &b2bv1.OrganizationSearchOperand_OrganizationNameFuzzy{OrganizationNameFuzzy: n}})
	}
	return out
}

// The whole life of an organization through each transport: create, get, update (MFA policy, auth
// methods, domains, implicit roles; then clearing a list), search with operators and paging,
// metrics, delete, and get NOT_FOUND.
func TestOrganizationsLifecycle(t *testing.T) {
	e := startEnvNoLimits(t)
	svc := orgsToken(t, e, "read:organizations", "write:organizations")
	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			// Names unique to this transport, so searches see only this run's organizations.
			tag := "Zeta" + name
			create := func(t *testing.T, orgName string, domains ...string) *b2bv1.Organization {
				t.Helper()
				r := &b2bv1.OrganizationsServiceCreateResponse{}
				st := call(t, svc, orgsSvc+"Create", "POST", "/v1/b2b/organizations", &b2bv1.OrganizationsServiceCreateRequest{
					OrganizationName:    orgName,
					EmailAllowedDomains: domains,
					MfaPolicy:           b2bv1.MfaPolicy_MFA_POLICY_OPTIONAL,
				}, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return r.GetOrganization()
			}
			o := create(t, tag+" Alpha Corp", name+"-alpha.example")
			require.NotEmpty(t, o.GetOrganizationId())
			assert.Equal(t, tag+" Alpha Corp", o.GetOrganizationName())
			assert.NotEmpty(t, o.GetOrganizationSlug(), "a slug is derived from the name")
			assert.Equal(t, []string{name + "-alpha.example"}, o.GetEmailAllowedDomains())
			assert.Equal(t, b2bv1.MfaPolicy_MFA_POLICY_OPTIONAL, o.GetMfaPolicy())
			assert.NotNil(t, o.GetCreatedAt())
			orgPath := "/v1/b2b/organizations/" + o.GetOrganizationId()

			got := &b2bv1.OrganizationsServiceGetResponse{}
			st := call(t, svc, orgsSvc+"Get", "GET", orgPath, &b2bv1.OrganizationsServiceGetRequest{OrganizationId: o.GetOrganizationId()}, got)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, o.GetOrganizationSlug(), got.GetOrganization().GetOrganizationSlug())

			// Update: only the set fields change.
			up := &b2bv1.OrganizationsServiceUpdateResponse{}
			st = call(t, svc, orgsSvc+"Update", "PUT", orgPath, &b2bv1.OrganizationsServiceUpdateRequest{
				OrganizationId:     o.GetOrganizationId(),
				MfaPolicy:          b2bv1.MfaPolicy_MFA_POLICY_REQUIRED_FOR_ALL,
				AuthMethods:        b2bv1.OrganizationSetting_ORGANIZATION_SETTING_RESTRICTED,
				AllowedAuthMethods: &b2bv1.OrganizationStrings{Values: []string{"magic_link", "password"}},
				MfaMethods:         b2bv1.OrganizationSetting_ORGANIZATION_SETTING_RESTRICTED,
				AllowedMfaMethods:  &b2bv1.MfaMethods{Values: []b2bv1.MfaMethod{b2bv1.MfaMethod_MFA_METHOD_TOTP}},
				RbacEmailImplicitRoleAssignments: &b2bv1.EmailImplicitRoleAssignments{Assignments: []*b2bv1.EmailImplicitRoleAssignment{
					{Domain: name + "-alpha.example", RoleId: "stytch_admin"},
				}},
			}, up)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			u := up.GetOrganization()
			assert.Equal(t, b2bv1.MfaPolicy_MFA_POLICY_REQUIRED_FOR_ALL, u.GetMfaPolicy())
			assert.Equal(t, b2bv1.OrganizationSetting_ORGANIZATION_SETTING_RESTRICTED, u.GetAuthMethods())
			assert.Equal(t, []string{"magic_link", "password"}, u.GetAllowedAuthMethods())
			assert.Equal(t, []b2bv1.MfaMethod{b2bv1.MfaMethod_MFA_METHOD_TOTP}, u.GetAllowedMfaMethods())
			require.Len(t, u.GetRbacEmailImplicitRoleAssignments(), 1)
			assert.Equal(t, "stytch_admin", u.GetRbacEmailImplicitRoleAssignments()[0].GetRoleId())
			assert.Equal(t, o.GetOrganizationName(), u.GetOrganizationName(), "unset fields are left alone")
			assert.Equal(t, o.GetEmailAllowedDomains(), u.GetEmailAllowedDomains(), "unset lists are left alone")

			// A set, empty wrapper clears its list; the others stay.
			st = call(t, svc, orgsSvc+"Update", "PUT", orgPath, &b2bv1.OrganizationsServiceUpdateRequest{
				OrganizationId:      o.GetOrganizationId(),
				EmailAllowedDomains: &b2bv1.OrganizationStrings{},
			}, up)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Empty(t, up.GetOrganization().GetEmailAllowedDomains())
			assert.Equal(t, []string{"magic_link", "password"}, up.GetOrganization().GetAllowedAuthMethods())
			assert.Equal(t, b2bv1.MfaPolicy_MFA_POLICY_REQUIRED_FOR_ALL, up.GetOrganization().GetMfaPolicy())

			// Search: two more organizations, then AND, OR and paging.
			create(t, tag+" Beta Corp", name+"-beta.example")
			create(t, tag+" Gamma Labs")
			search := func(t *testing.T, req *b2bv1.OrganizationsServiceSearchRequest) *b2bv1.OrganizationsServiceSearchResponse {
				t.Helper()
				r := &b2bv1.OrganizationsServiceSearchResponse{}
				st := call(t, svc, orgsSvc+"Search", "POST", "/v1/b2b/organizations/search", req, r)
				require.Equal(t, codes.OK, st.Code(), st.Message())
				return r
			}
			names := func(r *b2bv1.OrganizationsServiceSearchResponse) []string {
				var out []string
				for _, o := range r.GetOrganizations() {
					out = append(out, o.GetOrganizationName())
				}
				return out
			}
			and := search(t, &b2bv1.OrganizationsServiceSearchRequest{Query: &b2bv1.OrganizationSearchQuery{
				Operator: b2bv1.SearchOperator_SEARCH_OPERATOR_AND,
				Operands: append(orgsOperand(tag), &b2bv1.OrganizationSearchOperand{
					Filter: &b2bv1.OrganizationSearchOperand_AllowedDomains{AllowedDomains: &b2bv1.StringValues{Values: []string{name + "-beta.example"}}},
				}),
			}})
			assert.Equal(t, []string{tag + " Beta Corp"}, names(and))
			assert.Equal(t, int32(1), and.GetTotal())

			or := search(t, &b2bv1.OrganizationsServiceSearchRequest{Query: &b2bv1.OrganizationSearchQuery{
				Operator: b2bv1.SearchOperator_SEARCH_OPERATOR_OR,
				Operands: orgsOperand(tag+" Alpha", tag+" Gamma"),
			}})
			assert.ElementsMatch(t, []string{tag + " Alpha Corp", tag + " Gamma Labs"}, names(or))

			var paged []string
			req := &b2bv1.OrganizationsServiceSearchRequest{Limit: proto.Int32(2), Query: &b2bv1.OrganizationSearchQuery{Operands: orgsOperand(tag)}}
			pages := 0
			for {
				r := search(t, req)
				pages++
				assert.LessOrEqual(t, len(r.GetOrganizations()), 2)
				assert.Equal(t, int32(3), r.GetTotal())
				paged = append(paged, names(r)...)
				if r.GetNextCursor() == "" {
					break
				}
				require.Less(t, pages, 5, "paging does not end")
				req.Cursor = r.GetNextCursor()
			}
			assert.Equal(t, 2, pages)
			assert.ElementsMatch(t, []string{tag + " Alpha Corp", tag + " Beta Corp", tag + " Gamma Labs"}, paged)

			// Metrics count the members.
			e.member(t, o.GetOrganizationId(), stytchemu.MemberParams{})
			e.member(t, o.GetOrganizationId(), stytchemu.MemberParams{})
			met := &b2bv1.OrganizationsServiceMetricsResponse{}
			st = call(t, svc, orgsSvc+"Metrics", "GET", orgPath+"/metrics", &b2bv1.OrganizationsServiceMetricsRequest{OrganizationId: o.GetOrganizationId()}, met)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, int32(2), met.GetMemberCount())

			del := &b2bv1.OrganizationsServiceDeleteResponse{}
			st = call(t, svc, orgsSvc+"Delete", "DELETE", orgPath, &b2bv1.OrganizationsServiceDeleteRequest{OrganizationId: o.GetOrganizationId()}, del)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, o.GetOrganizationId(), del.GetOrganizationId())

			st = call(t, svc, orgsSvc+"Get", "GET", orgPath, &b2bv1.OrganizationsServiceGetRequest{OrganizationId: o.GetOrganizationId()}, got)
			assert.Equal(t, codes.NotFound, st.Code(), st.Message())
		})
	}
}

// Members reach only their own organization, and only admins change it; a service needs the right
// scope.
func TestOrganizationsTenancy(t *testing.T) {
	e := startEnvNoLimits(t)
	org := e.org(t, stytchemu.OrganizationParams{})
	other := e.org(t, stytchemu.OrganizationParams{})
	admin := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}}).ID).JWT
	plain := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{}).ID).JWT
	reader := orgsToken(t, e, "read:organizations")

	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			get := func(t *testing.T, bearer, id string) codes.Code {
				t.Helper()
				return call(t, bearer, orgsSvc+"Get", "GET", "/v1/b2b/organizations/"+id,
					&b2bv1.OrganizationsServiceGetRequest{OrganizationId: id}, &b2bv1.OrganizationsServiceGetResponse{}).Code()
			}
			rename := func(t *testing.T, bearer, id, to string) *status.Status {
				t.Helper()
				return call(t, bearer, orgsSvc+"Update", "PUT", "/v1/b2b/organizations/"+id,
					&b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: id, OrganizationName: proto.String(to)}, &b2bv1.OrganizationsServiceUpdateResponse{})
			}
			assert.Equal(t, codes.OK, get(t, plain, org.ID), "a member reads their own organization")
			assert.Equal(t, codes.PermissionDenied, get(t, plain, other.ID), "but not another")
			assert.Equal(t, codes.PermissionDenied, get(t, admin, other.ID), "nor does an admin")
			assert.Equal(t, codes.OK, get(t, reader, other.ID), "a service with read:organizations reads any")

			assert.Equal(t, codes.OK, rename(t, admin, org.ID, "Renamed by "+name).Code(), "an admin changes their own organization")
			assert.Equal(t, codes.PermissionDenied, rename(t, plain, org.ID, "nope").Code(), "a plain member does not")
			assert.Equal(t, codes.PermissionDenied, rename(t, admin, other.ID, "nope").Code(), "an admin of another organization does not")
			assert.Equal(t, codes.PermissionDenied, rename(t, reader, org.ID, "nope").Code(), "read:organizations cannot write")
			assert.Equal(t, codes.Unauthenticated, rename(t, "", org.ID, "nope").Code())

			// The refused changes reached nothing.
			r := &b2bv1.OrganizationsServiceGetResponse{}
			require.Equal(t, codes.OK, call(t, reader, orgsSvc+"Get", "GET", "/v1/b2b/organizations/"+org.ID,
				&b2bv1.OrganizationsServiceGetRequest{OrganizationId: org.ID}, r).Code())
			assert.Equal(t, "Renamed by "+name, r.GetOrganization().GetOrganizationName())
			r = &b2bv1.OrganizationsServiceGetResponse{}
			require.Equal(t, codes.OK, call(t, reader, orgsSvc+"Get", "GET", "/v1/b2b/organizations/"+other.ID,
				&b2bv1.OrganizationsServiceGetRequest{OrganizationId: other.ID}, r).Code())
			assert.Equal(t, other.Name, r.GetOrganization().GetOrganizationName())

			st := call(t, admin, orgsSvc+"Search", "POST", "/v1/b2b/organizations/search", &b2bv1.OrganizationsServiceSearchRequest{}, &b2bv1.OrganizationsServiceSearchResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), "search crosses organizations: services only")
			st = call(t, admin, orgsSvc+"Create", "POST", "/v1/b2b/organizations", &b2bv1.OrganizationsServiceCreateRequest{OrganizationName: "Mine"}, &b2bv1.OrganizationsServiceCreateResponse{})
			assert.Equal(t, codes.PermissionDenied, st.Code(), "create: services only")
		})
	}
}

// Bad input is INVALID_ARGUMENT naming the field, before Stytch is called.
func TestOrganizationsValidation(t *testing.T) {
	e := startEnvNoLimits(t)
	svc := orgsToken(t, e, "read:organizations", "write:organizations")
	org := e.org(t, stytchemu.OrganizationParams{})
	cases := []struct {
		name, method, verb, path string
		req                      proto.Message
		field                    string
	}{
		{"create without a name", "Create", "POST", "/v1/b2b/organizations", &b2bv1.OrganizationsServiceCreateRequest{}, "organization_name"},
		{
			"create with a bad slug", "Create", "POST", "/v1/b2b/organizations",
			&b2bv1.OrganizationsServiceCreateRequest{OrganizationName: "X", OrganizationSlug: "no spaces"}, "organization_slug",
		},
		{
			"update to an empty name", "Update", "PUT", "/v1/b2b/organizations/" + org.ID,
			&b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: org.ID, OrganizationName: proto.String("")}, "organization_name",
		},
		{
			"update email JIT to ALL_ALLOWED", "Update", "PUT", "/v1/b2b/organizations/" + org.ID,
			&b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: org.ID, EmailJitProvisioning: b2bv1.OrganizationSetting_ORGANIZATION_SETTING_ALL_ALLOWED}, "email_jit_provisioning",
		},
		{
			"update an implicit role without a domain", "Update", "PUT", "/v1/b2b/organizations/" + org.ID,
			&b2bv1.OrganizationsServiceUpdateRequest{OrganizationId: org.ID, RbacEmailImplicitRoleAssignments: &b2bv1.EmailImplicitRoleAssignments{
				Assignments: []*b2bv1.EmailImplicitRoleAssignment{{RoleId: "stytch_admin"}},
			}}, "rbac_email_implicit_role_assignments",
		},
		{
			"search with a short fuzzy filter", "Search", "POST", "/v1/b2b/organizations/search",
			&b2bv1.OrganizationsServiceSearchRequest{Query: &b2bv1.OrganizationSearchQuery{Operands: orgsOperand("ab")}}, "organization_name_fuzzy",
		},
		{
			"search with limit 0", "Search", "POST", "/v1/b2b/organizations/search",
			&b2bv1.OrganizationsServiceSearchRequest{Limit: proto.Int32(0)}, "limit",
		},
	}
	for name, call := range orgsTransports(e) {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				st := call(t, svc, orgsSvc+c.method, c.verb, c.path, c.req, &b2bv1.OrganizationsServiceGetResponse{})
				require.Equal(t, codes.InvalidArgument, st.Code(), st.Message())
				assert.Contains(t, st.Message(), c.field)
			})
		}
	}
	// Nothing was changed by the refused update.
	r := &b2bv1.OrganizationsServiceGetResponse{}
	require.Equal(t, codes.OK, e.grpcAs(t, svc, orgsSvc+"Get", &b2bv1.OrganizationsServiceGetRequest{OrganizationId: org.ID}, r).Code())
	assert.Equal(t, org.Name, r.GetOrganization().GetOrganizationName())
}

// An admin deletes their own organization with their session (a plain member cannot); every member's
// session JWT then stops verifying at once, not only after it expires.
func TestOrganizationsDeleteByAdminRevokesMembersSessions(t *testing.T) {
	e := startEnvNoLimits(t)
	for name, call := range orgsTransports(e) {
		t.Run(name, func(t *testing.T) {
			org := e.org(t, stytchemu.OrganizationParams{})
			admin := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{Roles: []string{stytchemu.RoleAdmin}}).ID).JWT
			plain := e.session(t, org.ID, e.member(t, org.ID, stytchemu.MemberParams{}).ID).JWT
			path := "/v1/b2b/organizations/" + org.ID
			del := func(bearer string) *status.Status {
				return call(t, bearer, orgsSvc+"Delete", "DELETE", path,
					&b2bv1.OrganizationsServiceDeleteRequest{OrganizationId: org.ID}, &b2bv1.OrganizationsServiceDeleteResponse{})
			}
			metrics := func(bearer string) *status.Status {
				return call(t, bearer, orgsSvc+"Metrics", "GET", path+"/metrics",
					&b2bv1.OrganizationsServiceMetricsRequest{OrganizationId: org.ID}, &b2bv1.OrganizationsServiceMetricsResponse{})
			}
			assert.Equal(t, codes.PermissionDenied, del(plain).Code(), "a plain member cannot delete the organization")
			require.Equal(t, codes.OK, metrics(plain).Code(), "the member's session works before the deletion")

			require.Equal(t, codes.OK, del(admin).Code())
			assert.Equal(t, codes.Unauthenticated, metrics(plain).Code(), "a deleted organization's member JWT is refused at once")
			assert.Equal(t, codes.Unauthenticated, metrics(admin).Code())
		})
	}
}
