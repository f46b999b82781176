package passwords

import (
	"bufio"
	_ "embed" // the breached-password list ships inside the binary
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// PolicyKind is a project's strength policy, spelled as strength_check's
// strength_policy field.
type PolicyKind string

// The two strength policies Stytch offers.
const (
	PolicyZXCVBN PolicyKind = "zxcvbn"
	PolicyLUDS   PolicyKind = "luds"
)

// Policy is a project's password strength configuration.
type Policy struct {
	// Kind selects zxcvbn scoring (valid from MinScore) or LUDS rules.
	Kind PolicyKind
	// LUDSMinLength is the least number of characters a LUDS password needs.
	LUDSMinLength int
	// LUDSMinComplexity is how many of the four kinds (lower case, upper
	// case, digit, symbol) a LUDS password needs, 1 to 4.
	LUDSMinComplexity int
	// BreachDetection refuses passwords on the shipped breached list
	// (strength_check's breach_detection_on_create).
	BreachDetection bool
}

// MinScore is the zxcvbn score a password needs under the zxcvbn policy.
const MinScore = 3

// maxScoredRunes bounds the part of a password zxcvbn looks at: its matchers
// grow faster than linearly with length, and characters past this many can
// only add strength, so scoring a prefix never overstates a password.
const maxScoredRunes = 100

// minEmailLocalPart is the shortest email local part the containment rule
// applies to: refusing every password with an "a" in it for a@example.com
// would be no policy at all.
const minEmailLocalPart = 3

// DefaultPolicy is Stytch's default: zxcvbn, breach detection on, and the
// LUDS defaults (8 characters, 3 of the 4 kinds) ready should the project
// switch to LUDS.
func DefaultPolicy() Policy {
	return Policy{Kind: PolicyZXCVBN, LUDSMinLength: 8, LUDSMinComplexity: 3, BreachDetection: true}
}

// Validate reports a configuration no check could follow.
func (p Policy) Validate() error {
	switch {
	case p.Kind != PolicyZXCVBN && p.Kind != PolicyLUDS:
		return errors.New("passwords: strength policy must be zxcvbn or luds")
	case p.LUDSMinLength < 1 || p.LUDSMinLength > 256:
		return errors.New("passwords: LUDS minimum length must be between 1 and 256")
	case p.LUDSMinComplexity < 1 || p.LUDSMinComplexity > 4:
		return errors.New("passwords: LUDS minimum complexity must be between 1 and 4")
	}
	return nil
}

// Result holds the fields of a strength_check response.
type Result struct {
	ValidPassword           bool
	Score                   int // zxcvbn score, 0 to 4, under either policy
	BreachedPassword        bool
	StrengthPolicy          PolicyKind
	BreachDetectionOnCreate bool
	Feedback                Feedback
}

// Feedback tells the user what to change. Suggestions is never nil.
type Feedback struct {
	Warning     string
	Suggestions []string
	// LUDS is set under the LUDS policy only.
	LUDS *LUDSRequirements
}

// LUDSRequirements says which LUDS rules a password meets.
type LUDSRequirements struct {
	HasLowerCase      bool
	HasUpperCase      bool
	HasDigit          bool
	HasSymbol         bool
	MissingComplexity int // kinds still needed
	MissingCharacters int // characters still needed
}

//go:embed breached.txt
var breachedList string

// Checker applies one Policy. It is safe for concurrent use.
type Checker struct {
	policy   Policy
	breached map[string]struct{}
}

// NewChecker returns a Checker for p, with the shipped breached-password
// list loaded.
func NewChecker(p Policy) (*Checker, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	set := make(map[string]struct{}, strings.Count(breachedList, "\n"))
	sc := bufio.NewScanner(strings.NewReader(breachedList))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("passwords: reading the breached list: %w", err)
	}
	return &Checker{policy: p, breached: set}, nil
}

// Policy returns the policy the Checker applies.
func (c *Checker) Policy() Policy { return c.policy }

// Breached reports whether password is on the shipped list. The list holds
// lower-case entries and the check ignores case: "Summer2024!" is as
// guessable as "summer2024!".
func (c *Checker) Breached(password string) bool {
	_, ok := c.breached[strings.ToLower(password)]
	return ok
}

// Check scores password for a user with the given email (empty when the
// caller has none) and returns the strength_check fields. A password fails
// when it misses the policy, when breach detection is on and it is on the
// breached list, or when it contains the email's local part. Stytch's text
// ties the breach requirement to calls that carry an email; the emulator
// checks every password, the stricter reading, so a test of the breach path
// need not invent a user.
func (c *Checker) Check(password, email string) Result {
	res := Result{
		StrengthPolicy:          c.policy.Kind,
		BreachDetectionOnCreate: c.policy.BreachDetection,
		Feedback:                Feedback{Suggestions: []string{}},
	}
	local := emailLocalPart(email)
	zx := zxcvbn.PasswordStrength(truncateRunes(password, maxScoredRunes), userInputs(email, local))
	res.Score = zx.Score

	var policyOK bool
	if c.policy.Kind == PolicyLUDS {
		req := c.luds(password)
		res.Feedback.LUDS = &req
		policyOK = req.MissingComplexity == 0 && req.MissingCharacters == 0
	} else {
		policyOK = zx.Score >= MinScore
		if !policyOK {
			res.Feedback.Warning, res.Feedback.Suggestions = zxcvbnFeedback(password, zx.Sequence)
		}
	}

	containsEmail := len(local) >= minEmailLocalPart && strings.Contains(strings.ToLower(password), local)
	res.BreachedPassword = c.policy.BreachDetection && c.Breached(password)
	switch {
	case res.BreachedPassword:
		res.Feedback.Warning = "This password is on a list of passwords known from data breaches."
		res.Feedback.Suggestions = appendOnce(res.Feedback.Suggestions, "Choose a password that you do not use anywhere else.")
	case containsEmail:
		res.Feedback.Warning = "The password contains your email address."
		res.Feedback.Suggestions = appendOnce(res.Feedback.Suggestions, "Leave your email address and name out of your password.")
	}
	res.ValidPassword = policyOK && !res.BreachedPassword && !containsEmail
	return res
}

