// Package auth holds Tailor's rules for scoped API keys: the scopes, the one
// table that says which scope each HTTP route needs, the key format, how a
// key is hashed and checked, and the principal a checked key becomes.
//
// It is a domain package: it does no I/O and imports no AWS package. The
// authorizer and the router (package apigw) apply these rules; a KeyStore
// (package dynamo, or package memory in tests) keeps key records.
package auth

import (
	"fmt"
	"slices"
	"strings"

	"tailor/shared/platform/errs"
)

// Scope is one permission a key can hold.
type Scope string

// The scopes. Admin implies every other scope.
const (
	EventsWrite         Scope = "events:write"
	RecommendationsRead Scope = "recommendations:read"
	CustomersRead       Scope = "customers:read"
	CustomersWrite      Scope = "customers:write"
	PIIRead             Scope = "pii:read"
	CatalogRead         Scope = "catalog:read"
	CatalogWrite        Scope = "catalog:write"
	SegmentsRead        Scope = "segments:read"
	CampaignsRead       Scope = "campaigns:read"
	CampaignsWrite      Scope = "campaigns:write"
	Admin               Scope = "admin"
)

// AllScopes lists every scope in a stable order.
var AllScopes = []Scope{EventsWrite, RecommendationsRead, CustomersRead, CustomersWrite, PIIRead,
	CatalogRead, CatalogWrite, SegmentsRead, CampaignsRead, CampaignsWrite, Admin}

// Valid reports whether s is one of AllScopes.
func (s Scope) Valid() bool { return slices.Contains(AllScopes, s) }

// ParseScopes reads a comma- or space-separated scope list, such as the
// --scopes flag of tailor keys create. The result is sorted and without
// duplicates; an unknown or empty list is an Invalid error.
func ParseScopes(s string) ([]Scope, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return nil, errs.E(errs.Invalid, "at least one scope is required")
	}
	var out []Scope
	var bad []string
	for _, f := range fields {
		sc := Scope(f)
		if !sc.Valid() {
			bad = append(bad, f)
			continue
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(bad) > 0 {
		return nil, errs.E(errs.Invalid, fmt.Sprintf("unknown scope %s; the scopes are %s",
			strings.Join(bad, ", "), JoinScopes(AllScopes)))
	}
	slices.Sort(out)
	return out, nil
}

// JoinScopes renders scopes space-separated, the form used in the
// authorizer context and in messages.
func JoinScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, " ")
}

// Grants reports whether holding the scopes held allows what need
// requires: need itself, or Admin.
func Grants(held []Scope, need Scope) bool {
	return need != "" && (slices.Contains(held, need) || slices.Contains(held, Admin))
}
