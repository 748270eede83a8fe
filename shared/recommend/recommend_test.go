package recommend_test

import (
	"slices"
	"testing"
	"time"

	"tailor/shared/customer"
	"tailor/shared/event"
	"tailor/shared/recommend"
)

func TestInCart(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 20, 10, m, 0, 0, time.UTC) }
	ev := func(id string, typ event.Type, item string, m int) customer.Interaction {
		return customer.Interaction{EventID: id, Type: typ, ItemID: item, Time: at(m)}
	}
	tests := []struct {
		name   string
		recent []customer.Interaction
		want   []string
	}{
		{"nothing", nil, nil},
		{"added", []customer.Interaction{ev("1", event.AddToCart, "a", 1)}, []string{"a"}},
		{"added then viewed", []customer.Interaction{ev("1", event.AddToCart, "a", 1), ev("2", event.View, "a", 2)}, []string{"a"}},
		{"added then removed", []customer.Interaction{ev("2", event.RemoveFromCart, "a", 2), ev("1", event.AddToCart, "a", 1)}, nil},
		{"added then bought", []customer.Interaction{ev("1", event.AddToCart, "a", 1), ev("2", event.Purchase, "a", 2)}, nil},
		{"removed then added again", []customer.Interaction{ev("1", event.RemoveFromCart, "a", 1), ev("2", event.AddToCart, "a", 2)}, []string{"a"}},
		{"same second, later event id wins", []customer.Interaction{ev("2", event.RemoveFromCart, "a", 1), ev("1", event.AddToCart, "a", 1)}, nil},
		{"only viewed", []customer.Interaction{ev("1", event.View, "b", 1)}, nil},
		{"two items", []customer.Interaction{ev("1", event.AddToCart, "b", 1), ev("2", event.AddToCart, "a", 2),
			ev("3", event.Purchase, "c", 3)}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := recommend.InCart(tc.recent); !slices.Equal(got, tc.want) {
				t.Fatalf("InCart = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInputFromAggregates(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	agg := customer.NewAggregates()
	for _, e := range []event.Event{
		{ID: "1", Type: event.View, ItemID: "a", Category: "Home", Time: now.Add(-3 * time.Hour)},
		{ID: "2", Type: event.AddToCart, ItemID: "b", Category: "Garden", Quantity: 1, Time: now.Add(-2 * time.Hour)},
		{ID: "3", Type: event.Purchase, ItemID: "a", Category: "Home", Quantity: 1, PriceMinor: 100, Currency: "GBP", OrderID: "o", Time: now.Add(-time.Hour)},
	} {
		agg.Apply(e)
	}
	in := recommend.Input(agg, now)
	if len(in.Recent) != 3 || len(in.Purchases) != 1 || in.Purchases[0].ItemID != "a" || in.Purchases[0].Count != 1 ||
		!slices.Equal(in.InCart, []string{"b"}) || in.CategoryAffinity["Home"] != 6 || in.CategoryAffinity["Garden"] != 3 {
		t.Fatalf("input = %+v", in)
	}
}
