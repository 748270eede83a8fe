package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// The little shop: a customer who bought the mug two days ago, viewed the
// trowel yesterday and put the towel in the cart an hour ago. The mug's
// strongest neighbours are the spoon (out of stock) and the plate (no
// longer in the catalogue), then the teapot. The ball sold only earlier
// in the year. The new mug is in no list: only the last-resort backfill
// from the catalogue and the new mug's own similar items reach it.
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
		Currency: "GBP", InStock: r.inStock, CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: now.Add(-24 * time.Hour)}
}

// trainedAt is when the shop's model was trained and its catalogue read.
var trainedAt = now.Add(-12 * time.Hour)

func scored(pairs ...any) []recommendations.ScoredItem {
	var out []recommendations.ScoredItem
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, recommendations.ScoredItem{ItemID: pairs[i].(string), Score: pairs[i+1].(float64)})
	}
	return out
}

// shopPopular is the popularity lists of the shop's snapshot.
var shopPopular = []recommendations.PopularList{
	{WindowDays: 30, Items: scored("mug", 10.0, "teapot", 8.0, "spoon", 6.0, "trowel", 5.0, "kite", 3.0)},
	{WindowDays: 30, Category: "Home", Items: scored("mug", 10.0, "teapot", 8.0, "spoon", 6.0, "towel", 2.0)},
	{WindowDays: 30, Category: "Garden", Items: scored("trowel", 5.0, "gloves", 1.0)},
	{WindowDays: 30, Category: "Toys", Items: scored("kite", 3.0)},
	{WindowDays: 365, Items: scored("ball", 50.0, "mug", 40.0, "kite", 1.0)},
}

// shop stores the catalogue, the customer and a snapshot of the trained
// lists; the plate is deleted through the catalogue after training.
func shop(t *testing.T) *memory.Store { return shopWith(t, shopPopular) }

