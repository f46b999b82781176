package stytchemu

import (
	"strings"
	"time"
)

// Message kinds.
const (
	KindEmail = "email"
	KindSMS   = "sms"
	// KindWhatsApp is a consumer WhatsApp OTP.
	KindWhatsApp = "whatsapp"
)

// Message templates.
const (
	TemplateLogin     = "login"
	TemplateSignup    = "signup"
	TemplateInvite    = "invite"
	TemplateDiscovery = "discovery"
	TemplateMFA       = "mfa"
	// TemplateEmailUpdate: the link or code of a member's email update,
	// sent to the new address.
	TemplateEmailUpdate = "email_update"
)

// Message delivery methods.
const (
	MethodMagicLink = "magic_link"
	MethodOTP       = "otp"
)

// Message is one email or SMS the emulator would have sent. It holds live
// credentials (tokens, codes): it is test and dev-tool data, never log it.
type Message struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`     // KindEmail, KindSMS or KindWhatsApp
	Method         string    `json:"method"`   // MethodMagicLink or MethodOTP
	Template       string    `json:"template"` // TemplateLogin, TemplateSignup, ...
	To             string    `json:"to"`       // email address or E.164 phone number
	OrganizationID string    `json:"organization_id,omitempty"`
	MemberID       string    `json:"member_id,omitempty"`
	UserID         string    `json:"user_id,omitempty"` // consumer projects
	Token          string    `json:"token,omitempty"`   // magic-link token
	URL            string    `json:"url,omitempty"`     // redirect URL with the token appended
	Code           string    `json:"code,omitempty"`    // OTP code
	SentAt         time.Time `json:"sent_at"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// Outbox returns every message sent so far, oldest first.
func (e *Emulator) Outbox() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Message(nil), e.outbox...)
}

// LastMessage returns the newest message to recipient (email compared
// case-insensitively), and whether there is one.
func (e *Emulator) LastMessage(recipient string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.outbox) - 1; i >= 0; i-- {
		if strings.EqualFold(e.outbox[i].To, recipient) {
			return e.outbox[i], true
		}
	}
	return Message{}, false
}

// ClearOutbox forgets all messages (tokens and codes stay valid).
func (e *Emulator) ClearOutbox() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outbox = nil
}

func (e *Emulator) send(m Message) {
	m.ID = "message-test-" + newUUID()
	e.outbox = append(e.outbox, m)
}

// count records one request to an endpoint template.
func (e *Emulator) count(template string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[template]++
}

// Requests returns how many requests reached endpoints matching pattern
// (same syntax as Fault.Pattern, matched against route templates such as
// "POST /v1/b2b/sessions/authenticate"; "*" counts all). Requests that failed
// Basic auth or hit a fault count too; /emulator/ control calls do not.
func (e *Emulator) Requests(pattern string) int {
	method, re := compilePattern(pattern)
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for tmpl, c := range e.counts {
		if method != "" && !strings.HasPrefix(tmpl, method+" ") {
			continue
		}
		if matchPattern(re, tmpl, nil) {
			n += c
		}
	}
	return n
}

// ResetRequests zeroes the request counters.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = map[string]int{}
}
