package passwords

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(TestParams())
	require.NoError(t, err)
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := newTestHasher(t)
	stored, err := h.Hash("correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stored, "$argon2id$v=19$m=1024,t=1,p=1$"), "stored form carries algorithm and costs: %s", stored)

	ok, err := h.Verify(stored, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, ok, "the right password verifies")

	ok, err = h.Verify(stored, "correct horse battery stapler")
	require.NoError(t, err)
	assert.False(t, ok, "a wrong password does not")

	ok, err = h.Verify(stored, "")
	require.NoError(t, err)
	assert.False(t, ok, "an empty password does not")
}

func TestHashIsSaltedAndSelfDescribing(t *testing.T) {
	h := newTestHasher(t)
	a, err := h.Hash("same password")
	require.NoError(t, err)
	b, err := h.Hash("same password")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "two hashes of one password differ (random salt)")

	// A hash made with other parameters still verifies: they travel in the string.
	other, err := NewHasher(Params{MemoryKiB: 64, Iterations: 2, Threads: 2, SaltLen: 8, KeyLen: 16})
	require.NoError(t, err)
	old, err := other.Hash("same password")
	require.NoError(t, err)
	ok, err := h.Verify(old, "same password")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, h.NeedsRehash(old), "other parameters call for a rehash")
	assert.False(t, h.NeedsRehash(a), "the Hasher's own parameters do not")
	assert.True(t, h.NeedsRehash("garbage"), "an unreadable hash does")
}

func TestVerifyRejectsMalformedStoredHashes(t *testing.T) {
	h := newTestHasher(t)
	good, err := h.Hash("pw")
	require.NoError(t, err)
	for name, stored := range map[string]string{
		"empty":          "",
		"not phc":        "plaintext-password",
		"argon2i":        strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		"bcrypt":         "$2a$04$abcdefghijklmnopqrstuu5Dwl6f3rQhzXKM4oHq8BaHm9QmfRtK",
		"version 16":     strings.Replace(good, "v=19", "v=16", 1),
		"bad params":     strings.Replace(good, "m=1024,t=1,p=1", "m=1024,t=1", 1),
		"zero threads":   strings.Replace(good, "p=1", "p=0", 1),
		"huge memory":    strings.Replace(good, "m=1024", "m=4000000", 1),
		"salt not b64":   strings.Replace(good, "$argon2id$v=19$m=1024,t=1,p=1$", "$argon2id$v=19$m=1024,t=1,p=1$!!!!", 1),
		"too many parts": good + "$extra",
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := h.Verify(stored, "pw")
			require.ErrorIs(t, err, ErrMalformedHash)
			assert.False(t, ok)
			if len(stored) > 0 {
				assert.NotContains(t, err.Error(), stored, "the error never quotes the stored hash")
			}
		})
	}
}

func TestNewHasherRejectsUnusableParams(t *testing.T) {
	for name, p := range map[string]Params{
		"no iterations": {MemoryKiB: 1024, Iterations: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		"no threads":    {MemoryKiB: 1024, Iterations: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		"tiny memory":   {MemoryKiB: 8, Iterations: 1, Threads: 4, SaltLen: 16, KeyLen: 32},
		"short salt":    {MemoryKiB: 1024, Iterations: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		"short key":     {MemoryKiB: 1024, Iterations: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewHasher(p)
			require.Error(t, err)
		})
	}
	_, err := NewHasher(RecommendedParams())
	require.NoError(t, err)
}

func TestUpgradeRehashesNativelyAfterImportedMatch(t *testing.T) {
	h := newTestHasher(t)
	imp, err := ParseImport(Import{HashType: HashMD5, Hash: "4a4398d8e89b9aeee7a49d93e1f9e2f1", MD5Config: &SaltConfig{PrependSalt: "pre", AppendSalt: "post"}}, DefaultLimits())
	require.NoError(t, err)

	_, ok, err := h.Upgrade(imp, "wrong")
	require.NoError(t, err)
	assert.False(t, ok, "a wrong password is not upgraded")

	stored, ok, err := h.Upgrade(imp, "Tr0ub4dor&3")
	require.NoError(t, err)
	require.True(t, ok)
	match, err := h.Verify(stored, "Tr0ub4dor&3")
	require.NoError(t, err)
	assert.True(t, match, "the upgraded native hash verifies the same password")
	assert.False(t, h.NeedsRehash(stored))
}

// FuzzHasherVerify feeds garbage stored strings to Verify: never a panic,
// never a match without a readable hash, never the input in an error.
func FuzzHasherVerify(f *testing.F) {
	h := newTestHasher(f)
	good, err := h.Hash("pw")
	require.NoError(f, err)
	f.Add(good, "pw")
	f.Add("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "x")
	f.Add("$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "")
	f.Add("$argon2id$v=19$m=64,t=1,p=1,p=1$$", "pw")
	f.Add("$$$$$", "pw")
	// Cheap caps: a fuzzer that finds large valid costs must not stall.
	h.verifyLimits = tinyLimits()
	f.Fuzz(func(t *testing.T, stored, password string) {
		ok, err := h.Verify(stored, password)
		if err != nil {
			if ok {
				t.Fatal("an error with a match")
			}
			if len(stored) >= 12 && strings.Contains(err.Error(), stored) {
				t.Fatalf("error quotes the stored hash: %v", err)
			}
		}
	})
}

func BenchmarkHash(b *testing.B) {
	for name, p := range map[string]Params{"test": TestParams(), "recommended": RecommendedParams()} {
		b.Run(name, func(b *testing.B) {
			h, err := NewHasher(p)
			require.NoError(b, err)
			for b.Loop() {
				if _, err := h.Hash("correct horse battery staple"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	h := newTestHasher(b)
	stored, err := h.Hash("correct horse battery staple")
	require.NoError(b, err)
	for b.Loop() {
		if ok, err := h.Verify(stored, "correct horse battery staple"); err != nil || !ok {
			b.Fatal("verify failed")
		}
	}
}
