package edge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/apigw/apigwtest"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/edge"
	"tailor/shared/recommendations/service"
	"tailor/shared/recommendations/service/servicetest"
	"tailor/shared/recommendations/training"
)

type harness struct {
	t      *testing.T
	shop   *servicetest.Memory
	router *apigw.Router
	// clock is the service's clock.
	clock *time.Time
}

// newHarness stores the shop in memory, trains as of the shop's clock (so
// the customer's own events are in the model) and serves the three routes.
func newHarness(t *testing.T) *harness {
	t.Helper()
	shop := servicetest.NewMemory(t)
	train(t, shop.Store, servicetest.Now)
	clock := servicetest.Now
	return &harness{t: t, shop: shop, router: serveClock(shop.Store, &clock), clock: &clock}
}

// train runs the training job on store as of asOf.
func train(t *testing.T, store training.Store, asOf time.Time) {
	t.Helper()
	job := &training.Job{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return asOf }}
	if _, err := job.Run(context.Background(), asOf); err != nil {
		t.Fatal(err)
	}
}

// serve returns a router of the three routes over store, with the clock
// stopped at now.
func serve(store service.Store, now time.Time) *apigw.Router { return serveClock(store, &now) }

// serveClock returns a router of the three routes over store, with the
// clock reading *clock.
func serveClock(store service.Store, clock *time.Time) *apigw.Router {
	svc := &service.Service{Store: store, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return *clock },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	r := apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	(&edge.API{Service: svc}).Register(r)
	return r
}

// sample loads events/recommend/<name>, replaces its query string with
// query (nil keeps the sample's) and its path id with id ("" keeps it).
func sample(t *testing.T, name, id string, query map[string]string) apigw.Event {
	t.Helper()
	ev := apigwtest.Request(t, "recommend", name)
	if id != "" {
		old := ev.PathParameters["id"]
		ev.PathParameters["id"] = id
		ev.RawPath = strings.Replace(ev.RawPath, "/"+old+"/", "/"+id+"/", 1)
	}
	if query != nil {
		ev.QueryStringParameters = query
		v := url.Values{}
		for k, x := range query {
			v.Set(k, x)
		}
		ev.RawQueryString = v.Encode()
	}
	return ev
}

type item struct {
	ItemID   string                  `json:"item_id"`
	Title    string                  `json:"title"`
	Category []string                `json:"category"`
	Price    string                  `json:"price"`
	Score    float64                 `json:"score"`
	Backfill bool                    `json:"backfill"`
	Reason   *recommendations.Reason `json:"reason"`
}

type answer struct {
	Status       int
	Personalized bool              `json:"personalized"`
	Items        []item            `json:"items"`
	Type         string            `json:"type"`
	Errors       []json.RawMessage `json:"errors"`
}

func (a answer) ids() []string {
	out := make([]string, len(a.Items))
	for i, it := range a.Items {
		out[i] = it.ItemID
	}
	return out
}

func (h *harness) do(ev apigw.Event) answer {
	h.t.Helper()
	out, err := h.router.Serve(context.Background(), ev)
	if err != nil {
		h.t.Fatal(err)
	}
	a := answer{Status: out.StatusCode}
	if err := json.Unmarshal([]byte(out.Body), &a); err != nil {
		h.t.Fatalf("body is not JSON: %q", out.Body)
	}
	return a
}

func (h *harness) recs(query map[string]string) answer {
	h.t.Helper()
	a := h.do(sample(h.t, "recommendations.json", "", query))
	if a.Status != 200 {
		h.t.Fatalf("recommendations %v: status %d %+v", query, a.Status, a)
	}
	return a
}

var purchasedByCustomer = []string{servicetest.Mug}

func noneOf(t *testing.T, a answer, what string, ids ...string) {
	t.Helper()
	for _, it := range a.Items {
		if slices.Contains(ids, it.ItemID) {
			t.Fatalf("%s %s is in the answer %v", what, it.ItemID, a.ids())
		}
	}
}

func distinct(t *testing.T, a answer) {
	t.Helper()
	ids := a.ids()
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(a.Items) {
		t.Fatalf("repeated items in %v", a.ids())
	}
}

