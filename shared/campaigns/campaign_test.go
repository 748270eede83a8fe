package campaigns

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/campaigns/stats"
	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func valid() Input {
	return Input{Name: "Win back", Channel: Email, Currency: "GBP",
		Audience: AudienceInput{Segments: []string{"at-risk"}}}
}

// fields lists the field names of an Invalid error.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("error %v is not an Invalid error", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestNewAppliesDefaults(t *testing.T) {
	c, err := New("cmp-1", valid(), now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Holdout != DefaultHoldout || c.AttributionDays != DefaultAttributionDays || c.Goal != GoalPurchase ||
		c.Status != Draft || c.Version != 1 || c.CostMinor != nil || c.Launch != nil {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestNewRejectsEachBadField(t *testing.T) {
	many := make([]string, MaxCustomerIDs+1)
	for i := range many {
		many[i] = fmt.Sprintf("c-%d", i)
	}
	tests := []struct {
		name  string
		edit  func(*Input)
		field string
	}{
		{"no name", func(in *Input) { in.Name = " " }, "name"},
		{"long name", func(in *Input) { in.Name = strings.Repeat("n", MaxNameLen+1) }, "name"},
		{"channel", func(in *Input) { in.Channel = "fax" }, "channel"},
		{"holdout 0.9", func(in *Input) { in.Holdout = ptr(0.9) }, "holdout"},
		{"holdout 0", func(in *Input) { in.Holdout = ptr(0.0) }, "holdout"},
		{"window 400 days", func(in *Input) { in.AttributionDays = ptr(400) }, "attribution_days"},
		{"window 0 days", func(in *Input) { in.AttributionDays = ptr(0) }, "attribution_days"},
		{"no currency", func(in *Input) { in.Currency = "" }, "currency"},
		{"cost too precise", func(in *Input) { in.Cost = "12.345" }, "cost"},
		{"cost as zero", func(in *Input) { in.Cost = "0" }, "cost"},
		{"goal", func(in *Input) { in.Goal = "click" }, "goal"},
		{"empty audience", func(in *Input) { in.Audience = AudienceInput{} }, "audience"},
		{"unknown segment", func(in *Input) { in.Audience.Segments = []string{"whales"} }, "audience.segments[0]"},
		{"negative cluster", func(in *Input) { in.Audience.Clusters = []int{-1} }, "audience.clusters[0]"},
		{"churn band", func(in *Input) { in.Audience.ChurnRisk = []string{"severe"} }, "audience.churn_risk[0]"},
		{"clv bounds", func(in *Input) { in.Audience.CLV12m = &RangeText{Min: "50", Max: "10"} }, "audience.clv_12m"},
		{"clv empty", func(in *Input) { in.Audience.CLV12m = &RangeText{} }, "audience.clv_12m"},
		{"clv not money", func(in *Input) { in.Audience.CLV12m = &RangeText{Min: "ten"} }, "audience.clv_12m.min"},
		{"tag", func(in *Input) { in.Audience.TagsAll = []string{"VIP"} }, "audience.tags_all[0]"},
		{"tag in both", func(in *Input) { in.Audience.TagsAll, in.Audience.TagsNone = []string{"vip"}, []string{"vip"} }, "audience.tags_none"},
		{"country", func(in *Input) { in.Audience.Countries = []string{"gb"} }, "audience.countries[0]"},
		{"date", func(in *Input) { in.Audience.LastPurchaseAfter = "2026-13-01" }, "audience.last_purchase_after"},
		{"dates out of order", func(in *Input) {
			in.Audience.LastPurchaseAfter, in.Audience.LastPurchaseBefore = "2026-05-01", "2026-04-01"
		}, "audience.last_purchase_before"},
		{"too many ids", func(in *Input) { in.Audience.CustomerIDs = many }, "audience.customer_ids"},
		{"bad id", func(in *Input) { in.Audience.CustomerIDs = []string{"c 1"} }, "audience.customer_ids[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			_, err := New("cmp-1", in, now)
			if got := fields(t, err); !slices.Contains(got, tc.field) {
				t.Fatalf("fields %v, want %s", got, tc.field)
			}
		})
	}
}

func TestAudienceRoundTripsThroughItsInput(t *testing.T) {
	in := valid()
	in.Cost = "1500"
	in.Currency = "JPY"
	in.Audience = AudienceInput{Segments: []string{"lost", "at-risk", "lost"}, Clusters: []int{2, 0}, ChurnRisk: []string{"high"},
		CLV12m: &RangeText{Min: "100"}, TagsAll: []string{"vip"}, TagsNone: []string{"staff"}, Countries: []string{"JP"},
		LastPurchaseAfter: "2026-01-01", CustomerIDs: []string{"c-2", "c-1", "c-2"}}
	c, err := New("cmp-1", in, now)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Audience.Input(c.Currency)
	if !slices.Equal(got.Segments, []string{"at-risk", "lost"}) || !slices.Equal(got.Clusters, []int{0, 2}) ||
		!slices.Equal(got.CustomerIDs, []string{"c-1", "c-2"}) || got.CLV12m.Min != "100" || got.CLV12m.Max != "" ||
		c.Cost() != "1500" || *c.CostMinor != 1500 {
		t.Fatalf("audience %+v cost %q", got, c.Cost())
	}
}

func TestApplyChangesDraftsOnly(t *testing.T) {
	in := valid()
	in.Cost = "250.00"
	c, _ := New("cmp-1", in, now)
	later := now.Add(time.Hour)
	next, err := Apply(c, Patch{Name: ptr("Renamed"), Holdout: ptr(0.5), Cost: ptr("")}, later)
	if err != nil || next.Name != "Renamed" || next.Holdout != 0.5 || next.CostMinor != nil || next.Version != 2 ||
		!next.UpdatedAt.Equal(later) || !slices.Equal(next.Audience.Segments, []string{"at-risk"}) {
		t.Fatalf("apply: %+v %v", next, err)
	}
	if c.Name != "Win back" || c.CostMinor == nil {
		t.Fatal("Apply changed its input")
	}
	if _, err := Apply(c, Patch{Holdout: ptr(0.9)}, later); !slices.Contains(fields(t, err), "holdout") {
		t.Fatalf("bad patch: %v", err)
	}
	if _, err := Apply(c, Patch{}, later); !slices.Contains(fields(t, err), "body") {
		t.Fatalf("empty patch: %v", err)
	}
	if err := c.StartLaunch("2026-11-20", false, "", later); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(c, Patch{Name: ptr("Late")}, later); !errs.Is(err, errs.Conflict) {
		t.Fatalf("patch after launch: %v, want conflict", err)
	}
	if err := c.CheckDeletable(); !errs.Is(err, errs.Conflict) {
		t.Fatalf("delete after launch: %v, want conflict", err)
	}
}

func TestCheckAgainstRun(t *testing.T) {
	c, _ := New("cmp-1", valid(), now)
	c.Audience.Clusters = []int{3}
	if err := c.Audience.CheckAgainstRun(nil); !slices.Contains(fields(t, err), "audience") {
		t.Fatalf("no run yet: %v", err)
	}
	run := &segments.Report{RunID: "2026-11-19", Segments: []segments.SegmentReport{{Segment: "champions"}}}
	run.Model.Clusters.K = 3
	got := fields(t, c.Audience.CheckAgainstRun(run))
	if !slices.Equal(got, []string{"audience.segments[0]", "audience.clusters[0]"}) {
		t.Fatalf("fields %v", got)
	}
	run.Segments = append(run.Segments, segments.SegmentReport{Segment: "at-risk"})
	run.Model.Clusters.K = 4
	if err := c.Audience.CheckAgainstRun(run); err != nil {
		t.Fatal(err)
	}
	plain := Audience{Countries: []string{"GB"}}
	if err := plain.CheckAgainstRun(nil); err != nil {
		t.Fatalf("rules without scores need no run: %v", err)
	}
}

func TestAssignIsDeterministicAndSplitsAsConfigured(t *testing.T) {
	const n = 200000
	for _, holdout := range []float64{0.1, 0.5} {
		held := 0
		for i := range n {
			id := fmt.Sprintf("c-%d", i)
			arm := Assign("cmp-1", id, holdout)
			if Assign("cmp-1", id, holdout) != arm {
				t.Fatalf("%s moved arms", id)
			}
			if arm == Holdout {
				held++
			}
		}
		mean, sd := holdout*n, math.Sqrt(n*holdout*(1-holdout))
		if math.Abs(float64(held)-mean) > 4*sd {
			t.Errorf("holdout %.1f: %d held out of %d, want %.0f ± %.0f", holdout, held, n, mean, 4*sd)
		}
	}
	// Two campaigns split the same customers independently: about half
	// of one's holdout is in the other's.
	both, first := 0, 0
	for i := range n {
		id := fmt.Sprintf("c-%d", i)
		if Assign("cmp-a", id, 0.5) == Holdout {
			first++
			if Assign("cmp-b", id, 0.5) == Holdout {
				both++
			}
		}
	}
	if share := float64(both) / float64(first); math.Abs(share-0.5) > 0.01 {
		t.Errorf("overlap of two campaigns' holdouts %.3f, want 0.5", share)
	}
}

func TestNewCampaignID(t *testing.T) {
	id := NewCampaignID([10]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if id != "cmp-aaaqeayeaudaocaj" || ValidateID(id) != nil || NewSnapshotID([10]byte{}) != "snap-aaaaaaaaaaaaaaaa" {
		t.Fatalf("id %q", id)
	}
}

func TestReachable(t *testing.T) {
	yes := customers.ConsentState{Granted: true}
	no := customers.ConsentState{Granted: false}
	tests := []struct {
		ch      Channel
		consent map[string]customers.ConsentState
		want    bool
	}{
		{Email, map[string]customers.ConsentState{customers.ConsentEmail: yes}, true},
		{Email, map[string]customers.ConsentState{customers.ConsentEmail: no}, false},
		{Email, nil, false},
		{SMS, map[string]customers.ConsentState{customers.ConsentEmail: yes}, false},
		{SMS, map[string]customers.ConsentState{customers.ConsentSMS: yes}, true},
		{Push, nil, false},
		{Push, map[string]customers.ConsentState{customers.ConsentPersonalization: yes}, true},
		{Onsite, nil, true},
		{Onsite, map[string]customers.ConsentState{customers.ConsentPersonalization: no}, false},
	}
	for _, tc := range tests {
		if got := Reachable(tc.ch, tc.consent); got != tc.want {
			t.Errorf("%s with %v: %v, want %v", tc.ch, tc.consent, got, tc.want)
		}
	}
}

func TestMatcher(t *testing.T) {
	scores := &customers.Scores{RunID: "run-2", Segment: "at-risk", Cluster: 1, ChurnRisk: "high", Currency: "GBP", CLV12mMinor: 5000}
	base := Candidate{CustomerID: "c-1", Consent: map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true}},
		Tags: []string{"newsletter", "vip"}, Country: "GB", Scores: scores,
		PurchaseDays: map[string]customers.Amounts{"2026-03-01": {"GBP": 100}, "2026-11-25": {"GBP": 100}}}
	tests := []struct {
		name  string
		aud   AudienceInput
		edit  func(*Candidate)
		match bool
	}{
		{"segment", AudienceInput{Segments: []string{"at-risk"}}, nil, true},
		{"other segment", AudienceInput{Segments: []string{"lost"}}, nil, false},
		{"scores of an older run", AudienceInput{Segments: []string{"at-risk"}}, func(c *Candidate) {
			s := *scores
			s.RunID = "run-1"
			c.Scores = &s
		}, false},
		{"never scored", AudienceInput{ChurnRisk: []string{"high"}}, func(c *Candidate) { c.Scores = nil }, false},
		{"cluster and churn", AudienceInput{Clusters: []int{1, 2}, ChurnRisk: []string{"high", "very_high"}}, nil, true},
		{"clv in range", AudienceInput{CLV12m: &RangeText{Min: "50.00", Max: "50.00"}}, nil, true},
		{"clv below", AudienceInput{CLV12m: &RangeText{Min: "50.01"}}, nil, false},
		{"tags", AudienceInput{TagsAll: []string{"vip"}, TagsNone: []string{"staff"}}, nil, true},
		{"tag missing", AudienceInput{TagsAll: []string{"vip", "gold"}}, nil, false},
		{"tag excluded", AudienceInput{TagsNone: []string{"newsletter"}}, nil, false},
		{"country", AudienceInput{Countries: []string{"FR", "GB"}}, nil, true},
		{"other country", AudienceInput{Countries: []string{"FR"}}, nil, false},
		// The launch day is 2026-11-20: the purchase on 11-25 is after it.
		{"last purchase before launch", AudienceInput{LastPurchaseAfter: "2026-03-01", LastPurchaseBefore: "2026-03-02"}, nil, true},
		{"later purchases not seen", AudienceInput{LastPurchaseAfter: "2026-11-01"}, nil, false},
		{"no purchase", AudienceInput{LastPurchaseBefore: "2027-01-01"}, func(c *Candidate) { c.PurchaseDays = nil }, false},
		{"listed", AudienceInput{CustomerIDs: []string{"c-1"}}, nil, true},
		{"not listed", AudienceInput{CustomerIDs: []string{"c-2"}}, nil, false},
		{"no consent", AudienceInput{Countries: []string{"GB"}}, func(c *Candidate) { c.Consent = nil }, false},
		{"erased", AudienceInput{Countries: []string{"GB"}}, func(c *Candidate) { c.Erased = true }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			in.Audience = tc.aud
			c, err := New("cmp-1", in, now)
			if err != nil {
				t.Fatal(err)
			}
			cd := base
			if tc.edit != nil {
				tc.edit(&cd)
			}
			if got := NewMatcher(c, "run-2", "2026-11-20").Match(cd); got != tc.match {
				t.Fatalf("match %v, want %v", got, tc.match)
			}
		})
	}
}

