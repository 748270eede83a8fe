// Package contract is the one test suite of the customers storage ports
// (service.Records and service.Privacy). It runs against the in-memory
// adapter (package memory, no database) and the DynamoDB adapter
// (package dynamo, build tag dynamodb), so the two behave the same.
package contract

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/customers/service"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
)

// Stores is one fresh, empty set of adapters over one customers table.
type Stores struct {
	// Customers must have an email index key; Privacy must use the
	// default tombstone lifetime and the real clock.
	Customers service.Records
	Privacy   service.Privacy
	// Link records that identity resolution merged anonID into
	// customerID: the alias and the customer's link record.
	Link func(t *testing.T, anonID, customerID string)
	// TombstoneExpiry returns when the customer's tombstone expires, false
	// when there is none.
	TombstoneExpiry func(t *testing.T, customerID string) (time.Time, bool)
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Run runs the suite; open returns fresh, empty stores for each test.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"Versioning", versioning},
		{"ConcurrentSavesOneWins", concurrentSaves},
		{"FindByEmail", findByEmail},
		{"EraseLeavesTombstone", eraseLeavesTombstone},
		{"ClearTombstone", clearTombstone},
		{"Aliases", aliases},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func newCustomer(t *testing.T, customerID string, p customers.Profile, tags ...string) *customers.Customer {
	t.Helper()
	c, err := customers.Replace(customerID, nil, customers.Replacement{Profile: p,
		Consent: map[string]bool{customers.ConsentEmail: true}, Tags: tags}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// versioning: a profile is created once, then changed only from the
// version stored; created_at stays, consent and tags round-trip.
func versioning(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, err := s.Customers.Get(ctx, "c-1"); !errs.Is(err, errs.NotFound) || errors.Is(err, customers.ErrErased) {
		t.Fatalf("get missing: %v", err)
	}
	c1, err := customers.Replace("c-1", nil, customers.Replacement{
		Profile: customers.Profile{Name: "Ada", Country: "GB"}, Consent: map[string]bool{"email": true}, Tags: []string{"vip"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Customers.Save(ctx, c1, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Customers.Save(ctx, c1, 0); !errs.Is(err, errs.Precondition) {
		t.Fatalf("second create must fail its condition: %v", err)
	}
	got, err := s.Customers.Get(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "c-1" || got.Version != 1 || got.Profile != c1.Profile || !slices.Equal(got.Tags, []string{"vip"}) ||
		!got.Consent["email"].Granted || !got.Consent["email"].UpdatedAt.Equal(t0) || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
		t.Fatalf("stored %+v", got)
	}
	c2, _ := customers.Apply(got, customers.Patch{Tags: &customers.TagsPatch{Remove: []string{"vip"}}}, t0.Add(time.Minute))
	if err := s.Customers.Save(ctx, c2, 0); !errs.Is(err, errs.Precondition) {
		t.Fatalf("stale version accepted: %v", err)
	}
	if err := s.Customers.Save(ctx, c2, 7); !errs.Is(err, errs.Precondition) {
		t.Fatalf("wrong version accepted: %v", err)
	}
	// Get hands out copies: changing one changes nothing stored.
	got.Tags[0], got.Consent["sms"] = "changed", customers.ConsentState{Granted: true}
	if again, _ := s.Customers.Get(ctx, "c-1"); again.Tags[0] != "vip" || len(again.Consent) != 1 {
		t.Fatalf("a change to a copy reached the store: %+v", again)
	}
	if err := s.Customers.Save(ctx, c2, 1); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Customers.Get(ctx, "c-1")
	if got.Version != 2 || got.Tags == nil || len(got.Tags) != 0 || !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after patch %+v", got)
	}
	// created_at is kept even when a save claims another.
	c3, _ := customers.Apply(got, customers.Patch{Profile: &customers.ProfilePatch{City: ptr("Leeds")}}, t0.Add(time.Hour))
	c3.CreatedAt = t0.Add(time.Hour)
	if err := s.Customers.Save(ctx, c3, 2); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Customers.Get(ctx, "c-1")
	if got.Version != 3 || got.Profile.City != "Leeds" || got.Profile.Name != "Ada" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after city %+v", got)
	}
	if _, err := s.Customers.Get(ctx, "c-2"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another customer: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// concurrentSaves: of writers racing from the same version, exactly one
// lands; the others get a Precondition error.
func concurrentSaves(t *testing.T, s Stores) {
	ctx := context.Background()
	c := newCustomer(t, "c-race", customers.Profile{Name: "Grace"})
	if err := s.Customers.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for i := range writers {
		next, err := customers.Apply(c, customers.Patch{Tags: &customers.TagsPatch{Add: []string{fmt.Sprintf("w%d", i)}}}, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errc <- s.Customers.Save(ctx, next, 1) })
	}
	wg.Wait()
	close(errc)
	won := 0
	for err := range errc {
		switch {
		case err == nil:
			won++
		case !errs.Is(err, errs.Precondition):
			t.Fatalf("a losing writer: %v", err)
		}
	}
	got, err := s.Customers.Get(ctx, "c-race")
	if won != 1 || err != nil || got.Version != 2 || len(got.Tags) != 1 {
		t.Fatalf("%d writers won; stored %+v, %v", won, got, err)
	}
}

// findByEmail: look-up by the normal form of the address, never finding
// a changed address or an erased customer.
func findByEmail(t *testing.T, s Stores) {
	ctx := context.Background()
	for _, c := range []*customers.Customer{
		newCustomer(t, "c-e1", customers.Profile{Name: "Ada", Email: "ada@example.com"}),
		newCustomer(t, "c-e2", customers.Profile{Email: "ADA@Example.com"}),
		newCustomer(t, "c-e3", customers.Profile{Email: "grace@example.com"}),
		newCustomer(t, "c-e4", customers.Profile{Name: "No email"}),
	} {
		if err := s.Customers.Save(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(email string) []string {
		t.Helper()
		found, err := s.Customers.FindByEmail(ctx, email)
		if err != nil {
			t.Fatalf("find %q: %v", email, err)
		}
		if found == nil {
			t.Fatalf("find %q: nil, want an empty list", email)
		}
		var out []string
		for _, c := range found {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(" Ada@EXAMPLE.com "); !slices.Equal(got, []string{"c-e1", "c-e2"}) {
		t.Fatalf("ada: %v", got)
	}
	if got := ids("nobody@example.com"); len(got) != 0 {
		t.Fatalf("nobody: %v", got)
	}
	found, _ := s.Customers.FindByEmail(ctx, "grace@example.com")
	if len(found) != 1 || found[0].Profile.Email != "grace@example.com" || found[0].Version != 1 {
		t.Fatalf("grace: %+v", found)
	}
	// A changed address is found under the new one only.
	cur, _ := s.Customers.Get(ctx, "c-e2")
	next, _ := customers.Apply(cur, customers.Patch{Profile: &customers.ProfilePatch{Email: ptr("ada.l@example.com")}}, t0.Add(time.Minute))
	if err := s.Customers.Save(ctx, next, cur.Version); err != nil {
		t.Fatal(err)
	}
	if got := ids("ada@example.com"); !slices.Equal(got, []string{"c-e1"}) {
		t.Fatalf("ada after change: %v", got)
	}
	if got := ids("ada.l@example.com"); !slices.Equal(got, []string{"c-e2"}) {
		t.Fatalf("new address: %v", got)
	}
	// A cleared address is found no more.
	cur, _ = s.Customers.Get(ctx, "c-e3")
	next, _ = customers.Apply(cur, customers.Patch{Profile: &customers.ProfilePatch{Email: ptr("")}}, t0.Add(time.Minute))
	if err := s.Customers.Save(ctx, next, cur.Version); err != nil {
		t.Fatal(err)
	}
	if got := ids("grace@example.com"); len(got) != 0 {
		t.Fatalf("cleared address: %v", got)
	}
	if _, err := s.Privacy.Erase(ctx, "c-e1"); err != nil {
		t.Fatal(err)
	}
	if got := ids("ada@example.com"); len(got) != 0 {
		t.Fatalf("erased customer found: %v", got)
	}
}

// eraseLeavesTombstone: an erased customer is not found, cannot be saved
// over, and its tombstone lives for the retention period; erasing again,
// or erasing a customer never stored, succeeds.
func eraseLeavesTombstone(t *testing.T, s Stores) {
	ctx := context.Background()
	c := newCustomer(t, "c-gone", customers.Profile{Name: "Mary", Email: "mary@example.org"})
	if err := s.Customers.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.TombstoneExpiry(t, "c-gone"); ok {
		t.Fatal("a live record reads as a tombstone")
	}
	before := time.Now()
	n, err := s.Privacy.Erase(ctx, "c-gone")
	after := time.Now()
	if err != nil || n != (customers.Erasure{}) {
		t.Fatalf("erase with nothing linked: %+v, %v", n, err)
	}
	_, err = s.Customers.Get(ctx, "c-gone")
	if !errs.Is(err, errs.NotFound) || !errors.Is(err, customers.ErrErased) {
		t.Fatalf("get erased: %v", err)
	}
	for _, expected := range []int64{0, 1} {
		err := s.Customers.Save(ctx, c, expected)
		if !errs.Is(err, errs.Conflict) || !errors.Is(err, customers.ErrErased) {
			t.Fatalf("save over the tombstone (expected %d): %v", expected, err)
		}
	}
	exp, ok := s.TombstoneExpiry(t, "c-gone")
	lo, hi := before.Add(schema.Retention).Unix(), after.Add(schema.Retention).Unix()
	if !ok || exp.Unix() < lo || exp.Unix() > hi {
		t.Fatalf("tombstone expires at %v (%v), want between %d and %d", exp, ok, lo, hi)
	}
	if again, err := s.Privacy.Erase(ctx, "c-gone"); err != nil || again != (customers.Erasure{}) {
		t.Fatalf("second erasure: %+v, %v", again, err)
	}
	if _, err := s.Privacy.Erase(ctx, "c-never"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Customers.Get(ctx, "c-never"); !errors.Is(err, customers.ErrErased) {
		t.Fatalf("get never-stored erased customer: %v", err)
	}
	if err := s.Customers.Save(ctx, newCustomer(t, "c-never", customers.Profile{}), 0); !errors.Is(err, customers.ErrErased) {
		t.Fatalf("create over the tombstone: %v", err)
	}
}

// clearTombstone: clearing lets the customer be created afresh; it does
// nothing to a live record or to none.
func clearTombstone(t *testing.T, s Stores) {
	ctx := context.Background()
	c := newCustomer(t, "c-back", customers.Profile{Name: "Ada"}, "vip")
	if err := s.Customers.Save(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Privacy.ClearTombstone(ctx, "c-back"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Customers.Get(ctx, "c-back"); err != nil || got.Version != 1 {
		t.Fatalf("clearing a live record changed it: %+v, %v", got, err)
	}
	if err := s.Privacy.ClearTombstone(ctx, "c-none"); err != nil {
		t.Fatalf("clear with no record: %v", err)
	}
	if _, err := s.Customers.Get(ctx, "c-none"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("clearing created a record: %v", err)
	}
	if _, err := s.Privacy.Erase(ctx, "c-back"); err != nil {
		t.Fatal(err)
	}
	if err := s.Privacy.ClearTombstone(ctx, "c-back"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.TombstoneExpiry(t, "c-back"); ok {
		t.Fatal("tombstone left")
	}
	_, err := s.Customers.Get(ctx, "c-back")
	if !errs.Is(err, errs.NotFound) || errors.Is(err, customers.ErrErased) {
		t.Fatalf("get after clearing: %v", err)
	}
	// The new record starts from nothing: version 1, none of the old tags.
	fresh := newCustomer(t, "c-back", customers.Profile{Name: "Ada"})
	if err := s.Customers.Save(ctx, fresh, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Customers.Get(ctx, "c-back")
	if err != nil || got.Version != 1 || len(got.Tags) != 0 {
		t.Fatalf("re-created %+v, %v", got, err)
	}
}

// aliases: the anonymous ids linked to a customer, in order; erasure
// deletes the customer's links and the aliases that still point at it,
// never an alias another customer took over.
func aliases(t *testing.T, s Stores) {
	ctx := context.Background()
	if got, err := s.Privacy.Aliases(ctx, "c-a1"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("aliases of nobody: %#v, %v", got, err)
	}
	var many []string
	for i := range 30 {
		a := fmt.Sprintf("a-%02d", 29-i)
		s.Link(t, a, "c-a1")
		many = append(many, a)
	}
	slices.Sort(many)
	s.Link(t, "a-x", "c-a2")
	got, err := s.Privacy.Aliases(ctx, "c-a1")
	if err != nil || !slices.Equal(got, many) {
		t.Fatalf("aliases of c-a1: %v, %v", got, err)
	}
	// a-05 moves on to c-a2; c-a1's link record to it stays.
	s.Link(t, "a-05", "c-a2")
	n, err := s.Privacy.Erase(ctx, "c-a1")
	if err != nil || n.Aliases != 29 {
		t.Fatalf("erase: %+v, %v", n, err)
	}
	if got, err := s.Privacy.Aliases(ctx, "c-a1"); err != nil || len(got) != 0 {
		t.Fatalf("aliases after erasure: %v, %v", got, err)
	}
	if got, err := s.Privacy.Aliases(ctx, "c-a2"); err != nil || !slices.Equal(got, []string{"a-05", "a-x"}) {
		t.Fatalf("aliases of c-a2: %v, %v", got, err)
	}
	if again, err := s.Privacy.Erase(ctx, "c-a1"); err != nil || again.Aliases != 0 {
		t.Fatalf("second erasure: %+v, %v", again, err)
	}
	n, err = s.Privacy.Erase(ctx, "c-a2")
	if err != nil || n.Aliases != 2 {
		t.Fatalf("erase c-a2: %+v, %v", n, err)
	}
}