func TestRecommendations(t *testing.T) {
	h := newHarness(t)

	t.Run("sample event: mixed, in-cart excluded, explained", func(t *testing.T) {
		a := h.do(sample(t, "recommendations.json", "", nil))
		if a.Status != 200 || !a.Personalized || len(a.Items) != 5 {
			t.Fatalf("%d personalized=%v items %v", a.Status, a.Personalized, a.ids())
		}
		noneOf(t, a, "out-of-stock", servicetest.Spoon)
		noneOf(t, a, "in-cart", servicetest.Towel)
		if !slices.Contains(a.ids(), servicetest.Mug) {
			t.Fatalf("mixed mode lacks the buy-again mug: %v", a.ids())
		}
		for _, it := range a.Items {
			if it.Reason == nil || it.Reason.Text == "" || it.Title == "" || it.Price == "" {
				t.Fatalf("item without reason or attributes: %+v", it)
			}
		}
		distinct(t, a)
	})

	t.Run("discover ranks only new items, neighbours of the history first", func(t *testing.T) {
		a := h.recs(map[string]string{"mode": "discover", "limit": "5", "explain": "true"})
		noneOf(t, a, "purchased", purchasedByCustomer...)
		noneOf(t, a, "out-of-stock", servicetest.Spoon)
		if a.Items[0].ItemID != servicetest.Teapot || a.Items[0].Backfill {
			t.Fatalf("discover = %v; want the teapot (the mug's strongest in-stock neighbour) first", a.ids())
		}
		if r := a.Items[0].Reason; r.Kind != recommendations.ReasonBought || r.Items[0] != servicetest.Mug {
			t.Fatalf("teapot reason = %+v; want because you bought the mug", r)
		}
	})

	t.Run("exclude purchased in mixed mode drops buy-again too", func(t *testing.T) {
		a := h.recs(map[string]string{"exclude": "purchased", "limit": "14"})
		noneOf(t, a, "purchased", purchasedByCustomer...)
		if len(a.Items) != 13 {
			t.Fatalf("%d items %v; want every in-stock item but the mug (13)", len(a.Items), a.ids())
		}
	})

	t.Run("buy again ranks past purchases, then backfills", func(t *testing.T) {
		a := h.recs(map[string]string{"mode": "buy_again", "limit": "3", "explain": "true"})
		if len(a.Items) != 3 || a.Items[0].ItemID != servicetest.Mug || a.Items[0].Backfill || a.Items[0].Score <= 0 {
			t.Fatalf("buy again = %+v", a.Items)
		}
		for _, it := range a.Items[1:] {
			if !it.Backfill || it.Score != 0 {
				t.Fatalf("item after the only purchase is not marked backfill: %+v", it)
			}
		}
	})

	t.Run("in cart is excluded only when asked", func(t *testing.T) {
		all := h.recs(map[string]string{"mode": "discover", "limit": "13"})
		if !slices.Contains(all.ids(), servicetest.Towel) {
			t.Fatalf("the towel (in the cart, not bought) should be recommendable: %v", all.ids())
		}
		a := h.recs(map[string]string{"mode": "discover", "limit": "13", "exclude": "in_cart,purchased"})
		noneOf(t, a, "in-cart", servicetest.Towel)
		noneOf(t, a, "purchased", purchasedByCustomer...)
	})

	t.Run("category filter", func(t *testing.T) {
		for _, cat := range []string{"Garden", "Home/Bath", "Home"} {
			a := h.recs(map[string]string{"category": cat, "limit": "3"})
			if len(a.Items) != 3 {
				t.Fatalf("category %s: %v", cat, a.ids())
			}
			for _, it := range a.Items {
				if p := strings.Join(it.Category, "/"); p != cat && !strings.HasPrefix(p, cat+"/") {
					t.Fatalf("category %s answered %s of %s", cat, it.ItemID, p)
				}
			}
		}
	})

	t.Run("price range", func(t *testing.T) {
		a := h.recs(map[string]string{"min_price": "20", "limit": "5"})
		if got := strings.Join(sortedIDs(a), ","); got != "sku-44,sku-45,sku-62" {
			t.Fatalf("items from 20.00 = %s; want the three in-stock items that cost that much", got)
		}
		a = h.recs(map[string]string{"max_price": "5.00", "min_price": "3", "limit": "5"})
		if got := strings.Join(sortedIDs(a), ","); got != "sku-43,sku-70" {
			t.Fatalf("items from 3.00 to 5.00 = %s; want towel and ball (the spoon is out of stock)", got)
		}
	})

	t.Run("limit is met whenever the catalogue allows, backfill marked", func(t *testing.T) {
		a := h.recs(map[string]string{"mode": "discover", "limit": "12", "explain": "true"})
		if len(a.Items) != 12 {
			t.Fatalf("%d items", len(a.Items))
		}
		distinct(t, a)
		seenBackfill := false
		for _, it := range a.Items {
			if it.Backfill {
				seenBackfill = true
				if it.Score != 0 || (it.Reason.Kind != recommendations.ReasonPopular && it.Reason.Kind != recommendations.ReasonPopularIn && it.Reason.Kind != recommendations.ReasonCatalogFill) {
					t.Fatalf("backfill item %+v", it)
				}
			} else if seenBackfill {
				t.Fatalf("a ranked item after a backfilled one: %v", a.Items)
			}
		}
		if !seenBackfill {
			t.Fatal("twelve items from a three-item history should need backfill")
		}
	})

	t.Run("unknown customer gets popular items", func(t *testing.T) {
		a := h.do(sample(t, "recommendations.json", "nobody", map[string]string{"explain": "true", "limit": "4"}))
		if a.Status != 200 || a.Personalized || len(a.Items) != 4 || a.Items[0].ItemID != servicetest.Mug {
			t.Fatalf("%d %v %v", a.Status, a.Personalized, a.ids())
		}
		for _, it := range a.Items {
			if !it.Backfill || it.Reason.Kind != recommendations.ReasonPopular {
				t.Fatalf("cold start item %+v", it)
			}
		}
	})

	t.Run("unknown customer asking for a category gets popular in it", func(t *testing.T) {
		a := h.do(sample(t, "recommendations.json", "nobody", map[string]string{"explain": "true", "category": "Garden"}))
		if a.Status != 200 || len(a.Items) != 3 {
			t.Fatalf("%d %v", a.Status, a.ids())
		}
		for _, it := range a.Items {
			if it.Reason.Kind != recommendations.ReasonPopularIn || it.Reason.Category != "Garden" {
				t.Fatalf("cold start item %+v", it)
			}
		}
	})

	t.Run("invalid parameters", func(t *testing.T) {
		bad := []struct {
			query map[string]string
			field string
		}{
			{map[string]string{"limit": "0"}, "limit"},
			{map[string]string{"limit": "51"}, "limit"},
			{map[string]string{"limit": "ten"}, "limit"},
			{map[string]string{"mode": "surprise"}, "mode"},
			{map[string]string{"exclude": "viewed"}, "exclude"},
			{map[string]string{"exclude": "purchased", "mode": "buy_again"}, "exclude"},
			{map[string]string{"min_price": "-1"}, "min_price"},
			{map[string]string{"min_price": "1.234"}, "min_price"},
			{map[string]string{"min_price": "20", "max_price": "10"}, "min_price"},
			{map[string]string{"max_price": "0"}, "max_price"},
			{map[string]string{"currency": "XXQ"}, "currency"},
			{map[string]string{"explain": "yes"}, "explain"},
			{map[string]string{"category": "Home#1"}, "category"},
			{map[string]string{"category": ""}, "category"},
			{map[string]string{"category": "Home//Bath"}, "category"},
			{map[string]string{"category": "Home/ /Bath"}, "category"},
			{map[string]string{"category": strings.Repeat("x", 101)}, "category"},
			{map[string]string{"limt": "5"}, "limt"},
		}
		for _, tc := range bad {
			a := h.do(sample(t, "recommendations.json", "", tc.query))
			if a.Status != 400 || a.Type != "/problems/invalid-request" || !strings.Contains(string(slices.Concat(a.Errors...)), `"field":"`+tc.field+`"`) {
				t.Errorf("%v: %d %s %s", tc.query, a.Status, a.Type, slices.Concat(a.Errors...))
			}
		}
		if a := h.do(sample(t, "recommendations.json", "bad id!", nil)); a.Status != 400 {
			t.Errorf("bad customer id: %d", a.Status)
		}
	})
}

