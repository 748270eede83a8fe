// Package contract is the one test suite of audit trail stores. It runs
// against the in-memory store (package memory, no database) and the
// DynamoDB adapter (package dynamo, build tag dynamodb), so the two behave
// the same.
package contract

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"tailor/shared/platform/audit"
	"tailor/shared/platform/errs"
)

// Log is what an audit trail store does.
type Log interface {
	Record(ctx context.Context, e audit.Entry) error
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}

// Stores is one fresh, empty audit trail.
type Stores struct {
	Audit Log
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Run runs the suite; open returns fresh, empty stores for each test.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"ByTargetNewestFirst", byTarget},
		{"RecordTwiceKeepsFirst", recordTwice},
		{"ByKey", byKey},
		{"TimeBounds", timeBounds},
		{"Pages", pages},
		{"ForeignCursorsRefused", foreignCursors},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func entry(minute int, key string, action audit.Action, customerID string) audit.Entry {
	return audit.Entry{At: t0.Add(time.Duration(minute) * time.Minute), KeyID: key, Action: action,
		Target: audit.CustomerTarget(customerID), RequestID: fmt.Sprintf("req-%03d", minute)}
}

func record(t *testing.T, s Stores, es ...audit.Entry) {
	t.Helper()
	for _, e := range es {
		if err := s.Audit.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func list(t *testing.T, s Stores, q audit.Query) audit.Page {
	t.Helper()
	p, err := s.Audit.List(context.Background(), q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	if p.Entries == nil {
		t.Fatalf("list %+v: nil entries, want a list", q)
	}
	return p
}

// same compares entries field by field, times by instant.
func same(got, want []audit.Entry) bool {
	return slices.EqualFunc(got, want, func(a, b audit.Entry) bool {
		return a.At.Equal(b.At) && a.KeyID == b.KeyID && a.Action == b.Action && a.Target == b.Target && a.RequestID == b.RequestID
	})
}

func byTarget(t *testing.T, s Stores) {
	e1 := entry(1, "k1", audit.PIIRead, "c-1")
	e2 := entry(2, "k2", audit.CustomerExport, "c-1")
	e3 := entry(3, "k1", audit.CustomerErase, "c-1")
	other := entry(4, "k1", audit.PIIRead, "c-2")
	record(t, s, e2, other, e1, e3)
	p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1")})
	if !same(p.Entries, []audit.Entry{e3, e2, e1}) || p.Next != "" {
		t.Fatalf("c-1: %+v", p)
	}
	if p.Entries[0].At.Location() != time.UTC {
		t.Fatalf("time not in UTC: %v", p.Entries[0].At)
	}
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-9")}); len(p.Entries) != 0 || p.Next != "" {
		t.Fatalf("c-9: %+v", p)
	}
}

// recordTwice: a retried request records nothing new, even if the entry
// differs in a field outside its key.
func recordTwice(t *testing.T, s Stores) {
	e := entry(1, "k1", audit.CustomerLookup, "c-1")
	retried := e
	retried.KeyID = "k2"
	record(t, s, e, retried)
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1")}); !same(p.Entries, []audit.Entry{e}) {
		t.Fatalf("after repeats: %+v", p.Entries)
	}
	// Another request at the same instant is another entry.
	next := e
	next.RequestID = "req-other"
	record(t, s, next)
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1")}); len(p.Entries) != 2 {
		t.Fatalf("another request: %+v", p.Entries)
	}
}

func byKey(t *testing.T, s Stores) {
	a1 := entry(1, "k1", audit.PIIRead, "c-1")
	a2 := entry(2, "k1", audit.PIIRead, "c-2")
	b := entry(3, "k2", audit.PIIRead, "c-1")
	op := audit.Entry{At: t0.Add(4 * time.Minute), KeyID: audit.Operator, Action: audit.KeyRevoke,
		Target: audit.KeyTarget("k1"), RequestID: "tool-1"}
	record(t, s, a1, a2, b, op)
	if p := list(t, s, audit.Query{KeyID: "k1"}); !same(p.Entries, []audit.Entry{a2, a1}) || p.Next != "" {
		t.Fatalf("k1: %+v", p)
	}
	if p := list(t, s, audit.Query{KeyID: audit.Operator}); !same(p.Entries, []audit.Entry{op}) {
		t.Fatalf("operator: %+v", p)
	}
	if p := list(t, s, audit.Query{Target: audit.KeyTarget("k1")}); !same(p.Entries, []audit.Entry{op}) {
		t.Fatalf("target key/k1: %+v", p)
	}
}

