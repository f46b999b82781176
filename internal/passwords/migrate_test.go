package passwords

import (
	"crypto/md5" //nolint:gosec // making legacy hashes to import
	"crypto/pbkdf2"
	"crypto/sha1" //nolint:gosec // making legacy hashes to import
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

const migratedPassword = "Tr0ub4dor&3"

// Vectors made outside Go, so the hand-written phpass and the format
// parsing are checked against an independent implementation rather than
// against themselves. Made with Debian's python3-passlib 1.7.4 and CPython's
// hashlib (password "Tr0ub4dor&3", salt "independent-salt" where one is given):
//
//	passlib.hash.phpass.using(salt="abcdefgh", rounds=8).hash(pw)
//	passlib.hash.phpass.using(salt="Zy0.9/Xq", rounds=10, ident="H").hash(pw)
//	b64(hashlib.pbkdf2_hmac("sha512", pw, salt, 1000, 64))
//	b64(hashlib.scrypt(pw, salt=salt, n=1024, r=8, p=1, dklen=32))
//	hashlib.md5(b"pre" + pw + b"post").hexdigest()
//	b64(hashlib.sha1(pw).digest())
//	hashlib.sha512(b"pepper" + pw).hexdigest().upper()
//
// and, for a PHC scrypt string, password "hunter2 but longer":
//
//	passlib.hash.scrypt.using(salt=b"saltsaltsaltsalt", rounds=10, block_size=8, parallelism=1).hash(pw)
const (
	vectorPHPassP      = "$P$6abcdefghzYXz3D5H2I8oebpHl2/JQ."
	vectorPHPassH      = "$H$8Zy0.9/Xqr158I1JI3Mrt53Kwwot120"
	vectorSaltB64      = "aW5kZXBlbmRlbnQtc2FsdA=="
	vectorPBKDF2SHA512 = "ejQglPvP7Eg3vGenlh58T0xReh11LPI0MJVPts48bxN4g7QtCDRvPOj8GgVieUJ8WYfBQ0u5CbpIB2BKGJ6N6w=="
	vectorScrypt       = "M5FYtTLOoZzFuLYtv8wcVH9E19M3Vd/25yMd7VsOEqU="
	vectorMD5Salted    = "4a4398d8e89b9aeee7a49d93e1f9e2f1"
	vectorSHA1B64      = "h0Vy56WuaklGamrFeLmK26eMaqY="
	vectorSHA512Upper  = "33EA5B5F72138C43B24E718525E9C65EADBC877AC8ECB4F815AC4D814912D335A7BA7A8E3447BB111DC707E5074CFE7772896D255A061F0AD75FB4D9943B31E5"
	vectorScryptPHC    = "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$UK4ljKwzgrqBqHK7fjSdudFiI2nn4lPEInevJg2pf4U"
)

type importCase struct {
	name     string
	in       Import
	password string
}

// importCases makes one import per hash type and encoding, with the real
// algorithm where Go has it, plus the independent vectors above.
func importCases(t testing.TB) []importCase {
	t.Helper()
	pw := migratedPassword
	salt := []byte("sixteen byte slt")

	bc, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)

	md5Sum := md5.Sum([]byte("pre" + pw + "post")) //nolint:gosec // legacy format under test
	sha1Sum := sha1.Sum([]byte(pw + "!"))          //nolint:gosec // legacy format under test
	sha512Sum := sha512.Sum512([]byte("s1" + pw + "s2"))

	a2id := argon2.IDKey([]byte(pw), salt, 2, 64, 1, 32)
	a2i := argon2.Key([]byte(pw), salt, 3, 32, 2, 24)

	sc, err := scrypt.Key([]byte(pw), salt, 1<<10, 8, 1, 32)
	require.NoError(t, err)

	pb256, err := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	require.NoError(t, err)
	pb512, err := pbkdf2.Key(sha512.New, pw, salt, 500, 64)
	require.NoError(t, err)

	b64 := base64.StdEncoding.EncodeToString
	return []importCase{
		{"bcrypt", Import{HashType: HashBcrypt, Hash: string(bc)}, pw},
		{"bcrypt $2y$", Import{HashType: HashBcrypt, Hash: strings.Replace(string(bc), "$2a$", "$2y$", 1)}, pw},
		{"md_5 hex with salts", Import{HashType: HashMD5, Hash: hex.EncodeToString(md5Sum[:]), MD5Config: &SaltConfig{PrependSalt: "pre", AppendSalt: "post"}}, pw},
		{"md_5 vector", Import{HashType: HashMD5, Hash: vectorMD5Salted, MD5Config: &SaltConfig{PrependSalt: "pre", AppendSalt: "post"}}, pw},
		{"sha_1 base64 append salt", Import{HashType: HashSHA1, Hash: b64(sha1Sum[:]), SHA1Config: &SaltConfig{AppendSalt: "!"}}, pw},
		{"sha_1 vector without config", Import{HashType: HashSHA1, Hash: vectorSHA1B64}, pw},
		{"sha_512 hex", Import{HashType: HashSHA512, Hash: hex.EncodeToString(sha512Sum[:]), SHA512Config: &SaltConfig{PrependSalt: "s1", AppendSalt: "s2"}}, pw},
		{"sha_512 upper-case hex vector", Import{HashType: HashSHA512, Hash: vectorSHA512Upper, SHA512Config: &SaltConfig{PrependSalt: "pepper"}}, pw},
		{"argon_2id encoded", Import{HashType: HashArgon2id, Hash: encodeArgon2("argon2id", 64, 2, 1, salt, a2id)}, pw},
		{"argon_2i encoded", Import{HashType: HashArgon2i, Hash: encodeArgon2("argon2i", 32, 3, 2, salt, a2i)}, pw},
		{"argon_2id hex with config", Import{HashType: HashArgon2id, Hash: hex.EncodeToString(a2id), Argon2Config: &Argon2Config{Salt: string(salt), IterationAmount: 2, Memory: 64, Threads: 1, KeyLength: 32}}, pw},
		{"argon_2i hex with config", Import{HashType: HashArgon2i, Hash: hex.EncodeToString(a2i), Argon2Config: &Argon2Config{Salt: string(salt), IterationAmount: 3, Memory: 32, Threads: 2, KeyLength: 24}}, pw},
		{"scrypt base64 with config", Import{HashType: HashScrypt, Hash: b64(sc), ScryptConfig: &ScryptConfig{Salt: b64(salt), NParameter: 1 << 10, RParameter: 8, PParameter: 1, KeyLength: 32}}, pw},
		{"scrypt vector", Import{HashType: HashScrypt, Hash: vectorScrypt, ScryptConfig: &ScryptConfig{Salt: vectorSaltB64, NParameter: 1024, RParameter: 8, PParameter: 1, KeyLength: 32}}, pw},
		{"scrypt PHC vector", Import{HashType: HashScrypt, Hash: vectorScryptPHC}, "hunter2 but longer"},
		{"pbkdf_2 sha256", Import{HashType: HashPBKDF2, Hash: b64(pb256), PBKDF2Config: &PBKDF2Config{Salt: b64(salt), IterationAmount: 1000, KeyLength: 32, Algorithm: "sha256"}}, pw},
		{"pbkdf_2 default algorithm", Import{HashType: HashPBKDF2, Hash: b64(pb256), PBKDF2Config: &PBKDF2Config{Salt: b64(salt), IterationAmount: 1000, KeyLength: 32}}, pw},
		{"pbkdf_2 sha512", Import{HashType: HashPBKDF2, Hash: b64(pb512), PBKDF2Config: &PBKDF2Config{Salt: b64(salt), IterationAmount: 500, KeyLength: 64, Algorithm: "sha512"}}, pw},
		{"pbkdf_2 sha512 vector", Import{HashType: HashPBKDF2, Hash: vectorPBKDF2SHA512, PBKDF2Config: &PBKDF2Config{Salt: vectorSaltB64, IterationAmount: 1000, KeyLength: 64, Algorithm: "sha512"}}, pw},
		{"phpass $P$ vector", Import{HashType: HashPHPass, Hash: vectorPHPassP}, pw},
		{"phpass $H$ vector", Import{HashType: HashPHPass, Hash: vectorPHPassH}, pw},
	}
}

