// Package contract is the one test suite of the recommender's storage: Run
// drives every method of the request side's and the training job's ports
// against an implementation and checks the answers, so that the DynamoDB
// adapter and the in-memory twin are proven to behave alike. The ports
// have no conditional writes, transactions or TTL; what the suite pins is
// what they do have: absent rows, replaced and deleted lists, rounding,
// reads past one batch, copies that callers cannot alias.
package contract

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/service"
	"tailor/shared/recommendations/training"
)

// Seeder writes what other features own and the recommender only reads
// (customer records, catalogue rows, history) and reads back the run
// records, which no port reads.
type Seeder interface {
	// PutShopper creates or replaces the customer record's aggregates and
	// consent; nil Aggregates stores a record without aggregates.
	PutShopper(ctx context.Context, customerID string, sh recommendations.Shopper) error
	// PutItem creates or replaces a catalogue row.
	PutItem(ctx context.Context, it catalog.Item) error
	// DeleteItem removes a catalogue row.
	DeleteItem(ctx context.Context, itemID string) error
	// AddHistory stores history entries as ingestion does; CustomerID is the
	// owner key (C#<customer_id> or N#<anonymous_id>).
	AddHistory(ctx context.Context, ins ...recommendations.Interaction) error
	// Runs returns the stored run records.
	Runs(ctx context.Context) ([]recommendations.Run, error)
}

// Stores is one implementation over empty storage.
type Stores struct {
	Serving  service.Store
	Training training.Store
	Seed     Seeder
}

