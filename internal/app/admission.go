package app

import (
	"log/slog"

	"google.golang.org/grpc"

	"github.com/authsvc/authsvc/internal/admission"
	"github.com/authsvc/authsvc/internal/config"
	"github.com/authsvc/authsvc/internal/idempotency"
	"github.com/authsvc/authsvc/internal/session"
	"github.com/authsvc/authsvc/internal/stytchclient"
	"github.com/authsvc/authsvc/internal/telemetry"
)

// admissionParts are what admission control adds to the request path: idempotency keys and rate
// limits (chain steps) and the budget of remote session checks (spent by the session checker).
type admissionParts struct {
	idempotency  *idempotency.Interceptor
	limits       grpc.UnaryServerInterceptor // nil when AUTHSVC_ADMISSION=off
	remoteChecks session.Budget              // nil when AUTHSVC_ADMISSION=off
}

func newAdmission(cfg *config.Config, shared *sharedState, stytch *stytchclient.Client, log *slog.Logger, tel *telemetry.Telemetry) (*admissionParts, error) {
	// Budgets are keyed on the organization an ID, slug or external ID names (one budget per
	// member, however the request spells it); the resolver asks Stytch for slugs and external IDs.
	ids, err := admission.NewResolver(admission.ResolverConfig{
		Directory: stytch,
		Now:       shared.now,
		Logger:    log.With("component", "admission"),
	})
	if err != nil {
		return nil, err
	}
	acfg := admission.Config{
		Policy:        cfg.Admission.Policy, // limits and fail modes, parsed once by admission.Conf
		Resolver:      ids,
		IPs:           admission.NewIPResolver(cfg.Admission.TrustedProxies),
		Caller:        callerIdentity,
		Now:           shared.now,
		Logger:        log.With("component", "admission"),
		Metrics:       tel.Auth,
		MeterProvider: tel.MeterProvider,
	}
	var idemStore idempotency.Store
	if rdb := shared.store(); rdb != nil {
		acfg.Store = admission.NewRedisStore(rdb).WithTimeout(shared.redis.Timeout())
		idemStore = idempotency.NewRedisStore(rdb).WithTimeout(shared.redis.Timeout())
	}
	ctl, err := admission.New(acfg)
	if err != nil {
		return nil, err
	}
	idem, err := idempotency.New(idempotency.Config{
		Store:   idemStore,
		Keys:    cfg.Idempotency.Keys,
		Applies: ctl.Idempotent,
		Caller:  callerIdentity,
		Now:     shared.now,
		Logger:  log.With("component", "idempotency"),
	})
	if err != nil {
		return nil, err
	}
	if !idem.Encrypts() {
		log.Warn("AUTHSVC_IDEMPOTENCY_KEYS_FILE is not set while records are shared in Redis: idempotency keys are refused on RPCs whose responses carry a secret (M2M CreateClient, Discovery CreateOrganization, SCIM CreateConnection), and other responses are stored unencrypted")
	}
	parts := &admissionParts{idempotency: idem}
	if cfg.Admission.Off {
		log.Warn("AUTHSVC_ADMISSION=off: rate limits are disabled (load tests only)")
		return parts, nil
	}
	parts.limits = ctl.UnaryServerInterceptor()
	parts.remoteChecks = ctl.RemoteSessionChecks()
	return parts, nil
}
