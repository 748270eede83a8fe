package service_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/memory"
	"tailor/shared/recommendations/service"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// The little shop: a customer who bought the mug two days ago, viewed the
// trowel yesterday and put the towel in the cart an hour ago. The mug's
// strongest neighbours are the spoon (out of stock) and the plate (no
// longer in the catalogue), then the teapot. The ball sold only earlier
// in the year. The new mug is in no list, so no request reaches it but
// the similar items of the new mug itself.
const customer = "c-1"

type row struct {
	id, brand string
	price     int64
	inStock   bool
	category  []string
}

var rows = []row{
	{"mug", "Acme", 1000, true, []string{"Home", "Kitchen"}},
	{"teapot", "Acme", 2500, true, []string{"Home", "Kitchen"}},
	{"spoon", "Acme", 300, false, []string{"Home", "Kitchen"}},
	{"plate", "Hearth", 800, true, []string{"Home", "Kitchen"}},
	{"newmug", "Acme", 1100, true, []string{"Home", "Kitchen"}},
	{"towel", "Loom", 500, true, []string{"Home", "Bath"}},
	{"trowel", "Digger", 900, true, []string{"Garden"}},
	{"gloves", "Digger", 600, true, []string{"Garden"}},
	{"kite", "Play", 1200, true, []string{"Toys"}},
	{"ball", "Play", 500, true, []string{"Toys"}},
}

func catalogItem(r row) catalog.Item {
	return catalog.Item{ID: r.id, Title: "The " + r.id, Category: r.category, Brand: r.brand, PriceMinor: r.price,
		Currency: "GBP", InStock: r.inStock, CreatedAt: now, UpdatedAt: now}
}

// shop stores the catalogue, the customer and the trained lists; the
// plate's catalogue row is deleted after training.
func shop(t *testing.T) *memory.Store {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	attrs := map[string]recommendations.Item{}
	for _, r := range rows {
		it := catalogItem(r)
		must(t, s.PutItem(ctx, it))
		attrs[r.id] = recommendations.CatalogItem(it)
	}
	day := func(d float64) time.Time { return now.Add(-time.Duration(d * 24 * float64(time.Hour))) }
	agg := customers.Fold([]events.Event{
		{ID: "e1", Type: events.View, CustomerID: customer, ItemID: "mug", Category: "Home", Time: day(2.1)},
		{ID: "e2", Type: events.Purchase, CustomerID: customer, ItemID: "mug", Category: "Home", Quantity: 1, PriceMinor: 1000,
			Currency: "GBP", OrderID: "o1", Time: day(2)},
		{ID: "e3", Type: events.View, CustomerID: customer, ItemID: "trowel", Category: "Garden", Time: day(1)},
		{ID: "e4", Type: events.AddToCart, CustomerID: customer, ItemID: "towel", Category: "Home", Quantity: 1, Time: now.Add(-time.Hour)},
	})
	must(t, s.PutShopper(ctx, customer, recommendations.Shopper{Aggregates: agg}))
	model := &recommendations.Model{AsOf: day(0.5), Items: map[string]recommendations.ItemModel{
		"mug": {ItemID: "mug", RepeatRate: 0.4, Customers: 10, Neighbours: []recommendations.Neighbour{
			{ItemID: "spoon", Score: 0.9}, {ItemID: "plate", Score: 0.8}, {ItemID: "teapot", Score: 0.7}, {ItemID: "towel", Score: 0.2}}},
		"trowel": {ItemID: "trowel", RepeatRate: 0.1, Customers: 4, Neighbours: []recommendations.Neighbour{{ItemID: "gloves", Score: 0.6}}},
		"teapot": {ItemID: "teapot", Customers: 8, Neighbours: []recommendations.Neighbour{{ItemID: "mug", Score: 0.7}, {ItemID: "kite", Score: 0.1}}},
	}}
	_, err := s.WriteNeighbours(ctx, model, attrs, nil)
	must(t, err)
	scored := func(pairs ...any) []recommendations.ScoredItem {
		var out []recommendations.ScoredItem
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, recommendations.ScoredItem{ItemID: pairs[i].(string), Score: pairs[i+1].(float64)})
		}
		return out
	}
	must(t, s.WritePopular(ctx, []recommendations.PopularList{
		{WindowDays: 30, Items: scored("mug", 10.0, "teapot", 8.0, "spoon", 6.0, "trowel", 5.0, "kite", 3.0)},
		{WindowDays: 30, Category: "Home", Items: scored("mug", 10.0, "teapot", 8.0, "spoon", 6.0, "towel", 2.0)},
		{WindowDays: 30, Category: "Garden", Items: scored("trowel", 5.0, "gloves", 1.0)},
		{WindowDays: 30, Category: "Toys", Items: scored("kite", 3.0)},
		{WindowDays: 365, Items: scored("ball", 50.0, "mug", 40.0, "kite", 1.0)},
	}, attrs, day(0.5)))
	must(t, s.DeleteItem(ctx, "plate"))
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newService(store service.Store) *service.Service {
	return &service.Service{Store: store, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return now }}
}