func sortedIDs(a answer) []string {
	ids := a.ids()
	slices.Sort(ids)
	return ids
}

func TestSimilar(t *testing.T) {
	h := newHarness(t)

	a := h.do(sample(t, "similar.json", "", map[string]string{"limit": "3", "explain": "true"}))
	if a.Status != 200 || len(a.Items) != 3 {
		t.Fatalf("%d %v", a.Status, a.ids())
	}
	if a.Items[0].ItemID != servicetest.Teapot {
		t.Fatalf("similar to the mug = %v; want its most co-purchased in-stock item, the teapot, first", a.ids())
	}
	for _, it := range a.Items {
		if it.Backfill || !slices.Contains([]string{servicetest.Teapot, servicetest.Kettle, servicetest.Towel, "sku-50"}, it.ItemID) {
			t.Fatalf("similar to the mug = %+v; want only items bought with it", a.Items)
		}
	}
	noneOf(t, a, "out-of-stock", servicetest.Spoon)
	noneOf(t, a, "the item itself", servicetest.Mug)
	if r := a.Items[0].Reason; r == nil || r.Kind != recommendations.ReasonSimilar {
		t.Fatalf("reason %+v", r)
	}

	// The sample excludes c-123's purchases and cart: asked about the
	// teapot, the mug (bought) and the towel (in the cart) must go.
	a = h.do(sample(t, "similar.json", servicetest.Teapot, nil))
	if a.Status != 200 || len(a.Items) != 5 {
		t.Fatalf("%d %v", a.Status, a.ids())
	}
	noneOf(t, a, "excluded customer's", servicetest.Mug, servicetest.Towel)

	// A new item has no neighbours: items of its shelf, brand and price
	// band stand in, marked backfill.
	a = h.do(sample(t, "similar.json", servicetest.NewMug, map[string]string{"limit": "2", "explain": "true"}))
	if a.Status != 200 || strings.Join(a.ids(), ",") != servicetest.Mug+","+servicetest.Teapot {
		t.Fatalf("similar to a new mug = %d %v; want the mug and the teapot (same shelf and brand)", a.Status, a.ids())
	}
	for _, it := range a.Items {
		if !it.Backfill || it.Reason.Kind != recommendations.ReasonAttributes {
			t.Fatalf("attribute neighbour %+v", it)
		}
	}

	if a = h.do(sample(t, "similar.json", "no-such-item", map[string]string{})); a.Status != 404 {
		t.Fatalf("unknown item: %d", a.Status)
	}
	if a = h.do(sample(t, "similar.json", "", map[string]string{"exclude_customer": "x y"})); a.Status != 400 {
		t.Fatalf("bad exclude_customer: %d", a.Status)
	}
}

