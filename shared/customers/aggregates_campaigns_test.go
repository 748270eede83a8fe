package customers

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"tailor/shared/events"
)

func TestCampaignEngagement(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	min := func(m int) time.Time { return at.Add(time.Duration(m) * time.Minute) }
	a := Fold([]events.Event{
		{ID: "1", Type: events.MessageDelivered, CampaignID: "spring", CustomerID: "c", Time: min(0)},
		{ID: "2", Type: events.MessageOpened, CampaignID: "spring", CustomerID: "c", Time: min(5)},
		{ID: "3", Type: events.MessageOpened, CampaignID: "spring", CustomerID: "c", Time: min(3)},
		{ID: "4", Type: events.Feedback, CampaignID: "spring", CustomerID: "c", Time: min(9), Rating: 2, NPS: nps(3)},
		// Same time: the greater event id is the latest answer.
		{ID: "5", Type: events.Feedback, CampaignID: "spring", CustomerID: "c", Time: min(9), Rating: 5},
		{ID: "6", Type: events.Feedback, CustomerID: "c", Time: min(20), Rating: 1},
		{ID: "7", Type: events.Unsubscribed, CampaignID: "autumn", CustomerID: "c", Time: min(1)},
		{ID: "8", Type: events.View, CustomerID: "c", ItemID: "mug", Time: min(2)},
	})
	if len(a.Campaigns) != 2 {
		t.Fatalf("campaigns %v", a.Campaigns)
	}
	s, ok := a.Campaign("spring")
	want := CampaignEngagement{Delivered: min(0), Opened: min(5), Rating: &Answer{Value: 5, At: min(9), EventID: "5"},
		NPS: &Answer{Value: 3, At: min(9), EventID: "4"}}
	if !ok || !reflect.DeepEqual(s, want) || !s.Engaged() || s.Last() != min(9) {
		t.Fatalf("spring %+v", s)
	}
	if u, _ := a.Campaign("autumn"); u.Unsubscribed != min(1) || !u.Engaged() || u.Rating != nil {
		t.Fatalf("autumn %+v", u)
	}
	if _, ok := a.Campaign("winter"); ok {
		t.Fatal("a campaign without events is kept")
	}
	// Feedback naming only a campaign, without message events, is not
	// engagement.
	f := Fold([]events.Event{{ID: "1", Type: events.Feedback, CampaignID: "x", Time: at, NPS: nps(10)}})
	if c, _ := f.Campaign("x"); c.Engaged() || c.NPS == nil || c.NPS.Value != 10 {
		t.Fatalf("feedback only %+v", c)
	}
}

// TestCampaignBound keeps the MaxCampaigns most recent campaigns: campaign
// i has one message at minute i, so the newest 50 stay and the floor is
// the time of the newest dropped one; a later event for a dropped
// campaign brings it back, an earlier one is ignored.
func TestCampaignBound(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	min := func(m int) time.Time { return at.Add(time.Duration(m) * time.Minute) }
	var evs []events.Event
	for i := range MaxCampaigns + 30 {
		evs = append(evs, events.Event{ID: fmt.Sprintf("d%03d", i), Type: events.MessageDelivered, CampaignID: fmt.Sprintf("c%03d", i), Time: min(i)})
	}
	a := Fold(evs)
	if len(a.Campaigns) != MaxCampaigns || a.CampaignFloor != min(29) {
		t.Fatalf("kept %d campaigns, floor %v", len(a.Campaigns), a.CampaignFloor)
	}
	if _, ok := a.Campaign("c029"); ok {
		t.Fatal("the newest dropped campaign is kept")
	}
	if _, ok := a.Campaign("c030"); !ok {
		t.Fatal("the oldest campaign within the bound is dropped")
	}
	if ids := a.campaignIDs(); ids[0] != "c079" || ids[len(ids)-1] != "c030" {
		t.Fatalf("order %v", ids)
	}
	a.Apply(events.Event{ID: "old", Type: events.MessageOpened, CampaignID: "c000", Time: min(10)})
	if _, ok := a.Campaign("c000"); ok || len(a.Campaigns) != MaxCampaigns {
		t.Fatal("an event at or before the floor came back")
	}
	// c000 returns with a recent event: the oldest kept (c030) goes, and
	// c000 holds only what came after the new floor.
	a.Apply(events.Event{ID: "new", Type: events.MessageClicked, CampaignID: "c000", Time: min(100)})
	c, ok := a.Campaign("c000")
	if !ok || c.Clicked != min(100) || !c.Delivered.IsZero() || len(a.Campaigns) != MaxCampaigns || a.CampaignFloor != min(30) {
		t.Fatalf("c000 %+v, %d campaigns, floor %v", c, len(a.Campaigns), a.CampaignFloor)
	}
	// Ties at the boundary go together.
	var tied []events.Event
	for i := range MaxCampaigns + 1 {
		tied = append(tied, events.Event{ID: fmt.Sprintf("t%03d", i), Type: events.MessageDelivered, CampaignID: fmt.Sprintf("c%03d", i), Time: min(i / 2 * 2)})
	}
	b := Fold(tied)
	if len(b.Campaigns) > MaxCampaigns || b.CampaignFloor != min(0) || len(b.Campaigns) != MaxCampaigns-1 {
		t.Fatalf("tied: %d campaigns, floor %v", len(b.Campaigns), b.CampaignFloor)
	}
}

// TestCampaignBoundDoesNotDependOnArrivalOrder shuffles and splits a
// history of many campaigns, so the bound is hit in every order.
func TestCampaignBoundDoesNotDependOnArrivalOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	types := append([]events.Type{events.Feedback}, events.Messages...)
	evs := make([]events.Event, 900)
	for i := range evs {
		e := events.Event{ID: fmt.Sprintf("e%04d", i), Type: types[r.IntN(len(types))], CustomerID: "c",
			Time: base.Add(time.Duration(r.IntN(300)) * time.Hour)}
		if e.Type == events.Feedback {
			randomFeedback(r, &e)
		}
		e.CampaignID = fmt.Sprintf("camp-%03d", r.IntN(3*MaxCampaigns))
		evs[i] = e
	}
	want := Fold(evs)
	if len(want.Campaigns) > MaxCampaigns || want.CampaignFloor.IsZero() {
		t.Fatalf("the bound was not exercised: %d campaigns, floor %v", len(want.Campaigns), want.CampaignFloor)
	}
	for trial := range 30 {
		shuffled := append([]events.Event(nil), evs...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Fold(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: another order gives other aggregates", trial)
		}
		cut := r.IntN(len(shuffled))
		a, b := Fold(shuffled[:cut]), Fold(shuffled[cut:])
		a.Merge(b)
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("trial %d: merge at %d differs from the fold", trial, cut)
		}
	}
}
