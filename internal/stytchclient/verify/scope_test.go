package verify

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScopesSatisfied(t *testing.T) {
	tests := []struct {
		name     string
		have     []string
		required []string
		want     bool
	}{
		// The scope rule of docs/stytch.md ("M2M"), row by row.
		{"same action and resource", []string{"read:users"}, []string{"read:users"}, true},
		{"resource wildcard meets any resource of the action", []string{"read:*"}, []string{"read:users"}, true},
		{"other resource does not meet", []string{"read:books"}, []string{"read:users"}, false},
		{"other action does not meet", []string{"write:users"}, []string{"read:users"}, false},
		{"all required must be met", []string{"read:users"}, []string{"read:users", "write:users"}, false},
		{"all required met by several held", []string{"read:users", "write:users", "read:books"}, []string{"read:users", "read:books"}, true},
		{"bare star is a literal, not a superuser", []string{"*"}, []string{"read:users"}, false},
		{"star-colon-star does not match read:users", []string{"*:*"}, []string{"read:users"}, false},
		{"split once on the first colon", []string{"read:users:emails"}, []string{"read:users:emails"}, true},
		{"resource after first colon compared whole", []string{"read:users"}, []string{"read:users:emails"}, false},
		{"wildcard covers a resource that has colons", []string{"read:*"}, []string{"read:users:emails"}, true},

		// Edge cases.
		{"bare star meets only bare star", []string{"*"}, []string{"*"}, true},
		{"star-colon-star meets a required star action", []string{"*:*"}, []string{"*:users"}, true},
		{"no required scopes is met", nil, nil, true},
		{"no required scopes with scopes held", []string{"read:users"}, []string{}, true},
		{"nothing held fails", nil, []string{"read:users"}, false},
		{"simple scope without colon", []string{"read_users", "write_users"}, []string{"read_users"}, true},
		{"simple scope is not a prefix match", []string{"read"}, []string{"read_users"}, false},
		{"wildcard meets the action with no resource", []string{"read:*"}, []string{"read"}, true},
		{"no resource is not an empty resource", []string{"read"}, []string{"read:"}, false},
		{"empty resource is not no resource", []string{"read:"}, []string{"read"}, false},
		{"dash is not the no-resource placeholder", []string{"read:-"}, []string{"read"}, false},
		{"resource star required is literal too", []string{"read:users"}, []string{"read:*"}, false},
		{"required read:* met by held read:*", []string{"read:*"}, []string{"read:*"}, true},
		{"case sensitive", []string{"Read:Users"}, []string{"read:users"}, false},
		{"wildcard action does not cover other actions", []string{"*:users"}, []string{"read:users"}, false},
		{"partial wildcard is literal", []string{"read:user*"}, []string{"read:users"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ScopesSatisfied(tt.have, tt.required))
		})
	}
}