// Run runs the suite; open returns fresh, empty stores for each subtest.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"Shopper", testShopper},
		{"ShopperWithoutAggregates", testShopperWithoutAggregates},
		{"CancelledContext", testCancelled},
		{"NeighbourLists", testNeighbourLists},
		{"NeighbourListsReplacedAndStaleRemoved", testStale},
		{"ListsPastOneBatch", testManyKeys},
		{"Live", testLive},
		{"Catalog", testCatalog},
		{"Popular", testPopular},
		{"PopularReplacedPerWindow", testPopularReplaced},
		{"Interactions", testInteractions},
		{"Runs", testRuns},
		{"ConcurrentUse", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func shopItem(id string, inStock bool, category ...string) catalog.Item {
	return catalog.Item{ID: id, Title: "Item " + id, Category: category, Brand: "Brand " + id, PriceMinor: 1250, Currency: "GBP",
		Tags: []string{"tag-" + id}, InStock: inStock, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0}
}

// sameItem compares catalogue rows field by field (times by instant).
func sameItem(a, b catalog.Item) bool {
	return a.ID == b.ID && a.Title == b.Title && slices.Equal(a.Category, b.Category) && a.Brand == b.Brand &&
		a.PriceMinor == b.PriceMinor && a.Currency == b.Currency && slices.Equal(a.Tags, b.Tags) && a.InStock == b.InStock &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func testShopper(t *testing.T, s Stores) {
	ctx := context.Background()
	_, err := s.Serving.Shopper(ctx, "c-1")
	if !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown customer: err = %v, want NotFound", err)
	}
	agg := customers.Fold([]events.Event{
		{ID: "e1", Type: events.View, CustomerID: "c-1", ItemID: "a", Category: "Home", Time: t0.Add(-3 * time.Hour)},
		{ID: "e2", Type: events.Purchase, CustomerID: "c-1", ItemID: "a", Category: "Home", Quantity: 2, PriceMinor: 500,
			Currency: "GBP", OrderID: "o1", Time: t0.Add(-2 * time.Hour)},
		{ID: "e3", Type: events.AddToCart, CustomerID: "c-1", ItemID: "b", Category: "Garden", Quantity: 1, Time: t0.Add(-time.Hour)},
	})
	consent := map[string]customers.ConsentState{customers.ConsentPersonalization: {Granted: false, UpdatedAt: t0}}
	must(t, s.Seed.PutShopper(ctx, "c-1", recommendations.Shopper{Aggregates: agg, Consent: consent}))
	must(t, s.Seed.PutShopper(ctx, "c-2", recommendations.Shopper{Aggregates: customers.NewAggregates()}))

	got, err := s.Serving.Shopper(ctx, "c-1")
	must(t, err)
	check := func(got recommendations.Shopper) {
		t.Helper()
		a := got.Aggregates
		if a == nil || len(a.Recent) != 3 || a.Recent[0].ItemID != "b" || a.Recent[0].Type != events.AddToCart ||
			!a.Recent[0].Time.Equal(t0.Add(-time.Hour)) || a.Recent[2].EventID != "e1" || a.Recent[2].Category != "Home" {
			t.Fatalf("recent = %+v", a)
		}
		if p := a.Purchased["a"]; len(a.Purchased) != 1 || p.Count != 1 || !p.Last.Equal(t0.Add(-2*time.Hour)) {
			t.Fatalf("purchased = %+v", a.Purchased)
		}
		if top := a.TopCategories(); len(top) != 2 || top["Home"] != 6 || top["Garden"] != 3 {
			t.Fatalf("top categories = %v", top)
		}
		c, ok := got.Consent[customers.ConsentPersonalization]
		if len(got.Consent) != 1 || !ok || c.Granted || !c.UpdatedAt.Equal(t0) {
			t.Fatalf("consent = %+v", got.Consent)
		}
	}
	check(got)
	// The answer is the caller's: changing it changes nothing stored.
	got.Aggregates.Recent[0].ItemID = "changed"
	got.Aggregates.Purchased["z"] = customers.ItemPurchases{Count: 9}
	got.Consent[customers.ConsentPersonalization] = customers.ConsentState{Granted: true}
	again, err := s.Serving.Shopper(ctx, "c-1")
	must(t, err)
	check(again)
	// ... nor does changing what was put.
	agg.Recent[0].ItemID = "changed too"
	again, err = s.Serving.Shopper(ctx, "c-1")
	must(t, err)
	check(again)

	other, err := s.Serving.Shopper(ctx, "c-2")
	must(t, err)
	if other.Aggregates == nil || len(other.Aggregates.Recent) != 0 || len(other.Consent) != 0 {
		t.Fatalf("c-2 = %+v", other)
	}
}

func testShopperWithoutAggregates(t *testing.T, s Stores) {
	ctx := context.Background()
	must(t, s.Seed.PutShopper(ctx, "c-3", recommendations.Shopper{
		Consent: map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: t0}}}))
	got, err := s.Serving.Shopper(ctx, "c-3")
	must(t, err)
	if got.Aggregates == nil || got.Aggregates.Purchased == nil || len(got.Aggregates.Recent) != 0 || !got.Consent[customers.ConsentEmail].Granted {
		t.Fatalf("a record without aggregates = %+v", got)
	}
}

