package admission_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/admission"
)

// authsvcMethods lists every RPC of every authsvc service linked into the binary.
func authsvcMethods(t *testing.T) []string {
	t.Helper()
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "authsvc.") {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				out = append(out, "/"+string(sd.FullName())+"/"+string(sd.Methods().Get(j).Name()))
			}
		}
		return true
	})
	require.NotEmpty(t, out)
	return out
}

// Every RPC must have a rule (limits, or an exemption saying why not), so that a new RPC cannot be
// forgotten; New checks the converse (every rule names an existing RPC and fields).
func TestEveryRPCHasARule(t *testing.T) {
	table, err := admission.DefaultTable()
	require.NoError(t, err)
	methods := authsvcMethods(t)
	for _, m := range methods {
		r, ok := table[m]
		if assert.True(t, ok, "%s has no admission rule", m) {
			assert.True(t, len(r.Limits) > 0 || r.Exempt != "", "%s: neither limits nor exemption", m)
		}
	}
	assert.Len(t, table, len(methods), "the table has rules for RPCs that do not exist")
	_, err = admission.New(admission.Config{})
	require.NoError(t, err)
}

// Every RPC that makes Stytch send something spends a per-IP send budget and honours
// idempotency keys; every code check has a failure budget.
func TestSendsAndChecksAreLimited(t *testing.T) {
	table, err := admission.DefaultTable()
	require.NoError(t, err)
	limits := func(m string) map[string]bool {
		out := map[string]bool{}
		for _, a := range table[m].Limits {
			out[a.Limit] = true
		}
		return out
	}
	for _, m := range []string{
		b2bv1.MagicLinksService_LoginOrSignup_FullMethodName, b2bv1.MagicLinksService_Invite_FullMethodName,
		b2bv1.MagicLinksService_DiscoverySend_FullMethodName, b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName,
		b2bv1.OTPsService_EmailDiscoverySend_FullMethodName, b2bv1.OTPsService_SmsSend_FullMethodName,
	} {
		assert.True(t, limits(m)[admission.LimitSendIP], m)
		assert.True(t, table.Idempotent(m), m)
	}
	assert.True(t, limits(b2bv1.OTPsService_SmsSend_FullMethodName)[admission.LimitSendPhonePrefix])
	for _, m := range []string{
		b2bv1.OTPsService_EmailAuthenticate_FullMethodName, b2bv1.OTPsService_EmailDiscoveryAuthenticate_FullMethodName,
		b2bv1.OTPsService_SmsAuthenticate_FullMethodName,
	} {
		assert.True(t, limits(m)[admission.LimitCheckFailuresTarget], m)
	}
}

func TestNewRejectsABadTable(t *testing.T) {
	send := b2bv1.OTPsService_EmailLoginOrSignup_FullMethodName
	for name, tc := range map[string]struct {
		table admission.Table
		want  string
	}{
		"unknown method": {admission.Table{"/authsvc.b2b.v1.OTPsService/Nope": {Exempt: "x"}}, "no such method"},
		"unknown field":  {admission.Table{send: {Limits: []admission.Apply{{Limit: admission.LimitSendEmail, Key: admission.ByEmail("email")}}}}, `no field "email"`},
		"not a string":   {admission.Table{send: {Limits: []admission.Apply{{Limit: admission.LimitSendEmail, Key: admission.ByField("locale")}}}}, "not a singular string"},
		"unknown limit":  {admission.Table{send: {Limits: []admission.Apply{{Limit: "per_moon", Key: admission.ByIP()}}}}, `unknown limit "per_moon"`},
		"no decision":    {admission.Table{send: {}}, "neither limits nor a written exemption"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := admission.New(admission.Config{Table: tc.table})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	require.NoError(t, admission.DefaultPolicy().Validate())
	p := admission.DefaultPolicy()
	p.SendPerEmail.Events = 0
	p.CheckFailuresPerIP.Window = 0
	p.SendsOnStoreError = "sometimes"
	err := p.Validate()
	require.ErrorContains(t, err, admission.LimitSendEmail)
	require.ErrorContains(t, err, admission.LimitCheckFailuresIP)
	require.ErrorContains(t, err, "sometimes")
}