func shopWith(t *testing.T, popular []recommendations.PopularList) *memory.Store {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	for _, r := range rows {
		must(t, s.PutItem(ctx, catalogItem(r)))
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
	model := &recommendations.Model{AsOf: trainedAt, Items: map[string]recommendations.ItemModel{
		"mug": {ItemID: "mug", RepeatRate: 0.4, Customers: 10, Neighbours: []recommendations.Neighbour{
			{ItemID: "spoon", Score: 0.9}, {ItemID: "plate", Score: 0.8}, {ItemID: "teapot", Score: 0.7}, {ItemID: "towel", Score: 0.2}}},
		"trowel": {ItemID: "trowel", RepeatRate: 0.1, Customers: 4, Neighbours: []recommendations.Neighbour{{ItemID: "gloves", Score: 0.6}}},
		"teapot": {ItemID: "teapot", Customers: 8, Neighbours: []recommendations.Neighbour{{ItemID: "mug", Score: 0.7}, {ItemID: "kite", Score: 0.1}}},
	}, Popular: popular}
	putModel(t, s, model)
	must(t, s.TombstoneItem(ctx, "plate", now.Add(-time.Hour)))
	return s
}

// putModel stores a snapshot of model and of the store's catalogue, read
// at the model's as_of, as the train job does.
func putModel(t *testing.T, s *memory.Store, model *recommendations.Model) recommendations.SnapshotRef {
	t.Helper()
	ctx := context.Background()
	items, err := s.LiveCatalog(ctx)
	must(t, err)
	data, err := recommendations.NewSnapshot(model, 500, items, model.AsOf).MarshalBinary()
	must(t, err)
	sum := sha256.Sum256(data)
	ref, err := s.PutSnapshot(ctx, recommendations.SnapshotRef{AsOf: model.AsOf, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, data)
	must(t, err)
	return ref
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newService(store service.Store) *service.Service {
	return &service.Service{Store: store, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return now }, Log: quiet}
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
			{"/Home/Kitchen/", []string{"mug", "newmug", "teapot"}},
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
		if len(l.Items) != 7 {
			t.Fatalf("%v; want the seven live, in-stock items but the mug", ids(l.Items))
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
		if strings.Join(got, ",") != "kite,mug,newmug" {
			t.Fatalf("10.00 to 12.00 = %v", got)
		}
	})

	t.Run("catalogue changes reach the next refresh", func(t *testing.T) {
		s := shop(t)
		clock := now
		svc := &service.Service{Store: s, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return clock }, Log: quiet}
		ctx := context.Background()
		q := service.Query{Mode: recommendations.Discover, Limit: 10}
		if !slices.Contains(ids(recommend(t, svc, q).Items), "teapot") {
			t.Fatal("the teapot is missing before it sold out")
		}
		soldOut := catalogItem(rows[1])
		soldOut.InStock, soldOut.UpdatedAt = false, clock.Add(time.Second)
		must(t, s.PutItem(ctx, soldOut))
		must(t, s.TombstoneItem(ctx, "gloves", clock.Add(time.Second)))
		// Until the refresh interval has passed the catalogue held is served:
		// that interval is the documented staleness bound.
		clock = clock.Add(service.DefaultRefreshEvery - time.Second)
		if got := ids(recommend(t, svc, q).Items); !slices.Contains(got, "teapot") || !slices.Contains(got, "gloves") {
			t.Fatalf("%v before the refresh; want the catalogue held", got)
		}
		clock = clock.Add(time.Second)
		noneOf(t, recommend(t, svc, q).Items, "sold-out or deleted", "teapot", "gloves", "spoon", "plate")
		// A price change is served as the catalogue has it.
		repriced := catalogItem(rows[6])
		repriced.PriceMinor, repriced.UpdatedAt = 950, clock.Add(time.Second)
		must(t, s.PutItem(ctx, repriced))
		clock = clock.Add(service.DefaultRefreshEvery)
		for _, it := range recommend(t, svc, service.Query{Mode: recommendations.Mixed, Limit: 10}).Items {
			if it.ItemID == "trowel" && it.Price != "9.50" {
				t.Fatalf("trowel at %s after the refresh; want 9.50", it.Price)
			}
		}
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
		if len(l.Items) != 7 {
			t.Fatalf("%v; want the seven live, in-stock items but the mug", ids(l.Items))
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
		s := shopWith(t, []recommendations.PopularList{{WindowDays: 30}, shopPopular[4]})
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
	if strings.Join(ids(l.Items), ",") != "mug,teapot,trowel,kite" || l.AsOf == nil || !l.AsOf.Equal(trainedAt) {
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

// counting counts the store's reads and fails Shopper with shopperErr and
// the index's reads with indexErr when set.
type counting struct {
	service.Store
	shopper, latest, load, changes atomic.Int32
	shopperErr, indexErr           error
}

func (c *counting) Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error) {
	c.shopper.Add(1)
	if c.shopperErr != nil {
		return recommendations.Shopper{}, c.shopperErr
	}
	return c.Store.Shopper(ctx, customerID)
}

func (c *counting) LatestSnapshot(ctx context.Context) (recommendations.SnapshotRef, bool, error) {
	c.latest.Add(1)
	if c.indexErr != nil {
		return recommendations.SnapshotRef{}, false, c.indexErr
	}
	return c.Store.LatestSnapshot(ctx)
}

func (c *counting) LoadSnapshot(ctx context.Context, ref recommendations.SnapshotRef) ([]byte, error) {
	c.load.Add(1)
	return c.Store.LoadSnapshot(ctx, ref)
}

func (c *counting) CatalogChanges(ctx context.Context, since time.Time) ([]catalog.Item, error) {
	c.changes.Add(1)
	if c.indexErr != nil {
		return nil, c.indexErr
	}
	return c.Store.CatalogChanges(ctx, since)
}

func (c *counting) reads() string {
	return fmt.Sprintf("shopper %d latest %d load %d changes %d", c.shopper.Load(), c.latest.Load(), c.load.Load(), c.changes.Load())
}

func TestIndexReadsAndSwaps(t *testing.T) {
	s := shop(t)
	store := &counting{Store: s}
	clock := now
	svc := &service.Service{Store: store, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return clock }, Log: quiet,
		CheckEvery: time.Minute, RefreshEvery: 30 * time.Second}
	ctx := context.Background()
	must(t, svc.Warm(ctx))
	if got := store.reads(); got != "shopper 0 latest 1 load 1 changes 1" {
		t.Fatalf("cold start read %s; want the reference, the snapshot and the change feed once", got)
	}
	// Steady state: similar and popular read nothing; a personalized list
	// reads the customer record only.
	for range 5 {
		_, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "mug", Limit: 3})
		must(t, err)
		_, err = svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Limit: 3})
		must(t, err)
		recommend(t, svc, service.Query{Limit: 3})
	}
	if got := store.reads(); got != "shopper 5 latest 1 load 1 changes 1" {
		t.Fatalf("steady state read %s", got)
	}
	// After RefreshEvery the change feed is read once; after CheckEvery the
	// reference too, and the snapshot is not reloaded while it is current.
	clock = clock.Add(30 * time.Second)
	recommend(t, svc, service.Query{Limit: 3})
	recommend(t, svc, service.Query{Limit: 3})
	clock = clock.Add(30 * time.Second)
	recommend(t, svc, service.Query{Limit: 3})
	if got := store.reads(); got != "shopper 8 latest 2 load 1 changes 3" {
		t.Fatalf("after a minute: %s", got)
	}
	// A newer training run is swapped in at the next check.
	newer := &recommendations.Model{AsOf: now, Items: map[string]recommendations.ItemModel{
		"mug": {ItemID: "mug", Customers: 10, Neighbours: []recommendations.Neighbour{{ItemID: "kite", Score: 1}}}}, Popular: shopPopular}
	ref := putModel(t, s, newer)
	l, err := svc.Similar(ctx, service.SimilarQuery{ItemID: "mug", Limit: 1})
	must(t, err)
	if l.Items[0].ItemID != "teapot" {
		t.Fatalf("similar to the mug before the check = %v", ids(l.Items))
	}
	clock = clock.Add(time.Minute)
	l, err = svc.Similar(ctx, service.SimilarQuery{ItemID: "mug", Limit: 1})
	must(t, err)
	if l.Items[0].ItemID != "kite" || svc.Snapshot() != ref {
		t.Fatalf("similar to the mug after the check = %v, serving %+v; want the new model's kite", ids(l.Items), svc.Snapshot())
	}
	// Once a model is held, a failing store costs freshness, not answers.
	store.indexErr = errors.New("the database is unavailable")
	clock = clock.Add(time.Hour)
	if _, err := svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Limit: 3}); err != nil {
		t.Fatalf("popular with the index reads failing: %v", err)
	}
	// A cold start that cannot load the model fails the request.
	cold := &service.Service{Store: &counting{Store: s, indexErr: errors.New("down")}, Scorer: recommendations.DefaultScorer(), Now: time.Now, Log: quiet}
	if _, err := cold.Popular(ctx, service.PopularQuery{WindowDays: 30, Limit: 3}); err == nil {
		t.Fatal("a cold start without a model answered")
	}
}

