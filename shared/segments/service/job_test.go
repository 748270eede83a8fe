package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/blob"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
	"tailor/shared/segments/holdout"
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
	// Each segment is scored twice: a retried state changes nothing.
	var runID string
	fan := *fanOut(t, j, fannedRun{asOf: "2011-12-10T00:00:00Z", scores: 2, afterPlan: func(id string) { runID = id }}).Record
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
	for _, name := range runs.BlobNames(runID) {
		b, err := runs.GetBlob(ctx, runID, name)
		if err != nil {
			t.Fatal(err)
		}
		var raw any
		if err := blob.Decode(b, &raw); err != nil {
			t.Fatal(err)
		}
		text, _ := json.Marshal(raw)
		for id := range oneScores {
			if strings.Contains(string(text), `"`+id+`"`) {
				t.Fatalf("blob %s still names customer %s after the run finished", name, id)
			}
		}
	}
	if again, err := j.Handle(ctx, Request{Phase: PhaseFinish, RunID: runID}); err != nil || again.Record == nil || again.Record.Customers != fan.Customers {
		t.Fatalf("retried finish: %+v %v", again, err)
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

// TestDerive: as of day D, purchases on D count and T runs from the first
// purchase day to D; answers given by the end of D count.
func TestDerive(t *testing.T) {
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	days := map[string]customers.Amounts{
		"2011-01-01": {"GBP": 1000},
		"2011-01-08": {"GBP": 500, "EUR": 70},
		"2011-02-01": {"EUR": 900},
		"2011-12-10": {"GBP": 250},   // on the as-of date: counted
		"2011-12-11": {"GBP": 99999}, // the day after: not counted
	}
	late := time.Date(2011, 12, 10, 23, 59, 59, 0, time.UTC)
	rec := segments.CustomerDays{CustomerID: "a", Days: days,
		LastRating: &customers.Answer{Value: 4, At: late}, LastNPS: &customers.Answer{Value: 9, At: asOf.AddDate(0, 0, 1)}}
	c, out, err := Derive(rec, asOf, "GBP")
	if err != nil || out != Scored {
		t.Fatal(out, err)
	}
	want := segments.Customer{CustomerID: "a", PurchaseDays: 3, RecencyDays: 343, AgeDays: 343, TotalSpend: 1750, RepeatSpend: 750, Rating: 4}
	if c != want {
		t.Errorf("derived %+v, want %+v", c, want)
	}
	// The same record as of the day before: the purchase of 2011-12-10 and
	// the rating given that day are in the future.
	c, _, _ = Derive(rec, asOf.AddDate(0, 0, -1), "GBP")
	want = segments.Customer{CustomerID: "a", PurchaseDays: 2, RecencyDays: 7, AgeDays: 342, TotalSpend: 1500, RepeatSpend: 500}
	if c != want {
		t.Errorf("as of the day before: derived %+v, want %+v", c, want)
	}
	c, _, _ = Derive(rec, asOf, "EUR")
	want = segments.Customer{CustomerID: "a", PurchaseDays: 2, RecencyDays: 24, AgeDays: 336, TotalSpend: 970, RepeatSpend: 900, Rating: 4}
	if c != want {
		t.Errorf("in EUR: derived %+v, want %+v", c, want)
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

// TestRequestAsOf: a direct invoke's as_of is the run date; a scheduled
// event, and an invoke naming no date, run as of the day before.
func TestRequestAsOf(t *testing.T) {
	j := &Job{Now: func() time.Time { return time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC) }}
	tests := []struct {
		name string
		req  *Request
		want string
	}{
		{"direct date", &Request{AsOf: "2011-12-09"}, "2011-12-09"},
		{"direct time", &Request{AsOf: "2011-12-09T23:00:00Z"}, "2011-12-09"},
		{"scheduled", &Request{Time: "2011-12-10T02:30:00Z"}, "2011-12-09"},
		{"scheduled, new year", &Request{Time: "2012-01-01T02:30:00Z"}, "2011-12-31"},
		{"nothing", &Request{}, "2026-02-28"},
		{"no input", nil, "2026-02-28"},
	}
	for _, tt := range tests {
		got, err := j.asOf(tt.req)
		if err != nil || got.Format(time.DateOnly) != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.name, got, err, tt.want)
		}
	}
	if _, err := j.asOf(&Request{Time: "02:30"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad time: %v", err)
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
// of its customers' latest answers given on or before the as-of date,
// counted independently here from the records and the scores written back.
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
	counted := func(a *customers.Answer) bool { return a != nil && a.At.Before(asOf.AddDate(0, 0, 1)) }
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
		if a := r.LastRating; counted(a) {
			w.rated++
			w.ratingSum += int64(a.Value)
		}
		if a := r.LastNPS; counted(a) {
			w.answered++
			switch {
			case a.Value >= 9:
				w.promoters++
			case a.Value <= 6:
				w.detractors++
			}
		}
		if (r.LastRating != nil && !counted(r.LastRating)) || (r.LastNPS != nil && !counted(r.LastNPS)) {
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

// recurrency moves every purchase of records into currency cur, as a shop
// selling only in cur would have them.
func recurrency(records []segments.CustomerDays, cur string) []segments.CustomerDays {
	out := make([]segments.CustomerDays, len(records))
	for i, r := range records {
		days := map[string]customers.Amounts{}
		for d, am := range r.Days {
			for _, v := range am {
				if days[d] == nil {
					days[d] = customers.Amounts{}
				}
				days[d][cur] += v
			}
		}
		r.Days = days
		out[i] = r
	}
	return out
}

// TestUSDOnlyShopSegmentsByDefault: a shop that sells only in USD is
// scored with the default configuration, which picks USD as the dominant
// currency; the same shop with GBP configured finds nobody to score.
func TestUSDOnlyShopSegmentsByDefault(t *testing.T) {
	ctx := context.Background()
	records := recurrency(synthetic(1500, 7), "USD")
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	c, runs := stores(t, records)
	rec, err := (&Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 3}}).Run(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var buyers int64
	for _, r := range records {
		if len(r.Days) > 0 {
			buyers++
		}
	}
	if rec.Currency != "USD" || rec.CurrencyChoice != segments.CurrencyDominant || rec.Config.Currency != segments.AutoCurrency ||
		!reflect.DeepEqual(rec.CurrencyCustomers, map[string]int64{"USD": buyers}) {
		t.Fatalf("currency %q chosen %q (configured %q), customers per currency %v; want USD, dominant, auto, %d",
			rec.Currency, rec.CurrencyChoice, rec.Config.Currency, rec.CurrencyCustomers, buyers)
	}
	if rec.Customers != buyers || rec.SkippedOtherCurrency != 0 || rec.Written != buyers || rec.Model.BGNBD.R <= 0 {
		t.Fatalf("scored %d of %d buyers, %d skipped for currency, %d written, BG/NBD %+v", rec.Customers, buyers,
			rec.SkippedOtherCurrency, rec.Written, rec.Model.BGNBD)
	}
	for id, s := range c.Scores() {
		if s.Currency != "USD" {
			t.Fatalf("customer %s scored in %q", id, s.Currency)
		}
	}
	stored, err := runs.Run(ctx, rec.RunID)
	if err != nil || stored.Currency != "USD" || stored.CurrencyChoice != segments.CurrencyDominant {
		t.Fatalf("stored run: %+v %v", stored, err)
	}

	c, runs = stores(t, records)
	_, err = (&Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 3, Currency: "GBP"}}).Run(ctx, asOf)
	if !errors.Is(err, segments.ErrNoData) {
		t.Fatalf("GBP configured for a USD shop: %v, want no customers", err)
	}
	failed, _ := runs.Run(ctx, RunID(asOf))
	if failed.Status != "failed" || failed.SkippedOtherCurrency != buyers || failed.CurrencyChoice != segments.CurrencyConfigured ||
		failed.CurrencyCustomers["USD"] != buyers {
		t.Fatalf("failed run: %+v", failed)
	}
}

// TestMixedShopScoresTheCurrencyMostCustomersBuyIn: in a shop selling in
// GBP and USD, the default scores the currency with more customers, counts
// both in the report, and leaves the others out as other-currency; the
// fanned-out phases choose the same; a configured currency overrides the
// choice; equal counts go to the first currency alphabetically.
func TestMixedShopScoresTheCurrencyMostCustomersBuyIn(t *testing.T) {
	ctx := context.Background()
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	base := synthetic(2000, 11)
	var records []segments.CustomerDays
	var both string
	for i, r := range base {
		cur := "GBP"
		if i%5 < 3 {
			cur = "USD" // three customers in five
		}
		r = recurrency([]segments.CustomerDays{r}, cur)[0]
		if both == "" && i%5 == 0 && len(r.Days) > 0 {
			// One USD customer also bought once in GBP: it counts in both.
			both = r.CustomerID
			if r.Days["2011-06-01"] == nil {
				r.Days["2011-06-01"] = customers.Amounts{}
			}
			r.Days["2011-06-01"]["GBP"] = 1234
		}
		records = append(records, r)
	}
	want := map[string]int64{}
	var noPurchase int64
	for _, r := range records {
		if len(r.Days) == 0 {
			noPurchase++
		}
		seen := map[string]bool{}
		for _, am := range r.Days {
			for cur := range am {
				seen[cur] = true
			}
		}
		for cur := range seen {
			want[cur]++
		}
	}
	if want["USD"] <= want["GBP"] || want["GBP"] == 0 {
		t.Fatalf("the data do not make USD dominant: %v", want)
	}
	run := func(cfg segments.Config) (segments.Report, map[string]customers.Scores) {
		t.Helper()
		c, runs := stores(t, records)
		rec, err := (&Job{Customers: c, Runs: runs, Config: cfg}).Run(ctx, asOf)
		if err != nil {
			t.Fatal(err)
		}
		return rec, c.Scores()
	}
	rec, scores := run(segments.Config{Segments: 4})
	if rec.Currency != "USD" || rec.CurrencyChoice != segments.CurrencyDominant || !reflect.DeepEqual(rec.CurrencyCustomers, want) {
		t.Fatalf("auto: %q %q %v; want USD, dominant, %v", rec.Currency, rec.CurrencyChoice, rec.CurrencyCustomers, want)
	}
	scanned := int64(len(records))
	if rec.Customers != want["USD"] || rec.SkippedOtherCurrency != scanned-noPurchase-want["USD"] || rec.SkippedNoPurchase != noPurchase {
		t.Fatalf("auto: %d scored, %d other currency, %d no purchase", rec.Customers, rec.SkippedOtherCurrency, rec.SkippedNoPurchase)
	}
	if _, ok := scores[both]; !ok || scores[both].Currency != "USD" {
		t.Fatalf("customer %s who bought in both: %+v", both, scores[both])
	}
	// The RF grid holds every scored customer once; the activity covers
	// every record, in every currency.
	var inGrid int64
	for _, row := range rec.RFGrid {
		for _, n := range row {
			inGrid += n
		}
	}
	if inGrid != rec.Customers {
		t.Errorf("RF grid holds %d customers, %d were scored", inGrid, rec.Customers)
	}
	wantRevenue := map[string]int64{}
	for _, r := range records {
		for _, am := range r.Days {
			for cur, v := range am {
				wantRevenue[cur] += v
			}
		}
	}
	if a := rec.Activity; a == nil || !reflect.DeepEqual(a.Revenue, wantRevenue) || a.Buyers90d == 0 || a.Buyers30d > a.Buyers90d {
		t.Errorf("activity %+v; want revenue %v", a, wantRevenue)
	}

	// Phase by phase, the state machine's way: the same choice and record.
	c, runs := stores(t, records)
	j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 5}}
	fan := *fanOut(t, j, fannedRun{asOf: "2011-12-10", scores: 1,
		afterPlan: func(runID string) {
			if planned, _ := runs.Run(ctx, runID); planned.Currency != "" || planned.CurrencyChoice != "" || planned.Config.Currency != segments.AutoCurrency {
				t.Fatalf("planned run: currency %q chosen %q configured %q", planned.Currency, planned.CurrencyChoice, planned.Config.Currency)
			}
		},
		afterFit: func(runID string) {
			if fitted, _ := runs.Run(ctx, runID); fitted.Currency != "USD" || !reflect.DeepEqual(fitted.CurrencyCustomers, want) {
				t.Fatalf("fitted run: %q %v", fitted.Currency, fitted.CurrencyCustomers)
			}
		}}).Record
	if !reflect.DeepEqual(comparable(rec), comparable(fan)) {
		a, _ := json.Marshal(comparable(rec))
		b, _ := json.Marshal(comparable(fan))
		t.Fatalf("local and fanned-out runs differ:\n%s\n%s", a, b)
	}
	if !reflect.DeepEqual(scores, c.Scores()) {
		t.Fatal("local and fanned-out runs wrote different scores")
	}

	// GBP configured: the minority currency, by configuration.
	gbp, gbpScores := run(segments.Config{Segments: 4, Currency: "GBP"})
	if gbp.Currency != "GBP" || gbp.CurrencyChoice != segments.CurrencyConfigured || gbp.Config.Currency != "GBP" ||
		!reflect.DeepEqual(gbp.CurrencyCustomers, want) || gbp.Customers != want["GBP"] {
		t.Fatalf("GBP configured: %q %q %v, %d scored", gbp.Currency, gbp.CurrencyChoice, gbp.CurrencyCustomers, gbp.Customers)
	}
	if gbpScores[both].Currency != "GBP" {
		t.Fatalf("customer %s who bought in both, GBP run: %+v", both, gbpScores[both])
	}

	// A tie goes to the first currency alphabetically.
	tie := &Summary{Currencies: map[string]int64{"USD": 7, "EUR": 7, "GBP": 3}}
	if cur, choice := tie.Choose(segments.AutoCurrency); cur != "EUR" || choice != segments.CurrencyDominant {
		t.Errorf("tie: %q %q, want EUR", cur, choice)
	}
	if cur, _ := (&Summary{}).Choose(segments.AutoCurrency); cur != "" {
		t.Errorf("nobody bought: %q", cur)
	}
}