func testCancelled(t *testing.T, s Stores) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Serving.Shopper(ctx, "c-1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Shopper: err = %v, want context.Canceled", err)
	}
	if _, err := s.Serving.Lists(ctx, []string{"a"}, []string{"b"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Lists: err = %v, want context.Canceled", err)
	}
	if _, err := s.Serving.Popular(ctx, []recommendations.PopularKey{{WindowDays: 30}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Popular: err = %v, want context.Canceled", err)
	}
}

// model is a small trained model: a's neighbours b and c, d's neighbour a.
func model() (*recommendations.Model, map[string]recommendations.Item) {
	m := &recommendations.Model{AsOf: t0, Items: map[string]recommendations.ItemModel{
		"a": {ItemID: "a", RepeatRate: 1.0 / 3, Customers: 7, Neighbours: []recommendations.Neighbour{{ItemID: "b", Score: 0.123456789}, {ItemID: "c", Score: 0.05}}},
		"d": {ItemID: "d", RepeatRate: 0, Customers: 2, Neighbours: []recommendations.Neighbour{{ItemID: "a", Score: 2}}},
	}}
	attrs := map[string]recommendations.Item{
		"a": {ItemID: "a", Category: "Home/Kitchen", Brand: "Acme", PriceMinor: 1250, InStock: false},
		"b": {ItemID: "b", Category: "Home", Brand: "Loom", PriceMinor: 499, InStock: true},
		"d": {ItemID: "d", Category: "Garden", PriceMinor: 900, InStock: true},
	}
	return m, attrs
}

func testNeighbourLists(t *testing.T, s Stores) {
	ctx := context.Background()
	m, attrs := model()
	pairs, err := s.Training.WriteNeighbours(ctx, m, attrs, nil)
	must(t, err)
	if pairs != 3 {
		t.Fatalf("pairs = %d, want 3", pairs)
	}
	b, x := shopItem("b", true, "Home"), shopItem("x", false, "Toys", "Kites")
	x.Brand, x.Tags = "", nil
	must(t, s.Seed.PutItem(ctx, b))
	must(t, s.Seed.PutItem(ctx, x))

	l, err := s.Serving.Lists(ctx, []string{"a", "nope", "a"}, []string{"b", "x", "nope"})
	must(t, err)
	if len(l.Models) != 1 {
		t.Fatalf("models of %v", slices.Sorted(maps.Keys(l.Models)))
	}
	a := l.Models["a"]
	if a.ItemID != "a" || a.Customers != 7 || a.RepeatRate != 0.333333 ||
		fmt.Sprint(a.Neighbours) != "[{b 0.123457} {c 0.05}]" {
		t.Fatalf("model of a = %+v; want scores and repeat rate rounded to six digits", a)
	}
	want := map[string]recommendations.Item{
		"a": {ItemID: "a", Category: "Home/Kitchen", Brand: "Acme", PriceMinor: 1250, InStock: true},
		"b": {ItemID: "b", Category: "Home", Brand: "Loom", PriceMinor: 499, InStock: true},
		"c": {ItemID: "c", InStock: true},
	}
	if !maps.Equal(l.Trained, want) {
		t.Fatalf("trained attributes = %+v, want %+v", l.Trained, want)
	}
	if len(l.Live) != 2 || !sameItem(l.Live["b"], b) || !sameItem(l.Live["x"], x) {
		t.Fatalf("live rows = %+v", l.Live)
	}
	// The answer is the caller's.
	l.Models["a"].Neighbours[0].ItemID = "changed"
	l.Live["b"].Category[0] = "changed"
	l, err = s.Serving.Lists(ctx, []string{"a", "d"}, []string{"b"})
	must(t, err)
	if l.Models["a"].Neighbours[0].ItemID != "b" || l.Live["b"].Category[0] != "Home" {
		t.Fatalf("a caller's change reached the store: %+v %+v", l.Models["a"], l.Live["b"])
	}
	if d := l.Models["d"]; fmt.Sprint(d.Neighbours) != "[{a 2}]" || d.RepeatRate != 0 || d.Customers != 2 {
		t.Fatalf("model of d = %+v", d)
	}
	// a is d's neighbour and listed itself: its own entry's attributes.
	if l.Trained["a"] != want["a"] || l.Trained["d"] != (recommendations.Item{ItemID: "d", Category: "Garden", PriceMinor: 900, InStock: true}) {
		t.Fatalf("trained = %+v", l.Trained)
	}

	empty, err := s.Serving.Lists(ctx, nil, nil)
	must(t, err)
	if empty.Models == nil || empty.Trained == nil || empty.Live == nil || len(empty.Models)+len(empty.Trained)+len(empty.Live) != 0 {
		t.Fatalf("nothing asked = %+v", empty)
	}
}

func testStale(t *testing.T, s Stores) {
	ctx := context.Background()
	m, attrs := model()
	m.Items["e"] = recommendations.ItemModel{ItemID: "e", Neighbours: []recommendations.Neighbour{{ItemID: "a", Score: 1}}}
	_, err := s.Training.WriteNeighbours(ctx, m, attrs, nil)
	must(t, err)
	_, listed, err := s.Training.Catalog(ctx)
	must(t, err)
	if strings.Join(listed, ",") != "a,d,e" {
		t.Fatalf("listed = %v", listed)
	}

	next := &recommendations.Model{AsOf: t0.Add(24 * time.Hour), Items: map[string]recommendations.ItemModel{
		"a": {ItemID: "a", Customers: 1, Neighbours: []recommendations.Neighbour{{ItemID: "d", Score: 0.5}}},
	}}
	pairs, err := s.Training.WriteNeighbours(ctx, next, attrs, []string{"a", "d", "never-listed"})
	must(t, err)
	if pairs != 1 {
		t.Fatalf("pairs = %d", pairs)
	}
	l, err := s.Serving.Lists(ctx, []string{"a", "d", "e"}, nil)
	must(t, err)
	if _, ok := l.Models["d"]; ok {
		t.Fatal("the stale list of d survived")
	}
	if fmt.Sprint(l.Models["a"].Neighbours) != "[{d 0.5}]" || l.Models["a"].Customers != 1 {
		t.Fatalf("a was not replaced: %+v", l.Models["a"])
	}
	if _, ok := l.Models["e"]; !ok {
		t.Fatal("e, not named stale, lost its list")
	}
	_, listed, err = s.Training.Catalog(ctx)
	must(t, err)
	if strings.Join(listed, ",") != "a,e" {
		t.Fatalf("listed after the run = %v", listed)
	}
}

func testManyKeys(t *testing.T, s Stores) {
	ctx := context.Background()
	const n = 130
	m := &recommendations.Model{AsOf: t0, Items: map[string]recommendations.ItemModel{}}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("sku-%03d", i)
		ids = append(ids, id)
		m.Items[id] = recommendations.ItemModel{ItemID: id, Neighbours: []recommendations.Neighbour{{ItemID: fmt.Sprintf("sku-%03d", (i+1)%n), Score: 1}}}
		must(t, s.Seed.PutItem(ctx, shopItem(id, i%2 == 0, "Home")))
	}
	pairs, err := s.Training.WriteNeighbours(ctx, m, nil, nil)
	must(t, err)
	if pairs != n {
		t.Fatalf("pairs = %d", pairs)
	}
	l, err := s.Serving.Lists(ctx, ids, ids)
	must(t, err)
	if len(l.Models) != n || len(l.Live) != n || len(l.Trained) != n {
		t.Fatalf("%d models, %d live rows, %d trained of %d", len(l.Models), len(l.Live), len(l.Trained), n)
	}
	live, err := s.Serving.Live(ctx, ids)
	must(t, err)
	if len(live) != n || live["sku-001"].InStock || !live["sku-002"].InStock {
		t.Fatalf("%d live rows", len(live))
	}
}

