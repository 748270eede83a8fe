// Package contract is the one test suite every segmentation storage
// adapter passes: package memory in plain tests and package dynamo against
// DynamoDB Local (build tag dynamodb). It exercises every port method of
// package service, the conditional score writes, the latest-run pointer
// and the paginated member listings with their opaque cursors.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
	"tailor/shared/segments/service"
)

// Customers is the customer storage under test: the ports and the seeding
// that tests and benchmarks use.
type Customers interface {
	service.Customers
	service.MemberLister
	SeedAggregates(ctx context.Context, recs []segments.CustomerDays, workers int) error
}

// Runs is the run storage under test: the ports and the reader of segment
// reports.
type Runs interface {
	service.Runs
	service.RunReader
	Segments(ctx context.Context, runID string) ([]segments.SegmentReport, error)
}

// Stores is one backend's storage, fresh and empty.
type Stores struct {
	Customers Customers
	Runs      Runs
	// Erase removes a customer record, as erasure does.
	Erase func(ctx context.Context, customerID string) error
}

// Run runs the suite; open returns fresh, empty stores for each subtest.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"ScanSegment", testScanSegment},
		{"WriteScores", testWriteScores},
		{"WriteScoresConcurrently", testWriteScoresConcurrently},
		{"Members", testMembers},
		{"MembersCursor", testMembersCursor},
		{"Runs", testRuns},
		{"SegmentReports", testSegmentReports},
		{"Blobs", testBlobs},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func customerID(i int) string { return fmt.Sprintf("c-%04d", i) }

// seed stores n customers: customer i bought on i%5+1 days in GBP, every
// third also in EUR, and customer 0 never bought; some have a latest
// rating, an NPS answer (0 included) or both.
func seed(t *testing.T, s Stores, n int) []segments.CustomerDays {
	t.Helper()
	recs := make([]segments.CustomerDays, n)
	for i := range recs {
		recs[i] = segments.CustomerDays{CustomerID: customerID(i)}
		if i == 0 {
			continue
		}
		recs[i].Days = map[string]customers.Amounts{}
		for d := range i%5 + 1 {
			am := customers.Amounts{"GBP": int64(100*i + d)}
			if i%3 == 0 {
				am["EUR"] = int64(7 * i)
			}
			recs[i].Days[fmt.Sprintf("2011-%02d-%02d", d+1, i%28+1)] = am
		}
		if i%2 == 0 {
			recs[i].EventDays = map[string]int64{"2011-11-30": int64(i), fmt.Sprintf("2011-12-%02d", i%9+1): 3}
		}
		at := time.Date(2011, 3, i%28+1, 12, 0, 0, 0, time.UTC)
		if i%4 == 1 || i%4 == 3 {
			recs[i].LastRating = &customers.Answer{Value: i%5 + 1, At: at, EventID: fmt.Sprintf("r-%d", i)}
		}
		if i%4 == 2 || i%4 == 3 {
			recs[i].LastNPS = &customers.Answer{Value: i % 11, At: at.Add(time.Hour), EventID: fmt.Sprintf("n-%d", i)}
		}
	}
	if err := s.Customers.SeedAggregates(context.Background(), recs, 2); err != nil {
		t.Fatal(err)
	}
	return recs
}

// scanAll reads every scan segment of total and fails on a customer read
// twice.
func scanAll(t *testing.T, c Customers, total int) map[string]map[string]customers.Amounts {
	t.Helper()
	got := map[string]map[string]customers.Amounts{}
	for seg := range total {
		err := c.ScanSegment(context.Background(), seg, total, func(page []segments.CustomerDays) error {
			for _, r := range page {
				if _, dup := got[r.CustomerID]; dup {
					return fmt.Errorf("customer %s in two pages or segments", r.CustomerID)
				}
				got[r.CustomerID] = r.Days
			}
			return nil
		})
		if err != nil {
			t.Fatalf("segment %d of %d: %v", seg, total, err)
		}
	}
	return got
}

