// Package contract is the one test suite every auth.KeyStore must pass:
// package memory runs it without a database and package dynamo against
// DynamoDB Local, so the two are proven to behave alike.
package contract

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// Stores are the stores under test, empty when open returns them.
type Stores struct {
	Keys auth.KeyStore
}

// Run runs the suite; open is called once per subtest for fresh stores.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"Lifecycle", lifecycle},
		{"Missing", missing},
		{"CreateKeepsRevocation", createKeepsRevocation},
		{"ConcurrentCreatesConflict", concurrentCreates},
		{"ReadsAreCopies", readsAreCopies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newKey(t *testing.T, name string, scopes []auth.Scope, at time.Time) (auth.Record, string) {
	t.Helper()
	r, key, err := auth.NewKey(rand.Reader, name, scopes, at)
	if err != nil {
		t.Fatal(err)
	}
	return r, key
}

func lifecycle(t *testing.T, st Stores) {
	s := st.Keys
	ctx := context.Background()
	a, keyA := newKey(t, "storefront", []auth.Scope{auth.EventsWrite, auth.RecommendationsRead}, t0.Add(time.Minute))
	b, _ := newKey(t, "analyst", []auth.Scope{auth.SegmentsRead}, t0)
	for _, r := range []auth.Record{a, b} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, a); !errs.Is(err, errs.Conflict) {
		t.Fatalf("second create: %v, want conflict", err)
	}
	got, err := s.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Name != "storefront" || auth.JoinScopes(got.Scopes) != "events:write recommendations:read" ||
		!got.CreatedAt.Equal(a.CreatedAt) || got.Revoked() || string(got.Hash) != string(auth.HashKey(keyA)) {
		t.Fatalf("stored %+v", got)
	}
	// What the authorizer does with it.
	if p, err := auth.Authenticate(ctx, s, "Bearer "+keyA); err != nil || !p.Valid || !p.Has(auth.EventsWrite) {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if _, err := s.Get(ctx, "aaaaaaaaaaaaaaaa"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown key: %v", err)
	}

	r, err := s.Revoke(ctx, a.ID, t0.Add(time.Hour))
	if err != nil || r.RevokedAt == nil || !r.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	r, err = s.Revoke(ctx, a.ID, t0.Add(2*time.Hour))
	if err != nil || r.RevokedAt == nil || !r.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second revoke must keep the first time: %+v %v", r, err)
	}
	if r.ID != a.ID || r.Name != a.Name || !bytes.Equal(r.Hash, a.Hash) || !r.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("revoke returned %+v, want the whole record", r)
	}
	if _, err := s.Revoke(ctx, "aaaaaaaaaaaaaaaa", t0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if p, err := auth.Authenticate(ctx, s, "Bearer "+keyA); err != nil || p.Valid || p.Reason != auth.Revoked {
		t.Fatalf("revoked key: %+v %v", p, err)
	}

	all, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != b.ID || all[1].ID != a.ID || !all[1].Revoked() || all[0].Revoked() {
		t.Fatalf("list: %+v", all)
	}
}

func missing(t *testing.T, st Stores) {
	s := st.Keys
	ctx := context.Background()
	if all, err := s.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("list of an empty store: %+v %v", all, err)
	}
	if _, err := s.Get(ctx, "aaaaaaaaaaaaaaaa"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := s.Revoke(ctx, "aaaaaaaaaaaaaaaa", t0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	// Revoking an unknown key must not create it.
	if _, err := s.Get(ctx, "aaaaaaaaaaaaaaaa"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown key after revoke: %v", err)
	}
	if all, err := s.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("list after revoking an unknown key: %+v %v", all, err)
	}
}

// createKeepsRevocation stores a record as it is given, revocation
// included, and a conflicting create changes nothing.
func createKeepsRevocation(t *testing.T, st Stores) {
	s := st.Keys
	ctx := context.Background()
	r, key := newKey(t, "old", []auth.Scope{auth.Admin}, t0)
	at := t0.Add(time.Minute)
	r.RevokedAt = &at
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	fresh := r
	fresh.RevokedAt, fresh.Name, fresh.Hash = nil, "new", auth.HashKey(key+"x")
	if err := s.Create(ctx, fresh); !errs.Is(err, errs.Conflict) {
		t.Fatalf("create over a revoked key: %v, want conflict", err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.Name != "old" || !bytes.Equal(got.Hash, r.Hash) {
		t.Fatalf("stored %+v %v; want the first record, revoked at %v", got, err, at)
	}
}

func concurrentCreates(t *testing.T, st Stores) {
	s := st.Keys
	ctx := context.Background()
	r, _ := newKey(t, "race", []auth.Scope{auth.CatalogRead}, t0)
	const writers = 8
	results := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		rec := r
		rec.Name = string(rune('a' + w))
		wg.Go(func() { results[w] = s.Create(ctx, rec) })
	}
	wg.Wait()
	winner := -1
	for w, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created key %s", winner, w, r.ID)
		case err == nil:
			winner = w
		case !errs.Is(err, errs.Conflict):
			t.Fatalf("writer %d: %v, want conflict", w, err)
		}
	}
	if winner < 0 {
		t.Fatal("no concurrent create succeeded")
	}
	if got, err := s.Get(ctx, r.ID); err != nil || got.Name != string(rune('a'+winner)) {
		t.Fatalf("stored %+v %v; want the winner's record (%d)", got, err, winner)
	}
}

func readsAreCopies(t *testing.T, st Stores) {
	s := st.Keys
	ctx := context.Background()
	r, _ := newKey(t, "copy", []auth.Scope{auth.CustomersRead, auth.PIIRead}, t0)
	want := string(r.Hash)
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Scopes[0], r.Hash[0] = auth.Admin, r.Hash[0]^0xff
	got, err := s.Get(ctx, r.ID)
	if err != nil || got.Scopes[0] != auth.CustomersRead || string(got.Hash) != want {
		t.Fatalf("the store shares the created record's slices: %+v %v", got, err)
	}
	got.Scopes[0] = auth.Admin
	if again, err := s.Get(ctx, r.ID); err != nil || again.Scopes[0] != auth.CustomersRead {
		t.Fatalf("the store shares a read record's slices: %+v %v", again, err)
	}
	revoked, err := s.Revoke(ctx, r.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	*revoked.RevokedAt = t0.Add(48 * time.Hour)
	if again, err := s.Get(ctx, r.ID); err != nil || !again.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("the store shares the revocation time it returned: %+v %v", again, err)
	}
}
