package service_test

import (
	"slices"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/recommendations/service"
)

func TestInCart(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 20, 10, m, 0, 0, time.UTC) }
	ev := func(id string, typ events.Type, item string, m int) customers.Interaction {
		return customers.Interaction{EventID: id, Type: typ, ItemID: item, Time: at(m)}
	}
	tests := []struct {
		name   string
		recent []customers.Interaction
		want   []string
	}{
		{"nothing", nil, nil},
		{"added", []customers.Interaction{ev("1", events.AddToCart, "a", 1)}, []string{"a"}},
		{"added then viewed", []customers.Interaction{ev("1", events.AddToCart, "a", 1), ev("2", events.View, "a", 2)}, []string{"a"}},
		{"added then removed", []customers.Interaction{ev("2", events.RemoveFromCart, "a", 2), ev("1", events.AddToCart, "a", 1)}, nil},
		{"added then bought", []customers.Interaction{ev("1", events.AddToCart, "a", 1), ev("2", events.Purchase, "a", 2)}, nil},
		{"removed then added again", []customers.Interaction{ev("1", events.RemoveFromCart, "a", 1), ev("2", events.AddToCart, "a", 2)}, []string{"a"}},
		{"same second, later event id wins", []customers.Interaction{ev("2", events.RemoveFromCart, "a", 1), ev("1", events.AddToCart, "a", 1)}, nil},
		{"only viewed", []customers.Interaction{ev("1", events.View, "b", 1)}, nil},
		{"two items", []customers.Interaction{ev("1", events.AddToCart, "b", 1), ev("2", events.AddToCart, "a", 2),
			ev("3", events.Purchase, "c", 3)}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := service.InCart(tc.recent); !slices.Equal(got, tc.want) {
				t.Fatalf("InCart = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInputFromAggregates(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	agg := customers.NewAggregates()
	for _, e := range []events.Event{
		{ID: "1", Type: events.View, ItemID: "a", Category: "Home", Time: now.Add(-3 * time.Hour)},
		{ID: "2", Type: events.AddToCart, ItemID: "b", Category: "Garden", Quantity: 1, Time: now.Add(-2 * time.Hour)},
		{ID: "3", Type: events.Purchase, ItemID: "a", Category: "Home", Quantity: 1, PriceMinor: 100, Currency: "GBP", OrderID: "o", Time: now.Add(-time.Hour)},
	} {
		agg.Apply(e)
	}
	in := service.Input(agg, now)
	if len(in.Recent) != 3 || len(in.Purchases) != 1 || in.Purchases[0].ItemID != "a" || in.Purchases[0].Count != 1 ||
		!slices.Equal(in.InCart, []string{"b"}) || in.CategoryAffinity["Home"] != 6 || in.CategoryAffinity["Garden"] != 3 {
		t.Fatalf("input = %+v", in)
	}
}