func ids(items []service.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ItemID
	}
	return out
}

func recommend(t *testing.T, svc *service.Service, q service.Query) service.List {
	t.Helper()
	if q.CustomerID == "" {
		q.CustomerID = customer
	}
	if q.Mode == "" {
		q.Mode = recommendations.Mixed
	}
	q.Explain = true
	l, err := svc.Recommend(context.Background(), q)
	must(t, err)
	seen := map[string]bool{}
	for _, it := range l.Items {
		if seen[it.ItemID] {
			t.Fatalf("%s twice in %v", it.ItemID, ids(l.Items))
		}
		seen[it.ItemID] = true
		if it.Reason == nil || it.Title == "" || it.Price == "" || it.Currency != "GBP" {
			t.Fatalf("item without reason or live attributes: %+v", it)
		}
	}
	return l
}

func noneOf(t *testing.T, items []service.Item, what string, bad ...string) {
	t.Helper()
	for _, it := range items {
		if slices.Contains(bad, it.ItemID) {
			t.Fatalf("%s %s in %v", what, it.ItemID, ids(items))
		}
	}
}

func TestRecommendModes(t *testing.T) {
	svc := newService(shop(t))

	t.Run("discover", func(t *testing.T) {
		l := recommend(t, svc, service.Query{Mode: recommendations.Discover, Limit: 3})
		if !l.Personalized || l.Mode != recommendations.Discover || len(l.Items) != 3 {
			t.Fatalf("list = %+v", l)
		}
		first := l.Items[0]
		if first.ItemID != "teapot" || first.Backfill || first.Score <= 0 || first.Reason.Kind != recommendations.ReasonBought ||
			first.Reason.Items[0] != "mug" {
			t.Fatalf("first = %+v; want the teapot, the mug's strongest neighbour in stock and in the catalogue", first)
		}
		noneOf(t, l.Items, "purchased", "mug")
		noneOf(t, l.Items, "out-of-stock or deleted", "spoon", "plate")
		for _, it := range l.Items {
			if !it.Backfill && !slices.Contains([]string{"teapot", "towel", "gloves"}, it.ItemID) {
				t.Fatalf("ranked %s, which no history item lists", it.ItemID)
			}
		}
	})

	t.Run("buy again", func(t *testing.T) {
		l := recommend(t, svc, service.Query{Mode: recommendations.BuyAgain, Limit: 3})
		if len(l.Items) != 3 || l.Items[0].ItemID != "mug" || l.Items[0].Backfill || l.Items[0].Score <= 0 ||
			l.Items[0].Reason.Kind != recommendations.ReasonBuyAgain {
			t.Fatalf("buy again = %+v; want the mug first", l.Items)
		}
		for _, it := range l.Items[1:] {
			if !it.Backfill || it.Score != 0 {
				t.Fatalf("item after the only purchase is not backfill: %+v", it)
			}
		}
	})

	t.Run("mixed", func(t *testing.T) {
		l := recommend(t, svc, service.Query{Mode: recommendations.Mixed, Limit: 4})
		got := ids(l.Items)
		// The mug's buy-again part, 2·ln(1 + (1 + 10/11)·√0.4) = 1.58, puts
		// it beside the teapot, the mug's strongest neighbour in stock.
		if len(got) != 4 || !slices.Contains(got[:2], "mug") || !slices.Contains(got[:2], "teapot") || l.Items[0].Backfill || l.Items[1].Backfill {
			t.Fatalf("mixed = %v; want the mug (bought before) and the teapot first", got)
		}
		noneOf(t, l.Items, "out-of-stock or deleted", "spoon", "plate")
	})

	t.Run("scores are rounded to six digits", func(t *testing.T) {
		for _, it := range recommend(t, svc, service.Query{Mode: recommendations.Discover, Limit: 5}).Items {
			if it.Score != recommendations.Round6(it.Score) {
				t.Fatalf("score %v of %s", it.Score, it.ItemID)
			}
		}
	})
}

