// Package contract is the one test suite every implementation of the
// events ports must pass: the DynamoDB adapter against DynamoDB Local and
// the in-memory twin. It pins what the ingest service and the history
// route rely on: exactly-once appends that are all or nothing, duplicates
// and reused ids told apart, identity links that merge once and move the
// history, erased customers refused, categories, history pages with
// opaque cursors, windows,
// type filters and TTL, and message and feedback events kept whole (their
// campaign, answers and comment) and folded into the aggregates.
package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/events/service"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
)

// Now is the clock of the stores Run opens: open must give them this
// time.
var Now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Events is what an event store implements: the ingest service's ports.
type Events interface {
	service.Store
}

// History lists a customer's history.
type History interface {
	// List returns one page of the customer's history, newest first.
	List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error)
}

// Stores is one implementation on empty storage, with the hooks the suite
// needs to set up and read what other features own in production (the
// catalogue, tombstones, the aggregates on customer records).
type Stores struct {
	// Events stores events; its clock is Now and its retention
	// schema.Retention.
	Events Events
	// History opens a history reader of the same storage whose clock is now.
	History func(now func() time.Time) History
	// SetCategory records an item's top category ("" for none).
	SetCategory func(t *testing.T, itemID, category string)
	// DeleteItem deletes an item as the catalogue does, leaving its row as
	// a tombstone.
	DeleteItem func(t *testing.T, itemID string)
	// Erase leaves an erased customer's tombstone.
	Erase func(t *testing.T, customerID string)
	// Aggregates reads an owner's aggregates; nil when none are stored.
	Aggregates func(t *testing.T, owner events.Owner) *customers.Aggregates
}

// Run runs the suite; open returns a fresh, empty implementation.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Stores)
	}{
		{"AppendIsExactlyOnce", testAppendIsExactlyOnce},
		{"RacingCopiesCountOnce", testRacingCopiesCountOnce},
		{"CopiesFoundWhereverStored", testCopiesFoundWhereverStored},
		{"LinkMergesOnceAndMovesHistory", testLinkMergesOnce},
		{"OrdersCountOnceAcrossLogin", testOrdersCountOnceAcrossLogin},
		{"ErasedCustomerIsRefused", testErasedCustomerIsRefused},
		{"Categories", testCategories},
		{"HistoryPages", testHistoryPages},
		{"HistoryOfManyWrites", testHistoryOfManyWrites},
		{"HistoryHidesExpiredEvents", testHistoryHidesExpiredEvents},
		{"MessagesAndFeedback", testMessagesAndFeedback},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func purchase(id, cust, order string, minutes int, qty, price int64) events.Event {
	return events.Event{ID: id, Type: events.Purchase, CustomerID: cust, ItemID: "sku-" + id, Quantity: qty,
		PriceMinor: price, Currency: "GBP", OrderID: order, Time: Now.Add(time.Duration(minutes) * time.Minute), Category: "Home"}
}

func view(id, cust, anon, item string, minutes int) events.Event {
	return events.Event{ID: id, Type: events.View, CustomerID: cust, AnonymousID: anon, ItemID: item, Quantity: 1,
		Time: Now.Add(time.Duration(minutes) * time.Minute)}
}

func aggJSON(t *testing.T, a *customers.Aggregates) string {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + " orders=" + strings.Join(a.OrderIDs, ",")
}

func testAppendIsExactlyOnce(t *testing.T, s Stores) {
	ctx := context.Background()
	owner := events.Owner{CustomerID: "c-1"}
	var evs []events.Event
	for i := range 70 { // more than one DynamoDB transaction
		evs = append(evs, purchase(fmt.Sprintf("e%03d", i), "c-1", fmt.Sprintf("o%d", i%7), i, 2, 150))
	}
	st, err := s.Events.Append(ctx, owner, evs[:40])
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		if x != events.Accepted {
			t.Fatalf("event %d: %s", i, x)
		}
	}
	st, err = s.Events.Append(ctx, owner, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		want := events.Accepted
		if i < 40 {
			want = events.Duplicate
		}
		if x != want {
			t.Fatalf("event %d: %s, want %s", i, x, want)
		}
	}
	changed := evs[3]
	changed.Quantity = 9
	st, err = s.Events.Append(ctx, owner, []events.Event{changed})
	if err != nil || st[0] != events.Rejected {
		t.Fatalf("reused id: %v %v", st, err)
	}
	c := s.Aggregates(t, owner)
	want := customers.Fold(evs)
	if c == nil || c.Events != 70 || c.Orders != 7 || c.Revenue["GBP"] != 70*300 ||
		!slices.Equal(c.OrderIDs, want.OrderIDs) || c.Units != want.Units {
		t.Fatalf("aggregates %+v", c)
	}
	if aggJSON(t, c) != aggJSON(t, want) {
		t.Fatalf("aggregates\n got  %s\n want %s", aggJSON(t, c), aggJSON(t, want))
	}

	// A batch mixing a duplicate, a reused id and a new event applies the
	// new one only.
	fresh := purchase("e100", "c-1", "o-new", 100, 1, 500)
	st, err = s.Events.Append(ctx, owner, []events.Event{evs[5], changed, fresh})
	if err != nil || !slices.Equal(st, []events.Status{events.Duplicate, events.Rejected, events.Accepted}) {
		t.Fatalf("mixed batch: %v %v", st, err)
	}
	want = customers.Fold(append(slices.Clone(evs), fresh))
	if got := s.Aggregates(t, owner); aggJSON(t, got) != aggJSON(t, want) {
		t.Fatalf("aggregates after the mixed batch\n got  %s\n want %s", aggJSON(t, got), aggJSON(t, want))
	}
}

