package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/authsvc/authsvc/internal/stytchclient"
)

// The floor: what the same load costs a gRPC server that does nothing of authsvc's. F1–F4 run ghz
// exactly as W1, W2c, E3 and W4 do, against this harness's own binary started as a bare grpc-go
// server (default options, no interceptors, no logging or telemetry; the health service and
// reflection, for ghz): F1–F3 answer at once, F4 makes the Members.Get call W4 makes, with the
// Stytch client authsvc uses; F9 is W9b's pair (this harness's own driver) with the floor server in
// authsvc's place. The difference between a W/E row and its F row is what authsvc's
// own layers cost; the F row itself is what the machine, the kernel, grpc-go and ghz cost, which
// no change to authsvc can remove. On this project's 2-core bench machine that floor is a large
// part of a paced workload's tail and all of a Stytch-bound call's CPU at W4's load
// (docs/profiles/request-path.md).

// floorStytchService is the health service name for which the floor server makes the Stytch call.
const floorStytchService = "stytch"

// The floor server's settings come from its environment, so the Stytch secret is not on its
// command line.
const (
	envFloorBaseURL = "AUTHBENCH_FLOOR_STYTCH_BASE_URL"
	envFloorProject = "AUTHBENCH_FLOOR_STYTCH_PROJECT_ID"
	envFloorSecret  = "AUTHBENCH_FLOOR_STYTCH_SECRET" //nolint:gosec // an environment variable's name
	envFloorOrg     = "AUTHBENCH_FLOOR_ORGANIZATION_ID"
	envFloorMember  = "AUTHBENCH_FLOOR_MEMBER_ID"
)

// floorServer is grpc.health.v1.Health: the empty service name answers SERVING at once, "stytch"
// after one Members.Get through the Stytch client.
type floorServer struct {
	healthpb.UnimplementedHealthServer
	stytch      *stytchclient.Client
	org, member string
}