// luds counts the four kinds as Stytch defines them: a-z, A-Z, 0-9, and any
// other character (punctuation, spaces, letters outside ASCII, emoji) as a
// symbol. Length is counted in characters, not bytes.
func (c *Checker) luds(password string) LUDSRequirements {
	var r LUDSRequirements
	for _, ch := range password {
		switch {
		case ch >= 'a' && ch <= 'z':
			r.HasLowerCase = true
		case ch >= 'A' && ch <= 'Z':
			r.HasUpperCase = true
		case ch >= '0' && ch <= '9':
			r.HasDigit = true
		default:
			r.HasSymbol = true
		}
	}
	kinds := 0
	for _, has := range []bool{r.HasLowerCase, r.HasUpperCase, r.HasDigit, r.HasSymbol} {
		if has {
			kinds++
		}
	}
	r.MissingComplexity = max(0, c.policy.LUDSMinComplexity-kinds)
	r.MissingCharacters = max(0, c.policy.LUDSMinLength-utf8.RuneCountInString(password))
	return r
}

// zxcvbnFeedback explains a weak score from the pattern that covers most of
// the password. The port we use scores exactly like zxcvbn but has no
// feedback messages, so these are ours.
func zxcvbnFeedback(password string, seq []*match.Match) (string, []string) {
	suggestions := []string{"Add another word or two; uncommon words are better than symbols."}
	if password == "" || len(seq) == 0 {
		return "", suggestions
	}
	longest := seq[0]
	for _, m := range seq[1:] {
		if len(m.Token) > len(longest.Token) {
			longest = m
		}
	}
	var warning string
	switch longest.Pattern {
	case "dictionary":
		warning = dictionaryWarning(longest, len(seq) == 1)
		if longest.Token != strings.ToLower(longest.Token) {
			suggestions = append(suggestions, "Capital letters in predictable places do not help much.")
		}
		if longest.Reversed {
			suggestions = append(suggestions, "A word spelled backwards is still easy to guess.")
		}
		if longest.L33t {
			suggestions = append(suggestions, "Swapping letters for look-alike digits or symbols (@ for a) does not help much.")
		}
	case "spatial":
		warning = "Rows and patterns of keys on a keyboard are easy to guess."
		suggestions = append(suggestions, "Use a longer keyboard pattern with more turns, or none at all.")
	case "repeat":
		warning = "Repeated characters or words are easy to guess."
		suggestions = append(suggestions, "Avoid repeating words and characters.")
	case "sequence":
		warning = "Sequences such as abc or 6543 are easy to guess."
		suggestions = append(suggestions, "Avoid sequences.")
	case "regex":
		if longest.RegexName == "recent_year" {
			warning = "Recent years are easy to guess."
			suggestions = append(suggestions, "Avoid recent years and years that mean something to you.")
		}
	case "date":
		warning = "Dates are easy to guess."
		suggestions = append(suggestions, "Avoid dates and years that mean something to you.")
	}
	return warning, suggestions
}

func dictionaryWarning(m *match.Match, whole bool) string {
	switch m.DictionaryName {
	case "passwords":
		switch {
		case whole && !m.L33t && !m.Reversed && m.Rank <= 100:
			return "This is one of the most common passwords."
		case whole:
			return "This is very close to a common password."
		default:
			return "Part of this password is a common password."
		}
	case "english_wikipedia", "us_tv_and_film":
		if whole {
			return "A single word is easy to guess."
		}
		return "A common word with a few characters added is still easy to guess."
	case "surnames", "male_names", "female_names":
		if whole {
			return "A name or surname on its own is easy to guess."
		}
		return "Common names and surnames are easy to guess."
	case "user_inputs":
		return "The password contains your email address."
	}
	return ""
}

// emailLocalPart returns the lower-cased part of email before its last "@",
// or "" when email has none.
func emailLocalPart(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return ""
	}
	return strings.ToLower(email[:at])
}

// userInputs are the words zxcvbn treats as known to an attacker: the email,
// its local part and the pieces of that local part (jane.doe+x → jane, doe).
func userInputs(email, local string) []string {
	if local == "" {
		return nil
	}
	in := []string{strings.ToLower(email), local}
	for piece := range strings.FieldsFuncSeq(local, func(r rune) bool { return strings.ContainsRune(".+-_", r) }) {
		if len(piece) >= minEmailLocalPart && piece != local {
			in = append(in, piece)
		}
	}
	return in
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func appendOnce(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}
