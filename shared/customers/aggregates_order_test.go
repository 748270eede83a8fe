package customers

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"tailor/shared/events"
)

// randomEvents makes a history with repeated items, days and orders.
func randomEvents(r *rand.Rand, n int) []events.Event {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	types := []events.Type{events.View, events.AddToCart, events.RemoveFromCart, events.Purchase, events.Refund, events.Search,
		events.MessageDelivered, events.MessageOpened, events.MessageClicked, events.Unsubscribed, events.Feedback, events.Feedback}
	out := make([]events.Event, n)
	for i := range out {
		e := events.Event{ID: fmt.Sprintf("e%04d", i), Type: types[r.IntN(len(types))],
			Time: base.Add(time.Duration(r.IntN(400*24)) * time.Hour), Category: []string{"", "home", "garden"}[r.IntN(3)]}
		switch {
		case e.Type == events.Feedback:
			e.Category = ""
			randomFeedback(r, &e)
		case slices.Contains(events.Messages, e.Type):
			e.Category, e.CampaignID = "", fmt.Sprintf("camp-%d", r.IntN(3))
		case e.Type != events.Search:
			e.ItemID = fmt.Sprintf("sku-%d", r.IntN(12))
		}
		if e.Type == events.Purchase || e.Type == events.Refund {
			e.Quantity, e.PriceMinor, e.Currency = int64(1+r.IntN(3)), int64(100+r.IntN(900)), []string{"GBP", "EUR"}[r.IntN(2)]
			e.OrderID = fmt.Sprintf("o-%d", r.IntN(20))
		}
		out[i] = e
	}
	return out
}

// randomFeedback makes e a feedback event with a rating, an NPS answer or
// both, often a topic (complaints more often than not), sometimes a
// campaign.
func randomFeedback(r *rand.Rand, e *events.Event) {
	e.Type = events.Feedback
	switch r.IntN(3) {
	case 0:
		e.Rating = 1 + r.IntN(5)
	case 1:
		n := r.IntN(11)
		e.NPS = &n
	default:
		n := r.IntN(11)
		e.Rating, e.NPS = 1+r.IntN(5), &n
	}
	e.Topic = []events.Topic{"", events.Complaint, events.Complaint, events.Question, events.Suggestion, events.Praise}[r.IntN(6)]
	if r.IntN(2) == 0 {
		e.CampaignID = "camp-1"
	}
}

func TestAggregatesDoNotDependOnArrivalOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	evs := randomEvents(r, 400)
	want := Fold(evs)
	for trial := 0; trial < 20; trial++ {
		shuffled := append([]events.Event(nil), evs...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Fold(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: folding in another order gives other aggregates", trial)
		}
		// Split into two disjoint histories (an anonymous visitor and the
		// customer) and merge: the same result.
		cut := r.IntN(len(shuffled))
		a, b := Fold(shuffled[:cut]), Fold(shuffled[cut:])
		a.Merge(b)
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("trial %d: merge at %d differs from the fold of all events", trial, cut)
		}
	}
}

func TestPurchasedAndPurchaseDays(t *testing.T) {
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := Fold([]events.Event{
		{ID: "1", Type: events.Purchase, ItemID: "mug", Quantity: 2, PriceMinor: 250, Currency: "GBP", OrderID: "o1", Time: day},
		{ID: "2", Type: events.Purchase, ItemID: "mug", Quantity: 1, PriceMinor: 250, Currency: "GBP", OrderID: "o2", Time: day.Add(30 * time.Hour)},
		{ID: "3", Type: events.Purchase, ItemID: "pot", Quantity: 1, PriceMinor: 900, Currency: "GBP", OrderID: "o2", Time: day.Add(31 * time.Hour)},
		{ID: "4", Type: events.View, ItemID: "lamp", Time: day.Add(40 * time.Hour)},
		{ID: "5", Type: events.Refund, ItemID: "pot", Quantity: 1, PriceMinor: 900, Currency: "GBP", Time: day.Add(50 * time.Hour)},
	})
	wantItems := map[string]ItemPurchases{
		"mug": {Count: 2, Last: day.Add(30 * time.Hour)},
		"pot": {Count: 1, Last: day.Add(31 * time.Hour)},
	}
	if !reflect.DeepEqual(a.Purchased, wantItems) {
		t.Fatalf("purchased %v", a.Purchased)
	}
	wantDays := map[string]Amounts{"2026-03-01": {"GBP": 500}, "2026-03-02": {"GBP": 1150}}
	if !reflect.DeepEqual(a.PurchaseDays, wantDays) {
		t.Fatalf("days %v", a.PurchaseDays)
	}
	if a.Orders != 2 || a.Revenue["GBP"] != 1650 || a.Refunds["GBP"] != 900 {
		t.Fatalf("totals %+v", a)
	}
}
