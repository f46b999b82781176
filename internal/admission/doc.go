// Package admission decides, before any call to Stytch, whether a call may proceed: rate limits
// against toll fraud and mail bombing on sends, and attempt and failure budgets against brute
// force on code, link-token and secret checks.
//
// One table (DefaultTable), keyed by full gRPC method name, says which budgets each RPC spends
// and which RPCs honour idempotency keys; keys come from request fields by name (protoreflect),
// from the client IP (IPResolver: X-Forwarded-For only through trusted proxies) and from the
// authenticated caller. A refusal is RESOURCE_EXHAUSTED with google.rpc.RetryInfo (REST: 429 and
// Retry-After) and is counted in authsvc_admission_rejections_total{limit}.
//
// Keys are canonical identities, so that no spelling Stytch accepts for one target opens a fresh
// budget: an organization is the ID that its ID (in any letter case), slug or external ID names, a
// member its lower-case member ID (an external ID resolved), an email address is lower-cased
// without its +tag, a phone number is its digits. IDs are canonicalised locally; slugs and
// external IDs are resolved by a Resolver (Stytch's organization and member lookups, a bounded
// cache of answers and misses on the app's clock, a per-replica lookup rate), asked only once the
// per-IP limits have admitted the call. A reference it cannot resolve (unknown, Stytch failing)
// keys by its lower-cased value in a namespace of its own: still a limit, never "no limit".
//
// DefaultPolicy holds the budgets; an operator changes them with AUTHSVC_ADMISSION_LIMITS
// (Policy.Override), naming each by the same word the rejection metric's limit label uses. Conf
// (conf.go) is the package's configuration section: the limits, the fail modes, the trusted
// proxies and AUTHSVC_ADMISSION, parsed once into the Policy and prefixes New takes.
//
// Budgets live in a MemoryStore (golang.org/x/time/rate, bounded, per replica) or, with
// AUTHSVC_REDIS_URL, in a RedisStore (GCRA from github.com/go-redis/redis_rate) shared by every
// replica, on the client internal/redisclient builds (one server, a Cluster or Sentinel alike). When Redis cannot answer, each class of call follows its FailMode: by default sends
// fail closed (UNAVAILABLE) and checks fall back to per-replica memory budgets; either way the
// failure is logged (at most every 10 s) and counted in authsvc_admission_store_errors_total.
package admission
