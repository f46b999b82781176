package admission_test

// The failure budget of a code check belongs to the target (a member), not to how the request spells
// it: Stytch takes an organization by its ID in any letter case, its slug or its external ID, and a
// member by its ID in any letter case or its external ID, so each of those spellings must spend,
// and meet, the same budget, over gRPC and REST alike.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/apptest"
	"github.com/authsvc/authsvc/internal/stytchemu"
)

const upstreamSMSAuth = "POST /v1/b2b/otps/sms/authenticate"

// aliasedMember is a member of an organization that has a slug and an external ID, with an
// external ID of its own and an MFA phone number.
type aliasedMember struct {
	emu                   *stytchemu.Server
	orgID, slug, orgExt   string
	memberID, memberExt   string
	email, phone          string
	orgSpellings, members []string
}

// mixedCase upper-cases every other letter: "organization-test-ab12" -> "OrGaNiZaTiOn-tEsT-Ab12".
func mixedCase(s string) string {
	b := []byte(s)
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if up {
				b[i] = c - 'a' + 'A'
			}
			up = !up
		}
	}
	return string(b)
}

// newAliasedMember creates the organization through the emulator's Stytch API (the Go helper
// sets no external ID) and the member with the Go helper.
func newAliasedMember(t *testing.T) *aliasedMember {
	t.Helper()
	emu, err := stytchemu.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })
	n := uniq.Add(1)
	a := &aliasedMember{
		emu: emu, slug: fmt.Sprintf("acme-%d", n), orgExt: fmt.Sprintf("crm-acme-%d", n),
		memberExt: fmt.Sprintf("emp-%d", n), email: newEmail("dana"), phone: fmt.Sprintf("+1415555%04d", n%10000),
	}
	body, err := json.Marshal(map[string]string{
		"organization_name": fmt.Sprintf("Acme %d", n), "organization_slug": a.slug, "organization_external_id": a.orgExt,
	})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, emu.URL+"/v1/b2b/organizations", bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(emu.ProjectID(), emu.Secret())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var created struct {
		Organization struct {
			OrganizationID string `json:"organization_id"`
		} `json:"organization"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	a.orgID = created.Organization.OrganizationID
	m, err := emu.CreateMember(a.orgID, stytchemu.MemberParams{Email: a.email, MFAPhoneNumber: a.phone, ExternalID: a.memberExt})
	require.NoError(t, err)
	a.memberID = m.ID
	a.orgSpellings = []string{a.orgID, upper(a.orgID), mixedCase(a.orgID), a.slug, a.orgExt}
	a.members = []string{a.memberID, upper(a.memberID), mixedCase(a.memberID), a.memberExt}
	return a
}

// spelling is one way to name the target of a check.
type spelling struct{ org, member string }

func (s spelling) String() string { return s.org + "/" + s.member }

// checkCase is one code check reachable over gRPC and REST: send a code to the target, then check
// codes naming the target in a given spelling.
type checkCase struct {
	upstream  string
	spellings func(a *aliasedMember) []spelling
	// send makes Stytch send a code and returns it, with what the checks need besides the code.
	send     func(t *testing.T, a *aliasedMember, env *apptest.Env) (code string, extra map[string]string)
	grpc     func(ctx context.Context, env *apptest.Env, s spelling, a *aliasedMember, code string, extra map[string]string) error
	restPath string
	restBody func(s spelling, a *aliasedMember, code string, extra map[string]string) map[string]any
}

func checkCases() map[string]checkCase {
	return map[string]checkCase{
		"email OTP": {
			upstream: upstreamOTPAuth,
			spellings: func(a *aliasedMember) []spelling {
				var out []spelling
				for i, o := range a.orgSpellings {
					email := a.email
					if i%2 == 1 {
						email = upper(email)
					}
					out = append(out, spelling{org: o, member: email})
				}
				return out
			},
			send: func(t *testing.T, a *aliasedMember, env *apptest.Env) (string, map[string]string) {
				t.Helper()
				_, err := otpSend(t.Context(), env, a.orgID, a.email)
				require.NoError(t, err)
				msg, ok := a.emu.LastMessage(a.email)
				require.True(t, ok)
				return msg.Code, nil
			},
			grpc: func(ctx context.Context, env *apptest.Env, s spelling, _ *aliasedMember, code string, _ map[string]string) error {
				return otpCheck(ctx, env, s.org, s.member, code)
			},
			restPath: "/v1/b2b/otps/email/authenticate",
			restBody: func(s spelling, _ *aliasedMember, code string, _ map[string]string) map[string]any {
				return map[string]any{"organization_id": s.org, "email_address": s.member, "code": code}
			},
		},
		"SMS OTP": {
			upstream: upstreamSMSAuth,
			spellings: func(a *aliasedMember) []spelling {
				// Every pair once, in an order where any run of consecutive spellings varies both
				// (5 and 4 are coprime, so i -> (i mod 5, i mod 4) visits all 20 pairs).
				n := len(a.orgSpellings) * len(a.members)
				out := make([]spelling, n)
				for i := range n {
					out[i] = spelling{org: a.orgSpellings[i%len(a.orgSpellings)], member: a.members[i%len(a.members)]}
				}
				return out
			},
			send: func(t *testing.T, a *aliasedMember, env *apptest.Env) (string, map[string]string) {
				t.Helper()
				sess, err := a.emu.CreateSession(a.orgID, a.memberID, time.Hour)
				require.NoError(t, err)
				_, err = b2bv1.NewOTPsServiceClient(env.Conn).SmsSend(t.Context(), &b2bv1.OTPsServiceSmsSendRequest{
					OrganizationId: a.orgID, MemberId: a.memberID,
					Credential: &b2bv1.OTPsServiceSmsSendRequest_SessionToken{SessionToken: sess.Token},
				})
				require.NoError(t, err)
				msg, ok := a.emu.LastMessage(a.phone)
				require.True(t, ok)
				return msg.Code, map[string]string{"session_token": sess.Token}
			},
			grpc: func(ctx context.Context, env *apptest.Env, s spelling, _ *aliasedMember, code string, extra map[string]string) error {
				_, err := b2bv1.NewOTPsServiceClient(env.Conn).SmsAuthenticate(ctx, &b2bv1.OTPsServiceSmsAuthenticateRequest{
					OrganizationId: s.org, MemberId: s.member, Code: code,
					Credential: &b2bv1.OTPsServiceSmsAuthenticateRequest_SessionToken{SessionToken: extra["session_token"]},
				})
				return err
			},
			restPath: "/v1/b2b/otps/sms/authenticate",
			restBody: func(s spelling, _ *aliasedMember, code string, extra map[string]string) map[string]any {
				return map[string]any{"organization_id": s.org, "member_id": s.member, "code": code, "session_token": extra["session_token"]}
			},
		},
	}
}

// One member, one failure budget, however the request spells the member: wrong codes sent with
// every spelling in turn (organization ID in lower, upper and mixed case, slug, external ID;
// member ID in any case or external ID; email in any case) spend one budget of 5, and the 6th
// wrong code is refused in every spelling, the right code too, with RESOURCE_EXHAUSTED over gRPC
// and 429 over REST, without reaching Stytch.
func TestOneBudgetPerMemberWhateverTheSpelling(t *testing.T) {
	for name, cc := range checkCases() {
		for _, transport := range []string{"grpc", "rest"} {
			t.Run(name+"/"+transport, func(t *testing.T) {
				a := newAliasedMember(t)
				env := apptest.Start(t, apptest.WithEmulator(a.emu))
				code, extra := cc.send(t, a, env)
				bad := wrongCode(code)
				spellings := cc.spellings(a)

				const succeeded = "the check succeeded"
				check := func(s spelling, code string) (refused bool, detail string) {
					if transport == "grpc" {
						err := cc.grpc(t.Context(), env, s, a, code, extra)
						if err == nil {
							return false, succeeded
						}
						if status.Code(err) == codes.ResourceExhausted {
							requireRateLimited(t, err, admission.LimitCheckFailuresTarget)
							return true, ""
						}
						return false, err.Error()
					}
					r := env.REST(t, http.MethodPost, cc.restPath, cc.restBody(s, a, code, extra))
					if r.Status == http.StatusOK {
						return false, succeeded
					}
					if r.Status == http.StatusTooManyRequests {
						assert.Contains(t, string(r.Body), admission.LimitCheckFailuresTarget)
						assert.NotEmpty(t, r.Header.Get("Retry-After"))
						return true, ""
					}
					return false, fmt.Sprintf("%d %s", r.Status, r.Body)
				}

				max := admission.DefaultPolicy().CheckFailuresPerTarget.Max
				a.emu.ResetRequests()
				for i := range max {
					s := spellings[i%len(spellings)]
					refused, detail := check(s, bad)
					require.False(t, refused, "wrong code %d (%s) refused before the budget was spent", i+1, s)
					require.NotEqual(t, succeeded, detail, "a wrong code")
				}
				require.Equal(t, max, a.emu.Requests(cc.upstream), "each of the first wrong codes reached Stytch")

				for _, s := range spellings {
					refused, detail := check(s, bad)
					assert.True(t, refused, "wrong code %d in spelling %s was not refused (a fresh budget for this spelling): %s", max+1, s, detail)
				}
				refused, detail := check(spellings[len(spellings)-1], code)
				assert.True(t, refused, "the right code waits for the window too: %s", detail)
				assert.Equal(t, max, a.emu.Requests(cc.upstream), "refused checks must not reach Stytch")
				assert.LessOrEqual(t, a.emu.Requests("GET /v1/b2b/organizations/*"), 3,
					"each slug or external ID (organization slug and external ID, member external ID) is looked up at most once")
			})
		}
	}
}