func testLive(t *testing.T, s Stores) {
	ctx := context.Background()
	for _, it := range []catalog.Item{shopItem("a", true, "Home"), shopItem("b", false, "Home", "Bath"), shopItem("c", true, "Garden")} {
		must(t, s.Seed.PutItem(ctx, it))
	}
	must(t, s.Seed.DeleteItem(ctx, "c"))
	repriced := shopItem("a", true, "Home")
	repriced.PriceMinor = 999
	must(t, s.Seed.PutItem(ctx, repriced))
	live, err := s.Serving.Live(ctx, []string{"a", "b", "c", "nope"})
	must(t, err)
	if len(live) != 2 || !sameItem(live["a"], repriced) || !sameItem(live["b"], shopItem("b", false, "Home", "Bath")) {
		t.Fatalf("live = %+v; want a (repriced) and b (out of stock), not the deleted c", live)
	}
	none, err := s.Serving.Live(ctx, nil)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("no ids = %v", none)
	}
}

func testCatalog(t *testing.T, s Stores) {
	ctx := context.Background()
	attrs, listed, err := s.Training.Catalog(ctx)
	must(t, err)
	if len(attrs) != 0 || len(listed) != 0 {
		t.Fatalf("empty catalogue = %v %v", attrs, listed)
	}
	items := []catalog.Item{shopItem("a", true, "Home", "Kitchen", "Mugs"), shopItem("b", false, "Garden"), shopItem("c", true, "Toys")}
	for _, it := range items {
		must(t, s.Seed.PutItem(ctx, it))
	}
	must(t, s.Seed.DeleteItem(ctx, "c"))
	_, err = s.Training.WriteNeighbours(ctx, &recommendations.Model{Items: map[string]recommendations.ItemModel{
		"z": {ItemID: "z"}, "a": {ItemID: "a"}}}, nil, nil)
	must(t, err)
	attrs, listed, err = s.Training.Catalog(ctx)
	must(t, err)
	want := map[string]recommendations.Item{
		"a": {ItemID: "a", Category: "Home/Kitchen/Mugs", Brand: "Brand a", PriceMinor: 1250, InStock: true},
		"b": {ItemID: "b", Category: "Garden", Brand: "Brand b", PriceMinor: 1250, InStock: false},
	}
	if !maps.Equal(attrs, want) || strings.Join(listed, ",") != "a,z" {
		t.Fatalf("catalogue = %+v listed %v; want %+v listed a,z", attrs, listed, want)
	}
}