func (f *floorServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if req.GetService() == floorStytchService {
		if f.stytch == nil {
			return nil, status.Error(codes.FailedPrecondition, envFloorBaseURL+" is not set")
		}
		if _, err := f.stytch.MemberGet(ctx, stytchclient.MemberGetParams{OrganizationID: f.org, MemberID: f.member}); err != nil {
			return nil, status.Error(codes.Unavailable, err.Error())
		}
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// serveFloor runs the floor server on addr until ctx ends (authbench -floor ADDR).
func serveFloor(ctx context.Context, addr string) error {
	f := &floorServer{org: os.Getenv(envFloorOrg), member: os.Getenv(envFloorMember)}
	if base := os.Getenv(envFloorBaseURL); base != "" {
		c, err := stytchclient.New(stytchclient.Config{ProjectID: os.Getenv(envFloorProject), Secret: os.Getenv(envFloorSecret), BaseURL: base, Version: "authbench-floor"})
		if err != nil {
			return err
		}
		f.stytch = c
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, f)
	reflection.Register(s)
	go func() {
		<-ctx.Done()
		s.Stop()
	}()
	if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// startFloor starts this binary as the floor server on a free loopback port.
func (b *bench) startFloor(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ports, err := freePorts(ctx, 1)
	if err != nil {
		return err
	}
	b.floorAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	env := []string{
		envFloorBaseURL + "=" + b.emuURL, envFloorProject + "=" + b.projectID, envFloorSecret + "=" + b.secret,
		envFloorOrg + "=" + b.fx.OrgID, envFloorMember + "=" + b.fx.Sessions[0].MemberID,
	}
	b.floor, err = startProc("floor", self, []string{"-floor", b.floorAddr}, env, filepath.Join(b.cfg.workDir, "floor.log"))
	if err != nil {
		return err
	}
	_, err = waitServing(ctx, b.floorAddr, time.Now(), 15*time.Second, b.floor)
	return err
}

// floorWorkloads runs F1–F4 and F9 against the floor server, each as its authsvc twin runs (w2c, e3: the
// paced rows whose rate F2 and F3 copy; nil when not run).
func (b *bench) floorWorkloads(ctx context.Context, w2c, e3 *row) {
	if !b.want("F1") && !b.want("F2") && !b.want("F3") && !b.want("F4") && !b.want("F9") {
		return
	}
	if err := b.startFloor(ctx); err != nil {
		b.note("floor server: " + err.Error())
		return
	}
	defer func() {
		if err := b.floor.Stop(); err != nil {
			b.note("floor server stop: " + err.Error())
		}
		b.floor = nil
	}()
	const call = "grpc.health.v1.Health/Check"
	noop := map[string]string{"service": ""}
	run := func(name string, r ghzRun) func() (Latencies, float64, error) {
		return b.ghzAt(ctx, b.floorAddr, name, r)
	}
	_, _, _ = run("floor-warmup", ghzRun{Call: call, Data: noop, Concurrency: 10, Total: 2000})()
	b.measure(ctx, row{ID: "F1", Name: "Floor: a bare grpc-go server's no-op Health.Check (as W1)", Tool: "ghz", Concurrency: localConc, Floor: true}, false,
		run("f1-floor-noop", ghzRun{Call: call, Data: noop, Concurrency: localConc, Total: b.sz.fast}))
	for _, p := range []struct {
		id   string
		twin *row
	}{{"F2", w2c}, {"F3", e3}} {
		if p.twin == nil || p.twin.PacedRPS == 0 {
			continue
		}
		pace := p.twin.PacedRPS
		b.measure(ctx, row{ID: p.id, Name: fmt.Sprintf("Floor: the bare server's no-op Health.Check paced as %s (%d rps)", p.twin.ID, pace), Tool: "ghz", Concurrency: localConc, PacedRPS: pace, Floor: true}, false,
			run("floor-"+p.id, ghzRun{Call: call, Data: noop, Concurrency: localConc, Total: max(pace*8, 200), RPS: pace}))
	}
	if b.want("F9") {
		b.floorPaired(ctx)
	}
	b.measure(ctx, row{ID: "F4", Name: "Floor: the bare server making W4's Members.Get with authsvc's Stytch client (as W4)", Tool: "ghz", Concurrency: stytchConc, Floor: true}, false,
		run("f4-floor-stytch", ghzRun{Call: call, Data: map[string]string{"service": floorStytchService}, Concurrency: stytchConc, Total: b.sz.stytchBound}))
}

// floorPaired is F9, W9b's pair with the floor server in authsvc's place: Members.Get through a bare
// gRPC hop and the same Stytch client, alternating with that client calling the emulator directly,
// in one driver. Its p50 difference is what any gRPC server in front of Stytch adds on this machine.
func (b *bench) floorPaired(ctx context.Context) {
	cn, err := grpc.NewClient("passthrough:///"+b.floorAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.note("floor connection: " + err.Error())
		return
	}
	defer func() { _ = cn.Close() }()
	direct, err := b.directStytch()
	if err != nil {
		b.note("direct Stytch client: " + err.Error())
		return
	}
	hc := healthpb.NewHealthClient(cn)
	b.pairedOn(ctx, row{ID: "F9", Name: "Floor: W9b's pair with the bare server in authsvc's place (Members.Get through it vs the Stytch client straight at the emulator, alternating)", Tool: "authbench", Concurrency: stytchConc, Floor: true},
		"through the bare grpc-go server (Health.Check → Members.Get)",
		func(ctx context.Context, _ int64) error {
			_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: floorStytchService})
			return err
		},
		func(ctx context.Context, _ int64) error {
			_, err := direct.MemberGet(ctx, stytchclient.MemberGetParams{OrganizationID: b.fx.OrgID, MemberID: b.fx.Sessions[0].MemberID})
			return err
		})
}