// testCopiesFoundWhereverStored: an owner's history is its
// de-duplication record. Events written together over 30 hours (more
// than one history page where pages span at most a day), then older and
// newer events around them, are each a duplicate when sent again alone
// or together, in any order, and a conflict with other content; events
// new at any time around them are accepted.
func testCopiesFoundWhereverStored(t *testing.T, s Stores) {
	ctx := context.Background()
	owner := events.Owner{CustomerID: "c-dd"}
	at := func(h int) events.Event {
		return view(fmt.Sprintf("h%d", h), "c-dd", "", fmt.Sprintf("sku-%d", h%4), h*60)
	}
	var first, around []events.Event
	for h := 0; h <= 30; h += 2 {
		first = append(first, at(h))
	}
	for _, h := range []int{-50, -25, 1, 13, 29, 31, 55} {
		around = append(around, at(h))
	}
	for _, batch := range [][]events.Event{first, around[:3], around[3:]} {
		st, err := s.Events.Append(ctx, owner, batch)
		if err != nil || slices.ContainsFunc(st, func(x events.Status) bool { return x != events.Accepted }) {
			t.Fatalf("first writes: %v %v", st, err)
		}
	}
	all := slices.Concat(first, around)
	for _, e := range all {
		if st, err := s.Events.Append(ctx, owner, []events.Event{e}); err != nil || st[0] != events.Duplicate {
			t.Fatalf("%s sent again: %v %v", e.ID, st, err)
		}
		changed := e
		changed.ItemID = "sku-other"
		if st, err := s.Events.Append(ctx, owner, []events.Event{changed}); err != nil || st[0] != events.Rejected {
			t.Fatalf("%s with other content: %v %v", e.ID, st, err)
		}
	}
	shuffled := slices.Clone(all)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	fresh := []events.Event{at(-49), at(3), at(30 * 24)}
	st, err := s.Events.Append(ctx, owner, append(shuffled, fresh...))
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		want := events.Duplicate
		if i >= len(shuffled) {
			want = events.Accepted
		}
		if x != want {
			t.Fatalf("all sent again with three new: event %d is %s, want %s", i, x, want)
		}
	}
	want := customers.Fold(append(all, fresh...))
	if got := s.Aggregates(t, owner); aggJSON(t, got) != aggJSON(t, want) {
		t.Fatalf("aggregates\n got  %s\n want %s", aggJSON(t, got), aggJSON(t, want))
	}
}

