package stytchemu

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/authsvc/authsvc/internal/rbac"
)

// SCIM connection administration (/v1/b2b/scim/{organization_id}/connection...).
//
// An organization has at most one SCIM connection (Stytch's Get takes only the organization). Its
// bearer token is shown once, in the create response; rotate/start shows the next token once, and
// every other answer carries the last four characters. The IdP-facing SCIM protocol (Users,
// Groups) is not in the spec and not served; groups are added with AddSCIMGroup, as an IdP's push
// would, and a token is checked with SCIMBearerTokenValid, as the SCIM API checks an IdP's request.

// Error types of SCIM administration. Stytch's error reference names none for these cases, so
// they are the emulator's own, in Stytch's naming style.
const (
	errSCIMConnectionNotFound = "scim_connection_not_found"
	errSCIMConnectionExists   = "scim_connection_already_exists"
	errSCIMNoRotation         = "scim_token_rotation_not_started"
)

// scimIdentityProviders is the spec's identity_provider enum.
var scimIdentityProviders = []string{"generic", "okta", "microsoft-entra", "cyberark", "jumpcloud", "onelogin", "pingfederate", "rippling"}

// scimEntraFlag is what Stytch appends to a microsoft-entra connection's base URL to enable Entra's
// SCIM 2.0 compliant mode.
const scimEntraFlag = "?aadOptscim062020"

// scimTokenBytes is the bearer token's random size (48 base64url characters).
const scimTokenBytes = 36

type scimRoleAssignment struct {
	RoleID    string `json:"role_id"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
}

type scimGroup struct {
	id, name string
}

type scimConnection struct {
	orgID, id, displayName, idp, baseURL string
	token, nextToken                     string
	assignments                          []scimRoleAssignment
	groups                               []scimGroup
}

// wire is the SCIMConnection object of get, update, rotate complete and cancel. Tokens do not
// expire in the emulator, so the expiry times are "" (Stytch sends "" for "none").
func (c *scimConnection) wire() obj {
	return obj{
		"organization_id":                      c.orgID,
		"connection_id":                        c.id,
		"status":                               statusActive,
		"display_name":                         c.displayName,
		"identity_provider":                    c.idp,
		"base_url":                             c.baseURL,
		"bearer_token_last_four":               lastFour(c.token),
		"next_bearer_token_last_four":          lastFour(c.nextToken),
		"bearer_token_expires_at":              "",
		"next_bearer_token_expires_at":         "",
		"scim_group_implicit_role_assignments": slices.Clone(c.assignments),
	}
}

// wireWithToken is create's SCIMConnectionWithToken: the token itself instead of its last four.
func (c *scimConnection) wireWithToken() obj {
	w := c.wire()
	delete(w, "bearer_token_last_four")
	delete(w, "next_bearer_token_last_four")
	delete(w, "next_bearer_token_expires_at")
	w["bearer_token"] = c.token
	return w
}

// wireWithNextToken is rotate/start's SCIMConnectionWithNextToken.
func (c *scimConnection) wireWithNextToken() obj {
	w := c.wire()
	delete(w, "next_bearer_token_last_four")
	w["next_bearer_token"] = c.nextToken
	return w
}

// active is the organization's scim_active_connection reference.
func (c *scimConnection) active() *activeSCIMConnection {
	return &activeSCIMConnection{ConnectionID: c.id, DisplayName: c.displayName, BearerTokenLastFour: lastFour(c.token)}
}

// activeSCIMConnection is the organization's scim_active_connection.
type activeSCIMConnection struct {
	ConnectionID         string `json:"connection_id"`
	DisplayName          string `json:"display_name"`
	BearerTokenLastFour  string `json:"bearer_token_last_four"`
	BearerTokenExpiresAt string `json:"bearer_token_expires_at"`
}

func scimNotFound() *apiError {
	return newErr(http.StatusNotFound, errSCIMConnectionNotFound, "SCIM connection could not be found.")
}

// syncSCIM refreshes o's scim_active_connection from the store; caller holds e.mu.
func (e *Emulator) syncSCIM(o *organization) {
	o.SCIMActiveConnection = nil
	if c := e.st.scim[o.OrganizationID]; c != nil {
		o.SCIMActiveConnection = c.active()
	}
}

// scimOrg resolves the organization of the path and the acting member, and decides the acting
// member's stytch.scim permission for action.
func (e *Emulator) scimOrg(rq *request, action string) (*organization, *apiError) {
	o, aerr := e.orgByPath(rq)
	if aerr != nil {
		return nil, aerr
	}
	act, aerr := e.actor(rq)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.authorize(act, o.OrganizationID, "", rbac.ResourceSCIM, action); aerr != nil {
		return nil, aerr
	}
	return o, nil
}

// scimByPath resolves the connection of the path (its ID in any letter case) within the
// organization, deciding the acting member's permission for action.
func (e *Emulator) scimByPath(rq *request, action string) (*organization, *scimConnection, *apiError) {
	o, aerr := e.scimOrg(rq, action)
	if aerr != nil {
		return nil, nil, aerr
	}
	c := e.st.scim[o.OrganizationID]
	if c == nil || !strings.EqualFold(c.id, rq.r.PathValue("connection_id")) {
		return nil, nil, scimNotFound()
	}
	return o, c, nil
}

func validIdentityProvider(field string, v *string) *apiError {
	if v != nil && !slices.Contains(scimIdentityProviders, *v) {
		return badRequest("%s must be one of %s.", field, strings.Join(scimIdentityProviders, ", "))
	}
	return nil
}

func (e *Emulator) scimCreate(rq *request) (any, error) {
	o, aerr := e.scimOrg(rq, "create")
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		DisplayName      string  `json:"display_name"`
		IdentityProvider *string `json:"identity_provider"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := validIdentityProvider("identity_provider", in.IdentityProvider); err != nil {
		return nil, err
	}
	if e.st.scim[o.OrganizationID] != nil {
		return nil, badRequest("The organization already has a SCIM connection.").withType(errSCIMConnectionExists)
	}
	idp := "generic"
	if in.IdentityProvider != nil {
		idp = *in.IdentityProvider
	}
	id := "scim-connection-test-" + newUUID()
	c := &scimConnection{
		orgID: o.OrganizationID, id: id, displayName: in.DisplayName, idp: idp,
		baseURL: scimBaseURL(rq, id, idp), token: randToken(scimTokenBytes),
		assignments: []scimRoleAssignment{},
	}
	e.st.scim[o.OrganizationID] = c
	e.syncSCIM(o)
	return obj{"connection": c.wireWithToken()}, nil
}

