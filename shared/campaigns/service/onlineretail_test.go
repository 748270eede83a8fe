package service_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/memory"
	"tailor/shared/campaigns/service"
	"tailor/shared/campaigns/stats"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/local/dataset"
	"tailor/shared/local/dataset/datasettest"
	"tailor/shared/local/replay"
	auditmem "tailor/shared/platform/audit/memory"
	busmem "tailor/shared/platform/bus/memory"
	segmentsmem "tailor/shared/segments/memory"
)

// The real-data A/A test of issue 10: on the whole Online Retail file,
// 20 campaigns as of 2011-10-01 on every customer with a purchase before
// that day, half held out, measured over 30 days. No message is sent, so
// every difference is chance.
const (
	retailAsOf      = "2011-10-01"
	retailWindow    = 30
	retailHoldout   = 0.5
	retailCampaigns = 20
	// retailMaxSignificant is the most campaigns of 20 allowed a
	// conversion p-value below 0.05 (1 expected; P(more than 3) is
	// about 1.6% under the null for independent campaigns).
	retailMaxSignificant = 3
)

// retailRecords builds the customer records the way the replay and
// ingestion do, without HTTP: each classified row becomes the replay's
// event (replay.RetailEvent), is checked as the ingest service checks it
// (events.Validate at now; the JSON decoding of the HTTP body is skipped,
// it is most of the time and the replay's Input goes through it as it
// is), the ids are de-duplicated, and each customer's accepted events are
// folded into its aggregates one by one (customers.Aggregates.Apply, what
// the event stores do on Append). Categories, which ingestion looks up in
// the catalog, are left out: no audience or report rule reads them.
// Every row is also handed to count, for a tally that shares nothing but
// the file reader with the records.
func retailRecords(t *testing.T, path string, now time.Time, count func(dataset.RetailRecord)) (rows int, _ map[string]*customers.Aggregates) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the Online Retail file is needed (see ../shared/data/README.md): %v", err)
	}
	defer f.Close()
	aggs := map[string]*customers.Aggregates{}
	seen := map[string]bool{}
	rejected := 0
	err = dataset.ReadOnlineRetail(f, func(rec dataset.RetailRecord) error {
		rows++
		count(rec)
		in, ok := replay.RetailEvent(rec)
		if !ok {
			return nil
		}
		e, err := events.Validate(in, now, "")
		if err != nil {
			rejected++
			return nil
		}
		if seen[e.ID] { // ingestion stores an event id once
			return nil
		}
		seen[e.ID] = true
		o := events.OwnerOf(e)
		if o.Anonymous() {
			return fmt.Errorf("line %d: an anonymous event", rec.Line)
		}
		a := aggs[o.CustomerID]
		if a == nil {
			a = customers.NewAggregates()
			aggs[o.CustomerID] = a
		}
		a.Apply(e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rejected != 0 {
		t.Errorf("ingestion would refuse %d of the replay's events", rejected)
	}
	return rows, aggs
}

// TestAAOnOnlineRetail launches 20 A/A campaigns through the service on
// customer records built from the whole Online Retail file by the
// ingestion's fold, and checks each report's members and converters per
// arm against a count made straight from the CSV rows, and that chance
// alone makes at most 3 of 20 significant at 5%.
func TestAAOnOnlineRetail(t *testing.T) {
	start := time.Now()
	ctx := context.Background()
	// The service's clock: after the window [2011-10-01, 2011-10-31) has
	// closed, so launches as of 2011-10-01 are allowed and reports final.
	now := time.Date(2011, 11, 15, 12, 0, 0, 0, time.UTC)
	// The independent count: straight from the classified CSV rows, with
	// nothing of the replay, the events, the aggregates or the service.
	// Member: a purchase before 2011-10-01 (UTC day). Converted: a purchase
	// on a day in [2011-10-01, 2011-10-31); every row is in GBP.
	wStart := time.Date(2011, 10, 1, 0, 0, 0, 0, time.UTC)
	wEnd := wStart.AddDate(0, 0, retailWindow)
	before, converted := map[string]bool{}, map[string]bool{}
	count := func(r dataset.RetailRecord) {
		if r.Kind != dataset.RowPurchase || r.Quantity <= 0 || r.UnitPriceMinor <= 0 {
			return
		}
		switch ts := r.Time.UTC(); {
		case ts.Before(wStart):
			before[r.CustomerID] = true
		case ts.Before(wEnd):
			converted[r.CustomerID] = true
		}
	}
	// Events are checked against the real clock, as the replay's are.
	rows, aggs := retailRecords(t, datasettest.Path(t, "online_retail.csv.gz"), time.Now(), count)
	people := &memory.Customers{PageSize: 500}
	for id, a := range aggs {
		// What the DynamoDB adapter reads of a record built only by events:
		// no consent answers, no tags, no profile, no scores.
		people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: id, PurchaseDays: a.PurchaseDays}})
	}
	built := time.Since(start)

	inWindow := 0
	for c := range before {
		if converted[c] {
			inWindow++
		}
	}
	t.Logf("%d rows, %d customer records folded, %d customers with a purchase before %s, %d of them buying in the window (built in %s)",
		rows, len(aggs), len(before), retailAsOf, inWindow, built.Round(time.Millisecond))

	n := 0
	store := &memory.Store{}
	// No segmentation run: the audience has no score rule, and onsite
	// needs no consent answer (only an explicit "no" to personalization).
	svc := &service.Service{Campaigns: store, Members: store, Reports: store, Customers: people,
		Runs: &segmentsmem.SegmentRuns{}, Audit: &auditmem.Audit{}, Bus: &busmem.Bus{},
		Now:   func() time.Time { return now },
		NewID: func() string { n++; return fmt.Sprintf("cmp-retail-aa-%02d", n) }}
	if err := svc.Check(); err != nil {
		t.Fatal(err)
	}

	significant := 0
	for i := range retailCampaigns {
		holdout, window := retailHoldout, retailWindow
		c, err := svc.Create(ctx, campaigns.Input{Name: fmt.Sprintf("Online Retail A/A %d", i+1), Channel: campaigns.Onsite,
			Currency: "GBP", Holdout: &holdout, AttributionDays: &window,
			Audience: campaigns.AudienceInput{LastPurchaseBefore: retailAsOf}})
		if err != nil {
			t.Fatal(err)
		}
		if _, done, err := svc.Launch(ctx, c.ID, retailAsOf); err != nil || !done {
			t.Fatalf("launch %s: done %v, %v", c.ID, done, err)
		}
		r, err := svc.ComputeReport(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}

		var want, wantConv stats.Counts
		for cust := range before {
			if campaigns.Assign(c.ID, cust, retailHoldout) == campaigns.Treatment {
				want.Treatment++
				if converted[cust] {
					wantConv.Treatment++
				}
			} else {
				want.Holdout++
				if converted[cust] {
					wantConv.Holdout++
				}
			}
		}
		st := r.Stats
		conv := st.Conversion
		got := stats.Counts{Treatment: conv.Treatment.Conversions, Holdout: conv.Holdout.Conversions}
		if st.Members != want || got != wantConv || r.Provisional || r.Erased != 0 ||
			r.WindowStart != "2011-10-01" || r.WindowEnd != "2011-10-31" {
			t.Errorf("campaign %s: members %+v, converters %+v (provisional %v, erased %d, window %s to %s); the CSV gives members %+v, converters %+v",
				c.ID, st.Members, got, r.Provisional, r.Erased, r.WindowStart, r.WindowEnd, want, wantConv)
		}
		if conv.P == nil {
			t.Fatalf("campaign %s: no conversion p-value", c.ID)
		}
		if *conv.P < 0.05 {
			significant++
		}
		t.Logf("%s: treatment %d/%d = %.4f, holdout %d/%d = %.4f, difference %+.4f [%+.4f, %+.4f], p = %.4f%s",
			c.ID, conv.Treatment.Conversions, st.Members.Treatment, *conv.Treatment.Rate.Value,
			conv.Holdout.Conversions, st.Members.Holdout, *conv.Holdout.Rate.Value,
			*conv.Difference.Value, *conv.Difference.Low, *conv.Difference.High, *conv.P, mark(*conv.P < 0.05))
	}
	t.Logf("%d of %d A/A campaigns significant at 0.05 (at most %d allowed); %s in all",
		significant, retailCampaigns, retailMaxSignificant, time.Since(start).Round(time.Millisecond))
	if significant > retailMaxSignificant {
		t.Errorf("%d of %d A/A campaigns are significant at 0.05; at most %d expected by chance", significant, retailCampaigns, retailMaxSignificant)
	}
}

func mark(sig bool) string {
	if sig {
		return "  significant"
	}
	return ""
}