func popularLists() ([]recommendations.PopularList, map[string]recommendations.Item) {
	lists := []recommendations.PopularList{
		{WindowDays: 30, Items: []recommendations.ScoredItem{{ItemID: "a", Score: 3.14159265}, {ItemID: "b", Score: 1}}},
		{WindowDays: 30, Category: "Home", Items: []recommendations.ScoredItem{{ItemID: "a", Score: 3.14159265}}},
		{WindowDays: 30, Category: "Gone", Items: []recommendations.ScoredItem{{ItemID: "g", Score: 1}}},
		{WindowDays: 365, Items: []recommendations.ScoredItem{{ItemID: "c", Score: 2}}},
		{WindowDays: 7, Items: []recommendations.ScoredItem{}},
	}
	attrs := map[string]recommendations.Item{
		"a": {ItemID: "a", Category: "Home/Kitchen", Brand: "Acme", PriceMinor: 1250, InStock: false},
		"c": {ItemID: "c", Category: "Toys", PriceMinor: 500, InStock: true},
	}
	return lists, attrs
}

func testPopular(t *testing.T, s Stores) {
	ctx := context.Background()
	none, err := s.Serving.Popular(ctx, nil)
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("no keys = %v, %v", none, err)
	}
	lists, attrs := popularLists()
	must(t, s.Training.WritePopular(ctx, lists, attrs, t0))
	k30, kHome, k365, k7 := recommendations.PopularKey{WindowDays: 30}, recommendations.PopularKey{WindowDays: 30, Category: "Home"},
		recommendations.PopularKey{WindowDays: 365}, recommendations.PopularKey{WindowDays: 7}
	kGarden := recommendations.PopularKey{WindowDays: 30, Category: "Garden"}
	got, err := s.Serving.Popular(ctx, []recommendations.PopularKey{k30, kHome, k365, k7, kGarden, k30})
	must(t, err)
	if len(got) != 4 {
		t.Fatalf("lists %v; want 30, 30 Home, 365 and 7 (Garden was never written)", slices.Collect(maps.Keys(got)))
	}
	all := got[k30]
	if fmt.Sprint(all.Items) != "[{a 3.14159} {b 1}]" || !all.AsOf.Equal(t0) {
		t.Fatalf("30-day list = %+v", all)
	}
	wantAttrs := map[string]recommendations.Item{
		"a": {ItemID: "a", Category: "Home/Kitchen", Brand: "Acme", PriceMinor: 1250, InStock: true},
		"b": {ItemID: "b", InStock: true},
	}
	if !maps.Equal(all.Attrs, wantAttrs) {
		t.Fatalf("30-day attributes = %+v, want %+v", all.Attrs, wantAttrs)
	}
	if fmt.Sprint(got[kHome].Items) != "[{a 3.14159}]" || fmt.Sprint(got[k365].Items) != "[{c 2}]" ||
		got[k365].Attrs["c"] != (recommendations.Item{ItemID: "c", Category: "Toys", PriceMinor: 500, InStock: true}) {
		t.Fatalf("lists = %+v", got)
	}
	if l := got[k7]; len(l.Items) != 0 || !l.AsOf.Equal(t0) {
		t.Fatalf("the empty 7-day list = %+v", l)
	}
	// The answer is the caller's.
	all.Items[0].ItemID = "changed"
	all.Attrs["a"] = recommendations.Item{}
	again, err := s.Serving.Popular(ctx, []recommendations.PopularKey{k30})
	must(t, err)
	if again[k30].Items[0].ItemID != "a" || again[k30].Attrs["a"].Brand != "Acme" {
		t.Fatalf("a caller's change reached the store: %+v", again[k30])
	}
}

