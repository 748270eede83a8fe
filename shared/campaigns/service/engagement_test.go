package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/memory"
	"tailor/shared/customers"
	"tailor/shared/events"
)

// TestReportCountsEngagementAndSatisfaction folds engagement and feedback
// events into members' aggregates, as ingestion does, and reads the
// funnel, the holdout check and the satisfaction off the report.
func TestReportCountsEngagementAndSatisfaction(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(40)
	in := input()
	half := 0.5
	in.Holdout = &half
	c, _ := f.svc.Create(ctx, in)
	if _, _, err := f.svc.Launch(ctx, c.ID, "2026-11-10"); err != nil {
		t.Fatal(err)
	}
	var tr, ho []string
	for _, m := range f.members(t, c.ID) {
		if m.Arm == campaigns.Treatment {
			tr = append(tr, m.CustomerID)
		} else {
			ho = append(ho, m.CustomerID)
		}
	}
	if len(tr) < 4 || len(ho) < 3 {
		t.Fatalf("arms of %d and %d members", len(tr), len(ho))
	}
	at := time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)
	n := 0
	ev := func(typ events.Type, campaign string, min int, rating int, nps ...int) events.Event {
		n++
		e := events.Event{ID: fmt.Sprintf("e-%03d", n), Type: typ, CampaignID: campaign, Time: at.Add(time.Duration(min) * time.Minute), Rating: rating}
		if len(nps) > 0 {
			e.NPS = &nps[0]
		}
		return e
	}
	msg := func(typ events.Type, min int) events.Event { return ev(typ, c.ID, min, 0) }
	history := map[string][]events.Event{
		tr[0]: {msg(events.MessageDelivered, 0), msg(events.MessageOpened, 5), msg(events.MessageClicked, 6), msg(events.MessageOpened, 7),
			ev(events.Feedback, c.ID, 30, 5, 10)},
		tr[1]: {msg(events.MessageDelivered, 0), msg(events.MessageOpened, 9), ev(events.Feedback, c.ID, 30, 3, 6)},
		// The latest rating counts: 4, not 2.
		tr[2]: {msg(events.MessageDelivered, 0), ev(events.Feedback, c.ID, 40, 4), ev(events.Feedback, c.ID, 20, 2),
			ev(events.Feedback, "", 50, 1)},
		tr[3]: {msg(events.MessageDelivered, 0), msg(events.Unsubscribed, 3)},
		// A held-out member was messaged: the integrity warning.
		ho[0]: {msg(events.MessageDelivered, 0), ev(events.Feedback, c.ID, 30, 1, 0)},
		// Another campaign's events count for nothing here.
		ho[1]: {ev(events.MessageOpened, "other", 0, 0), ev(events.Feedback, "other", 1, 5, 10)},
	}
	for id, evs := range history {
		agg := customers.Fold(evs)
		f.people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: id, Consent: emailOK,
			PurchaseDays: map[string]customers.Amounts{}}, Campaigns: agg.Campaigns})
	}
	r, err := f.svc.ComputeReport(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	rate := func(k int) *float64 { v := float64(k) / float64(len(tr)); return &v }
	fn := r.Funnel
	if fn.Members != len(tr) || fn.Delivered.Count != 4 || fn.Opened.Count != 2 || fn.Clicked.Count != 1 || fn.Unsubscribed.Count != 1 ||
		*fn.Delivered.Rate != *rate(4) || *fn.Opened.Rate != *rate(2) || *fn.Clicked.Rate != *rate(1) || *fn.Unsubscribed.Rate != *rate(1) {
		t.Fatalf("funnel %+v", fn)
	}
	if r.Integrity.HoldoutEngaged != 1 || !strings.Contains(r.Integrity.Warning, "1 holdout member") {
		t.Fatalf("integrity %+v", r.Integrity)
	}
	s := r.Satisfaction
	check := func(name string, a campaigns.SatisfactionArm, resp int, ratings int64, mean float64, answers int64, nps float64) {
		t.Helper()
		if a.Respondents != resp || a.Ratings != ratings || a.MeanRating == nil || *a.MeanRating != mean ||
			a.NPSAnswers != answers || a.NPS == nil || *a.NPS != nps {
			t.Fatalf("%s satisfaction %+v", name, a)
		}
	}
	// Treatment: ratings 5, 3, 4; NPS 10 (promoter), 6 (detractor).
	check("treatment", s.Treatment, 3, 3, 4, 2, 0)
	// Holdout: rating 1, NPS 0 (detractor).
	check("holdout", s.Holdout, 1, 1, 1, 1, -100)
	// Overall: ratings 5, 3, 4, 1 (3.25); 1 promoter, 2 detractors of 3.
	check("overall", s.Overall, 4, 4, 3.25, 3, -33.3)

	b, _ := json.Marshal(r)
	for _, k := range []string{`"funnel":{"members":`, `"delivered":{"count":4,"rate":`, `"integrity":{"holdout_engaged":1,"warning":`,
		`"satisfaction":{"treatment":{"respondents":3,"ratings":3,"mean_rating":4,"nps_answers":2,"nps":0}`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("report JSON lacks %s: %s", k, b)
		}
	}
}

// TestEmptyEngagementIsNull: without members or answers, rates, means and
// NPS are null and there is no warning.
func TestEmptyEngagementIsNull(t *testing.T) {
	var tally campaigns.EngagementTally
	tally.Add(campaigns.Holdout, nil)
	b, _ := json.Marshal(struct {
		F campaigns.Funnel       `json:"funnel"`
		I campaigns.Integrity    `json:"integrity"`
		S campaigns.Satisfaction `json:"satisfaction"`
	}{tally.Funnel(), tally.Integrity(), tally.Satisfaction()})
	want := `{"funnel":{"members":0,"delivered":{"count":0,"rate":null},"opened":{"count":0,"rate":null},` +
		`"clicked":{"count":0,"rate":null},"unsubscribed":{"count":0,"rate":null}},"integrity":{"holdout_engaged":0},` +
		`"satisfaction":{"treatment":{"respondents":0,"ratings":0,"mean_rating":null,"nps_answers":0,"nps":null},` +
		`"holdout":{"respondents":0,"ratings":0,"mean_rating":null,"nps_answers":0,"nps":null},` +
		`"overall":{"respondents":0,"ratings":0,"mean_rating":null,"nps_answers":0,"nps":null}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
