package service_test

import (
	"crypto/pbkdf2"
	"crypto/sha1" //nolint:gosec // the legacy hash being migrated, not ours
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	consumerv1 "github.com/authsvc/authsvc/gen/go/authsvc/consumer/v1"
)

// migratedPassword is the password behind every imported hash below; phpassVector is its portable
// phpass hash (salt "abcdefgh", 2^8 rounds), computed once by the phpass algorithm and checked
// against internal/passwords' own encoder in its tests.
const (
	migratedPassword = "Tr0ub4dor&3"
	phpassVector     = "$P$6abcdefghzYXz3D5H2I8oebpHl2/JQ."
)

// TestConsumerPasswordMigrateEachHashTypeThenAuthenticate imports a user's password hash of every
// type Passwords.Migrate accepts (through authsvc, as a migration backend with write:users would),
// then logs the user in with the old password and is refused with a wrong one.
func TestConsumerPasswordMigrateEachHashTypeThenAuthenticate(t *testing.T) {
	e := startEnvNoLimits(t)
	pw := []byte(migratedPassword)
	salt := []byte("0123456789abcdef")

	bc, err := bcrypt.GenerateFromPassword(pw, bcrypt.MinCost)
	require.NoError(t, err)
	md5Salted := md5Hex("pre" + migratedPassword + "post")
	sha1Sum := sha1.Sum([]byte(migratedPassword + "!")) //nolint:gosec // the legacy hash being migrated
	sha512Sum := sha512.Sum512([]byte("s1" + migratedPassword + "s2"))
	a2i := argon2.Key(pw, salt, 3, 32, 2, 24)
	a2id := argon2.IDKey(pw, salt, 2, 64, 1, 32)
	sc, err := scrypt.Key(pw, salt, 1<<10, 8, 1, 32)
	require.NoError(t, err)
	pb, err := pbkdf2.Key(sha256.New, migratedPassword, salt, 1000, 32)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString

	cases := []struct {
		name string
		req  *consumerv1.PasswordsServiceMigrateRequest
	}{
		{"bcrypt", &consumerv1.PasswordsServiceMigrateRequest{HashType: consumerv1.HashType_HASH_TYPE_BCRYPT, Hash: string(bc)}},
		{"md_5", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_MD_5, Hash: md5Salted,
			Config: &consumerv1.PasswordsServiceMigrateRequest_Md_5Config{Md_5Config: &consumerv1.SaltConfig{PrependSalt: "pre", AppendSalt: "post"}},
		}},
		{"sha_1", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_SHA_1, Hash: hex.EncodeToString(sha1Sum[:]),
			Config: &consumerv1.PasswordsServiceMigrateRequest_Sha_1Config{Sha_1Config: &consumerv1.SaltConfig{AppendSalt: "!"}},
		}},
		{"sha_512", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_SHA_512, Hash: hex.EncodeToString(sha512Sum[:]),
			Config: &consumerv1.PasswordsServiceMigrateRequest_Sha_512Config{Sha_512Config: &consumerv1.SaltConfig{PrependSalt: "s1", AppendSalt: "s2"}},
		}},
		{"argon_2i", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_ARGON_2I, Hash: hex.EncodeToString(a2i),
			Config: &consumerv1.PasswordsServiceMigrateRequest_Argon_2Config{Argon_2Config: &consumerv1.Argon2Config{Salt: string(salt), IterationAmount: 3, Memory: 32, Threads: 2, KeyLength: 24}},
		}},
		{"argon_2id", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_ARGON_2ID, Hash: hex.EncodeToString(a2id),
			Config: &consumerv1.PasswordsServiceMigrateRequest_Argon_2Config{Argon_2Config: &consumerv1.Argon2Config{Salt: string(salt), IterationAmount: 2, Memory: 64, Threads: 1, KeyLength: 32}},
		}},
		{"scrypt", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_SCRYPT, Hash: b64(sc),
			Config: &consumerv1.PasswordsServiceMigrateRequest_ScryptConfig{ScryptConfig: &consumerv1.ScryptConfig{Salt: b64(salt), NParameter: 1 << 10, RParameter: 8, PParameter: 1, KeyLength: 32}},
		}},
		{"pbkdf_2", &consumerv1.PasswordsServiceMigrateRequest{
			HashType: consumerv1.HashType_HASH_TYPE_PBKDF_2, Hash: b64(pb),
			Config: &consumerv1.PasswordsServiceMigrateRequest_Pbkdf_2Config{Pbkdf_2Config: &consumerv1.Pbkdf2Config{Salt: b64(salt), IterationAmount: 1000, KeyLength: 32, Algorithm: consumerv1.Pbkdf2Algorithm_PBKDF2_ALGORITHM_SHA256}},
		}},
		{"phpass", &consumerv1.PasswordsServiceMigrateRequest{HashType: consumerv1.HashType_HASH_TYPE_PHPASS, Hash: phpassVector}},
	}
	covered := map[consumerv1.HashType]bool{}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("migrated-%d@example.com", i)
			tc.req.Email = addr
			mig := &consumerv1.PasswordsServiceMigrateResponse{}
			st := e.grpcSvc(t, passwordsSvc+"Migrate", tc.req, mig)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.True(t, mig.GetUserCreated())

			wrong := e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: migratedPassword + "x"}, &consumerv1.PasswordsServiceAuthenticateResponse{})
			assert.Equal(t, codes.Unauthenticated, wrong.Code(), "a wrong password: %s", wrong.Message())

			auth := &consumerv1.PasswordsServiceAuthenticateResponse{}
			st = e.grpcCall(t, passwordsSvc+"Authenticate", &consumerv1.PasswordsServiceAuthenticateRequest{Email: addr, Password: migratedPassword, SessionDurationMinutes: proto.Int32(5)}, auth)
			require.Equal(t, codes.OK, st.Code(), st.Message())
			assert.Equal(t, mig.GetUserId(), auth.GetUserId())
			assert.NotEmpty(t, auth.GetSessionJwt())
			covered[tc.req.GetHashType()] = true
		})
	}
	for v := range consumerv1.HashType_name {
		if ht := consumerv1.HashType(v); ht != consumerv1.HashType_HASH_TYPE_UNSPECIFIED {
			assert.True(t, covered[ht], "hash type %s is migrated and authenticated", ht)
		}
	}
}
