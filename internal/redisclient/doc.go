// Package redisclient owns authsvc's connection to Redis: its setting (AUTHSVC_REDIS_URL), the
// construction of the go-redis clients, the readiness ping and Close. admission, idempotency and
// revocation receive a redis.UniversalClient from it and build none themselves, so a single
// server, a Redis Cluster and a Sentinel-managed primary are the same thing to them.
//
// One URL names the deployment (see Conf.SetURL for the forms). Open builds two clients on it:
//
//   - Redis, for the request path: short timeouts (a slow Redis must cost milliseconds, not the
//     default seconds), no command retries, and a circuit breaker that skips Redis for Cooldown
//     after a connection failure, so that an outage costs one timeout per cooldown rather than one
//     per call. With a cluster each node has its own breaker: one unreachable shard does not stop
//     the others.
//   - Subscriber, for the revocation list's pub/sub subscription: no breaker (the subscription
//     has its own backoff; its handshake must neither wait for the request path's breaker nor
//     open it), a short dial tried once, so that Close never waits long for one in progress.
//
// What each topology's master failure means for authsvc (what it refuses, what it keeps serving,
// how it recovers without a restart) is described in deploy/README.md, "When a Redis master dies".
//
// Both connect lazily: an unreachable Redis does not stop authsvc from starting. go-redis's own log
// lines go through internal/telemetry (redis.SetLogger), which is process-wide.
package redisclient
