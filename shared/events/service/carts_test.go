package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"tailor/shared/events"
	"tailor/shared/events/memory"
	"tailor/shared/events/service"
	busmemory "tailor/shared/platform/bus/memory"
)

// cartRig is ingestion that keeps carts, and the abandoned-cart job over
// the same carts, with a clock the test moves.
type cartRig struct {
	ingest *service.Service
	carts  *memory.Carts
	bus    *busmemory.Bus
	job    *service.Abandoner
	clock  time.Time
}

// t0 is the first add of the carts below, an hour before the ingest clock.
var t0 = now.Add(-time.Hour)

func newCartRig() *cartRig {
	r := &cartRig{carts: &memory.Carts{}, bus: &busmemory.Bus{}, clock: now}
	m := &memory.Events{Now: func() time.Time { return now }}
	r.ingest = &service.Service{Store: &service.CartWatch{Store: m, Carts: r.carts}, Now: func() time.Time { return now }, Workers: 2}
	r.job = &service.Abandoner{Carts: r.carts, Reach: r.carts, Bus: r.bus, Now: func() time.Time { return r.clock }}
	return r
}

// send ingests one event of typ at t0 plus minutes; cust "" sends it as an
// anonymous visitor.
func (r *cartRig) send(t *testing.T, typ events.Type, cust, item string, minutes int) {
	t.Helper()
	in := events.Input{EventID: fmt.Sprintf("%s-%s-%s-%d", typ, cust, item, minutes), Type: typ, CustomerID: cust, ItemID: item,
		Timestamp: t0.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)}
	if cust == "" {
		in.AnonymousID = "anon-1"
	}
	if typ == events.Purchase {
		q := int64(1)
		in.Quantity, in.Price, in.Currency, in.OrderID = &q, "9.99", "GBP", "o-"+strconv.Itoa(minutes)
	}
	raw, _ := json.Marshal(in)
	out := r.ingest.Ingest(context.Background(), []json.RawMessage{raw}, nil)
	if out[0].Status != events.Accepted {
		t.Fatalf("event %s: %+v", in.EventID, out[0])
	}
}