func TestRecommendFilters(t *testing.T) {
	svc := newService(shop(t))

	t.Run("category", func(t *testing.T) {
		for _, tc := range []struct {
			category string
			want     []string
		}{
			{"Garden", []string{"gloves", "trowel"}},
			{"Home/Bath", []string{"towel"}},
			{"/Home/Kitchen/", []string{"mug", "teapot"}},
			{"Hom", nil},
		} {
			l := recommend(t, svc, service.Query{Category: tc.category, Limit: 10})
			got := ids(l.Items)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("category %q = %v, want %v", tc.category, got, tc.want)
			}
		}
	})

	t.Run("exclude purchased, in mixed mode too", func(t *testing.T) {
		l := recommend(t, svc, service.Query{ExcludePurchased: true, Limit: 10})
		noneOf(t, l.Items, "purchased", "mug")
		if len(l.Items) != 6 {
			t.Fatalf("%v; want the six reachable, live, in-stock items but the mug", ids(l.Items))
		}
	})

	t.Run("in cart only when asked", func(t *testing.T) {
		if l := recommend(t, svc, service.Query{Mode: recommendations.Discover, Limit: 10}); !slices.Contains(ids(l.Items), "towel") {
			t.Fatalf("the towel (carted, not bought) should be recommendable: %v", ids(l.Items))
		}
		noneOf(t, recommend(t, svc, service.Query{Mode: recommendations.Discover, Limit: 10, ExcludeInCart: true}).Items, "in-cart", "towel")
	})

	t.Run("price", func(t *testing.T) {
		l := recommend(t, svc, service.Query{MinPriceMinor: 1000, MaxPriceMinor: 1200, Limit: 10})
		got := ids(l.Items)
		slices.Sort(got)
		if strings.Join(got, ",") != "kite,mug" {
			t.Fatalf("10.00 to 12.00 = %v", got)
		}
	})

	t.Run("live rows decide: sold out and deleted items go at once", func(t *testing.T) {
		s := shop(t)
		svc := newService(s)
		ctx := context.Background()
		q := service.Query{Mode: recommendations.Discover, Limit: 10}
		if !slices.Contains(ids(recommend(t, svc, q).Items), "teapot") {
			t.Fatal("the teapot is missing before it sold out")
		}
		soldOut := catalogItem(rows[1])
		soldOut.InStock = false
		must(t, s.PutItem(ctx, soldOut))
		noneOf(t, recommend(t, svc, q).Items, "sold-out", "teapot")
		must(t, s.DeleteItem(ctx, "gloves"))
		noneOf(t, recommend(t, svc, q).Items, "deleted", "gloves", "teapot", "spoon", "plate")
	})
}