// scimBaseURL is where the IdP sends SCIM requests: the emulator's own address (Stytch's API host
// for Stytch), with Entra's compliance flag for microsoft-entra.
func scimBaseURL(rq *request, id, idp string) string {
	u := "http://" + rq.r.Host + "/v1/b2b/scim/" + id
	if idp == "microsoft-entra" {
		u += scimEntraFlag
	}
	return u
}

func (e *Emulator) scimGet(rq *request) (any, error) {
	o, aerr := e.scimOrg(rq, "get")
	if aerr != nil {
		return nil, aerr
	}
	c := e.st.scim[o.OrganizationID]
	if c == nil {
		return nil, scimNotFound()
	}
	return obj{"connection": c.wire()}, nil
}

// scimGetGroups lists the connection's groups with cursor and limit from the query, as the
// search endpoints page.
func (e *Emulator) scimGetGroups(rq *request) (any, error) {
	_, c, aerr := e.scimByPath(rq, "get")
	if aerr != nil {
		return nil, aerr
	}
	q := rq.r.URL.Query()
	var limit *int
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, badRequest("limit must be an integer.")
		}
		limit = &n
	}
	page, meta, aerr := paginate(c.groups, q.Get("cursor"), limit)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]obj, 0, len(page))
	for _, g := range page {
		out = append(out, obj{"group_id": g.id, "group_name": g.name, "organization_id": c.orgID, "connection_id": c.id})
	}
	return obj{"scim_groups": out, "next_cursor": meta["next_cursor"]}, nil
}

func (e *Emulator) scimUpdate(rq *request) (any, error) {
	o, c, aerr := e.scimByPath(rq, "update")
	if aerr != nil {
		return nil, aerr
	}
	var in struct {
		DisplayName      *string              `json:"display_name"`
		IdentityProvider *string              `json:"identity_provider"`
		Assignments      []scimRoleAssignment `json:"scim_group_implicit_role_assignments"`
	}
	if err := rq.decode(&in); err != nil {
		return nil, err
	}
	if err := validIdentityProvider("identity_provider", in.IdentityProvider); err != nil {
		return nil, err
	}
	var assignments []scimRoleAssignment
	if in.Assignments != nil {
		var err *apiError
		if assignments, err = e.scimAssignments(o, c, in.Assignments); err != nil {
			return nil, err
		}
	}
	if in.DisplayName != nil {
		c.displayName = *in.DisplayName
	}
	if in.IdentityProvider != nil && *in.IdentityProvider != c.idp {
		c.idp = *in.IdentityProvider
		c.baseURL = scimBaseURL(rq, c.id, c.idp)
	}
	if assignments != nil {
		c.assignments = assignments
	}
	e.syncSCIM(o)
	return obj{"connection": c.wire()}, nil
}

