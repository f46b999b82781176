package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/sync/errgroup"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// consumerWorkloads measures the consumer session check (authsvc.consumer.v1.SessionsService/
// Authenticate) in the shape of W2a–W2c, so that the report sets it beside the B2B one with the
// same targets. The user sessions are made just before, so their 5-minute JWTs are fresh.
func (b *bench) consumerWorkloads(ctx context.Context) {
	if !b.want("C2a") && !b.want("C2b") && !b.want("C2c") {
		return
	}
	users, err := newUserSessions(ctx, b.emuURL, b.consumerID, b.consumerSecret, b.sz.distinctJWTs)
	if err != nil {
		b.note("consumer sessions: " + err.Error())
		return
	}
	first := make([]map[string]string, len(users))
	for i, s := range users {
		first[i] = map[string]string{"session_jwt": s.JWT}
	}
	b.measure(ctx, row{ID: "C2a", Name: "Consumer Sessions.Authenticate, valid user JWT, first sight (every JWT distinct)", Tool: "ghz", Concurrency: localConc, UpstreamProject: b.consumerID}, true,
		b.ghz(ctx, "c2a-user-jwt-first", ghzRun{Call: callUserAuth, Data: first, Concurrency: localConc, Total: len(first)}))
	repeated := map[string]string{"session_jwt": users[0].JWT}
	c2b := b.measure(ctx, row{ID: "C2b", Name: "Consumer Sessions.Authenticate, valid user JWT, repeated (one JWT)", Tool: "ghz", Concurrency: localConc, UpstreamProject: b.consumerID}, true,
		b.ghz(ctx, "c2b-user-jwt-repeated", ghzRun{Call: callUserAuth, Data: repeated, Concurrency: localConc, Total: b.sz.fast}))
	if c2b.RPS > 0 {
		pace := int(c2b.RPS / 2)
		b.measure(ctx, row{ID: "C2c", Name: fmt.Sprintf("Consumer Sessions.Authenticate, repeated user JWT, paced at half of C2b (%d rps)", pace), Tool: "ghz", Concurrency: localConc, PacedRPS: pace, UpstreamProject: b.consumerID}, true,
			b.ghz(ctx, "c2c-user-jwt-paced", ghzRun{Call: callUserAuth, Data: repeated, Concurrency: localConc, Total: max(pace*8, 200), RPS: pace}))
	}
}

// newUserSessions logs n users of the consumer project in with email magic links (each a real
// login_or_create, outbox read and authenticate, so every session JWT differs).
func newUserSessions(ctx context.Context, emuURL, projectID, secret string, n int) ([]session, error) {
	sc, err := stytchclient.New(stytchclient.Config{ProjectID: projectID, Secret: secret, BaseURL: emuURL, Version: "authbench", ProjectType: stytchclient.ProjectConsumer})
	if err != nil {
		return nil, err
	}
	out := make([]session, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			s, err := userLogin(gctx, sc, emuURL, projectID, fmt.Sprintf("bench-user-%06d@example.com", i))
			if err != nil {
				return fmt.Errorf("user login %d: %w", i, err)
			}
			out[i] = s
			return nil
		})
	}
	return out, g.Wait()
}

func userLogin(ctx context.Context, sc *stytchclient.Client, emuURL, projectID, email string) (session, error) {
	if _, err := sc.ConsumerMagicLinkLoginOrCreate(ctx, stytchclient.ConsumerMagicLinkLoginOrCreateParams{Email: email}); err != nil {
		return session{}, err
	}
	var box struct {
		Messages []struct {
			Token string `json:"token"`
		} `json:"messages"`
	}
	q := url.Values{"to": {email}, "project_id": {projectID}}
	if err := emuControl(ctx, http.MethodGet, emuURL+"/emulator/outbox?"+q.Encode(), nil, &box); err != nil {
		return session{}, err
	}
	if len(box.Messages) == 0 || box.Messages[len(box.Messages)-1].Token == "" {
		return session{}, errors.New("no magic link in the consumer outbox")
	}
	res, err := sc.ConsumerMagicLinkAuthenticate(ctx, stytchclient.ConsumerMagicLinkAuthenticateParams{
		Token:                  box.Messages[len(box.Messages)-1].Token,
		SessionDurationMinutes: 24 * 60,
	})
	if err != nil {
		return session{}, err
	}
	if res.SessionJWT == "" {
		return session{}, errors.New("magic link did not start a user session")
	}
	return session{MemberID: res.UserID, Token: res.SessionToken, JWT: res.SessionJWT}, nil
}