func TestRecommendColdStartAndBackfill(t *testing.T) {
	t.Run("unknown customer: the 30-day list, then the year-long one", func(t *testing.T) {
		l := recommend(t, newService(shop(t)), service.Query{CustomerID: "nobody", Limit: 5})
		if l.Personalized || strings.Join(ids(l.Items), ",") != "mug,teapot,trowel,kite,ball" {
			t.Fatalf("cold start = %v personalized=%v; want the in-stock 30-day list, then the ball from the year's", ids(l.Items), l.Personalized)
		}
		for _, it := range l.Items {
			if !it.Backfill || it.Score != 0 || it.Reason.Kind != recommendations.ReasonPopular {
				t.Fatalf("cold start item %+v", it)
			}
		}
	})

	t.Run("unknown customer asking for a category: popular in it", func(t *testing.T) {
		l := recommend(t, newService(shop(t)), service.Query{CustomerID: "nobody", Category: "Garden", Limit: 5})
		if strings.Join(ids(l.Items), ",") != "trowel,gloves" {
			t.Fatalf("cold start in Garden = %v", ids(l.Items))
		}
		for _, it := range l.Items {
			if it.Reason.Kind != recommendations.ReasonPopularIn || it.Reason.Category != "Garden" {
				t.Fatalf("cold start item %+v", it)
			}
		}
	})

	t.Run("a short history is backfilled, ranked items first", func(t *testing.T) {
		l := recommend(t, newService(shop(t)), service.Query{Mode: recommendations.Discover, Limit: 8})
		if len(l.Items) != 6 {
			t.Fatalf("%v; want the six reachable, live, in-stock items but the mug", ids(l.Items))
		}
		backfill := false
		for _, it := range l.Items {
			switch {
			case it.Backfill:
				backfill = true
				if it.Score != 0 {
					t.Fatalf("backfill with a score: %+v", it)
				}
			case backfill:
				t.Fatalf("a ranked item after a backfilled one: %v", ids(l.Items))
			}
		}
		if !backfill {
			t.Fatal("three ranked items cannot fill six")
		}
	})

	t.Run("a quiet month: the year-long list alone", func(t *testing.T) {
		s := shop(t)
		must(t, s.WritePopular(context.Background(), []recommendations.PopularList{{WindowDays: 30}}, nil, now))
		l := recommend(t, newService(s), service.Query{CustomerID: "nobody", Limit: 3})
		if strings.Join(ids(l.Items), ",") != "ball,mug,kite" {
			t.Fatalf("quiet month = %v; want the year-long list", ids(l.Items))
		}
	})

	t.Run("consent withdrawn: popular only", func(t *testing.T) {
		s := shop(t)
		ctx := context.Background()
		sh, err := s.Shopper(ctx, customer)
		must(t, err)
		sh.Consent = map[string]customers.ConsentState{customers.ConsentPersonalization: {Granted: false, UpdatedAt: now}}
		must(t, s.PutShopper(ctx, customer, sh))
		l := recommend(t, newService(s), service.Query{Limit: 5})
		if l.Personalized || strings.Join(ids(l.Items), ",") != "mug,teapot,trowel,kite,ball" {
			t.Fatalf("consent withdrawn = %v personalized=%v", ids(l.Items), l.Personalized)
		}
	})
}

func TestSimilar(t *testing.T) {
	svc := newService(shop(t))
	ctx := context.Background()

	l, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "mug", Limit: 2, Explain: true})
	must(t, err)
	if strings.Join(ids(l.Items), ",") != "teapot,towel" || l.Items[0].Reason.Kind != recommendations.ReasonSimilar || l.Items[0].Backfill {
		t.Fatalf("similar to the mug = %+v; want its neighbours in stock and in the catalogue", l.Items)
	}

	l, err = svc.Similar(ctx, service.SimilarQuery{ItemID: "teapot", Limit: 5, ExcludeCustomer: customer})
	must(t, err)
	noneOf(t, l.Items, "the excluded customer's purchase or cart", "mug", "towel")
	if len(l.Items) == 0 || l.Items[0].ItemID != "kite" {
		t.Fatalf("similar to the teapot without the customer's items = %v", ids(l.Items))
	}

	l, err = svc.Similar(ctx, service.SimilarQuery{ItemID: "newmug", Limit: 2, Explain: true})
	must(t, err)
	if strings.Join(ids(l.Items), ",") != "mug,teapot" {
		t.Fatalf("similar to a new mug = %v; want items of its shelf and brand", ids(l.Items))
	}
	for _, it := range l.Items {
		if !it.Backfill || it.Reason.Kind != recommendations.ReasonAttributes {
			t.Fatalf("attribute neighbour %+v", it)
		}
	}

	if _, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "plate", Limit: 2}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a deleted item: err = %v, want NotFound", err)
	}
}