// runAt runs the job at t0 plus d.
func (r *cartRig) runAt(t *testing.T, d time.Duration) service.AbandonReport {
	t.Helper()
	r.clock = t0.Add(d)
	rep, err := r.job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func abandoned(t *testing.T, b *busmemory.Bus) []service.CartAbandoned {
	t.Helper()
	var out []service.CartAbandoned
	for _, e := range b.OfType(service.TypeCartAbandoned) {
		var d service.CartAbandoned
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestCartAbandonedOncePerCart: a cart with items not bought goes out once
// the default delay has passed since its first add, once, with its items
// and the consented channels, under the cart's id.
func TestCartAbandonedOncePerCart(t *testing.T) {
	r := newCartRig()
	r.carts.SetChannels("c-1", "email")
	r.send(t, events.AddToCart, "c-1", "sku-1", 0)
	r.send(t, events.AddToCart, "c-1", "sku-2", 10)
	r.send(t, events.View, "c-1", "sku-3", 20)
	if rep := r.runAt(t, 4*time.Hour-time.Second); rep.Due != 0 || len(r.bus.Entries()) != 0 {
		t.Fatalf("cart announced before the delay: %+v", rep)
	}
	if rep := r.runAt(t, 4*time.Hour); rep.Published != 1 {
		t.Fatalf("at the delay: %+v", rep)
	}
	got := abandoned(t, r.bus)
	if len(got) != 1 || got[0].CustomerID != "c-1" || !slices.Equal(got[0].Items, []string{"sku-1", "sku-2"}) ||
		!got[0].StartedAt.Equal(t0) || got[0].DelayMinutes != 240 || !slices.Equal(got[0].Channels, []string{"email"}) {
		t.Fatalf("cart.abandoned %+v", got)
	}
	e := r.bus.Entries()[0]
	var id struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(e.Detail, &id)
	if want := "cart.abandoned:c-1:" + strconv.FormatInt(t0.Unix(), 10); id.EventID != want || e.Source != "tailor.events" ||
		!e.Time.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("envelope %s %s %v", id.EventID, e.Source, e.Time)
	}
	if rep := r.runAt(t, 6*time.Hour); rep.Due != 0 || len(r.bus.Entries()) != 1 {
		t.Fatalf("cart announced twice: %+v", rep)
	}
}

// TestPurchaseInsideDelaySuppresses: buying the items within the delay
// leaves nothing to announce; buying some leaves the others.
func TestPurchaseInsideDelaySuppresses(t *testing.T) {
	r := newCartRig()
	r.carts.SetChannels("c-1", "email", "sms")
	r.carts.SetChannels("c-2", "email")
	r.send(t, events.AddToCart, "c-1", "sku-1", 0)
	r.send(t, events.Purchase, "c-1", "sku-1", 50)
	r.send(t, events.AddToCart, "c-2", "sku-1", 0)
	r.send(t, events.AddToCart, "c-2", "sku-2", 1)
	r.send(t, events.Purchase, "c-2", "sku-2", 55)
	r.runAt(t, 5*time.Hour)
	got := abandoned(t, r.bus)
	if len(got) != 1 || got[0].CustomerID != "c-2" || !slices.Equal(got[0].Items, []string{"sku-1"}) {
		t.Fatalf("cart.abandoned %+v; want only c-2's sku-1", got)
	}
}

// TestNoConsentNoCartEvent: a customer without a marketing consent, and an
// anonymous visitor, get no cart.abandoned; the cart is dropped.
func TestNoConsentNoCartEvent(t *testing.T) {
	r := newCartRig()
	r.carts.SetChannels("c-1")
	r.send(t, events.AddToCart, "c-1", "sku-1", 0)
	r.send(t, events.AddToCart, "", "sku-1", 0)
	if rep := r.runAt(t, 5*time.Hour); rep.Due != 1 || rep.NoConsent != 1 || len(r.bus.Entries()) != 0 {
		t.Fatalf("no consent: %+v, %d events", rep, len(r.bus.Entries()))
	}
	r.carts.SetChannels("c-1", "email")
	if rep := r.runAt(t, 6*time.Hour); rep.Due != 0 || len(r.bus.Entries()) != 0 {
		t.Fatalf("dropped cart announced after consent: %+v", rep)
	}
}

// TestErasureSuppressesPendingCart: erasing a customer with a pending cart
// announces nothing: erasure deletes the cart, and a cart left by a race
// with erasure finds no customer and is dropped.
func TestErasureSuppressesPendingCart(t *testing.T) {
	r := newCartRig()
	r.carts.SetChannels("c-1", "email")
	r.carts.SetChannels("c-2", "email")
	r.send(t, events.AddToCart, "c-1", "sku-1", 0)
	r.send(t, events.AddToCart, "c-2", "sku-1", 0)
	r.carts.Erase("c-1")
	// c-2's record goes, its cart stays: what erasure racing an add leaves.
	r.carts.Erase("c-2")
	r.send(t, events.AddToCart, "c-2", "sku-2", 5)
	if rep := r.runAt(t, 5*time.Hour); rep.Gone != 1 || len(r.bus.Entries()) != 0 {
		t.Fatalf("erased customers' carts: %+v, %d events", rep, len(r.bus.Entries()))
	}
	if _, ok := r.carts.Cart("c-2"); ok {
		t.Fatal("erased customer's cart kept")
	}
}

// failDelete fails every DeleteCart, as a crash after the publish would.
type failDelete struct{ *memory.Carts }

func (f failDelete) DeleteCart(context.Context, events.Cart) (bool, error) {
	return false, fmt.Errorf("delete failed")
}

// TestRetriedRunRepublishesTheSameEvent: a run that published and could
// not delete the cart publishes the same event (same id and time) again.
func TestRetriedRunRepublishesTheSameEvent(t *testing.T) {
	r := newCartRig()
	r.carts.SetChannels("c-1", "email")
	r.send(t, events.AddToCart, "c-1", "sku-1", 0)
	r.job.Carts = failDelete{r.carts}
	r.clock = t0.Add(5 * time.Hour)
	if _, err := r.job.Run(context.Background()); err == nil {
		t.Fatal("run with a failing delete succeeded")
	}
	r.job.Carts = r.carts
	r.runAt(t, 6*time.Hour)
	es := r.bus.Entries()
	if len(es) != 2 || string(es[0].Detail) != string(es[1].Detail) || !es[0].Time.Equal(es[1].Time) {
		t.Fatalf("retry published %d events: %v", len(es), es)
	}
}