func testPopularReplaced(t *testing.T, s Stores) {
	ctx := context.Background()
	lists, attrs := popularLists()
	must(t, s.Training.WritePopular(ctx, lists, attrs, t0))
	next := t0.Add(24 * time.Hour)
	// The next run's 30-day lists: Home sold nothing this time, Gone is gone.
	must(t, s.Training.WritePopular(ctx, []recommendations.PopularList{
		{WindowDays: 30, Items: []recommendations.ScoredItem{{ItemID: "b", Score: 4}}},
		{WindowDays: 30, Category: "Toys", Items: []recommendations.ScoredItem{{ItemID: "c", Score: 4}}},
	}, attrs, next))
	keys := []recommendations.PopularKey{{WindowDays: 30}, {WindowDays: 30, Category: "Home"}, {WindowDays: 30, Category: "Gone"},
		{WindowDays: 30, Category: "Toys"}, {WindowDays: 365}, {WindowDays: 7}}
	got, err := s.Serving.Popular(ctx, keys)
	must(t, err)
	var present []string
	for _, k := range keys {
		if _, ok := got[k]; ok {
			present = append(present, fmt.Sprintf("%d%s", k.WindowDays, k.Category))
		}
	}
	if strings.Join(present, ",") != "30,30Toys,365,7" {
		t.Fatalf("lists after the second run: %v; want the written 30-day lists and the untouched windows", present)
	}
	if l := got[recommendations.PopularKey{WindowDays: 30}]; fmt.Sprint(l.Items) != "[{b 4}]" || !l.AsOf.Equal(next) {
		t.Fatalf("30-day list = %+v", l)
	}
	if l := got[recommendations.PopularKey{WindowDays: 365}]; !l.AsOf.Equal(t0) {
		t.Fatalf("the 365-day list changed: %+v", l)
	}
}