// TestUnknownCurrencyIsRefused: a configured currency must be "auto" or an
// ISO 4217 code.
func TestUnknownCurrencyIsRefused(t *testing.T) {
	c, runs := stores(t, synthetic(50, 1))
	for _, cur := range []string{"gbp", "XYZ", "pounds"} {
		_, err := (&Job{Customers: c, Runs: runs, Config: segments.Config{Currency: cur}}).Run(context.Background(), time.Now())
		if !errors.Is(err, segments.ErrInvalid) {
			t.Errorf("currency %q: %v", cur, err)
		}
	}
}

// TestModelChosenByEvidence: by default a run fits BG/NBD and MBG/NBD on
// the customers as of the run date minus the churn horizon, scores each by
// the Brier score of its churn probability on what they did since, and
// scores the base with the lower; the record says which and why. Every
// churn probability is the chosen model's P(no purchase in 90 days), and
// its band follows it. A configured model is used as it is.
func TestModelChosenByEvidence(t *testing.T) {
	ctx := context.Background()
	records := synthetic(3000, 11)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	c, runs := stores(t, records)
	rec, err := (&Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 2}}).Run(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	sel := rec.Model.ModelSelection
	if sel == nil || len(sel.Candidates) != 2 || sel.Rule != holdout.SelectionRule || rec.Model.PurchaseModel == nil ||
		rec.Model.PurchaseModel.Name != sel.Model || rec.Model.ChurnHorizonDays != 90 {
		t.Fatalf("selection %+v, model %+v", sel, rec.Model.PurchaseModel)
	}
	best := sel.Candidates[0]
	for _, cand := range sel.Candidates {
		if cand.Err != "" || !(cand.Brier > 0 && cand.Brier < 0.25) {
			t.Fatalf("candidate %+v", cand)
		}
		if cand.Brier < best.Brier {
			best = cand
		}
	}
	if sel.Model != best.Model {
		t.Fatalf("chose %s; %s has the lower Brier score", sel.Model, best.Model)
	}
	// The base exercises the selection: some customers bought before the
	// run date minus 90 days, some of them again since and some not.
	inner := asOf.AddDate(0, 0, -90)
	var want, none float64
	for _, r := range records {
		before, _, _ := Derive(r, inner, "GBP")
		now, outcome, _ := Derive(r, asOf, "GBP")
		if outcome != Scored || before.PurchaseDays == 0 {
			continue
		}
		want++
		if before.PurchaseDays == now.PurchaseDays {
			none++
		}
	}
	if _, err := rec.Model.PurchaseModel.Model(); err != nil {
		t.Fatal(err)
	}
	if want == 0 || none == 0 || none == want {
		t.Fatalf("%v inner customers, %v without a purchase since: the synthetic base does not exercise the selection", want, none)
	}
	churned := 0
	for id, s := range c.Scores() {
		if s.ChurnProbability < 0 || s.ChurnProbability > 1 || s.ChurnRisk != string(clv.ChurnBand(s.ChurnProbability)) {
			t.Fatalf("customer %s: %+v", id, s)
		}
		if s.ChurnProbability >= 0.5 {
			churned++
		}
	}
	if churned == 0 {
		t.Error("no customer is more likely to lapse than not")
	}

	c2, runs2 := stores(t, records)
	fixed, err := (&Job{Customers: c2, Runs: runs2, Config: segments.Config{Segments: 2, PurchaseModel: clv.ModelParetoNBD}}).Run(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Model.ModelSelection != nil || fixed.Model.PurchaseModel.Name != clv.ModelParetoNBD {
		t.Fatalf("configured Pareto/NBD: %+v %+v", fixed.Model.ModelSelection, fixed.Model.PurchaseModel)
	}
}

// TestBacktestPhase: the job's backtest calibrates on the records' purchase
// days up to the calibration end and compares with the days after it. The
// customer count, the actual holdout purchases and the churn base rate are
// checked against a direct count from the records; the result is stored
// with the run as of the calibration end.
func TestBacktestPhase(t *testing.T) {
	ctx := context.Background()
	records := synthetic(3000, 13)
	c, runs := stores(t, records)
	j := &Job{Customers: c, Runs: runs, Config: segments.Config{Segments: 3}}
	resp, err := j.Handle(ctx, Request{Phase: PhaseBacktest, CalibrationEnd: "2011-09-09", HoldoutEnd: "2011-12-09"})
	if err != nil {
		t.Fatal(err)
	}
	res := resp.Backtest
	if res == nil || resp.RunID != "2011-09-09" || res.Selection == nil || res.Report.Model != res.Selection.Model {
		t.Fatalf("response %+v", resp)
	}
	cal, hold := time.Date(2011, 9, 9, 0, 0, 0, 0, time.UTC), time.Date(2011, 12, 9, 0, 0, 0, 0, time.UTC)
	var n, none, bought float64
	for _, r := range records {
		before, outcome, _ := Derive(r, cal, res.Currency)
		if outcome != Scored {
			continue
		}
		after, _, _ := Derive(r, hold, res.Currency)
		n++
		bought += float64(after.PurchaseDays - before.PurchaseDays)
		if after.PurchaseDays == before.PurchaseDays {
			none++
		}
	}
	r := res.Report
	if float64(r.Customers) != n || r.Purchases.Actual != bought || math.Abs(r.Churn.BaseRate-none/n) > 1e-12 {
		t.Fatalf("report: %d customers, %v holdout purchases, base rate %v; counted %v, %v, %v", r.Customers, r.Purchases.Actual, r.Churn.BaseRate, n, bought, none/n)
	}
	if !(r.Churn.AUC > 0.5) || len(r.Churn.Reliability) != 10 || !(r.Horizon > 12.9 && r.Horizon < 13.1) {
		t.Fatalf("churn %+v, horizon %v weeks", r.Churn, r.Horizon)
	}
	if _, err := runs.GetBlob(ctx, "2011-09-09", "backtest/2011-12-09"); err != nil {
		t.Fatalf("stored result: %v", err)
	}
	if _, err := j.Handle(ctx, Request{Phase: PhaseBacktest, CalibrationEnd: "2011-12-09", HoldoutEnd: "2011-09-09"}); err == nil {
		t.Fatal("a holdout ending before the calibration was accepted")
	}
}

// fannedRun says how fanOut drives a run: as of asOf, each segment scored
// scores times (a retried state), with afterPlan and afterFit, when set,
// called with the run id after those phases.
type fannedRun struct {
	asOf                string
	scores              int
	afterPlan, afterFit func(runID string)
}

// fanOut runs j phase by phase, as the state machine calls it: plan,
// summarise every segment, fit, assign and update until done, score,
// finish. It returns the finish phase's answer.
func fanOut(t *testing.T, j *Job, f fannedRun) Response {
	t.Helper()
	ctx := context.Background()
	plan, err := j.Handle(ctx, Request{Phase: PhasePlan, Input: &Request{AsOf: f.asOf}})
	if err != nil {
		t.Fatal(err)
	}
	if f.afterPlan != nil {
		f.afterPlan(plan.RunID)
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
	if f.afterFit != nil {
		f.afterFit(plan.RunID)
	}
	for !st.Done {
		for _, s := range st.Segments {
			call(PhaseAssign, s, st.Iteration)
		}
		st = call(PhaseUpdate, 0, 0)
	}
	for _, s := range st.Segments {
		for range f.scores {
			call(PhaseScore, s, 0)
		}
	}
	return call(PhaseFinish, 0, 0)
}