// timeBounds: From is inclusive, To exclusive, by target and by key.
func timeBounds(t *testing.T, s Stores) {
	var all []audit.Entry
	for m := range 6 {
		all = append(all, entry(m, "k1", audit.PIIRead, "c-1"))
	}
	record(t, s, all...)
	from, to := t0.Add(2*time.Minute), t0.Add(4*time.Minute)
	want := []audit.Entry{all[3], all[2]}
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1"), From: from, To: to}); !same(p.Entries, want) {
		t.Fatalf("by target in [2, 4): %+v", p.Entries)
	}
	if p := list(t, s, audit.Query{KeyID: "k1", From: from, To: to}); !same(p.Entries, want) {
		t.Fatalf("by key in [2, 4): %+v", p.Entries)
	}
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1"), From: from}); !same(p.Entries, []audit.Entry{all[5], all[4], all[3], all[2]}) {
		t.Fatalf("from 2: %+v", p.Entries)
	}
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1"), To: from}); !same(p.Entries, []audit.Entry{all[1], all[0]}) {
		t.Fatalf("to 2: %+v", p.Entries)
	}
}

// pages: pages of Limit entries join up to the whole list; a page that
// reaches Limit has a cursor even when nothing follows, and the page after
// it is empty and last; the default limit is 50.
func pages(t *testing.T, s Stores) {
	var all []audit.Entry
	for m := range 55 {
		all = append(all, entry(m, "k1", audit.PIIRead, "c-1"))
	}
	record(t, s, all...)
	slices.Reverse(all)
	for _, q := range []audit.Query{{Target: audit.CustomerTarget("c-1")}, {KeyID: "k1"}} {
		for _, limit := range []int{7, 11, 55} {
			q.Limit, q.Cursor = limit, ""
			var got []audit.Entry
			for calls := 1; ; calls++ {
				p := list(t, s, q)
				got = append(got, p.Entries...)
				if p.Next == "" {
					if len(p.Entries) == limit {
						t.Fatalf("%+v: a full page without a cursor", q)
					}
					break
				}
				if len(p.Entries) != limit || calls > 20 {
					t.Fatalf("%+v: page %d has %d entries and a cursor", q, calls, len(p.Entries))
				}
				q.Cursor = p.Next
			}
			if !same(got, all) {
				t.Fatalf("%+v: pages joined to %d entries, want %d in order", q, len(got), len(all))
			}
		}
		q.Limit, q.Cursor = 0, ""
		if p := list(t, s, q); len(p.Entries) != 50 || p.Next == "" || !same(p.Entries, all[:50]) {
			t.Fatalf("%+v: default page has %d entries", q, len(p.Entries))
		}
	}
}

// foreignCursors: a cursor works only for the query that made it.
func foreignCursors(t *testing.T, s Stores) {
	for m := range 4 {
		record(t, s, entry(m, "k1", audit.PIIRead, "c-1"), entry(m, "k2", audit.PIIRead, "c-2"))
	}
	byC1 := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1"), Limit: 2})
	byK1 := list(t, s, audit.Query{KeyID: "k1", Limit: 2})
	if byC1.Next == "" || byK1.Next == "" {
		t.Fatal("no cursors")
	}
	for _, q := range []audit.Query{
		{Target: audit.CustomerTarget("c-2"), Cursor: byC1.Next},
		{KeyID: "k2", Cursor: byK1.Next},
		{KeyID: "k1", Cursor: byC1.Next},
		{Target: audit.CustomerTarget("c-1"), Cursor: "not-a-cursor"},
		{KeyID: "k1", Cursor: "e30"},
	} {
		_, err := s.Audit.List(context.Background(), q)
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("%+v: %v, want an Invalid error", q, err)
		}
	}
	if p := list(t, s, audit.Query{Target: audit.CustomerTarget("c-1"), Limit: 2, Cursor: byC1.Next}); len(p.Entries) != 2 {
		t.Fatalf("own cursor: %+v", p)
	}
}
