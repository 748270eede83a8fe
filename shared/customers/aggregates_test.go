package customers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tailor/shared/events"
)

func randomHistory(rng *rand.Rand, n int) []events.Event {
	types := []events.Type{events.View, events.AddToCart, events.RemoveFromCart, events.Purchase, events.Refund, events.Search,
		events.MessageDelivered, events.MessageClicked, events.Feedback, events.Feedback}
	cats := []string{"Home", "Garden", ""}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]events.Event, n)
	for i := range out {
		e := events.Event{ID: fmt.Sprintf("e-%04d", i), Type: types[rng.IntN(len(types))], CustomerID: "c-1",
			ItemID: fmt.Sprintf("sku-%d", rng.IntN(20)), Category: cats[rng.IntN(len(cats))], Quantity: 1 + rng.Int64N(3),
			// Two years, so the affinity window drops months; ties in time on purpose.
			Time: base.Add(time.Duration(rng.IntN(730*24)) * time.Hour)}
		switch e.Type {
		case events.Purchase, events.Refund:
			e.PriceMinor, e.Currency, e.OrderID = rng.Int64N(5000), []string{"GBP", "EUR"}[rng.IntN(2)], fmt.Sprintf("o-%d", rng.IntN(30))
		case events.Search:
			e.ItemID, e.Query = "", "q"
		case events.MessageDelivered, events.MessageClicked:
			e.ItemID, e.Category, e.Quantity, e.CampaignID = "", "", 0, "spring"
		case events.Feedback:
			e.ItemID, e.Category, e.Quantity = "", "", 0
			randomFeedback(rng, &e)
		}
		out[i] = e
	}
	return out
}

func encode(a *Aggregates) string {
	b, _ := json.Marshal(a)
	s := string(b) + fmt.Sprint(a.OrderIDs) + fmt.Sprint(a.EventDays)
	if a.Feedback != nil {
		s += fmt.Sprint(a.Feedback.SatisfiedAt, a.Feedback.Complaints)
	}
	return s
}

// The aggregates are a function of the set of events: any order, any
// split into a merged pair, gives the same record.
func TestAggregatesDoNotDependOnOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	evs := randomHistory(rng, 600)
	want := encode(Fold(evs))
	for range 20 {
		shuffled := slices.Clone(evs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := encode(Fold(shuffled)); got != want {
			t.Fatalf("order changed the aggregates:\n%s\n%s", got, want)
		}
		cut := rng.IntN(len(shuffled))
		a, b := Fold(shuffled[:cut]), Fold(shuffled[cut:])
		a.Merge(b)
		if got := encode(a); got != want {
			t.Fatalf("merge differs from fold at cut %d:\n%s\n%s", cut, got, want)
		}
	}
}

func TestAggregatesBounds(t *testing.T) {
	a := Fold(randomHistory(rand.New(rand.NewPCG(3, 4)), 2000))
	if len(a.Recent) != MaxRecent {
		t.Fatalf("recent %d", len(a.Recent))
	}
	for i := 1; i < len(a.Recent); i++ {
		if a.Recent[i].Time.After(a.Recent[i-1].Time) {
			t.Fatal("recent is not newest first")
		}
	}
	if len(a.Affinity) > AffinityMonths {
		t.Fatalf("affinity months %d", len(a.Affinity))
	}
	oldest := events.Month(a.LastSeen.AddDate(0, -(AffinityMonths - 1), -a.LastSeen.Day()+1))
	for m := range a.Affinity {
		if m < oldest {
			t.Fatalf("month %s outside the window from %s", m, oldest)
		}
	}
	// Events per day: the EventDaysKept days ending on the newest event's
	// day, each day's count exact.
	evs := randomHistory(rand.New(rand.NewPCG(3, 4)), 2000)
	var newest time.Time
	for _, e := range evs {
		if d := e.Time.UTC().Truncate(24 * time.Hour); d.After(newest) {
			newest = d
		}
	}
	first := newest.AddDate(0, 0, -(EventDaysKept - 1)).Format(time.DateOnly)
	want := map[string]int64{}
	for _, e := range evs {
		if d := e.Time.UTC().Format(time.DateOnly); d >= first {
			want[d]++
		}
	}
	if len(a.EventDays) == 0 || fmt.Sprint(a.EventDays) != fmt.Sprint(want) {
		t.Fatalf("event days %v, want %v", a.EventDays, want)
	}
}

func TestAggregatesSums(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	a := Fold([]events.Event{
		{ID: "1", Type: events.Purchase, ItemID: "x", Category: "Home", Quantity: 2, PriceMinor: 1250, Currency: "GBP", OrderID: "o1", Time: at(3)},
		{ID: "2", Type: events.Purchase, ItemID: "y", Category: "Home", Quantity: 1, PriceMinor: 99, Currency: "GBP", OrderID: "o1", Time: at(4)},
		{ID: "3", Type: events.Purchase, ItemID: "y", Quantity: 1, PriceMinor: 1000, Currency: "JPY", OrderID: "o2", Time: at(1)},
		{ID: "4", Type: events.Refund, ItemID: "x", Quantity: 1, PriceMinor: 1250, Currency: "GBP", OrderID: "o1", Time: at(5)},
		{ID: "5", Type: events.View, ItemID: "x", Category: "Home", Quantity: 1, Time: at(0)},
	})
	if a.Orders != 2 || a.Units != 4 || a.RefundedUnits != 1 || a.Revenue["GBP"] != 2599 || a.Revenue["JPY"] != 1000 ||
		a.Refunds["GBP"] != 1250 || !a.LastPurchaseAt.Equal(at(4)) || !a.FirstSeen.Equal(at(0)) || !a.LastSeen.Equal(at(5)) ||
		a.Affinity["2026-03"]["Home"] != 11 || a.Views != 1 || len(a.Recent) != 4 || a.Events != 5 || a.EventDays["2026-03-01"] != 5 {
		t.Fatalf("%+v", a)
	}
	b, _ := json.Marshal(a.Revenue)
	if string(b) != `{"GBP":"25.99","JPY":"1000"}` {
		t.Fatal(string(b))
	}
}
