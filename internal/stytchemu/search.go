package stytchemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
)

type searchQuery struct {
	Operator string            `json:"operator"`
	Operands []json.RawMessage `json:"operands"`
}

type searchRequest struct {
	OrganizationIDs []string     `json:"organization_ids"`
	Cursor          string       `json:"cursor"`
	Limit           *int         `json:"limit"`
	Query           *searchQuery `json:"query"`
}

// filterFunc compiles one operand's filter_value into a predicate.
type filterFunc func(value json.RawMessage) (func(any) bool, error)

// compileQuery turns {operator, operands[{filter_name, filter_value}]} into
// one predicate. No query or no operands matches everything.
func compileQuery(q *searchQuery, filters map[string]filterFunc) (func(any) bool, *apiError) {
	if q == nil || len(q.Operands) == 0 {
		if q != nil && q.Operator != "AND" && q.Operator != "OR" {
			return nil, badRequest("query.operator must be AND or OR.")
		}
		return func(any) bool { return true }, nil
	}
	if q.Operator != "AND" && q.Operator != "OR" {
		return nil, badRequest("query.operator must be AND or OR.")
	}
	preds := make([]func(any) bool, 0, len(q.Operands))
	for _, raw := range q.Operands {
		var op struct {
			FilterName  string          `json:"filter_name"`
			FilterValue json.RawMessage `json:"filter_value"`
		}
		if err := json.Unmarshal(raw, &op); err != nil || op.FilterName == "" {
			return nil, badRequest("Each operand needs filter_name and filter_value.")
		}
		f, ok := filters[op.FilterName]
		if !ok {
			return nil, badRequest("Unsupported filter_name %q.", op.FilterName)
		}
		p, err := f(op.FilterValue)
		if err != nil {
			return nil, badRequest("Invalid filter_value for %q: %v.", op.FilterName, err)
		}
		preds = append(preds, p)
	}
	and := q.Operator == "AND"
	return func(x any) bool {
		for _, p := range preds {
			if p(x) != and {
				return !and
			}
		}
		return and
	}, nil
}

var errBadFilterValue = errors.New("unexpected value type")

// stringList accepts a string or a list of strings.
func stringList(v json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(v, &list); err == nil {
		return list, nil
	}
	var one string
	if err := json.Unmarshal(v, &one); err != nil {
		return nil, errBadFilterValue
	}
	return []string{one}, nil
}

// fuzzy accepts a string of at least three characters (Stytch's minimum).
func fuzzy(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errBadFilterValue
	}
	if len(s) < 3 {
		return "", errors.New("fuzzy filters need at least three characters")
	}
	return strings.ToLower(s), nil
}

func boolValue(v json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, errBadFilterValue
	}
	return b, nil
}

// paginate cuts a page out of hits. The cursor is an opaque offset.
func paginate[T any](hits []T, cursor string, limit *int) ([]T, obj, *apiError) {
	n := defaultSearchLimit
	if limit != nil {
		n = *limit
		if n < 0 || n > maxSearchLimit {
			return nil, nil, badRequest("limit must be between 0 and %d.", maxSearchLimit)
		}
		if n == 0 {
			n = defaultSearchLimit
		}
	}
	start := 0
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err == nil {
			start, err = strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		}
		if err != nil || start < 0 || start > len(hits) {
			return nil, nil, badRequest("Invalid cursor.")
		}
	}
	end := min(start+n, len(hits))
	meta := obj{"total": len(hits), "next_cursor": ""} // "" on the last page
	if end < len(hits) {
		meta["next_cursor"] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "offset:%d", end))
	}
	return hits[start:end], meta, nil
}
