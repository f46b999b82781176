package passwords

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newChecker(t testing.TB, p Policy) *Checker {
	t.Helper()
	c, err := NewChecker(p)
	require.NoError(t, err)
	return c
}

func TestZXCVBNWeakPasswordFailsWithFeedback(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	res := c.Check("kitchen7", "")
	assert.False(t, res.ValidPassword)
	assert.Less(t, res.Score, MinScore)
	assert.False(t, res.BreachedPassword, "weak, but not on the list")
	assert.Equal(t, PolicyZXCVBN, res.StrengthPolicy)
	assert.True(t, res.BreachDetectionOnCreate)
	assert.NotEmpty(t, res.Feedback.Warning, "a weak password says why")
	assert.NotEmpty(t, res.Feedback.Suggestions, "and what to do")
	assert.Nil(t, res.Feedback.LUDS, "no LUDS requirements under zxcvbn")
}

func TestZXCVBNWarningsNameThePattern(t *testing.T) {
	c := newChecker(t, Policy{Kind: PolicyZXCVBN, LUDSMinLength: 8, LUDSMinComplexity: 3})
	for password, want := range map[string]string{
		"edcvfrtgb":    "keyboard",
		"zyxwvu":       "Sequences",
		"aaaaaaaaaaaa": "Repeated",
		"kitchen":      "single word",
		"2019":         "year",
	} {
		res := c.Check(password, "")
		assert.False(t, res.ValidPassword, password)
		assert.Contains(t, res.Feedback.Warning, want, password)
	}
}

func TestStrongPasswordPasses(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	res := c.Check("tangerine Orbit 42 velvet", "jane.doe@example.com")
	assert.True(t, res.ValidPassword)
	assert.GreaterOrEqual(t, res.Score, MinScore)
	assert.False(t, res.BreachedPassword)
	assert.Empty(t, res.Feedback.Warning)
	assert.NotNil(t, res.Feedback.Suggestions, "an empty list, never null")
	assert.Empty(t, res.Feedback.Suggestions)
}

func TestListedBreachedPasswordFails(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	// "$3cr3t2025!" scores 4 in zxcvbn: only the breached list stops it.
	res := c.Check("$3cr3t2025!", "")
	require.GreaterOrEqual(t, res.Score, MinScore, "the case shows the list, not the score, refusing")
	assert.True(t, res.BreachedPassword)
	assert.False(t, res.ValidPassword)
	assert.Contains(t, res.Feedback.Warning, "breach")

	// The list ignores case.
	assert.True(t, c.Check("Summer2024!", "").BreachedPassword)
	assert.True(t, c.Breached("PASSWORD1"))
	assert.False(t, c.Breached("tangerine Orbit 42 velvet"))
}

func TestBreachDetectionOff(t *testing.T) {
	p := DefaultPolicy()
	p.BreachDetection = false
	c := newChecker(t, p)
	res := c.Check("$3cr3t2025!", "")
	assert.False(t, res.BreachDetectionOnCreate)
	assert.False(t, res.BreachedPassword, "breached_password is always false when detection is off")
	assert.True(t, res.ValidPassword, "the score alone decides")
}

func TestPasswordContainingEmailLocalPartFails(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	res := c.Check("Velvet-JANE.DOE-Orbit-42", "Jane.Doe@example.com")
	assert.False(t, res.ValidPassword)
	assert.Equal(t, "The password contains your email address.", res.Feedback.Warning)

	assert.True(t, c.Check("Velvet-JANE.DOE-Orbit-42", "").ValidPassword, "without an email the same password passes")
	assert.True(t, c.Check("tangerine Orbit 42 velvet", "ve@example.com").ValidPassword,
		"a local part shorter than 3 characters is not enforced")
}

