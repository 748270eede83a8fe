package service

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/bus"
	busmemory "tailor/shared/platform/bus/memory"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

func TestChanges(t *testing.T) {
	cur := segments.CustomerScores{CustomerID: "c-1", Scores: customers.Scores{RunID: "2011-12-10", AsOf: "2011-12-10",
		Currency: "GBP", Segment: "at-risk", ChurnRisk: "high", ChurnProbability: 0.6}}
	prev := func(runID, asOf, segment, band string) *customers.Scores {
		return &customers.Scores{RunID: runID, AsOf: asOf, Segment: segment, ChurnRisk: band}
	}
	tests := []struct {
		name string
		prev *customers.Scores
		want []string
	}{
		{"first scored", nil, []string{"segment.entered:c-1:2011-12-10:at-risk"}},
		{"same segment and band", prev("2011-12-09", "2011-12-09", "at-risk", "high"), nil},
		{"same run already written", &cur.Scores, nil},
		{"segment changed", prev("2011-12-09", "2011-12-09", "champions", "high"),
			[]string{"segment.left:c-1:2011-12-10:champions", "segment.entered:c-1:2011-12-10:at-risk"}},
		{"band rose", prev("2011-12-09", "2011-12-09", "at-risk", "low"), []string{"churn_risk.raised:c-1:2011-12-10:high"}},
		{"band fell", prev("2011-12-09", "2011-12-09", "at-risk", "very_high"), nil},
		{"both", prev("2011-12-09", "2011-12-09", "loyal", "medium"),
			[]string{"segment.left:c-1:2011-12-10:loyal", "segment.entered:c-1:2011-12-10:at-risk", "churn_risk.raised:c-1:2011-12-10:high"}},
		{"previous band unknown", prev("2011-12-09", "2011-12-09", "at-risk", ""), nil},
		{"later scores kept", prev("2011-12-17", "2011-12-17", "champions", "low"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := Changes(tt.prev, cur)
			var got []string
			for _, e := range evs {
				got = append(got, e.ID)
				if _, err := bus.Encode(e); err != nil {
					t.Errorf("event %s does not encode: %v", e.ID, err)
				}
				if want := time.Date(2011, 12, 11, 0, 0, 0, 0, time.UTC); !e.Time.Equal(want) || e.Source != Source {
					t.Errorf("event %s: time %v source %s, want %v %s", e.ID, e.Time, e.Source, want, Source)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ids %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// ids returns the event ids of entries, failing on an id seen twice.
func ids(t *testing.T, entries []bus.Entry) map[string]bus.Entry {
	t.Helper()
	out := map[string]bus.Entry{}
	for _, e := range entries {
		var d struct {
			ID string `json:"event_id"`
		}
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[d.ID]; dup {
			t.Fatalf("event %s published twice", d.ID)
		}
		out[d.ID] = e
	}
	return out
}

// buying is a Customers whose scan shows every third customer with one
// more purchase on day, once day is set, as if they had bought since the
// last run.
type buying struct {
	Customers
	day string
}

func (c *buying) ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error {
	return c.Customers.ScanSegment(ctx, seg, total, func(page []segments.CustomerDays) error {
		for i, r := range page {
			if c.day != "" && (r.CustomerID[len(r.CustomerID)-1]-'0')%3 == 0 {
				page[i].Days[c.day] = customers.Amounts{"GBP": 250_00}
			}
		}
		return fn(page)
	})
}

// TestRerunPublishesNothingNew: the first run announces every customer's
// segment, a later run the changes, and a re-run of either publishes
// nothing because the records already hold its scores.
func TestRerunPublishesNothingNew(t *testing.T) {
	ctx := context.Background()
	c, runs := stores(t, synthetic(1500, 5))
	scan := &buying{Customers: c}
	b := &busmemory.Bus{}
	j := &Job{Customers: scan, Runs: runs, Bus: b, Config: segments.Config{Segments: 3}}
	first := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	rec, err := j.Run(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(b.OfType(TypeSegmentEntered)); int64(got) != rec.Customers || len(b.Entries()) != got {
		t.Fatalf("first run published %d segment.entered of %d events for %d customers", got, len(b.Entries()), rec.Customers)
	}
	if _, err := j.Run(ctx, first); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Entries()); int64(n) != rec.Customers {
		t.Fatalf("re-run published %d more events", int64(n)-rec.Customers)
	}

	later := first.AddDate(0, 0, 30)
	scan.day = later.Format(time.DateOnly)
	if _, err := j.Run(ctx, later); err != nil {
		t.Fatal(err)
	}
	after := len(b.Entries())
	left, entered, raised := b.OfType(TypeSegmentLeft), b.OfType(TypeSegmentEntered), b.OfType(TypeChurnRiskRaised)
	firstTime := 0
	for _, e := range entered[rec.Customers:] {
		var d SegmentEntered
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.PreviousSegment == "" {
			firstTime++
		}
	}
	if len(left) == 0 || len(raised) == 0 || len(entered) != int(rec.Customers)+len(left)+firstTime {
		t.Fatalf("later run: %d left, %d entered (%d before, %d scored for the first time), %d raised",
			len(left), len(entered), rec.Customers, firstTime, len(raised))
	}
	byID := ids(t, b.Entries())
	for _, e := range left {
		var d SegmentLeft
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.Segment == d.NextSegment || d.PreviousRunID != "2011-12-10" || d.RunID != "2012-01-09" {
			t.Fatalf("segment.left %+v", d)
		}
		if _, ok := byID["segment.entered:"+d.CustomerID+":"+d.RunID+":"+d.NextSegment]; !ok {
			t.Fatalf("segment.left of %s without its segment.entered", d.CustomerID)
		}
	}
	if _, err := j.Run(ctx, later); err != nil {
		t.Fatal(err)
	}
	if n := len(b.Entries()); n != after {
		t.Fatalf("re-run of the later date published %d more events", n-after)
	}
}

// failingWrites fails every WriteScores while fail is set, as a crash
// after the publish and before the write-back would leave things.
type failingWrites struct {
	Customers
	fail bool
}

func (f *failingWrites) WriteScores(ctx context.Context, scores []segments.CustomerScores) (int64, int64, error) {
	if f.fail {
		return 0, 0, errs.E(errs.Transient, "write back failed")
	}
	return f.Customers.WriteScores(ctx, scores)
}

// TestPublishedBeforeWrite: a write-back that fails after the publish
// leaves the old scores, so the re-run publishes the same ids again (the
// subscriber drops them) and the run after that publishes nothing.
func TestPublishedBeforeWrite(t *testing.T) {
	ctx := context.Background()
	c, runs := stores(t, synthetic(1500, 5))
	f := &failingWrites{Customers: c, fail: true}
	b := &busmemory.Bus{}
	j := &Job{Customers: f, Runs: runs, Bus: b, Config: segments.Config{Segments: 2}}
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	if _, err := j.Run(ctx, asOf); err == nil {
		t.Fatal("run with a failing write-back succeeded")
	}
	once := ids(t, b.Entries())
	if len(once) == 0 {
		t.Fatal("nothing published before the failed write-back")
	}
	f.fail = false
	if _, err := j.Run(ctx, asOf); err != nil {
		t.Fatal(err)
	}
	again := b.Entries()[len(once):]
	twice := ids(t, again)
	for id := range once {
		if _, ok := twice[id]; !ok {
			t.Fatalf("event %s of the failed run not published again", id)
		}
	}
	n := len(b.Entries())
	if _, err := j.Run(ctx, asOf); err != nil {
		t.Fatal(err)
	}
	if len(b.Entries()) != n {
		t.Fatalf("a third run published %d events", len(b.Entries())-n)
	}
}

// TestPublishFailureWritesNothing: when the bus refuses, the scores stay
// as they were, so the next run finds the same changes.
func TestPublishFailureWritesNothing(t *testing.T) {
	ctx := context.Background()
	c, runs := stores(t, synthetic(1500, 5))
	b := &busmemory.Bus{}
	b.FailNext(errs.E(errs.Transient, "bus down"), false)
	j := &Job{Customers: c, Runs: runs, Bus: b, Config: segments.Config{Segments: 1}}
	_, err := j.Run(ctx, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
	if !errs.Is(err, errs.Transient) {
		t.Fatalf("run with the bus down: %v", err)
	}
	if n := len(c.Scores()); n != 0 {
		t.Fatalf("%d scores written though the publish failed", n)
	}
}

// TestFannedOutRunPublishesAsTheLocalRun: the state machine's score states
// publish the same events as the local runner, and a retried score state
// publishes nothing more.
func TestFannedOutRunPublishesAsTheLocalRun(t *testing.T) {
	ctx := context.Background()
	records := synthetic(1500, 5)
	c, runs := stores(t, records)
	local := &busmemory.Bus{}
	if _, err := (&Job{Customers: c, Runs: runs, Bus: local, Config: segments.Config{Segments: 2}}).Run(ctx,
		time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}

	c, runs = stores(t, records)
	fan := &busmemory.Bus{}
	j := &Job{Customers: c, Runs: runs, Bus: fan, Config: segments.Config{Segments: 5}}
	fanOut(t, j, fannedRun{asOf: "2011-12-10", scores: 2})
	want, got := ids(t, local.Entries()), ids(t, fan.Entries())
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("fanned out %d events, local %d", len(got), len(want))
	}
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Fatalf("event %s of the local run not published by the fanned-out one", id)
		}
	}
}
