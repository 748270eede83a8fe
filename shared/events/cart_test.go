package events

import (
	"slices"
	"testing"
	"time"
)

func TestCartApply(t *testing.T) {
	t0 := time.Date(2011, 12, 9, 11, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ev := func(typ Type, item string, m int) Event { return Event{Type: typ, ItemID: item, Time: at(m)} }
	tests := []struct {
		name    string
		evs     []Event
		items   []string
		started time.Time
		changed bool
	}{
		{"adds", []Event{ev(AddToCart, "a", 5), ev(AddToCart, "b", 0)}, []string{"a", "b"}, at(0), true},
		{"first add kept", []Event{ev(AddToCart, "a", 5), ev(AddToCart, "a", 9)}, []string{"a"}, at(5), true},
		{"bought after add", []Event{ev(AddToCart, "a", 0), ev(Purchase, "a", 30)}, nil, time.Time{}, true},
		{"bought before add stays", []Event{ev(Purchase, "a", 0), ev(AddToCart, "a", 30)}, []string{"a"}, at(30), true},
		{"removed", []Event{ev(AddToCart, "a", 0), ev(AddToCart, "b", 1), ev(RemoveFromCart, "a", 2)}, []string{"b"}, at(0), true},
		{"order of the batch does not matter", []Event{ev(Purchase, "a", 30), ev(AddToCart, "a", 0)}, nil, time.Time{}, true},
		{"other events", []Event{ev(View, "a", 0), ev(Purchase, "z", 1)}, nil, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Cart
			changed := c.Apply(tt.evs)
			if changed != tt.changed || !slices.Equal(c.ItemIDs(), tt.items) && len(tt.items)+len(c.Items) > 0 || !c.Started.Equal(tt.started) {
				t.Fatalf("changed %v items %v started %v; want %v %v %v", changed, c.ItemIDs(), c.Started, tt.changed, tt.items, tt.started)
			}
		})
	}
}

func TestCartID(t *testing.T) {
	c := Cart{CustomerID: "12347", Started: time.Date(2011, 12, 9, 11, 0, 0, 0, time.UTC)}
	if got := c.CartID(); got != "12347:1323428400" {
		t.Fatalf("CartID = %s", got)
	}
	if got := c.AbandonedAt(DefaultAbandonDelay); !got.Equal(c.Started.Add(4 * time.Hour)) {
		t.Fatalf("AbandonedAt = %v", got)
	}
}
