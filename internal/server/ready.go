package server

// Degraded is what Config.Ready returns when authsvc can serve but runs without something it uses
// (Redis down, say): /readyz then answers 200 and names the problem in its body. Readiness takes a
// replica out of its load balancer, which helps when one replica is broken and hurts when a
// dependency every replica shares is down: then it takes them all out at once. A Degraded joined
// with any other error is not ready.
type Degraded struct{ Reason string }

func (d *Degraded) Error() string { return d.Reason }

// onlyDegraded reports whether err is made of Degraded errors alone: every branch of an
// errors.Join tree, through any wrapping, ends in a Degraded.
func onlyDegraded(err error) bool {
	switch e := err.(type) { //nolint:errorlint // walking the tree by hand is the point
	case *Degraded:
		return true
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		for _, inner := range errs {
			if !onlyDegraded(inner) {
				return false
			}
		}
		return len(errs) > 0
	case interface{ Unwrap() error }:
		return onlyDegraded(e.Unwrap())
	default:
		return false
	}
}
