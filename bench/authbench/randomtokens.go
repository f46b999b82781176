package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	b2bv1 "github.com/authsvc/authsvc/gen/go/authsvc/b2b/v1"
)

// The random-token run: one client sends session tokens that look like Stytch's but were never
// issued, as a script guessing tokens or replaying junk would. Each is unknown to the negative cache,
// so only the remote-check budget (session_remote_failures_ip: 30 rejected credentials per 10
// minutes per client IP) stands between them and Stytch.
const (
	randomTokenCount   = 300
	randomTokenCallers = stytchConc
	// randomTokenBudget is the default session_remote_failures_ip budget (internal/admission).
	randomTokenBudget    = 30
	patternSessionsCheck = "POST /v1/b2b/sessions/authenticate"
)

// randomTokenResult is what randomTokenCount random session tokens from one client did.
type randomTokenResult struct {
	Sent            int
	Upstream        int64 // session checks that reached the emulator
	Unauthenticated int   // refused by Stytch (or the negative cache)
	Exhausted       int   // refused by the budget without a call to Stytch
	Other           int
	FirstOther      string
}

// randomTokenRun sends the tokens from 10 concurrent callers on one connection (one client IP) to
// a fresh authsvc with admission control on, and counts the calls that reached Stytch.
func (b *bench) randomTokenRun(ctx context.Context) {
	fmt.Printf("authbench: %d random session tokens from one client (admission on) ...\n", randomTokenCount)
	b.withFreshAuthsvc(ctx, "authsvc-random-tokens", []string{"AUTHSVC_ADMISSION=on"}, func() {
		res := &randomTokenResult{}
		up0, err0 := upstreamCount(ctx, b.emuURL, patternSessionsCheck, "")
		client := b2bv1.NewSessionsServiceClient(b.conns[0])
		work := make(chan string)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range randomTokenCallers {
			wg.Go(func() {
				for tok := range work {
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					_, err := client.Authenticate(cctx, &b2bv1.SessionsServiceAuthenticateRequest{
						Credential: &b2bv1.SessionsServiceAuthenticateRequest_SessionToken{SessionToken: tok},
					})
					cancel()
					mu.Lock()
					res.Sent++
					switch status.Code(err) {
					case codes.Unauthenticated:
						res.Unauthenticated++
					case codes.ResourceExhausted:
						res.Exhausted++
					default:
						res.Other++
						if res.FirstOther == "" {
							res.FirstOther = fmt.Sprint(err)
						}
					}
					mu.Unlock()
				}
			})
		}
		for range randomTokenCount {
			work <- randomSessionToken()
		}
		close(work)
		wg.Wait()
		up1, err1 := upstreamCount(ctx, b.emuURL, patternSessionsCheck, "")
		if err0 != nil || err1 != nil {
			b.note(fmt.Sprintf("random tokens: emulator request count: %v %v", err0, err1))
			return
		}
		res.Upstream = up1 - up0
		b.randomTokens = res
		fmt.Printf("authbench: random tokens: %d Stytch calls, %d refused by Stytch, %d by the budget, %d other\n",
			res.Upstream, res.Unauthenticated, res.Exhausted, res.Other)
	})
}

// randomSessionToken looks like a Stytch session token: 44 characters of URL-safe base64.
func randomSessionToken() string {
	buf := make([]byte, 33)
	_, _ = rand.Read(buf)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// randomTokenVerdict is the report's row for the run.
func (b *bench) randomTokenVerdict() verdict {
	v := verdict{
		Target: fmt.Sprintf("Stytch calls per %d random session tokens from one client (%d concurrent callers, admission on): ≤ %d, the session_remote_failures_ip budget",
			randomTokenCount, randomTokenCallers, randomTokenBudget),
		Wave1: wave1RandomTokens,
	}
	r := b.randomTokens
	if r == nil {
		v.Result = notMeasured
		return v
	}
	v.Measured = fmt.Sprintf("%d Stytch calls; %d answered UNAUTHENTICATED, %d RESOURCE_EXHAUSTED without a call, %d other",
		r.Upstream, r.Unauthenticated, r.Exhausted, r.Other)
	if r.FirstOther != "" {
		v.Measured += fmt.Sprintf(" (%q)", r.FirstOther)
	}
	v.Result = met
	switch {
	case r.Upstream > randomTokenBudget:
		v.Result = missed("%d calls over the budget", r.Upstream-randomTokenBudget)
	case r.Other > 0 || r.Sent != randomTokenCount:
		v.Result = missed("%d of %d tokens got another answer than UNAUTHENTICATED or RESOURCE_EXHAUSTED", r.Other+randomTokenCount-r.Sent, randomTokenCount)
	}
	return v
}
