package dynamo_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"tailor/shared/platform/auth"
	keysdb "tailor/shared/platform/auth/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/errs"
)

func TestKeysLifecycle(t *testing.T) {
	env := ddbtest.New(t)
	s := &keysdb.Keys{DB: env.DB, Table: env.Table("KeysTable")}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

	a, keyA, err := auth.NewKey(rand.Reader, "storefront", []auth.Scope{auth.EventsWrite, auth.RecommendationsRead}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := auth.NewKey(rand.Reader, "analyst", []auth.Scope{auth.SegmentsRead}, t0)
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
