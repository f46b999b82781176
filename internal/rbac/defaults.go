package rbac

// The IDs of Stytch's default resources.
const (
	ResourceOrganization = "stytch.organization"
	ResourceMember       = "stytch.member"
	ResourceSSO          = "stytch.sso"
	ResourceSCIM         = "stytch.scim"
	ResourceSelf         = "stytch.self"
)

// Defaults is the policy every project starts with (docs/rbac.md lists it):
// Stytch's resources with the actions its API reference names for them,
// stytch_admin holding every action on all of them, and stytch_member every
// action on stytch.self (a member manages their own account). It is a fresh
// copy on every call.
func Defaults() Document {
	all := []string{WildcardAction}
	resources := []Resource{
		{ResourceID: ResourceOrganization, Description: "The organization: its settings and its deletion.", Actions: []string{
			"update.info.name", "update.info.slug", "update.info.untrusted_metadata", "update.info.email_jit_provisioning",
			"update.info.logo_url", "update.info.email_invites", "update.info.allowed_domains",
			"update.info.default_sso_connection", "update.info.sso_jit_provisioning", "update.info.mfa_policy",
			"update.info.implicit_roles", "delete",
		}},
		{ResourceID: ResourceMember, Description: "The organization's members.", Actions: []string{
			"create", "update.info.name", "update.info.untrusted_metadata", "update.info.mfa-phone",
			"update.info.delete.mfa-phone", "update.settings.is-breakglass", "update.settings.mfa_enrolled",
			"update.settings.roles", "search", "delete",
			// Named by Stytch's SDKs for the member administration endpoints beyond the API
			// reference's list: starting an email update, deleting a TOTP registration,
			// unlinking a retired email.
			"update.info.email", "update.info.delete.mfa-totp", "update.info.unlink.retired-email",
		}},
		{ResourceID: ResourceSSO, Description: "The organization's SSO connections.", Actions: []string{"create", "get", "update", "delete"}},
		{ResourceID: ResourceSCIM, Description: "The organization's SCIM connection.", Actions: []string{"create", "update", "delete", "get", "rotate"}},
		{ResourceID: ResourceSelf, Description: "The acting member's own account.", Actions: []string{
			"update.info.name", "update.info.untrusted_metadata", "update.info.mfa-phone", "update.info.delete.mfa-phone",
			"update.info.delete.password", "update.settings.mfa_enrolled", "delete",
			"update.info.delete.mfa-totp",
		}},
	}
	admin := make([]Permission, 0, len(resources))
	for _, r := range resources {
		admin = append(admin, Permission{ResourceID: r.ResourceID, Actions: all})
	}
	return Document{
		Roles: []Role{
			{RoleID: RoleAdmin, Description: "Granted to members who administer the organization: every action on Stytch's resources.", Permissions: admin},
			{RoleID: RoleMember, Description: "Granted to every member: every action on their own account.", Permissions: []Permission{{ResourceID: ResourceSelf, Actions: all}}},
		},
		Resources: resources,
		Scopes:    []Scope{},
	}
}
