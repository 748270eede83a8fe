package contract

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/events/service"
)

// CartStores is one implementation of the pending carts on empty storage,
// with the hooks the suite needs for what the customers feature owns.
type CartStores struct {
	Carts service.Carts
	Reach service.Reach
	// SetConsent creates the customer record with these consents.
	SetConsent func(t *testing.T, customerID string, consent map[string]customers.ConsentState)
	// Erase erases the customer as the customers API does.
	Erase func(t *testing.T, customerID string)
}

// RunCarts runs the suite of the pending carts; open returns fresh,
// empty storage for each test.
func RunCarts(t *testing.T, open func(t *testing.T) CartStores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s CartStores)
	}{
		{"AddBuyAndDue", cartAddBuyAndDue},
		{"DeleteOnlyTheVersionRead", cartDeleteVersion},
		{"ConcurrentUpdates", cartConcurrent},
		{"Consent", cartConsent},
		{"ErasureDeletesTheCart", cartErasure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func cartEvent(typ events.Type, item string, at time.Time) events.Event {
	return events.Event{ID: fmt.Sprintf("%s-%s-%d", typ, item, at.Unix()), Type: typ, CustomerID: "c-1", ItemID: item, Time: at}
}

func apply(t *testing.T, s CartStores, customerID string, evs ...events.Event) {
	t.Helper()
	if err := s.Carts.UpdateCart(context.Background(), customerID, func(c *events.Cart) bool { return c.Apply(evs) }); err != nil {
		t.Fatal(err)
	}
}

func due(t *testing.T, s CartStores, by time.Time) map[string]events.Cart {
	t.Helper()
	cs, err := s.Carts.DueCarts(context.Background(), by)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.Cart{}
	for _, c := range cs {
		if _, dup := out[c.CustomerID]; dup {
			t.Fatalf("cart of %s listed twice", c.CustomerID)
		}
		out[c.CustomerID] = c
	}
	return out
}

func cartAddBuyAndDue(t *testing.T, s CartStores) {
	apply(t, s, "c-1", cartEvent(events.AddToCart, "i-1", Now), cartEvent(events.AddToCart, "i-2", Now.Add(time.Minute)))
	apply(t, s, "c-2", cartEvent(events.AddToCart, "i-1", Now.Add(time.Hour)))
	if got := due(t, s, Now.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("carts due before any started: %v", got)
	}
	got := due(t, s, Now)
	c, ok := got["c-1"]
	if len(got) != 1 || !ok || !c.Started.Equal(Now) || !slices.Equal(c.ItemIDs(), []string{"i-1", "i-2"}) || c.Version == 0 {
		t.Fatalf("due by the first add: %+v", got)
	}
	if !c.Items["i-2"].Equal(Now.Add(time.Minute)) {
		t.Fatalf("add time of i-2 %v", c.Items["i-2"])
	}
	// A purchase of one item takes it out; of the other, the cart goes.
	apply(t, s, "c-1", cartEvent(events.Purchase, "i-1", Now.Add(time.Hour)))
	if c := due(t, s, Now)["c-1"]; !slices.Equal(c.ItemIDs(), []string{"i-2"}) || !c.Started.Equal(Now) {
		t.Fatalf("after buying i-1: %+v", c)
	}
	apply(t, s, "c-1", cartEvent(events.Purchase, "i-2", Now.Add(2*time.Hour)))
	if got := due(t, s, Now.Add(24*time.Hour)); len(got) != 1 || got["c-2"].CustomerID != "c-2" {
		t.Fatalf("after buying everything: %+v", got)
	}
}

func cartDeleteVersion(t *testing.T, s CartStores) {
	ctx := context.Background()
	apply(t, s, "c-1", cartEvent(events.AddToCart, "i-1", Now))
	old := due(t, s, Now)["c-1"]
	apply(t, s, "c-1", cartEvent(events.AddToCart, "i-2", Now.Add(time.Minute)))
	if ok, err := s.Carts.DeleteCart(ctx, old); err != nil || ok {
		t.Fatalf("delete of a stale version: %v, %v", ok, err)
	}
	cur := due(t, s, Now)["c-1"]
	if ok, err := s.Carts.DeleteCart(ctx, cur); err != nil || !ok {
		t.Fatalf("delete of the version read: %v, %v", ok, err)
	}
	if ok, err := s.Carts.DeleteCart(ctx, cur); err != nil || ok {
		t.Fatalf("delete again: %v, %v", ok, err)
	}
	if got := due(t, s, Now.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("carts after delete: %v", got)
	}
	// A new add starts a new cart, with a new start.
	apply(t, s, "c-1", cartEvent(events.AddToCart, "i-3", Now.Add(2*time.Hour)))
	if c := due(t, s, Now.Add(3*time.Hour))["c-1"]; !c.Started.Equal(Now.Add(2*time.Hour)) || c.CartID() == cur.CartID() {
		t.Fatalf("new cart %+v", c)
	}
}

func cartConcurrent(t *testing.T, s CartStores) {
	var wg sync.WaitGroup
	errsOut := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := cartEvent(events.AddToCart, fmt.Sprintf("i-%d", i), Now.Add(time.Duration(i)*time.Second))
			errsOut[i] = s.Carts.UpdateCart(context.Background(), "c-1", func(c *events.Cart) bool { return c.Apply([]events.Event{ev}) })
		}()
	}
	wg.Wait()
	for _, err := range errsOut {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := due(t, s, Now)["c-1"]; !slices.Equal(c.ItemIDs(), []string{"i-0", "i-1", "i-2", "i-3"}) || !c.Started.Equal(Now) {
		t.Fatalf("concurrent adds kept %+v", c)
	}
}

func cartConsent(t *testing.T, s CartStores) {
	ctx := context.Background()
	check := func(id string, want []string, wantFound bool) {
		t.Helper()
		ch, found, err := s.Reach.MarketingChannels(ctx, id)
		if err != nil || found != wantFound || !slices.Equal(ch, want) && (len(ch) != 0 || len(want) != 0) {
			t.Fatalf("channels of %s: %v, %v, %v; want %v, %v", id, ch, found, err, want, wantFound)
		}
	}
	check("nobody", nil, false)
	s.SetConsent(t, "c-1", map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: Now},
		customers.ConsentSMS: {Granted: false, UpdatedAt: Now}})
	check("c-1", []string{customers.ConsentEmail}, true)
	s.SetConsent(t, "c-2", map[string]customers.ConsentState{customers.ConsentPersonalization: {Granted: true, UpdatedAt: Now}})
	check("c-2", nil, true)
	s.SetConsent(t, "c-3", map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: Now},
		customers.ConsentSMS: {Granted: true, UpdatedAt: Now}})
	check("c-3", []string{customers.ConsentEmail, customers.ConsentSMS}, true)
}

func cartErasure(t *testing.T, s CartStores) {
	s.SetConsent(t, "c-1", map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: Now}})
	apply(t, s, "c-1", cartEvent(events.AddToCart, "i-1", Now))
	s.Erase(t, "c-1")
	if got := due(t, s, Now.Add(24*time.Hour)); len(got) != 0 {
		t.Fatalf("erased customer's cart left: %v", got)
	}
	if _, found, err := s.Reach.MarketingChannels(context.Background(), "c-1"); err != nil || found {
		t.Fatalf("erased customer found: %v, %v", found, err)
	}
}