func testInteractions(t *testing.T, s Stores) {
	ctx := context.Background()
	got, err := s.Training.Interactions(ctx)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("empty history = %v", got)
	}
	must(t, s.Seed.AddHistory(ctx,
		recommendations.Interaction{CustomerID: "C#c-1", ItemID: "a", Type: recommendations.Purchase, Quantity: 2, Time: t0.Add(-time.Hour), Weight: 3},
		recommendations.Interaction{CustomerID: "C#c-1", Type: "search", Time: t0.Add(-30 * time.Minute)},
		recommendations.Interaction{CustomerID: "N#anon-1", ItemID: "b", Type: recommendations.View, Time: t0.Add(-2 * time.Hour)},
		recommendations.Interaction{CustomerID: "C#c-2", ItemID: "a", Type: recommendations.View, Time: t0.Add(-3 * time.Hour)},
	))
	got, err = s.Training.Interactions(ctx)
	must(t, err)
	slices.SortFunc(got, func(a, b recommendations.Interaction) int { return a.Time.Compare(b.Time) })
	var lines []string
	for _, in := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s %d %s %g", in.CustomerID, in.ItemID, in.Type, in.Quantity,
			in.Time.UTC().Format(time.RFC3339), in.Weight))
	}
	want := []string{
		"C#c-2 a view 0 2026-11-20T09:00:00Z 0",
		"N#anon-1 b view 0 2026-11-20T10:00:00Z 0",
		"C#c-1 a purchase 2 2026-11-20T11:00:00Z 0",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("interactions:\n%s\nwant (no search, no weight):\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func testRuns(t *testing.T, s Stores) {
	ctx := context.Background()
	first := recommendations.Run{AsOf: t0, StartedAt: t0.Add(time.Hour), Duration: 1500 * time.Millisecond, Interactions: 10,
		Catalog: 5, Items: 4, Pairs: 6, PopularLists: 3, Removed: 1}
	must(t, s.Training.PutRun(ctx, first))
	must(t, s.Training.PutRun(ctx, recommendations.Run{AsOf: t0.Add(24 * time.Hour), StartedAt: t0.Add(25 * time.Hour), Items: 2}))
	rerun := first
	rerun.StartedAt, rerun.Duration, rerun.Items = t0.Add(2*time.Hour), 2*time.Second, 9
	must(t, s.Training.PutRun(ctx, rerun))

	runs, err := s.Seed.Runs(ctx)
	must(t, err)
	slices.SortFunc(runs, func(a, b recommendations.Run) int { return a.AsOf.Compare(b.AsOf) })
	if len(runs) != 2 {
		t.Fatalf("runs = %+v; want two, the re-run of the first as_of replacing it", runs)
	}
	r := runs[0]
	if !r.AsOf.Equal(t0) || !r.StartedAt.Equal(t0.Add(2*time.Hour)) || r.DurationMS != 2000 || r.Items != 9 || r.Interactions != 10 ||
		r.Catalog != 5 || r.Pairs != 6 || r.PopularLists != 3 || r.Removed != 1 {
		t.Fatalf("run = %+v", r)
	}
	if !runs[1].AsOf.Equal(t0.Add(24*time.Hour)) || runs[1].Items != 2 || runs[1].DurationMS != 0 {
		t.Fatalf("second run = %+v", runs[1])
	}
}

// testConcurrent writes lists while requests read them; the race detector
// and the answers show that no read sees a half-written list.
func testConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	m, attrs := model()
	_, err := s.Training.WriteNeighbours(ctx, m, attrs, nil)
	must(t, err)
	lists, pattrs := popularLists()
	must(t, s.Training.WritePopular(ctx, lists, pattrs, t0))
	var wg sync.WaitGroup
	errc := make(chan error, 40)
	for i := range 10 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := s.Training.WriteNeighbours(ctx, m, attrs, nil); err != nil {
				errc <- err
			}
			if err := s.Training.WritePopular(ctx, lists, pattrs, t0.Add(time.Duration(i)*time.Second)); err != nil {
				errc <- err
			}
		}()
		go func() {
			defer wg.Done()
			l, err := s.Serving.Lists(ctx, []string{"a"}, nil)
			if err == nil && len(l.Models["a"].Neighbours) != 2 {
				err = fmt.Errorf("a half-written list: %+v", l.Models["a"])
			}
			if err != nil {
				errc <- err
			}
			p, err := s.Serving.Popular(ctx, []recommendations.PopularKey{{WindowDays: 30}})
			if err == nil && len(p[recommendations.PopularKey{WindowDays: 30}].Items) != 2 {
				err = fmt.Errorf("a half-written popular list: %+v", p)
			}
			if err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