// scimAssignments validates group role assignments: each names one of the connection's groups and
// a role the organization knows (the project's roles and its custom roles) other than
// stytch_member, which every member holds already; a group and role pair appears once. The group
// names come from the groups, whatever the request says.
func (e *Emulator) scimAssignments(o *organization, c *scimConnection, in []scimRoleAssignment) ([]scimRoleAssignment, *apiError) {
	policy := e.policyFor(o)
	out := make([]scimRoleAssignment, 0, len(in))
	seen := map[[2]string]bool{}
	for i, a := range in {
		field := "scim_group_implicit_role_assignments[" + strconv.Itoa(i) + "]"
		if a.GroupID == "" || a.RoleID == "" {
			return nil, badRequest("%s needs a group_id and a role_id.", field)
		}
		gi := slices.IndexFunc(c.groups, func(g scimGroup) bool { return strings.EqualFold(g.id, a.GroupID) })
		if gi < 0 {
			return nil, badRequest("%s.group_id is not a group of this SCIM connection.", field)
		}
		if a.RoleID == RoleMember {
			return nil, badRequest("%s.role_id: stytch_member is granted to every member and cannot be assigned.", field)
		}
		if !policy.HasRole(a.RoleID) {
			return nil, badRequest("%s.role_id is not a role of the RBAC policy.", field)
		}
		g := c.groups[gi]
		k := [2]string{g.id, a.RoleID}
		if seen[k] {
			return nil, badRequest("%s repeats a group and role.", field)
		}
		seen[k] = true
		out = append(out, scimRoleAssignment{RoleID: a.RoleID, GroupID: g.id, GroupName: g.name})
	}
	return out, nil
}

func (e *Emulator) scimDelete(rq *request) (any, error) {
	o, c, aerr := e.scimByPath(rq, "delete")
	if aerr != nil {
		return nil, aerr
	}
	delete(e.st.scim, o.OrganizationID)
	e.syncSCIM(o)
	return obj{"connection_id": c.id}, nil
}

func (e *Emulator) scimRotateStart(rq *request) (any, error) {
	_, c, aerr := e.scimByPath(rq, "rotate")
	if aerr != nil {
		return nil, aerr
	}
	// Starting again replaces a pending next token: a lost next token can only be recovered by a
	// new rotation.
	c.nextToken = randToken(scimTokenBytes)
	return obj{"connection": c.wireWithNextToken()}, nil
}

func (e *Emulator) scimRotateComplete(rq *request) (any, error) {
	o, c, aerr := e.scimByPath(rq, "rotate")
	if aerr != nil {
		return nil, aerr
	}
	if c.nextToken == "" {
		return nil, badRequest("No token rotation is in progress for this SCIM connection.").withType(errSCIMNoRotation)
	}
	c.token, c.nextToken = c.nextToken, ""
	e.syncSCIM(o)
	return obj{"connection": c.wire()}, nil
}

func (e *Emulator) scimRotateCancel(rq *request) (any, error) {
	_, c, aerr := e.scimByPath(rq, "rotate")
	if aerr != nil {
		return nil, aerr
	}
	if c.nextToken == "" {
		return nil, badRequest("No token rotation is in progress for this SCIM connection.").withType(errSCIMNoRotation)
	}
	c.nextToken = ""
	return obj{"connection": c.wire()}, nil
}

// AddSCIMGroup adds a group to the organization's SCIM connection, as an identity provider's
// push would, and returns its group_id.
func (e *Emulator) AddSCIMGroup(orgID, name string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.st.findOrg(orgID)
	if o == nil {
		return "", apiErr(orgNotFound())
	}
	c := e.st.scim[o.OrganizationID]
	if c == nil {
		return "", apiErr(scimNotFound())
	}
	id := "scim-group-test-" + newUUID()
	c.groups = append(c.groups, scimGroup{id: id, name: name})
	return id, nil
}

// SCIMBearerTokenValid reports whether token opens the SCIM connection connectionID, as Stytch's
// SCIM API decides an identity provider's request: the bearer token, or during a rotation the
// next token too.
func (e *Emulator) SCIMBearerTokenValid(connectionID, token string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.st.scim {
		if !strings.EqualFold(c.id, connectionID) || token == "" {
			continue
		}
		cur := subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) == 1
		next := c.nextToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(c.nextToken)) == 1
		return cur || next
	}
	return false
}