func TestPopular(t *testing.T) {
	h := newHarness(t)

	a := h.do(sample(t, "popular.json", "", nil)) // 7 days, Home, 5
	if a.Status != 200 || len(a.Items) == 0 {
		t.Fatalf("%d %v", a.Status, a.ids())
	}
	for _, it := range a.Items {
		if it.Category[0] != "Home" || it.ItemID == servicetest.Spoon {
			t.Fatalf("popular in Home this week: %v", a.Items)
		}
	}
	a = h.do(sample(t, "popular.json", "", map[string]string{"window": "30d", "limit": "20"}))
	if len(a.Items) != 13 || a.Items[0].ItemID != servicetest.Mug {
		t.Fatalf("popular this month = %v; want the 13 in-stock items touched, the mug first", a.ids())
	}
	noneOf(t, a, "out-of-stock", servicetest.Spoon)
	a = h.do(sample(t, "popular.json", "", map[string]string{"window": "1d"}))
	if strings.Join(a.ids(), ",") != servicetest.Towel {
		t.Fatalf("popular today = %v; want the towel, carted an hour ago", a.ids())
	}
	a = h.do(sample(t, "popular.json", "", map[string]string{"window": "30d", "category": "Home/Bath"}))
	if got := strings.Join(sortedIDs(a), ","); got != "sku-43,sku-50,sku-51" {
		t.Fatalf("popular in Home/Bath = %s", got)
	}
	for _, w := range []string{"2d", "7", "week", ""} {
		if a = h.do(sample(t, "popular.json", "", map[string]string{"window": w})); a.Status != 400 {
			t.Errorf("window %q: %d", w, a.Status)
		}
	}
}

