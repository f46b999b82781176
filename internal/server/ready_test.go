package server

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOnlyDegraded(t *testing.T) {
	d := &Degraded{Reason: "redis unreachable"}
	plain := errors.New("JWKS not loaded")
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{d, true},
		{fmt.Errorf("wrapped: %w", d), true},
		{errors.Join(d, &Degraded{Reason: "other"}), true},
		{plain, false},
		{errors.Join(plain, d), false},
		{fmt.Errorf("wrapped: %w", errors.Join(d, plain)), false},
		{errors.Join(), false},
	} {
		assert.Equal(t, tc.want, onlyDegraded(tc.err), "%v", tc.err)
	}
}