// scanPrevious reads the previous scores of every record in one segment.
func scanPrevious(t *testing.T, c Customers) map[string]*customers.Scores {
	t.Helper()
	got := map[string]*customers.Scores{}
	err := c.ScanSegment(context.Background(), 0, 1, func(page []segments.CustomerDays) error {
		for _, r := range page {
			got[r.CustomerID] = r.Previous
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sameDays(a, b map[string]customers.Amounts) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// sameAnswer reports whether two answers are equal, nil included.
func sameAnswer(a, b *customers.Answer) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Value == b.Value && a.EventID == b.EventID && a.At.Equal(b.At)
}

func testScanSegment(t *testing.T, s Stores) {
	ctx := context.Background()
	if got := scanAll(t, s.Customers, 3); len(got) != 0 {
		t.Fatalf("empty store scanned %d customers", len(got))
	}
	recs := seed(t, s, 230)
	for _, total := range []int{1, 4, 9} {
		got := scanAll(t, s.Customers, total)
		if len(got) != len(recs) {
			t.Fatalf("%d segments: scanned %d customers, want %d", total, len(got), len(recs))
		}
		for _, r := range recs {
			if days, ok := got[r.CustomerID]; !ok || !sameDays(days, r.Days) {
				t.Fatalf("%d segments: customer %s read %v (found %v), want %v", total, r.CustomerID, days, ok, r.Days)
			}
		}
	}
	// The latest feedback answers and the events per day come with the
	// purchase days.
	byID := map[string]segments.CustomerDays{}
	for _, r := range recs {
		byID[r.CustomerID] = r
	}
	answered := 0
	for seg := range 3 {
		err := s.Customers.ScanSegment(ctx, seg, 3, func(page []segments.CustomerDays) error {
			for _, r := range page {
				want := byID[r.CustomerID]
				if !sameAnswer(r.LastRating, want.LastRating) || !sameAnswer(r.LastNPS, want.LastNPS) {
					return fmt.Errorf("customer %s: answers %+v %+v, want %+v %+v", r.CustomerID, r.LastRating, r.LastNPS, want.LastRating, want.LastNPS)
				}
				if (len(r.EventDays) > 0 || len(want.EventDays) > 0) && !reflect.DeepEqual(r.EventDays, want.EventDays) {
					return fmt.Errorf("customer %s: event days %v, want %v", r.CustomerID, r.EventDays, want.EventDays)
				}
				if r.LastRating != nil || r.LastNPS != nil {
					answered++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if answered == 0 {
		t.Fatal("no customer's answers were read")
	}
	stop := errors.New("stop")
	if err := s.Customers.ScanSegment(ctx, 0, 1, func([]segments.CustomerDays) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("the callback's error: got %v", err)
	}
	if err := s.Customers.ScanSegment(ctx, 4, 4, func([]segments.CustomerDays) error { return nil }); err == nil {
		t.Error("segment 4 of 4 accepted")
	}
	// Seeding replaces a record: its days are the new ones.
	again := []segments.CustomerDays{{CustomerID: recs[1].CustomerID, Days: map[string]customers.Amounts{"2011-06-01": {"GBP": 5}}}}
	if err := s.Customers.SeedAggregates(ctx, again, 1); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s.Customers, 2); !sameDays(got[recs[1].CustomerID], again[0].Days) || len(got) != len(recs) {
		t.Errorf("after re-seeding %s: %v (%d customers)", recs[1].CustomerID, got[recs[1].CustomerID], len(got))
	}
}

func scoresOf(runID, asOf, slug string, v int) customers.Scores {
	return customers.Scores{RunID: runID, AsOf: asOf, Currency: "GBP", R: v%5 + 1, F: 3, M: 2, RFMCell: fmt.Sprintf("%d32", v%5+1),
		Segment: slug, Cluster: v % 3, PAlive: 0.5 + float64(v)/1000, ExpectedPurchases30d: 0.25, ExpectedPurchases90d: 0.125 * float64(v),
		CLV12mMinor: int64(1000 + v), ChurnRisk: "medium"}
}

// members lists a whole segment of a run page by page, checking each page.
func members(t *testing.T, c Customers, runID, slug string, limit int) []segments.Member {
	t.Helper()
	var all []segments.Member
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s/%s: the listing does not end", runID, slug)
		}
		page, err := c.Members(context.Background(), runID, slug, limit, cursor)
		if err != nil {
			t.Fatalf("%s/%s page %d: %v", runID, slug, pages, err)
		}
		if page.Members == nil || len(page.Members) > limit {
			t.Fatalf("%s/%s page %d: %d members (nil %v), limit %d", runID, slug, pages, len(page.Members), page.Members == nil, limit)
		}
		all = append(all, page.Members...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

func memberScores(t *testing.T, c Customers, runID, slug string) map[string]customers.Scores {
	t.Helper()
	out := map[string]customers.Scores{}
	for _, m := range members(t, c, runID, slug, 1000) {
		out[m.CustomerID] = m.Scores
	}
	return out
}

func testWriteScores(t *testing.T, s Stores) {
	ctx := context.Background()
	recs := seed(t, s, 4)
	a, b, c := recs[1].CustomerID, recs[2].CustomerID, recs[3].CustomerID
	first := []segments.CustomerScores{
		{CustomerID: a, Scores: scoresOf("2011-12-10", "2011-12-10", "champions", 1)},
		{CustomerID: b, Scores: scoresOf("2011-12-10", "2011-12-10", "champions", 2)},
		{CustomerID: "ghost", Scores: scoresOf("2011-12-10", "2011-12-10", "champions", 3)},
	}
	w, u, err := s.Customers.WriteScores(ctx, first)
	if err != nil || w != 2 || u != 1 {
		t.Fatalf("first write: written %d, unchanged %d, %v; want 2, 1 (no record for ghost)", w, u, err)
	}
	want := map[string]customers.Scores{a: first[0].Scores, b: first[1].Scores}
	if got := memberScores(t, s.Customers, "2011-12-10", "champions"); !reflect.DeepEqual(got, want) {
		t.Fatalf("members after the first write: %v, want %v", got, want)
	}
	if got := scanAll(t, s.Customers, 1); len(got) != 4 || !sameDays(got[a], recs[1].Days) {
		t.Fatalf("the write created a record or touched the days: %d records, %v", len(got), got[a])
	}

	w, u, err = s.Customers.WriteScores(ctx, first)
	if err != nil || w != 0 || u != 3 {
		t.Fatalf("same scores again: written %d, unchanged %d, %v; want 0, 3", w, u, err)
	}

	// A later run replaces the scores; a backfill of an earlier date does
	// not overwrite them.
	later := scoresOf("2011-12-17", "2011-12-17", "lost", 4)
	if w, u, err := s.Customers.WriteScores(ctx, []segments.CustomerScores{{CustomerID: a, Scores: later}}); err != nil || w != 1 || u != 0 {
		t.Fatalf("later run: written %d, unchanged %d, %v", w, u, err)
	}
	earlier := scoresOf("2011-12-03", "2011-12-03", "loyal", 5)
	if w, u, err := s.Customers.WriteScores(ctx, []segments.CustomerScores{{CustomerID: a, Scores: earlier}, {CustomerID: c, Scores: earlier}}); err != nil || w != 1 || u != 1 {
		t.Fatalf("backfill: written %d, unchanged %d, %v; want 1 (the unscored customer) and 1", w, u, err)
	}
	if got := memberScores(t, s.Customers, "2011-12-17", "lost"); !reflect.DeepEqual(got, map[string]customers.Scores{a: later}) {
		t.Fatalf("later run's members: %v", got)
	}
	if got := memberScores(t, s.Customers, "2011-12-03", "loyal"); !reflect.DeepEqual(got, map[string]customers.Scores{c: earlier}) {
		t.Fatalf("backfill's members: %v", got)
	}
	// A's scores moved to the later run: it is no member of the first one.
	if got := memberScores(t, s.Customers, "2011-12-10", "champions"); !reflect.DeepEqual(got, map[string]customers.Scores{b: first[1].Scores}) {
		t.Fatalf("first run's members after a moved: %v", got)
	}
	// Other scores of the same as-of date (a re-run with another
	// configuration) replace the old ones.
	redo := scoresOf("2011-12-17", "2011-12-17", "lost", 6)
	if w, u, err := s.Customers.WriteScores(ctx, []segments.CustomerScores{{CustomerID: a, Scores: redo}}); err != nil || w != 1 || u != 0 {
		t.Fatalf("re-run with other scores: written %d, unchanged %d, %v", w, u, err)
	}
	// The scan hands the job each record's scores as they stand, so the
	// next run can tell who changed segment.
	prev := scanPrevious(t, s.Customers)
	if got := prev[a]; got == nil || *got != redo {
		t.Fatalf("scan's previous scores of a: %v, want %v", got, redo)
	}
	if got := prev[recs[0].CustomerID]; got != nil {
		t.Fatalf("scan's previous scores of an unscored customer: %v, want none", got)
	}

	// An erased customer stays erased.
	if err := s.Erase(ctx, b); err != nil {
		t.Fatal(err)
	}
	if w, u, err := s.Customers.WriteScores(ctx, []segments.CustomerScores{{CustomerID: b, Scores: later}}); err != nil || w != 0 || u != 1 {
		t.Fatalf("erased customer: written %d, unchanged %d, %v", w, u, err)
	}
	if got := memberScores(t, s.Customers, "2011-12-10", "champions"); len(got) != 0 {
		t.Fatalf("erased customer still listed: %v", got)
	}
	if got := memberScores(t, s.Customers, "2011-12-17", "lost"); !reflect.DeepEqual(got, map[string]customers.Scores{a: redo}) {
		t.Fatalf("erased customer written: %v", got)
	}
	if got := scanAll(t, s.Customers, 2); len(got) != 3 {
		t.Fatalf("%d records after erasure, want 3", len(got))
	}
}

func testWriteScoresConcurrently(t *testing.T, s Stores) {
	ctx := context.Background()
	recs := seed(t, s, 120)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var written, unchanged int64
	for part := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []segments.CustomerScores
			for i := part; i < len(recs); i += 4 {
				batch = append(batch, segments.CustomerScores{CustomerID: recs[i].CustomerID, Scores: scoresOf("2011-12-10", "2011-12-10", "new", i)})
			}
			// Every batch twice, concurrently with the others.
			for range 2 {
				w, u, err := s.Customers.WriteScores(ctx, batch)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				written, unchanged = written+w, unchanged+u
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if written != int64(len(recs)) || unchanged != int64(len(recs)) {
		t.Fatalf("written %d, unchanged %d; want %d each", written, unchanged, len(recs))
	}
	if got := members(t, s.Customers, "2011-12-10", "new", 50); len(got) != len(recs) {
		t.Fatalf("%d members, want %d", len(got), len(recs))
	}
}

func testMembers(t *testing.T, s Stores) {
	ctx := context.Background()
	recs := seed(t, s, 40)
	var scores []segments.CustomerScores
	want := map[string][]string{}
	for i, r := range recs {
		slug := []string{"champions", "at-risk", "lost"}[i%3]
		if i%3 == 2 && i > 30 {
			continue // a few lost customers stay unscored
		}
		scores = append(scores, segments.CustomerScores{CustomerID: r.CustomerID, Scores: scoresOf("2011-12-10", "2011-12-10", slug, i)})
		want[slug] = append(want[slug], r.CustomerID)
	}
	// Written in reverse order: listings are in id order regardless.
	slices.Reverse(scores)
	if _, _, err := s.Customers.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	byID := map[string]customers.Scores{}
	for _, cs := range scores {
		byID[cs.CustomerID] = cs.Scores
	}
	for _, slug := range []string{"champions", "at-risk", "lost"} {
		for _, limit := range []int{1, 4, 7, len(want[slug]), 1000} {
			got := members(t, s.Customers, "2011-12-10", slug, limit)
			var ids []string
			for _, m := range got {
				ids = append(ids, m.CustomerID)
				if m.Scores != byID[m.CustomerID] {
					t.Fatalf("%s: member %s has scores %+v, want %+v", slug, m.CustomerID, m.Scores, byID[m.CustomerID])
				}
			}
			if !slices.Equal(ids, want[slug]) {
				t.Fatalf("%s limit %d: listed %v, want %v", slug, limit, ids, want[slug])
			}
		}
	}
	for _, q := range []struct{ run, slug string }{{"2011-12-10", "hibernating"}, {"2011-12-03", "champions"}} {
		page, err := s.Customers.Members(ctx, q.run, q.slug, 10, "")
		if err != nil || page.Members == nil || len(page.Members) != 0 || page.Next != "" {
			t.Errorf("empty segment %s/%s: %+v, %v", q.run, q.slug, page, err)
		}
	}
	// As a DynamoDB Query does, a page that reaches the limit carries a
	// cursor even when nothing follows; the page after it is empty and
	// last.
	first, err := s.Customers.Members(ctx, "2011-12-10", "at-risk", len(want["at-risk"]), "")
	if err != nil || len(first.Members) != len(want["at-risk"]) || first.Next == "" {
		t.Fatalf("whole segment in one full page: %d members, cursor %q, %v", len(first.Members), first.Next, err)
	}
	last, err := s.Customers.Members(ctx, "2011-12-10", "at-risk", 5, first.Next)
	if err != nil || last.Members == nil || len(last.Members) != 0 || last.Next != "" {
		t.Fatalf("page after the last member: %+v, %v", last, err)
	}
	if _, err := s.Customers.Members(ctx, "2011-12-10", "lost", 0, ""); err == nil || errs.Is(err, errs.Invalid) {
		t.Errorf("limit 0 must fail as a caller's bug, not as bad input: %v", err)
	}
}

func testMembersCursor(t *testing.T, s Stores) {
	ctx := context.Background()
	recs := seed(t, s, 12)
	var scores []segments.CustomerScores
	for i, r := range recs {
		scores = append(scores, segments.CustomerScores{CustomerID: r.CustomerID, Scores: scoresOf("2011-12-10", "2011-12-10", "loyal", i)})
	}
	if _, _, err := s.Customers.WriteScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	page, err := s.Customers.Members(ctx, "2011-12-10", "loyal", 5, "")
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if bytes.Contains([]byte(page.Next), []byte(page.Members[4].CustomerID)) {
		t.Errorf("cursor %q shows a customer id in the clear", page.Next)
	}
	next, err := s.Customers.Members(ctx, "2011-12-10", "loyal", 5, page.Next)
	if err != nil || len(next.Members) != 5 || next.Members[0].CustomerID != recs[5].CustomerID {
		t.Fatalf("second page: %+v, %v", next, err)
	}
	for name, q := range map[string]struct{ run, slug, cursor string }{
		"forged":        {"2011-12-10", "loyal", "bm9wZQ"},
		"not base64":    {"2011-12-10", "loyal", "%%%"},
		"other segment": {"2011-12-10", "champions", page.Next},
		"other run":     {"2011-12-17", "loyal", page.Next},
	} {
		if _, err := s.Customers.Members(ctx, q.run, q.slug, 5, q.cursor); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s cursor: %v, want Invalid", name, err)
		}
	}
}

func report(runID, status string) segments.Report {
	return segments.Report{RunID: runID, AsOf: runID, Currency: "GBP", Status: status, Phase: "complete", Mode: "local",
		Scanned: 10, Customers: 8, SkippedNoPurchase: 1, SkippedOtherCurrency: 1,
		Model: segments.RunRecord{AsOf: runID, TimeUnit: segments.Week, Customers: 8,
			BGNBD:     segments.BGNBDRecord{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426, LogLikelihood: -9582.429, Iterations: 31},
			RFM:       segments.RFMRecord{Cuts: segments.RFMCuts{Recency: [4]int64{1, 2, 3, 4}}},
			CLV:       segments.CLVRecord{Months: 12, MonthlyDiscount: 0.01, Mean: 12.5, Total: 100, Quantiles: map[string]float64{"p50": 10.1}},
			ChurnRisk: map[string]int{"low": 5, "high": 3}},
		Segments:   []segments.SegmentReport{{Segment: "champions", Name: "Champions", Customers: 8, Share: 1, RevenueMinor: 12345, RevenueShare: 1, AvgCLV12mMinor: 1250, AvgPAlive: 0.875}},
		SpendIssue: &segments.SpendIssue{Code: segments.SpendTooFewRepeatBuyers, Message: "too few"},
		Written:    8, Config: segments.Config{}.WithDefaults(), StartedAt: "2011-12-10T02:30:00Z", DurationMS: 1234}
}

func testRuns(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, err := s.Runs.Latest(ctx); !errs.Is(err, errs.NotFound) {
		t.Fatalf("latest before any run: %v, want NotFound", err)
	}
	if _, err := s.Runs.Run(ctx, "2011-12-10"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown run: %v, want NotFound", err)
	}
	running := report("2011-12-10", "running")
	if err := s.Runs.SaveRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Runs.Run(ctx, "2011-12-10"); err != nil || !reflect.DeepEqual(got, running) {
		t.Fatalf("run read back: %+v, %v\nwant %+v", got, err, running)
	}
	// Saving a run is not making it the latest.
	if _, err := s.Runs.Latest(ctx); !errs.Is(err, errs.NotFound) {
		t.Fatalf("latest after saving a running run: %v, want NotFound", err)
	}
	done := report("2011-12-10", "complete")
	done.Written = 0
	if err := s.Runs.SaveRun(ctx, done); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Runs.Run(ctx, "2011-12-10"); err != nil || !reflect.DeepEqual(got, done) {
		t.Fatalf("replaced run: %+v, %v", got, err)
	}
	if err := s.Runs.SetLatest(ctx, "2011-12-10", "2011-12-10"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Runs.Latest(ctx); err != nil || !reflect.DeepEqual(got, done) {
		t.Fatalf("latest: %+v, %v", got, err)
	}
	for _, id := range []string{"2011-12-03", "2011-12-17"} {
		if err := s.Runs.SaveRun(ctx, report(id, "complete")); err != nil {
			t.Fatal(err)
		}
	}
	// A backfill never moves the pointer back; a later run and the same
	// date again do move it.
	for _, step := range []struct{ set, want string }{
		{"2011-12-03", "2011-12-10"}, {"2011-12-17", "2011-12-17"}, {"2011-12-10", "2011-12-17"}, {"2011-12-17", "2011-12-17"},
	} {
		if err := s.Runs.SetLatest(ctx, step.set, step.set); err != nil {
			t.Fatalf("set latest %s: %v", step.set, err)
		}
		if got, err := s.Runs.Latest(ctx); err != nil || got.RunID != step.want {
			t.Fatalf("after setting %s: latest %q, %v; want %s", step.set, got.RunID, err, step.want)
		}
	}
}

func testSegmentReports(t *testing.T, s Stores) {
	ctx := context.Background()
	if got, err := s.Runs.Segments(ctx, "2011-12-10"); err != nil || len(got) != 0 {
		t.Fatalf("reports of a run without any: %v, %v", got, err)
	}
	reps := []segments.SegmentReport{
		{Segment: "lost", Name: "Lost", Customers: 3, Share: 0.3, RevenueMinor: 300, RevenueShare: 0.1},
		{Segment: "champions", Name: "Champions", Customers: 5, Share: 0.5, RevenueMinor: 2400, RevenueShare: 0.8, AvgCLV12mMinor: 999, AvgPAlive: 0.9,
			Rated: 3, MeanRating: ptr(4.33), NPSRespondents: 4, NPS: ptr(-25.0)},
		{Segment: "at-risk", Name: "At Risk", Customers: 2, Share: 0.2, RevenueMinor: 300, RevenueShare: 0.1, AvgPAlive: 0.25},
	}
	if err := s.Runs.SaveSegments(ctx, "2011-12-10", reps); err != nil {
		t.Fatal(err)
	}
	if err := s.Runs.SaveSegments(ctx, "2011-12-17", reps[:1]); err != nil {
		t.Fatal(err)
	}
	want := []segments.SegmentReport{reps[1], reps[2], reps[0]} // report order
	if got, err := s.Runs.Segments(ctx, "2011-12-10"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("reports: %+v, %v\nwant %+v", got, err, want)
	}
	changed := reps[0]
	changed.Customers, changed.Share = 4, 0.4
	if err := s.Runs.SaveSegments(ctx, "2011-12-10", []segments.SegmentReport{changed}); err != nil {
		t.Fatal(err)
	}
	want[2] = changed
	if got, err := s.Runs.Segments(ctx, "2011-12-10"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after replacing one: %+v, %v", got, err)
	}
	if got, err := s.Runs.Segments(ctx, "2011-12-17"); err != nil || !reflect.DeepEqual(got, reps[:1]) {
		t.Fatalf("other run's reports: %+v, %v", got, err)
	}
}

func ptr(v float64) *float64 { return &v }

func testBlobs(t *testing.T, s Stores) {
	ctx := context.Background()
	big := make([]byte, 700_000) // more than one DynamoDB item holds
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	blobs := map[string][]byte{"summary/0000": big, "summary/0001": []byte("b"), "state": []byte("s"), "step/0000/0000": []byte("x")}
	for _, name := range slices.Sorted(maps.Keys(blobs)) {
		if err := s.Runs.PutBlob(ctx, "2011-12-10", name, blobs[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Runs.PutBlob(ctx, "2011-12-17", "summary/0000", []byte("other run")); err != nil {
		t.Fatal(err)
	}
	for name, want := range blobs {
		if got, err := s.Runs.GetBlob(ctx, "2011-12-10", name); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v; want %d", name, len(got), err, len(want))
		}
	}
	if _, err := s.Runs.GetBlob(ctx, "2011-12-10", "tally/0000"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("never written: %v, want NotFound", err)
	}
	// A retried step overwrites its result, a shorter one included.
	if err := s.Runs.PutBlob(ctx, "2011-12-10", "summary/0000", []byte("short")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Runs.GetBlob(ctx, "2011-12-10", "summary/0000"); err != nil || string(got) != "short" {
		t.Fatalf("overwritten: %d bytes, %v", len(got), err)
	}
	if err := s.Runs.PutBlob(ctx, "2011-12-10", "empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Runs.GetBlob(ctx, "2011-12-10", "empty"); err != nil || len(got) != 0 {
		t.Fatalf("empty blob: %q, %v", got, err)
	}
	for range 2 { // deleting again is no error
		if err := s.Runs.DeleteBlobs(ctx, "2011-12-10", "summary/"); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"summary/0000", "summary/0001"} {
		if _, err := s.Runs.GetBlob(ctx, "2011-12-10", name); !errs.Is(err, errs.NotFound) {
			t.Fatalf("%s after delete: %v", name, err)
		}
	}
	for name, want := range map[string]string{"state": "s", "step/0000/0000": "x"} {
		if got, err := s.Runs.GetBlob(ctx, "2011-12-10", name); err != nil || string(got) != want {
			t.Fatalf("%s must survive: %q, %v", name, got, err)
		}
	}
	if got, err := s.Runs.GetBlob(ctx, "2011-12-17", "summary/0000"); err != nil || string(got) != "other run" {
		t.Fatalf("another run's blob: %q, %v", got, err)
	}
}