// TestFreshness: the customer record is read at request time, so an event
// ingested a moment ago changes the next answer; a stock change in the
// catalogue reaches answers at the next catalogue refresh (within
// service.DefaultRefreshEvery, 30 s); only the neighbour lists wait for
// the night.
func TestFreshness(t *testing.T) {
	h := newHarness(t)
	q := map[string]string{"mode": "discover", "limit": "5", "explain": "true"}
	before := h.recs(q)
	if slices.Contains(before.ids(), "sku-72") {
		t.Fatalf("the puzzle is already recommended: %v", before.ids())
	}
	h.shop.Send(t, map[string]any{"event_id": "fresh-1", "type": "add_to_cart", "customer_id": servicetest.Customer,
		"item_id": "sku-71", "timestamp": servicetest.Now.Add(-time.Minute).Format(time.RFC3339)})
	after := h.recs(q)
	n := slices.Index(after.ids(), "sku-72")
	if n < 0 || after.Items[n].Backfill || after.Items[n].Reason.Kind != recommendations.ReasonCarted || after.Items[n].Reason.Items[0] != "sku-71" {
		t.Fatalf("after carting the kite: %v; want the puzzle (bought with kites), because of the cart", after.ids())
	}

	// The teapot sells out: gone once the refresh interval has passed.
	*h.clock = h.clock.Add(time.Second)
	for _, in := range servicetest.Items() {
		if in.ItemID == servicetest.Teapot {
			no := false
			in.InStock = &no
			h.shop.PutItemAt(t, in, *h.clock)
		}
	}
	*h.clock = h.clock.Add(service.DefaultRefreshEvery)
	noneOf(t, h.recs(q), "sold-out", servicetest.Teapot)
	noneOf(t, h.do(sample(t, "similar.json", "", nil)), "sold-out", servicetest.Teapot)
}

func TestPersonalizationConsentWithdrawn(t *testing.T) {
	h := newHarness(t)
	c, err := customers.Replace(servicetest.Customer, nil, customers.Replacement{Consent: map[string]bool{"personalization": false}}, servicetest.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.shop.SetConsent(t, servicetest.Customer, c.Consent)
	a := h.recs(map[string]string{"explain": "true"})
	if a.Personalized || len(a.Items) != 10 {
		t.Fatalf("personalized=%v %v", a.Personalized, a.ids())
	}
	for _, it := range a.Items {
		if !it.Backfill || it.Reason.Kind != recommendations.ReasonPopular {
			t.Fatalf("item %+v of a customer who said no to personalization", it)
		}
	}
}

// TestQuietShopStillFillsLists trains two months after the shop's last
// event, so the 30-day popularity lists are empty: lists must still be full,
// from the year-long list, for unknown customers and similar items alike.
func TestQuietShopStillFillsLists(t *testing.T) {
	shop := servicetest.NewMemory(t)
	later := servicetest.Now.AddDate(0, 0, 60)
	train(t, shop.Store, later)
	h := &harness{t: t, shop: shop, router: serve(shop.Store, later)}

	a := h.do(sample(t, "recommendations.json", "nobody-new", map[string]string{"limit": "3"}))
	if a.Status != 200 || len(a.Items) != 3 {
		t.Fatalf("unknown customer in a quiet shop: %d %v", a.Status, a.ids())
	}
	noneOf(t, a, "out-of-stock", servicetest.Spoon)
}