func TestObserveCountsTheWindowAndThePrePeriod(t *testing.T) {
	w := Window{Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}
	days := map[string]customers.Amounts{
		"2026-08-21": {"GBP": 1},              // 91 days before: outside the pre-period
		"2026-08-22": {"GBP": 10},             // 90 days before: first day of the pre-period
		"2026-11-19": {"GBP": 20, "EUR": 999}, // last day before launch
		"2026-11-20": {"GBP": 300},            // launch day: in the window
		"2026-12-03": {"EUR": 5000},           // in the window, other currency
		"2026-12-04": {"GBP": 7000},           // window end: outside
	}
	got := Observe(Holdout, days, "GBP", w)
	want := stats.Observation{Arm: stats.Holdout, Converted: true, Revenue: 300, PreSpend: 30}
	if got != want {
		t.Fatalf("observed %+v, want %+v", got, want)
	}
	if o := Observe(Treatment, map[string]customers.Amounts{"2026-12-03": {"EUR": 5000}}, "GBP", w); o.Converted || o.Revenue != 0 {
		t.Fatalf("a purchase in another currency converted: %+v", o)
	}
}

func TestLifecycle(t *testing.T) {
	c, _ := New("cmp-1", valid(), now)
	if err := c.Stop(now); !errs.Is(err, errs.Conflict) {
		t.Fatalf("stop a draft: %v", err)
	}
	if err := c.StartLaunch("2026-11-01", true, "run-1", now); err != nil || c.Status != Launching {
		t.Fatalf("start: %v %s", err, c.Status)
	}
	if err := c.StartLaunch("2026-11-02", true, "", now); !errs.Is(err, errs.Conflict) {
		t.Fatalf("another day: %v", err)
	}
	if err := c.StartLaunch("2026-11-20", false, "", now); err != nil || c.Launch.AsOf != "2026-11-01" {
		t.Fatalf("continue: %v %+v", err, c.Launch)
	}
	if err := c.FinishLaunch(now); !errs.Is(err, errs.Conflict) {
		t.Fatalf("finish before the snapshot: %v", err)
	}
	if err := c.TakeSnapshot("snap-1", 9, 1, now); err != nil || c.Launch.Members != 10 {
		t.Fatal(err)
	}
	if err := c.Progress(4, now); err != nil || c.MembersWritten() {
		t.Fatal(err)
	}
	if err := c.Progress(2, now); err != nil || c.Launch.Written != 4 {
		t.Fatalf("the cursor moved back: %+v", c.Launch)
	}
	if err := c.Progress(10, now); err != nil || !c.MembersWritten() || !c.Launch.LaunchedAt.Equal(now) {
		t.Fatalf("all written: %v %+v", err, c.Launch)
	}
	if err := c.FinishLaunch(now); err != nil || c.Status != Running || !c.Launch.Announced {
		t.Fatalf("finish: %v %s", err, c.Status)
	}
	w, _ := c.Window()
	if w.End.Format(time.DateOnly) != "2026-11-15" {
		t.Fatalf("window %v", w)
	}
	if err := c.Complete(w.End.Add(-time.Second)); !errs.Is(err, errs.Conflict) {
		t.Fatalf("complete in the window: %v", err)
	}
	if err := c.Stop(now); err != nil || c.Status != Stopped || c.Stop(now) != nil {
		t.Fatalf("stop: %v %s", err, c.Status)
	}
	if err := c.Complete(w.End); err != nil || c.Status != Completed || c.Complete(w.End) != nil {
		t.Fatalf("complete: %v %s", err, c.Status)
	}
}

func TestParseLaunchDay(t *testing.T) {
	if d, err := ParseLaunchDay("", now); err != nil || d != "2026-11-20" {
		t.Fatalf("today: %q %v", d, err)
	}
	if d, err := ParseLaunchDay("2011-10-01", now); err != nil || d != "2011-10-01" {
		t.Fatalf("past: %q %v", d, err)
	}
	for _, bad := range []string{"2026-11-21", "01/10/2011", "2011-10-1"} {
		if _, err := ParseLaunchDay(bad, now); !slices.Contains(fields(t, err), "as_of") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
