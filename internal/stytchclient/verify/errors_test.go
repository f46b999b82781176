package verify

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReasonAndRefreshable(t *testing.T) {
	tests := []struct {
		err         error
		reason      string
		refreshable bool
	}{
		{nil, "ok", false},
		{ErrMalformed, "malformed", false},
		{ErrBadSignature, "bad_signature", false},
		{ErrUnknownKey, "unknown_key", false},
		{ErrKeysNotLoaded, "keys_not_loaded", false},
		{ErrWrongIssuer, "wrong_issuer", false},
		{ErrWrongAudience, "wrong_audience", false},
		{ErrNotYetValid, "not_yet_valid", false},
		{ErrExpired, "expired", true},
		{ErrTooOld, "too_old", true},
		{ErrRevoked, "revoked", false},
		{ErrWrongProjectType, "wrong_project_type", false},
		{ErrInsufficientScope, "insufficient_scope", false},
		{&verifyError{kind: kindSession, reason: ErrExpired, cause: errors.New("x")}, "expired", true},
		{fmt.Errorf("wrapped: %w", ErrTooOld), "too_old", true},
		{context.Canceled, "canceled", false},
		{errors.New("boom"), "other", false},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			assert.Equal(t, tt.reason, Reason(tt.err))
			assert.Equal(t, tt.refreshable, Refreshable(tt.err))
		})
	}
}