func TestMigrateThenAuthenticateEachHashType(t *testing.T) {
	h := newTestHasher(t)
	covered := map[HashType]bool{}
	for _, tc := range importCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			imp, err := ParseImport(tc.in, DefaultLimits())
			require.NoError(t, err)
			assert.Equal(t, tc.in.HashType, imp.Type())
			assert.True(t, imp.Verify(tc.password), "the original password verifies")
			assert.False(t, imp.Verify(tc.password+"x"), "a longer password does not")
			assert.False(t, imp.Verify(strings.ToUpper(tc.password)), "a different-case password does not")
			assert.False(t, imp.Verify(""), "an empty password does not")

			stored, ok, err := h.Upgrade(imp, tc.password)
			require.NoError(t, err)
			require.True(t, ok)
			native, err := h.Verify(stored, tc.password)
			require.NoError(t, err)
			assert.True(t, native, "after the upgrade the native hash authenticates")
			covered[tc.in.HashType] = true
		})
	}
	for _, ht := range HashTypes() {
		assert.True(t, covered[ht], "hash type %s has a migrate case", ht)
	}
}

// TestPHPassEncoding pins the hand-written phpass pieces separately: the
// checksum of the passlib vector, and the encoding of a known byte pattern
// worked out by hand (0x00 0x00 0x00 → "...." ; 0xff 0xff 0xff → "zzzz";
// one byte 0x01 → "/." : low six bits first).
func TestPHPassEncoding(t *testing.T) {
	assert.Equal(t, "....", phpassEncode([]byte{0, 0, 0}))
	assert.Equal(t, "zzzz", phpassEncode([]byte{0xff, 0xff, 0xff}))
	assert.Equal(t, "/.", phpassEncode([]byte{1}))
	assert.Equal(t, vectorPHPassP[12:], phpassChecksum(migratedPassword, "abcdefgh", 1<<8))
	assert.Len(t, phpassEncode(make([]byte, 16)), 22)
}