func testRacingCopiesCountOnce(t *testing.T, s Stores) {
	ctx := context.Background()
	owner := events.Owner{CustomerID: "c-race"}
	var evs []events.Event
	for i := range 10 {
		evs = append(evs, view(fmt.Sprintf("r%d", i), "c-race", "", fmt.Sprintf("sku-%d", i%3), i))
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted int
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _ := s.Events.Append(ctx, owner, evs)
			mu.Lock()
			defer mu.Unlock()
			for _, x := range st {
				if x == events.Accepted {
					accepted++
				}
			}
		}()
	}
	wg.Wait()
	// Whatever a racer gave up on is stored now.
	st, err := s.Events.Append(ctx, owner, evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range st {
		if x == events.Accepted {
			accepted++
		}
	}
	if accepted != len(evs) {
		t.Fatalf("%d events accepted, want each of %d once", accepted, len(evs))
	}
	if got := s.Aggregates(t, owner); got == nil || got.Events != int64(len(evs)) || got.Views != int64(len(evs)) {
		t.Fatalf("aggregates %+v", got)
	}
}

func testLinkMergesOnce(t *testing.T, s Stores) {
	ctx := context.Background()
	visitor := events.Owner{AnonymousID: "a-1"}
	var anon []events.Event
	for i := range 3 {
		e := purchase(fmt.Sprintf("v%d", i), "", fmt.Sprintf("o-v%d", i), i, 1, 100)
		e.AnonymousID = "a-1"
		anon = append(anon, e)
	}
	if _, err := s.Events.Append(ctx, visitor, anon); err != nil {
		t.Fatal(err)
	}
	mine := []events.Event{purchase("m0", "c-1", "o-m0", 10, 1, 500)}
	if _, err := s.Events.Append(ctx, events.Owner{CustomerID: "c-1"}, mine); err != nil {
		t.Fatal(err)
	}
	if owners, err := s.Events.Resolve(ctx, []string{"a-1"}); err != nil || len(owners) != 0 {
		t.Fatalf("resolve before the login: %v %v", owners, err)
	}

	if got, err := s.Events.Link(ctx, "a-1", "c-1"); err != nil || got != "c-1" {
		t.Fatalf("link: %s %v", got, err)
	}
	owners, err := s.Events.Resolve(ctx, []string{"a-1", "a-unknown"})
	if err != nil || len(owners) != 1 || owners["a-1"] != "c-1" {
		t.Fatalf("resolve: %v %v", owners, err)
	}
	// A second login changes nothing; another customer cannot take the visitor.
	if got, err := s.Events.Link(ctx, "a-1", "c-1"); err != nil || got != "c-1" {
		t.Fatalf("second link: %s %v", got, err)
	}
	if got, err := s.Events.Link(ctx, "a-1", "c-2"); err != nil || got != "c-1" {
		t.Fatalf("link to another customer: %s %v", got, err)
	}

	want := customers.Fold(append(slices.Clone(anon), mine...))
	c := s.Aggregates(t, events.Owner{CustomerID: "c-1"})
	if c == nil || c.Events != 4 || c.Orders != 4 || c.Revenue["GBP"] != want.Revenue["GBP"] ||
		!c.FirstSeen.Equal(want.FirstSeen) || len(c.Recent) != 4 {
		t.Fatalf("aggregates %+v, want %+v", c, want)
	}
	if a := s.Aggregates(t, visitor); a != nil {
		t.Fatalf("the visitor keeps aggregates after the merge: %+v", a)
	}
	if a := s.Aggregates(t, events.Owner{CustomerID: "c-2"}); a != nil {
		t.Fatalf("the refused link gave c-2 aggregates: %+v", a)
	}
	page, err := s.History(func() time.Time { return Now }).List(ctx, "c-1", events.HistoryQuery{Limit: 10})
	if err != nil || len(page.Events) != 4 || page.Events[0].ID != "m0" {
		t.Fatalf("history %+v %v", page, err)
	}

	// The visitor's events go to c-1 from now on: a write to the visitor
	// applies nothing and says so. Its history moved with the login, so
	// the caller learns what was stored before from the customer.
	late := view("late", "", "a-1", "x", 20)
	st, err := s.Events.Append(ctx, visitor, []events.Event{anon[0], late})
	if !errors.Is(err, events.ErrOwnerChanged) {
		t.Fatalf("a write to the linked visitor: %v", err)
	}
	if !slices.Equal(st, []events.Status{"", ""}) {
		t.Fatalf("statuses of the refused write: %q", st)
	}
	if st, err := s.Events.Append(ctx, events.Owner{CustomerID: "c-1"}, []events.Event{anon[0]}); err != nil || st[0] != events.Duplicate {
		t.Fatalf("the visitor's stored event under its customer: %v %v", st, err)
	}
	if got := s.Aggregates(t, events.Owner{CustomerID: "c-1"}); aggJSON(t, got) != aggJSON(t, c) {
		t.Fatalf("the refused write changed the customer:\n %s\n %s", aggJSON(t, got), aggJSON(t, c))
	}
	if st, err := s.Events.Append(ctx, events.Owner{CustomerID: "c-1"}, []events.Event{late}); err != nil || st[0] != events.Accepted {
		t.Fatalf("the visitor's event under its customer: %v %v", st, err)
	}
}

