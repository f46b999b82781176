package revocation

// NewObserved is New with test hooks: applied is called (on the subscription's goroutine) after
// each message was processed, with its subject ("" for one that could not be read); subscribed
// after each confirmed subscription, once cached answers were dropped. Either may be nil.
func NewObserved(cfg Config, applied func(subject string), subscribed func()) (*List, error) {
	return newList(cfg, hooks{applied: applied, subscribed: subscribed})
}

// HeldSessions is how many session revocations the list holds in memory.
func HeldSessions(l *List) int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.sessions.revoked)
}