func TestPopular(t *testing.T) {
	svc := newService(shop(t))
	ctx := context.Background()

	l, err := svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Limit: 10})
	must(t, err)
	if strings.Join(ids(l.Items), ",") != "mug,teapot,trowel,kite" || l.AsOf == nil || !l.AsOf.Equal(now.Add(-12*time.Hour)) {
		t.Fatalf("popular this month = %v as of %v; want the in-stock items of the list", ids(l.Items), l.AsOf)
	}
	l, err = svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Category: "Home/Kitchen", Limit: 1})
	must(t, err)
	if strings.Join(ids(l.Items), ",") != "mug" {
		t.Fatalf("popular in Home/Kitchen = %v", ids(l.Items))
	}
	l, err = svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Category: "Home/Bath", Limit: 10})
	must(t, err)
	if strings.Join(ids(l.Items), ",") != "towel" {
		t.Fatalf("popular in Home/Bath = %v", ids(l.Items))
	}
	l, err = svc.Popular(ctx, service.PopularQuery{WindowDays: 7, Limit: 10})
	must(t, err)
	if len(l.Items) != 0 || l.AsOf != nil || l.Items == nil {
		t.Fatalf("a window never trained = %+v; want an empty list without as_of", l)
	}
}

// counting counts the popularity reads and fails the others when err is set.
type counting struct {
	service.Store
	popular atomic.Int32
	err     error
}

func (c *counting) Popular(ctx context.Context, keys []recommendations.PopularKey) (map[recommendations.PopularKey]recommendations.Popular, error) {
	c.popular.Add(1)
	return c.Store.Popular(ctx, keys)
}

func (c *counting) Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error) {
	if c.err != nil {
		return recommendations.Shopper{}, c.err
	}
	return c.Store.Shopper(ctx, customerID)
}

func TestPopularListsAreCached(t *testing.T) {
	store := &counting{Store: shop(t)}
	clock := now
	svc := &service.Service{Store: store, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return clock },
		PopularTTL: time.Minute}
	q := service.PopularQuery{WindowDays: 30, Limit: 3}
	for range 3 {
		_, err := svc.Popular(context.Background(), q)
		must(t, err)
	}
	if n := store.popular.Load(); n != 1 {
		t.Fatalf("%d reads of one list within its TTL", n)
	}
	// A list that does not exist is cached as absent too.
	for range 2 {
		_, err := svc.Popular(context.Background(), service.PopularQuery{WindowDays: 1, Limit: 3})
		must(t, err)
	}
	if n := store.popular.Load(); n != 2 {
		t.Fatalf("%d reads; want one more for the absent list", n)
	}
	clock = clock.Add(time.Minute)
	_, err := svc.Popular(context.Background(), q)
	must(t, err)
	if n := store.popular.Load(); n != 3 {
		t.Fatalf("%d reads; want the expired list read again", n)
	}
}

func TestRecommendStorageError(t *testing.T) {
	unavailable := &errs.Error{Op: "read customer", Kind: errs.Transient, Detail: "the database is unavailable; retry"}
	svc := newService(&counting{Store: shop(t), err: unavailable})
	_, err := svc.Recommend(context.Background(), service.Query{CustomerID: customer, Limit: 3, Mode: recommendations.Mixed})
	if !errors.Is(err, unavailable) || !errs.Is(err, errs.Transient) {
		t.Fatalf("err = %v; want the store's Transient error", err)
	}
}