// testOrdersCountOnceAcrossLogin: an order's lines count it once,
// whether they come from the customer, from the visitor before the login
// merges it, or afterwards; the aggregates equal the fold of all events.
func testOrdersCountOnceAcrossLogin(t *testing.T, s Stores) {
	ctx := context.Background()
	cust, visitor := events.Owner{CustomerID: "c-5"}, events.Owner{AnonymousID: "a-5"}
	before := []events.Event{purchase("p1", "c-5", "o-1", 1, 1, 100)}
	anon := []events.Event{purchase("p2", "", "o-1", 2, 1, 100), purchase("p3", "", "o-2", 3, 2, 100)}
	for i := range anon {
		anon[i].AnonymousID = "a-5"
	}
	after := []events.Event{purchase("p4", "c-5", "o-2", 4, 1, 100), purchase("p5", "c-5", "o-3", 5, 1, 100),
		purchase("p6", "c-5", "o-3", 6, 1, 100)}
	if _, err := s.Events.Append(ctx, cust, before); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events.Append(ctx, visitor, anon); err != nil {
		t.Fatal(err)
	}
	if a := s.Aggregates(t, visitor); a == nil || a.Orders != 2 {
		t.Fatalf("visitor's aggregates %+v", a)
	}
	if _, err := s.Events.Link(ctx, "a-5", "c-5"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events.Append(ctx, cust, after); err != nil {
		t.Fatal(err)
	}
	want := customers.Fold(slices.Concat(before, anon, after))
	got := s.Aggregates(t, cust)
	if got == nil || got.Orders != 3 || aggJSON(t, got) != aggJSON(t, want) {
		t.Fatalf("aggregates\n got  %s\n want %s", aggJSON(t, got), aggJSON(t, want))
	}
}

func testErasedCustomerIsRefused(t *testing.T, s Stores) {
	ctx := context.Background()
	s.Erase(t, "c-9")
	st, err := s.Events.Append(ctx, events.Owner{CustomerID: "c-9"}, []events.Event{purchase("x1", "c-9", "o-1", 0, 1, 100)})
	if !errors.Is(err, customers.ErrErased) || !errs.Is(err, errs.Conflict) {
		t.Fatalf("append to an erased customer: %v", err)
	}
	if len(st) != 1 || st[0] != "" {
		t.Fatalf("statuses %q: nothing was applied", st)
	}
	if page, err := s.History(func() time.Time { return Now }).List(ctx, "c-9", events.HistoryQuery{}); err != nil || len(page.Events) != 0 {
		t.Fatalf("the refused event was stored: %+v %v", page, err)
	}
	if _, err := s.Events.Append(ctx, events.Owner{AnonymousID: "a-9"}, []events.Event{view("x2", "", "a-9", "sku-1", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events.Link(ctx, "a-9", "c-9"); !errors.Is(err, customers.ErrErased) || !errs.Is(err, errs.Conflict) {
		t.Fatalf("link to an erased customer: %v", err)
	}
	if owners, err := s.Events.Resolve(ctx, []string{"a-9"}); err != nil || len(owners) != 0 {
		t.Fatalf("the refused link was stored: %v %v", owners, err)
	}
	if a := s.Aggregates(t, events.Owner{AnonymousID: "a-9"}); a == nil || a.Events != 1 {
		t.Fatalf("the visitor lost its aggregates: %+v", a)
	}
}

func testCategories(t *testing.T, s Stores) {
	s.SetCategory(t, "sku-1", "Home")
	s.SetCategory(t, "sku-2", "")
	s.SetCategory(t, "sku-3", "Garden")
	s.SetCategory(t, "sku-5", "Toys")
	s.DeleteItem(t, "sku-5")
	got, err := s.Events.Categories(context.Background(), []string{"sku-1", "sku-2", "sku-3", "sku-4", "sku-5"})
	if err != nil || len(got) != 2 || got["sku-1"] != "Home" || got["sku-3"] != "Garden" {
		t.Fatalf("categories %v %v; want sku-1 and sku-3, not the deleted sku-5", got, err)
	}
}

// historyOf stores a customer's history: e5 newest, e1 oldest, one search.
func historyOf(t *testing.T, s Stores, cust string) []events.Event {
	t.Helper()
	evs := []events.Event{
		view(cust+"-e1", cust, "", "sku-1", -50),
		purchase(cust+"-e2", cust, "o-1", -40, 2, 1250),
		view(cust+"-e3", cust, "", "sku-2", -30),
		{ID: cust + "-e4", Type: events.Search, CustomerID: cust, Query: "blue mug", Time: Now.Add(-20 * time.Minute)},
		purchase(cust+"-e5", cust, "o-2", -10, 1, 300),
	}
	evs[1].Properties = `{"campaign_id":"spring"}`
	if _, err := s.Events.Append(context.Background(), events.Owner{CustomerID: cust}, evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

func ids(evs []events.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return strings.Join(out, " ")
}

// testHistoryOfManyWrites: events written in batches of 1 to 30, out of
// order and spread over six days (so a store that keeps history in pages
// has pages that overlap in time), list exactly as sorting them would:
// whole, paged at several sizes, one type, and in windows.
func testHistoryOfManyWrites(t *testing.T, s Stores) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 5))
	types := []events.Type{events.View, events.AddToCart, events.View, events.Search}
	var all []events.Event
	for i := range 150 {
		e := events.Event{ID: fmt.Sprintf("m-%03d", i), Type: types[rng.IntN(len(types))], CustomerID: "c-9",
			Time: Now.Add(-time.Duration(rng.IntN(6*24*60)) * time.Minute).Truncate(time.Minute), Channel: "web"}
		if e.Type == events.Search {
			e.Query = "mug"
		} else {
			e.ItemID = fmt.Sprintf("sku-%d", rng.IntN(20))
		}
		if e.Type == events.AddToCart {
			e.Quantity = 1
		}
		all = append(all, e)
	}
	for rest := all; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(30))
		if _, err := s.Events.Append(ctx, events.Owner{CustomerID: "c-9"}, rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	h := s.History(func() time.Time { return Now })
	want := func(q events.HistoryQuery) string {
		var out []events.Event
		for _, e := range all {
			if (q.Type == "" || e.Type == q.Type) && (q.From.IsZero() || !e.Time.Before(q.From)) && (q.To.IsZero() || e.Time.Before(q.To)) {
				out = append(out, e)
			}
		}
		slices.SortFunc(out, func(a, b events.Event) int { return strings.Compare(events.HistoryKey(b), events.HistoryKey(a)) })
		return ids(out)
	}
	for _, q := range []events.HistoryQuery{
		{Limit: 200}, {Limit: 1}, {Limit: 7}, {Limit: 50},
		{Type: events.Search, Limit: 4},
		{From: Now.Add(-80 * time.Hour), To: Now.Add(-30 * time.Hour), Limit: 9},
		{Type: events.AddToCart, From: Now.Add(-100 * time.Hour), Limit: 5},
	} {
		var got []events.Event
		c := q
		for pages := 0; ; pages++ {
			if pages > 200 {
				t.Fatalf("%+v: pages never end", q)
			}
			page, err := h.List(ctx, "c-9", c)
			if err != nil || len(page.Events) > q.Limit {
				t.Fatalf("%+v: %d events %v", q, len(page.Events), err)
			}
			got = append(got, page.Events...)
			if c.Cursor = page.Next; c.Cursor == "" {
				break
			}
		}
		if w := want(q); ids(got) != w {
			t.Fatalf("%+v:\n got  %s\n want %s", q, ids(got), w)
		}
	}
}

func testHistoryPages(t *testing.T, s Stores) {
	ctx := context.Background()
	stored := historyOf(t, s, "c-1")
	historyOf(t, s, "c-2")
	h := s.History(func() time.Time { return Now })

	all, err := h.List(ctx, "c-1", events.HistoryQuery{})
	if err != nil || ids(all.Events) != "c-1-e5 c-1-e4 c-1-e3 c-1-e2 c-1-e1" || all.Next != "" {
		t.Fatalf("whole history: %s next=%q %v", ids(all.Events), all.Next, err)
	}
	for _, got := range all.Events {
		i := slices.IndexFunc(stored, func(e events.Event) bool { return e.ID == got.ID })
		if got.Hash() != stored[i].Hash() || got.Category != stored[i].Category || !got.Time.Equal(stored[i].Time) {
			t.Errorf("stored %+v\n listed %+v", stored[i], got)
		}
	}

	// Two at a time, newest first, each page's cursor leading to the next.
	var seen []events.Event
	var foreign string
	q := events.HistoryQuery{Limit: 2}
	for pages := 0; ; pages++ {
		if pages == 5 {
			t.Fatal("pages never end")
		}
		page, err := h.List(ctx, "c-1", q)
		if err != nil || len(page.Events) > 2 {
			t.Fatalf("page %d: %+v %v", pages, page, err)
		}
		seen = append(seen, page.Events...)
		if page.Next == "" {
			break
		}
		if len(page.Events) != 2 {
			t.Fatalf("a page of %d events has a next page", len(page.Events))
		}
		foreign = page.Next
		q.Cursor = page.Next
	}
	if ids(seen) != ids(all.Events) {
		t.Fatalf("paged %s, want %s", ids(seen), ids(all.Events))
	}

	// A time window: from inclusive, to exclusive.
	w, err := h.List(ctx, "c-1", events.HistoryQuery{From: Now.Add(-40 * time.Minute), To: Now.Add(-20 * time.Minute)})
	if err != nil || ids(w.Events) != "c-1-e3 c-1-e2" {
		t.Fatalf("window: %s %v", ids(w.Events), err)
	}
	// One type, paged one at a time.
	q = events.HistoryQuery{Type: events.Purchase, Limit: 1}
	var bought []events.Event
	for range 4 {
		page, err := h.List(ctx, "c-1", q)
		if err != nil {
			t.Fatal(err)
		}
		bought = append(bought, page.Events...)
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	if ids(bought) != "c-1-e5 c-1-e2" || bought[1].Properties != `{"campaign_id":"spring"}` || bought[1].PriceMinor != 1250 {
		t.Fatalf("purchases: %+v", bought)
	}

	// Cursors are opaque and belong to one customer's history.
	for name, c := range map[string]string{
		"garbage":         "not-a-cursor",
		"other customer":  foreign,
		"bad sort key":    ddb.SealCursor(map[string]string{"pk": schema.PfxHistory + schema.PfxCustomer + "c-2", "sk": "yesterday"}),
		"unknown field":   ddb.SealCursor(map[string]string{"pk": schema.PfxHistory + schema.PfxCustomer + "c-2", "sk": "x", "x": "y"}),
		"empty customer":  ddb.SealCursor(map[string]string{"pk": "", "sk": ""}),
		"raw history key": events.HistoryKey(stored[2]),
	} {
		if _, err := h.List(ctx, "c-2", events.HistoryQuery{Cursor: c}); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s cursor: %v", name, err)
		}
	}
	if page, err := h.List(ctx, "c-unknown", events.HistoryQuery{}); err != nil || len(page.Events) != 0 || page.Next != "" {
		t.Fatalf("customer without history: %+v %v", page, err)
	}
}

func testHistoryHidesExpiredEvents(t *testing.T, s Stores) {
	ctx := context.Background()
	historyOf(t, s, "c-1")
	// Retention counts from receipt (Now), not from the events' times.
	before := s.History(func() time.Time { return Now.Add(schema.Retention - time.Hour) })
	if page, err := before.List(ctx, "c-1", events.HistoryQuery{}); err != nil || len(page.Events) != 5 {
		t.Fatalf("an hour before the end of retention: %d events %v", len(page.Events), err)
	}
	after := s.History(func() time.Time { return Now.Add(schema.Retention + time.Hour) })
	if page, err := after.List(ctx, "c-1", events.HistoryQuery{Limit: 10}); err != nil || len(page.Events) != 0 {
		t.Fatalf("after retention: %+v %v", page, err)
	}
}

func testMessagesAndFeedback(t *testing.T, s Stores) {
	ctx := context.Background()
	owner := events.Owner{CustomerID: "c-fb"}
	at := func(m int) time.Time { return Now.Add(time.Duration(m) * time.Minute) }
	zero, nine := 0, 9
	evs := []events.Event{
		{ID: "md", Type: events.MessageDelivered, CustomerID: "c-fb", CampaignID: "spring", Channel: "email", Time: at(-50)},
		{ID: "mo", Type: events.MessageOpened, CustomerID: "c-fb", CampaignID: "spring", Time: at(-40)},
		{ID: "mc", Type: events.MessageClicked, CustomerID: "c-fb", CampaignID: "spring", Properties: `{"link":"hero"}`, Time: at(-30)},
		{ID: "f1", Type: events.Feedback, CustomerID: "c-fb", Rating: 1, NPS: &zero, Topic: events.Complaint,
			Comment: "The parcel came\nbroken.", CampaignID: "spring", Time: at(-20)},
		{ID: "f2", Type: events.Feedback, CustomerID: "c-fb", NPS: &nine, Time: at(-10)},
		{ID: "f3", Type: events.Feedback, CustomerID: "c-fb", Rating: 3, Topic: events.Complaint, Time: at(-5)},
		{ID: "un", Type: events.Unsubscribed, CustomerID: "c-fb", CampaignID: "spring", Time: at(-1)},
	}
	st, err := s.Events.Append(ctx, owner, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range st {
		if x != events.Accepted {
			t.Fatalf("event %d: %s", i, x)
		}
	}
	// Every field comes back as stored, NPS 0 included.
	page, err := s.History(func() time.Time { return Now }).List(ctx, "c-fb", events.HistoryQuery{Limit: 20})
	if err != nil || ids(page.Events) != "un f3 f2 f1 mc mo md" {
		t.Fatalf("history %s %v", ids(page.Events), err)
	}
	for _, got := range page.Events {
		want := evs[slices.IndexFunc(evs, func(e events.Event) bool { return e.ID == got.ID })]
		if got.Hash() != want.Hash() || got.Comment != want.Comment || got.CampaignID != want.CampaignID ||
			(want.NPS != nil) != (got.NPS != nil) || (want.NPS != nil && *got.NPS != *want.NPS) {
			t.Errorf("stored %+v\n listed %+v", want, got)
		}
	}
	fbs, err := s.History(func() time.Time { return Now }).List(ctx, "c-fb", events.HistoryQuery{Type: events.Feedback})
	if err != nil || ids(fbs.Events) != "f3 f2 f1" {
		t.Fatalf("feedback only: %s %v", ids(fbs.Events), err)
	}

	// A copy is a duplicate; the same id with another comment is not.
	changed := evs[3]
	changed.Comment = "All fine."
	st, err = s.Events.Append(ctx, owner, []events.Event{evs[3], evs[6]})
	if err != nil || !slices.Equal(st, []events.Status{events.Duplicate, events.Duplicate}) {
		t.Fatalf("copies: %v %v", st, err)
	}
	if st, err = s.Events.Append(ctx, owner, []events.Event{changed}); err != nil || st[0] != events.Rejected {
		t.Fatalf("a reused id: %v %v", st, err)
	}
	got, want := s.Aggregates(t, owner), customers.Fold(evs)
	if aggJSON(t, got) != aggJSON(t, want) {
		t.Fatalf("aggregates\n got  %s\n want %s", aggJSON(t, got), aggJSON(t, want))
	}
	// f1 was closed by f2's promoter answer; f3 is open.
	if f := got.Feedback; f == nil || f.Count != 3 || f.OpenComplaints() != 1 || f.LastRating.Value != 3 ||
		f.NPSCategory() != events.Promoter || !slices.Equal(f.Complaints, want.Feedback.Complaints) {
		t.Fatalf("feedback %+v", got.Feedback)
	}
}