func TestParseImportConfigErrors(t *testing.T) {
	salt := base64.StdEncoding.EncodeToString([]byte("sixteen byte slt"))
	key32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	goodScrypt := func() *ScryptConfig {
		return &ScryptConfig{Salt: salt, NParameter: 1024, RParameter: 8, PParameter: 1, KeyLength: 32}
	}
	goodPBKDF2 := func() *PBKDF2Config {
		return &PBKDF2Config{Salt: salt, IterationAmount: 1000, KeyLength: 32, Algorithm: "sha256"}
	}
	argonHex := hex.EncodeToString(make([]byte, 32))
	goodArgon := func() *Argon2Config {
		return &Argon2Config{Salt: "saltsaltsalt", IterationAmount: 1, Memory: 64, Threads: 1, KeyLength: 32}
	}

	cases := []struct {
		name  string
		in    Import
		field string
	}{
		{"no hash", Import{HashType: HashBcrypt}, "hash"},
		{"no hash type", Import{Hash: "x"}, "hash_type"},
		{"unknown hash type", Import{HashType: "md_4", Hash: "x"}, "hash_type"},
		{"bcrypt garbage", Import{HashType: HashBcrypt, Hash: "$2a$10$short"}, "hash"},
		{"bcrypt cost above limit", Import{HashType: HashBcrypt, Hash: strings.Replace(string(bc), "$04$", "$17$", 1)}, "hash"},
		{"md_5 wrong length", Import{HashType: HashMD5, Hash: "abcd"}, "hash"},
		{"sha_1 not hex", Import{HashType: HashSHA1, Hash: strings.Repeat("zz", 20)}, "hash"},
		{"sha_512 given an md5", Import{HashType: HashSHA512, Hash: vectorMD5Salted}, "hash"},
		{"scrypt missing config", Import{HashType: HashScrypt, Hash: key32}, "scrypt_config"},
		{"scrypt bad base64 salt", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: "not base64!", NParameter: 1024, RParameter: 8, PParameter: 1, KeyLength: 32}}, "scrypt_config.salt"},
		{"scrypt hash not base64", Import{HashType: HashScrypt, Hash: "???", ScryptConfig: goodScrypt()}, "hash"},
		{"scrypt N not a power of two", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1000, RParameter: 8, PParameter: 1, KeyLength: 32}}, "scrypt_config.n_parameter"},
		{"scrypt N of 1", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1, RParameter: 8, PParameter: 1, KeyLength: 32}}, "scrypt_config.n_parameter"},
		{"scrypt N above Stytch's ceiling", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1 << 19, RParameter: 1, PParameter: 1, KeyLength: 32}}, "scrypt_config.n_parameter"},
		{"scrypt r of 0", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1024, RParameter: 0, PParameter: 1, KeyLength: 32}}, "scrypt_config.r_parameter"},
		{"scrypt memory above limit", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1 << 18, RParameter: 16, PParameter: 1, KeyLength: 32}}, "scrypt_config.r_parameter"},
		{"scrypt p of 0", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1024, RParameter: 8, PParameter: 0, KeyLength: 32}}, "scrypt_config.p_parameter"},
		{"scrypt key length mismatch", Import{HashType: HashScrypt, Hash: key32, ScryptConfig: &ScryptConfig{Salt: salt, NParameter: 1024, RParameter: 8, PParameter: 1, KeyLength: 64}}, "scrypt_config.key_length"},
		{"scrypt PHC with N", Import{HashType: HashScrypt, Hash: "$scrypt$n=1024,r=8,p=1$c2FsdA$aGFzaA"}, "hash"},
		{"scrypt PHC ln too large", Import{HashType: HashScrypt, Hash: "$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaA"}, "hash (ln)"},
		{"pbkdf_2 missing config", Import{HashType: HashPBKDF2, Hash: key32}, "pbkdf_2_config"},
		{"pbkdf_2 unknown algorithm", Import{HashType: HashPBKDF2, Hash: key32, PBKDF2Config: &PBKDF2Config{Salt: salt, IterationAmount: 1000, KeyLength: 32, Algorithm: "md5"}}, "pbkdf_2_config.algorithm"},
		{"pbkdf_2 bad base64 salt", Import{HashType: HashPBKDF2, Hash: key32, PBKDF2Config: &PBKDF2Config{Salt: "%%%", IterationAmount: 1000, KeyLength: 32}}, "pbkdf_2_config.salt"},
		{"pbkdf_2 zero iterations", Import{HashType: HashPBKDF2, Hash: key32, PBKDF2Config: &PBKDF2Config{Salt: salt, IterationAmount: 0, KeyLength: 32}}, "pbkdf_2_config.iteration_amount"},
		{"pbkdf_2 iterations above limit", Import{HashType: HashPBKDF2, Hash: key32, PBKDF2Config: &PBKDF2Config{Salt: salt, IterationAmount: 50_000_000, KeyLength: 32}}, "pbkdf_2_config.iteration_amount"},
		{"pbkdf_2 key length mismatch", Import{HashType: HashPBKDF2, Hash: key32, PBKDF2Config: &PBKDF2Config{Salt: salt, IterationAmount: 1000, KeyLength: 16}}, "pbkdf_2_config.key_length"},
		{"pbkdf_2 hash not base64", Import{HashType: HashPBKDF2, Hash: "!!", PBKDF2Config: goodPBKDF2()}, "hash"},
		{"argon_2id hex without config", Import{HashType: HashArgon2id, Hash: argonHex}, "argon_2_config"},
		{"argon_2id neither encoded nor hex", Import{HashType: HashArgon2id, Hash: "zz", Argon2Config: goodArgon()}, "hash"},
		{"argon_2i given an argon2id string", Import{HashType: HashArgon2i, Hash: encodeArgon2("argon2id", 64, 1, 1, []byte("saltsaltsalt"), make([]byte, 32))}, "hash"},
		{"argon_2id version 16", Import{HashType: HashArgon2id, Hash: strings.Replace(encodeArgon2("argon2id", 64, 1, 1, []byte("saltsaltsalt"), make([]byte, 32)), "v=19", "v=16", 1)}, "hash"},
		{"argon_2id encoded memory above limit", Import{HashType: HashArgon2id, Hash: encodeArgon2("argon2id", 1<<22, 1, 1, []byte("saltsaltsalt"), make([]byte, 32))}, "hash"},
		{"argon_2 zero threads", Import{HashType: HashArgon2id, Hash: argonHex, Argon2Config: &Argon2Config{Salt: "saltsaltsalt", IterationAmount: 1, Memory: 64, Threads: 0, KeyLength: 32}}, "argon_2_config.threads"},
		{"argon_2 zero iterations", Import{HashType: HashArgon2id, Hash: argonHex, Argon2Config: &Argon2Config{Salt: "saltsaltsalt", IterationAmount: 0, Memory: 64, Threads: 1, KeyLength: 32}}, "argon_2_config.iteration_amount"},
		{"argon_2 memory above limit", Import{HashType: HashArgon2id, Hash: argonHex, Argon2Config: &Argon2Config{Salt: "saltsaltsalt", IterationAmount: 1, Memory: 1 << 22, Threads: 1, KeyLength: 32}}, "argon_2_config.memory"},
		{"argon_2 key length mismatch", Import{HashType: HashArgon2id, Hash: argonHex, Argon2Config: &Argon2Config{Salt: "saltsaltsalt", IterationAmount: 1, Memory: 64, Threads: 1, KeyLength: 16}}, "argon_2_config.key_length"},
		{"argon_2 short salt", Import{HashType: HashArgon2id, Hash: argonHex, Argon2Config: &Argon2Config{Salt: "salt", IterationAmount: 1, Memory: 64, Threads: 1, KeyLength: 32}}, "argon_2_config.salt"},
		{"phpass wrong prefix", Import{HashType: HashPHPass, Hash: strings.Replace(vectorPHPassP, "$P$", "$X$", 1)}, "hash"},
		{"phpass wrong length", Import{HashType: HashPHPass, Hash: vectorPHPassP + "x"}, "hash"},
		{"phpass rounds above limit", Import{HashType: HashPHPass, Hash: vectorPHPassP[:3] + "L" + vectorPHPassP[4:]}, "hash"},
		{"phpass rounds below 2^7", Import{HashType: HashPHPass, Hash: vectorPHPassP[:3] + "3" + vectorPHPassP[4:]}, "hash"},
		{"phpass checksum outside alphabet", Import{HashType: HashPHPass, Hash: vectorPHPassP[:33] + "!"}, "hash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImport(tc.in, DefaultLimits())
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field, "error: %v", err)
			assert.NotEmpty(t, ce.Reason)
			if len(tc.in.Hash) > 4 {
				assert.NotContains(t, err.Error(), tc.in.Hash, "the error never quotes the hash")
			}
			if tc.in.ScryptConfig != nil {
				assert.NotContains(t, err.Error(), tc.in.ScryptConfig.Salt, "nor a salt")
			}
		})
	}
}

