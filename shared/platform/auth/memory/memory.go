// Package memory keeps API key records in memory, with the semantics of
// package dynamo (the contract suite in package contract holds both to
// them). It is for tests and local runs; nothing is persisted.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// Keys is the API key table in memory, an auth.KeyStore. The zero value is
// empty and ready; it is safe for concurrent use.
type Keys struct {
	mu   sync.Mutex
	recs map[string]auth.Record
}

// Get returns the key record, or a NotFound error.
func (s *Keys) Get(_ context.Context, keyID string) (auth.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[keyID]
	if !ok {
		return auth.Record{}, &errs.Error{Op: "get key " + keyID, Kind: errs.NotFound, Detail: fmt.Sprintf("key %s does not exist", keyID)}
	}
	return clone(r), nil
}

// Create stores a new key record; an existing id is a Conflict error.
func (s *Keys) Create(_ context.Context, r auth.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[r.ID]; ok {
		return &errs.Error{Op: "create key " + r.ID, Kind: errs.Conflict, Detail: fmt.Sprintf("key %s already exists", r.ID)}
	}
	if s.recs == nil {
		s.recs = map[string]auth.Record{}
	}
	s.recs[r.ID] = clone(r)
	return nil
}

// Revoke marks the key revoked at the given time and returns the record.
// Revoking an already revoked key keeps the first time; an unknown key is a
// NotFound error.
func (s *Keys) Revoke(_ context.Context, keyID string, at time.Time) (auth.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[keyID]
	if !ok {
		return auth.Record{}, &errs.Error{Op: "revoke key " + keyID, Kind: errs.NotFound, Detail: fmt.Sprintf("key %s does not exist", keyID)}
	}
	if r.RevokedAt == nil {
		at = at.UTC().Round(0)
		r.RevokedAt = &at
		s.recs[keyID] = r
	}
	return clone(r), nil
}

// List returns every key record, oldest first.
func (s *Keys) List(_ context.Context) ([]auth.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auth.Record
	for _, r := range s.recs {
		out = append(out, clone(r))
	}
	slices.SortFunc(out, func(a, b auth.Record) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// clone copies the record's slices and revocation time, so neither the
// caller nor the store sees the other's later changes, and drops the clock
// readings DynamoDB does not store.
func clone(r auth.Record) auth.Record {
	r.Scopes = slices.Clone(r.Scopes)
	r.Hash = bytes.Clone(r.Hash)
	r.CreatedAt = r.CreatedAt.Round(0)
	if r.RevokedAt != nil {
		at := r.RevokedAt.Round(0)
		r.RevokedAt = &at
	}
	return r
}
