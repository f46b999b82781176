// Package server runs authsvc's three listeners: the gRPC API, the REST gateway in front of it, and an
// internal admin port.
//
// gRPC and REST are on separate ports, and the gateway reaches the API as a gRPC client of the same
// server (Register*Handler with a client connection, over an in-memory listener the gRPC server
// serves besides its port) rather than by calling handlers in process (Register*HandlerServer). That
// costs one in-memory HTTP/2 hop per REST call and buys the guarantee that a REST request passes
// exactly the same interceptor chain as a gRPC one: tracing, logging, caller access, admission
// control, validation and panic recovery. Keeping the ports apart also lets each be exposed,
// secured and load-balanced on its own (HTTP/1.1 browsers versus HTTP/2 services).
//
// The admin port (metrics, pprof) is never served on the public REST port.
//
// Shutdown runs in dependency order: readiness and health turn NOT_SERVING while both ports keep
// serving for the drain delay (REST responses asking clients to close their connections), so that load
// balancers stop routing here before anything is refused; then the REST listener closes and the gateway
// drains (its in-flight calls still need the gRPC server), the gRPC server stops gracefully within the
// grace period and is then stopped hard, and the admin server goes last so metrics can be scraped until
// the end.
//
// REST routing errors keep the gateway's JSON error body: a wrong method on a known path is 405 with an
// Allow header computed from the registered routes, a body over 64 KiB is 413; TLS responses carry
// HSTS.
//
// Conf (conf.go) is the package's configuration section: the listen addresses, TLS files, drain
// delay and shutdown grace, with their variables; internal/config composes it with the rules that
// depend on the mode.
package server