// tinyLimits keep fuzzing fast: whatever costs the fuzzer invents, one
// Verify stays under a millisecond or so.
func tinyLimits() Limits {
	return Limits{
		MaxBcryptCost:        bcrypt.MinCost,
		MaxArgon2MemoryKiB:   64,
		MaxArgon2Iterations:  2,
		MaxScryptMemoryBytes: 128 * 64 * 8,
		MaxScryptN:           64,
		MaxScryptP:           2,
		MaxPBKDF2Iterations:  100,
		MaxPHPassLog2Rounds:  8,
		MaxHashLength:        256,
		MaxPasswordBytes:     64,
	}
}

// FuzzImportVerify throws arbitrary hashes and configs at ParseImport and,
// when one parses, at Verify: no panic, and no error that quotes the hash or
// a salt.
func FuzzImportVerify(f *testing.F) {
	f.Add("bcrypt", "$2a$04$abcdefghijklmnopqrstuu5Dwl6f3rQhzXKM4oHq8BaHm9QmfRtK", "", 0, 0, 0, 0, "", "pw")
	f.Add("md_5", vectorMD5Salted, "pre", 0, 0, 0, 0, "", migratedPassword)
	f.Add("sha_512", vectorSHA512Upper, "pepper", 0, 0, 0, 0, "", migratedPassword)
	f.Add("argon_2id", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", "", 0, 0, 0, 0, "", "pw")
	f.Add("argon_2i", "00112233445566778899aabbccddeeff", "saltsaltsalt", 1, 64, 1, 16, "", "pw")
	f.Add("scrypt", "aGFzaGhhc2hoYXNoaGFzaA==", "c2FsdA==", 16, 1, 1, 16, "", "pw")
	f.Add("scrypt", "$scrypt$ln=4,r=1,p=1$c2FsdA$aGFzaA", "", 0, 0, 0, 0, "", "pw")
	f.Add("pbkdf_2", "aGFzaGhhc2hoYXNoaGFzaA==", "c2FsdA==", 10, 0, 0, 16, "sha512", "pw")
	f.Add("phpass", vectorPHPassP, "", 0, 0, 0, 0, "", migratedPassword)
	f.Add("phpass", "$P$3abcdefgh0000000000000000000000", "", 0, 0, 0, 0, "", "")
	lim := tinyLimits()
	f.Fuzz(func(t *testing.T, hashType, hash, salt string, a, b, c, keyLen int, algorithm, password string) {
		in := Import{
			HashType:     HashType(hashType),
			Hash:         hash,
			MD5Config:    &SaltConfig{PrependSalt: salt},
			SHA1Config:   &SaltConfig{AppendSalt: salt},
			SHA512Config: &SaltConfig{PrependSalt: salt, AppendSalt: salt},
			Argon2Config: &Argon2Config{Salt: salt, IterationAmount: a, Memory: b, Threads: c, KeyLength: keyLen},
			ScryptConfig: &ScryptConfig{Salt: salt, NParameter: a, RParameter: b, PParameter: c, KeyLength: keyLen},
			PBKDF2Config: &PBKDF2Config{Salt: salt, IterationAmount: a, KeyLength: keyLen, Algorithm: algorithm},
		}
		imp, err := ParseImport(in, lim)
		if err != nil {
			for _, secret := range []string{hash, salt} {
				if len(secret) >= 12 && strings.Contains(err.Error(), secret) {
					t.Fatalf("error quotes input: %v", err)
				}
			}
			return
		}
		_ = imp.Verify(password)
	})
}

func BenchmarkImportedVerify(b *testing.B) {
	for _, tc := range importCases(b) {
		imp, err := ParseImport(tc.in, DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if !imp.Verify(tc.password) {
					b.Fatal("no match")
				}
			}
		})
	}
}