func TestLUDSRequirementsReported(t *testing.T) {
	c := newChecker(t, Policy{Kind: PolicyLUDS, LUDSMinLength: 8, LUDSMinComplexity: 3, BreachDetection: true})
	cases := []struct {
		password string
		valid    bool
		want     LUDSRequirements
	}{
		{"abc", false, LUDSRequirements{HasLowerCase: true, MissingComplexity: 2, MissingCharacters: 5}},
		{"abcdefgh", false, LUDSRequirements{HasLowerCase: true, MissingComplexity: 2}},
		{"Kitchen7", true, LUDSRequirements{HasLowerCase: true, HasUpperCase: true, HasDigit: true}},
		{"kitchen sink", false, LUDSRequirements{HasLowerCase: true, HasSymbol: true, MissingComplexity: 1}},
		// Outside a-z/A-Z/0-9 everything is a symbol, and length counts characters.
		{"Ölçü7", false, LUDSRequirements{HasLowerCase: true, HasDigit: true, HasSymbol: true, MissingCharacters: 3}},
		{"ÄÖÜäöüß1a", true, LUDSRequirements{HasLowerCase: true, HasDigit: true, HasSymbol: true}},
	}
	for _, tc := range cases {
		t.Run(tc.password, func(t *testing.T) {
			res := c.Check(tc.password, "")
			assert.Equal(t, PolicyLUDS, res.StrengthPolicy)
			require.NotNil(t, res.Feedback.LUDS)
			assert.Equal(t, tc.want, *res.Feedback.LUDS)
			assert.Equal(t, tc.valid, res.ValidPassword)
		})
	}
	// LUDS still refuses a listed password that meets every rule.
	res := c.Check("Password1!", "")
	assert.Zero(t, res.Feedback.LUDS.MissingComplexity)
	assert.True(t, res.BreachedPassword)
	assert.False(t, res.ValidPassword)
}

func TestPolicyValidation(t *testing.T) {
	for name, p := range map[string]Policy{
		"unknown kind":       {Kind: "nist", LUDSMinLength: 8, LUDSMinComplexity: 3},
		"zero length":        {Kind: PolicyLUDS, LUDSMinLength: 0, LUDSMinComplexity: 3},
		"complexity above 4": {Kind: PolicyLUDS, LUDSMinLength: 8, LUDSMinComplexity: 5},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewChecker(p)
			require.Error(t, err)
		})
	}
}

func TestLongPasswordIsScoredQuickly(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	res := c.Check(strings.Repeat("velvet tangerine orbit ", 400), "")
	assert.True(t, res.ValidPassword, "only a prefix is scored, and it is strong")
}

func TestEmptyPassword(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	res := c.Check("", "")
	assert.False(t, res.ValidPassword)
	assert.Equal(t, 0, res.Score)
	assert.NotEmpty(t, res.Feedback.Suggestions)
}

func BenchmarkCheck(b *testing.B) {
	c := newChecker(b, DefaultPolicy())
	for b.Loop() {
		c.Check("tangerine Orbit 42 velvet", "jane.doe@example.com")
	}
}

func BenchmarkNewChecker(b *testing.B) {
	for b.Loop() {
		if _, err := NewChecker(DefaultPolicy()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckIsSafeForConcurrentUse runs one Checker from many goroutines
// (the emulator serves requests in parallel); -race checks the zxcvbn port's
// shared matchers too.
func TestCheckIsSafeForConcurrentUse(t *testing.T) {
	c := newChecker(t, DefaultPolicy())
	inputs := []string{"kitchen7", "$3cr3t2025!", "tangerine Orbit 42 velvet", "edcvfrtgb", "aaaaaaaaaaaa"}
	want := make([]Result, len(inputs))
	for i, pw := range inputs {
		want[i] = c.Check(pw, "jane.doe@example.com")
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(inputs))
	for range 8 {
		wg.Go(func() {
			for i, pw := range inputs {
				got := c.Check(pw, "jane.doe@example.com")
				if got.Score != want[i].Score || got.ValidPassword != want[i].ValidPassword || got.Feedback.Warning != want[i].Feedback.Warning {
					errs <- pw
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for pw := range errs {
		t.Errorf("concurrent Check of %q differs from the sequential one", pw)
	}
}