func TestBeforeTheFirstTraining(t *testing.T) {
	s := memory.New()
	ctx := context.Background()
	for _, r := range rows {
		must(t, s.PutItem(ctx, catalogItem(r)))
	}
	svc := newService(s)
	// No model yet: the catalogue comes from the change feed, lists are
	// backfilled from it, and popular lists are empty.
	l := recommend(t, svc, service.Query{CustomerID: "nobody", Limit: 3})
	if strings.Join(ids(l.Items), ",") != "ball,gloves,kite" || l.Personalized {
		t.Fatalf("before training = %v", ids(l.Items))
	}
	p, err := svc.Popular(ctx, service.PopularQuery{WindowDays: 30, Limit: 3})
	must(t, err)
	if len(p.Items) != 0 || p.AsOf != nil {
		t.Fatalf("popular before training = %+v", p)
	}
}

func TestRecommendStorageError(t *testing.T) {
	unavailable := &errs.Error{Op: "read customer", Kind: errs.Transient, Detail: "the database is unavailable; retry"}
	svc := newService(&counting{Store: shop(t), shopperErr: unavailable})
	_, err := svc.Recommend(context.Background(), service.Query{CustomerID: customer, Limit: 3, Mode: recommendations.Mixed})
	if !errors.Is(err, unavailable) || !errs.Is(err, errs.Transient) {
		t.Fatalf("err = %v; want the store's Transient error", err)
	}
}
