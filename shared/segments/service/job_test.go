package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/memory"
)

// stores is a fresh in-memory customer base of records, with run storage.
func stores(t *testing.T, records []segments.CustomerDays) (*memory.CustomerScores, *memory.SegmentRuns) {
	t.Helper()
	c := &memory.CustomerScores{PageSize: 37}
	if err := c.SeedAggregates(context.Background(), records, 1); err != nil {
		t.Fatal(err)
	}
	return c, &memory.SegmentRuns{}
}

func synthetic(n int, seed uint64) []segments.CustomerDays {
	return Synthetic(n, seed, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
}

func comparable(rec segments.Report) segments.Report {
	rec.StartedAt, rec.FinishedAt, rec.DurationMS, rec.Mode = "", "", 0, ""
	rec.Config.Segments = 0
	return rec
}

// TestWorkersMergeExactly: one worker, seven workers and the fanned-out
// phases (eleven scan segments, each step a separate "invocation" through
// serialized blobs) give bit-for-bit the same run record and scores.
func TestWorkersMergeExactly(t *testing.T) {
	ctx := context.Background()
	records := synthetic(6000, 3)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	run := func(workers int) (segments.Report, map[string]customers.Scores) {
		c, runs := stores(t, records)
		j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: workers}}
		rec, err := j.Run(ctx, asOf)
		if err != nil {
			t.Fatal(err)
		}
		return rec, c.Scores()
	}
	one, oneScores := run(1)
	if one.Customers == 0 || one.SkippedNoPurchase == 0 || one.SkippedOtherCurrency == 0 || one.Model.Clusters.K < 2 {
		t.Fatalf("run did not exercise every path: %+v", one)
	}
	if int(one.Written) != len(oneScores) || one.Written != one.Customers {
		t.Fatalf("written %d, scores %d, customers %d", one.Written, len(oneScores), one.Customers)
	}
	seven, sevenScores := run(7)
	if !reflect.DeepEqual(comparable(one), comparable(seven)) {
		a, _ := json.Marshal(comparable(one))
		b, _ := json.Marshal(comparable(seven))
		t.Fatalf("1 worker and 7 workers differ:\n%s\n%s", a, b)
	}
	if !reflect.DeepEqual(oneScores, sevenScores) {
		t.Fatal("1 worker and 7 workers wrote different scores")
	}

	// The fanned-out run, phase by phase, as the state machine calls it.
	c, runs := stores(t, records)
	j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 11}}
	plan, err := j.Handle(ctx, Request{Phase: PhasePlan, Input: &Request{AsOf: "2011-12-10T00:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(phase string, seg, iter int) Response {
		t.Helper()
		resp, err := j.Handle(ctx, Request{Phase: phase, RunID: plan.RunID, Segment: seg, Iteration: iter})
		if err != nil {
			t.Fatalf("%s %d/%d: %v", phase, seg, iter, err)
		}
		return resp
	}
	for _, s := range plan.Segments {
		call(PhaseSummarise, s, 0)
	}
	st := call(PhaseFit, 0, 0)
	for !st.Done {
		for _, s := range st.Segments {
			call(PhaseAssign, s, st.Iteration)
		}
		st = call(PhaseUpdate, 0, 0)
	}
	for _, s := range st.Segments {
		call(PhaseScore, s, 0)
		call(PhaseScore, s, 0) // a retried state changes nothing
	}
	fin := call(PhaseFinish, 0, 0)
	fan := *fin.Record
	// Each tally reports its last attempt: the retry found every record
	// already holding its scores.
	if fan.Written != 0 || fan.Unchanged != one.Written {
		t.Errorf("retried score states: written %d, unchanged %d, want 0 and %d", fan.Written, fan.Unchanged, one.Written)
	}
	fan.Written, fan.Unchanged = one.Written, 0
	if !reflect.DeepEqual(comparable(one), comparable(fan)) {
		a, _ := json.Marshal(comparable(one))
		b, _ := json.Marshal(comparable(fan))
		t.Fatalf("local and fanned-out runs differ:\n%s\n%s", a, b)
	}
	if !reflect.DeepEqual(oneScores, c.Scores()) {
		t.Fatal("local and fanned-out runs wrote different scores")
	}
	// What the finished run leaves behind names no customer, so erasure has
	// nothing to find in it; a retried finish still works.
	for _, name := range runs.BlobNames(plan.RunID) {
		b, err := runs.GetBlob(ctx, plan.RunID, name)
		if err != nil {
			t.Fatal(err)
		}
		var raw any
		if err := decodeBlob(b, &raw); err != nil {
			t.Fatal(err)
		}
		text, _ := json.Marshal(raw)
		for id := range oneScores {
			if strings.Contains(string(text), `"`+id+`"`) {
				t.Fatalf("blob %s still names customer %s after the run finished", name, id)
			}
		}
	}
	if again := call(PhaseFinish, 0, 0); again.Record == nil || again.Record.Customers != fan.Customers {
		t.Fatalf("retried finish: %+v", again)
	}
}

// TestRerunChangesNothing: the same as-of date gives the same run id and
// scores; the second run writes nothing.
func TestRerunChangesNothing(t *testing.T) {
	ctx := context.Background()
	c, runs := stores(t, synthetic(800, 5))
	j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 3}}
	first, err := j.Run(ctx, time.Date(2011, 12, 10, 13, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	before := c.Scores()
	second, err := j.Run(ctx, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID != "2011-12-10" || second.RunID != first.RunID {
		t.Fatalf("run ids %q, %q", first.RunID, second.RunID)
	}
	if second.Written != 0 || second.Unchanged != first.Written {
		t.Errorf("re-run wrote %d, left %d unchanged; want 0 and %d", second.Written, second.Unchanged, first.Written)
	}
	if !reflect.DeepEqual(before, c.Scores()) {
		t.Error("re-run changed scores")
	}
	first.Written, second.Written, second.Unchanged = 0, 0, 0
	if !reflect.DeepEqual(comparable(first), comparable(second)) {
		t.Error("re-run changed the run record")
	}
}

func TestDerive(t *testing.T) {
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	days := map[string]customers.Amounts{
		"2011-01-01": {"GBP": 1000},
		"2011-01-08": {"GBP": 500, "EUR": 70},
		"2011-02-01": {"EUR": 900},
		"2011-12-10": {"GBP": 99999}, // on the as-of date: not counted
	}
	c, out, err := Derive(segments.CustomerDays{CustomerID: "a", Days: days}, asOf, "GBP")
	if err != nil || out != Scored {
		t.Fatal(out, err)
	}
	if c.PurchaseDays != 2 || c.RecencyDays != 7 || c.AgeDays != 343 || c.TotalSpend != 1500 || c.RepeatSpend != 500 {
		t.Errorf("derived %+v", c)
	}
	if _, out, _ := Derive(segments.CustomerDays{CustomerID: "b", Days: map[string]customers.Amounts{"2011-02-01": {"EUR": 1}}}, asOf, "GBP"); out != OtherCurrency {
		t.Errorf("EUR-only customer: %v", out)
	}
	if _, out, _ := Derive(segments.CustomerDays{CustomerID: "c", Days: map[string]customers.Amounts{"2011-12-11": {"GBP": 1}}}, asOf, "GBP"); out != NoPurchase {
		t.Errorf("future-only customer: %v", out)
	}
	if _, _, err := Derive(segments.CustomerDays{CustomerID: "d", Days: map[string]customers.Amounts{"11/12/2011": {"GBP": 1}}}, asOf, "GBP"); err == nil {
		t.Error("bad day accepted")
	}
	for _, s := range []string{"2011-12-10", "2011-12-10T23:59:59Z", "2011-12-11T00:30:00+01:00"} {
		got, err := ParseAsOf(s)
		if err != nil || !got.Equal(asOf) {
			t.Errorf("ParseAsOf(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseAsOf("yesterday"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad as_of: %v", err)
	}
}

// TestSpendIssueIsStable: when no customer's repeat purchases carry an
// amount, the spend model cannot be fitted; the run still scores, its
// report says why with a stable code and message, and the fitting error's
// own text goes to the log only.
func TestSpendIssueIsStable(t *testing.T) {
	ctx := context.Background()
	var records []segments.CustomerDays
	for i := range 300 {
		days := map[string]customers.Amounts{fmt.Sprintf("2011-%02d-%02d", i%11+1, i%27+1): {"GBP": int64(100 + i)}}
		for d := range i % 4 { // repeat days without an amount
			days[fmt.Sprintf("2011-12-%02d", d+1)] = customers.Amounts{"GBP": 0}
		}
		records = append(records, segments.CustomerDays{CustomerID: fmt.Sprintf("z%04d", i), Days: days})
	}
	c, runs := stores(t, records)
	var log bytes.Buffer
	j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 2}, Log: slog.New(slog.NewJSONHandler(&log, nil))}
	rep, err := j.Run(ctx, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := segments.SpendIssueOf(clv.ErrNoData)
	if rep.SpendIssue == nil || *rep.SpendIssue != *want || rep.SpendIssue.Code != segments.SpendTooFewRepeatBuyers || rep.Written != 300 {
		t.Fatalf("spend issue %+v, written %d; want %+v", rep.SpendIssue, rep.Written, want)
	}
	stored, err := runs.Run(ctx, rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(stored)
	if cause := clv.ErrNoData.Error(); strings.Contains(string(body), cause) || !strings.Contains(log.String(), cause) {
		t.Errorf("library error %q: in the report %v, in the log %v", cause, strings.Contains(string(body), cause), strings.Contains(log.String(), cause))
	}
	if !strings.Contains(string(body), `"spend_model_error":{"code":"too_few_repeat_buyers"`) {
		t.Errorf("report: %s", body)
	}
	for id, s := range c.Scores() {
		if s.CLV12mMinor != 0 || s.PAlive <= 0 {
			t.Fatalf("customer %s without a spend model: %+v", id, s)
		}
	}
}

// TestSatisfactionPerSegment: each segment's mean rating and NPS are those
// of its customers' latest answers given before the as-of date, counted
// independently here from the records and the scores written back.
func TestSatisfactionPerSegment(t *testing.T) {
	ctx := context.Background()
	records := synthetic(3000, 5)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	c, runs := stores(t, records)
	rec, err := (&Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 3}}).Run(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	scores := c.Scores()
	type sums struct{ rated, ratingSum, answered, promoters, detractors, late int64 }
	want := map[string]*sums{}
	for _, r := range records {
		s, ok := scores[r.CustomerID]
		if !ok {
			continue
		}
		w := want[s.Segment]
		if w == nil {
			w = &sums{}
			want[s.Segment] = w
		}
		if a := r.LastRating; a != nil && a.At.Before(asOf) {
			w.rated++
			w.ratingSum += int64(a.Value)
		}
		if a := r.LastNPS; a != nil && a.At.Before(asOf) {
			w.answered++
			switch {
			case a.Value >= 9:
				w.promoters++
			case a.Value <= 6:
				w.detractors++
			}
		}
		if (r.LastRating != nil && !r.LastRating.At.Before(asOf)) || (r.LastNPS != nil && !r.LastNPS.At.Before(asOf)) {
			w.late++
		}
	}
	var rated, late int64
	for _, got := range rec.Segments {
		w := want[got.Segment]
		if w == nil {
			w = &sums{}
		}
		rated += got.Rated
		late += w.late
		if got.Rated != w.rated || got.NPSRespondents != w.answered {
			t.Errorf("%s: %d rated, %d answered; want %d, %d", got.Segment, got.Rated, got.NPSRespondents, w.rated, w.answered)
		}
		if (got.MeanRating == nil) != (w.rated == 0) || (got.NPS == nil) != (w.answered == 0) {
			t.Errorf("%s: mean %v nps %v with %d rated, %d answered", got.Segment, got.MeanRating, got.NPS, w.rated, w.answered)
			continue
		}
		if w.rated > 0 && math.Abs(*got.MeanRating-float64(w.ratingSum)/float64(w.rated)) > 0.005 {
			t.Errorf("%s: mean rating %v, want %v", got.Segment, *got.MeanRating, float64(w.ratingSum)/float64(w.rated))
		}
		if w.answered > 0 && math.Abs(*got.NPS-100*float64(w.promoters-w.detractors)/float64(w.answered)) > 0.05 {
			t.Errorf("%s: NPS %v, want %v", got.Segment, *got.NPS, 100*float64(w.promoters-w.detractors)/float64(w.answered))
		}
	}
	if rated == 0 || late == 0 {
		t.Fatalf("the data exercise too little: %d rated, %d answered after the as-of date", rated, late)
	}
	// The stored segment reports are the run's.
	stored, err := runs.Segments(ctx, rec.RunID)
	if err != nil || !reflect.DeepEqual(stored, rec.Segments) {
		t.Fatalf("stored reports %+v %v", stored, err)
	}
}
