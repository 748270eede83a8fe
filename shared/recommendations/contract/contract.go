// Package contract is the one test suite of the recommender's storage: Run
// drives every method of the request side's and the training job's ports
// against an implementation and checks the answers, so that the DynamoDB
// adapter and the in-memory twin are proven to behave alike: absent rows,
// tombstones, the change feed's order and bounds, snapshots past one
// chunk and their replacement, copies that callers cannot alias.
package contract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/service"
	"tailor/shared/recommendations/training"
)

// Seeder writes what other features own and the recommender only reads
// (customer records, catalogue rows).
type Seeder interface {
	// PutShopper creates or replaces the customer record's aggregates and
	// consent; nil Aggregates stores a record without aggregates.
	PutShopper(ctx context.Context, customerID string, sh recommendations.Shopper) error
	// PutItem creates or replaces a catalogue row.
	PutItem(ctx context.Context, it catalog.Item) error
	// DeleteItem removes a catalogue row, as the TTL does once a deleted
	// item's tombstone expires.
	DeleteItem(ctx context.Context, itemID string) error
	// TombstoneItem deletes an existing catalogue item as the catalogue API
	// does: the row stays as a tombstone changed at at.
	TombstoneItem(ctx context.Context, itemID string, at time.Time) error
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
		{"Histories", testHistories},
		{"LiveCatalog", testLiveCatalog},
		{"CatalogChanges", testCatalogChanges},
		{"Snapshots", testSnapshots},
		{"SnapshotPastOneChunk", testBigSnapshot},
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
	if _, _, err := s.Serving.LatestSnapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LatestSnapshot: err = %v, want context.Canceled", err)
	}
	if _, err := s.Serving.CatalogChanges(ctx, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("CatalogChanges: err = %v, want context.Canceled", err)
	}
	if _, err := s.Training.Histories(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Histories: err = %v, want context.Canceled", err)
	}
	if _, err := s.Training.LiveCatalog(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LiveCatalog: err = %v, want context.Canceled", err)
	}
	if _, err := s.Training.PutSnapshot(ctx, recommendations.SnapshotRef{AsOf: t0, Bytes: 1, SHA256: "ab"}, []byte{1}); !errors.Is(err, context.Canceled) {
		t.Errorf("PutSnapshot: err = %v, want context.Canceled", err)
	}
}

func testHistories(t *testing.T, s Stores) {
	ctx := context.Background()
	none, err := s.Training.Histories(ctx)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("histories of no customers = %+v", none)
	}
	agg := customers.Fold([]events.Event{
		{ID: "e1", Type: events.View, CustomerID: "c-2", ItemID: "a", Category: "Home", Time: t0.Add(-3 * time.Hour)},
		{ID: "e2", Type: events.Purchase, CustomerID: "c-2", ItemID: "a", Quantity: 2, PriceMinor: 500, Currency: "GBP", OrderID: "o1", Time: t0.Add(-2 * time.Hour)},
		{ID: "e3", Type: events.Purchase, CustomerID: "c-2", ItemID: "b", Quantity: 1, PriceMinor: 500, Currency: "GBP", OrderID: "o2", Time: t0.Add(-90 * time.Minute)},
		{ID: "e4", Type: events.Purchase, CustomerID: "c-2", ItemID: "a", Quantity: 1, PriceMinor: 500, Currency: "GBP", OrderID: "o3", Time: t0.Add(-time.Hour)},
		{ID: "e5", Type: events.Search, CustomerID: "c-2", Query: "mugs", Time: t0.Add(-30 * time.Minute)},
	})
	must(t, s.Seed.PutShopper(ctx, "c-2", recommendations.Shopper{Aggregates: agg}))
	must(t, s.Seed.PutShopper(ctx, "c-1", recommendations.Shopper{Aggregates: customers.NewAggregates()}))
	// A record without aggregates (a customer created through the API who
	// never shopped) is not a history.
	must(t, s.Seed.PutShopper(ctx, "c-0", recommendations.Shopper{}))
	got, err := s.Training.Histories(ctx)
	must(t, err)
	var lines []string
	for _, h := range got {
		line := h.CustomerID + ":"
		for _, e := range h.Recent {
			line += fmt.Sprintf(" %s/%s@%s", e.Type, e.ItemID, e.Time.Sub(t0))
		}
		line += " |"
		for _, p := range h.Purchases {
			line += fmt.Sprintf(" %s×%d@%s", p.ItemID, p.Count, p.Last.Sub(t0))
		}
		lines = append(lines, line)
	}
	want := []string{
		schema.PfxCustomer + "c-1: |",
		schema.PfxCustomer + "c-2: purchase/a@-1h0m0s purchase/b@-1h30m0s purchase/a@-2h0m0s view/a@-3h0m0s | a×2@-1h0m0s b×1@-1h30m0s",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("histories:\n%s\nwant, by record key, recent newest first (no search), purchases by item:\n%s",
			strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func testLiveCatalog(t *testing.T, s Stores) {
	ctx := context.Background()
	items, err := s.Training.LiveCatalog(ctx)
	must(t, err)
	if len(items) != 0 {
		t.Fatalf("empty catalogue = %+v", items)
	}
	all := []catalog.Item{shopItem("d", true, "Toys"), shopItem("a", true, "Home", "Kitchen", "Mugs"), shopItem("b", false, "Garden"),
		shopItem("c", true, "Toys")}
	for _, it := range all {
		must(t, s.Seed.PutItem(ctx, it))
	}
	must(t, s.Seed.DeleteItem(ctx, "c"))
	must(t, s.Seed.TombstoneItem(ctx, "d", t0.Add(time.Hour)))
	items, err = s.Training.LiveCatalog(ctx)
	must(t, err)
	if len(items) != 2 || !sameItem(items[0], all[1]) || !sameItem(items[1], all[2]) {
		t.Fatalf("live catalogue = %+v; want a and b whole, by id (c removed, d deleted)", items)
	}
}

// payload is n bytes that do not repeat in any short period.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func ref(asOf time.Time, data []byte) recommendations.SnapshotRef {
	sum := sha256.Sum256(data)
	return recommendations.SnapshotRef{AsOf: asOf, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

func testSnapshots(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, ok, err := s.Serving.LatestSnapshot(ctx); err != nil || ok {
		t.Fatalf("latest of none: ok %v err %v", ok, err)
	}
	put := func(asOf time.Time, data []byte) recommendations.SnapshotRef {
		t.Helper()
		r, err := s.Training.PutSnapshot(ctx, ref(asOf, data), data)
		must(t, err)
		if r.Chunks != 1 || r.Bytes != int64(len(data)) || !r.AsOf.Equal(asOf) {
			t.Fatalf("stored ref = %+v", r)
		}
		return r
	}
	load := func(r recommendations.SnapshotRef) ([]byte, error) { return s.Serving.LoadSnapshot(ctx, r) }
	latest := func() recommendations.SnapshotRef {
		t.Helper()
		r, ok, err := s.Serving.LatestSnapshot(ctx)
		if err != nil || !ok {
			t.Fatalf("latest: ok %v err %v", ok, err)
		}
		return r
	}
	a, b, c := payload(1000, 1), payload(2000, 2), payload(10, 3)
	ra := put(t0, a)
	if got := latest(); got != ra {
		t.Fatalf("latest = %+v, want %+v", got, ra)
	}
	if got, err := load(ra); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("load a: %v", err)
	}
	got, _ := load(ra)
	got[0] ^= 0xff
	if again, _ := load(ra); !bytes.Equal(again, a) {
		t.Fatal("changing loaded bytes changed the stored snapshot")
	}
	// Storing the same snapshot again changes nothing.
	if again := put(t0, a); again != ra || latest() != ra {
		t.Fatalf("re-storing: %+v latest %+v", again, latest())
	}
	rb := put(t0.Add(24*time.Hour), b)
	if latest() != rb {
		t.Fatalf("latest = %+v after b", latest())
	}
	// The snapshot replaced stays loadable for readers that started on it.
	if got, err := load(ra); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("previous snapshot after b: %v", err)
	}
	// A retrained run with the same as_of but other bytes is another snapshot.
	rc := put(t0.Add(24*time.Hour), c)
	if latest() != rc || rc == rb {
		t.Fatalf("latest = %+v after c", latest())
	}
	if got, err := load(rb); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("previous snapshot after c: %v", err)
	}
	if _, err := load(ra); err == nil {
		t.Fatal("the snapshot before the previous one is still stored")
	}
	if got, err := load(rc); err != nil || !bytes.Equal(got, c) {
		t.Fatalf("load c: %v", err)
	}
}

func testBigSnapshot(t *testing.T, s Stores) {
	ctx := context.Background()
	data := payload(2*recommendations.SnapshotChunkBytes+12345, 7)
	r, err := s.Training.PutSnapshot(ctx, ref(t0, data), data)
	must(t, err)
	if r.Chunks != 3 {
		t.Fatalf("chunks = %d for %d bytes; want 3", r.Chunks, len(data))
	}
	latest, ok, err := s.Serving.LatestSnapshot(ctx)
	if err != nil || !ok || latest != r {
		t.Fatalf("latest = %+v %v %v", latest, ok, err)
	}
	got, err := s.Serving.LoadSnapshot(ctx, latest)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("load: %v (%d bytes of %d)", err, len(got), len(data))
	}
	// A reference promising other chunks than stored is an error, not a
	// short read.
	wrong := latest
	wrong.Chunks, wrong.Bytes = 2, int64(2*recommendations.SnapshotChunkBytes)
	if _, err := s.Serving.LoadSnapshot(ctx, wrong); err == nil {
		t.Fatal("a reference with the wrong chunk count loaded")
	}
}

func testCatalogChanges(t *testing.T, s Stores) {
	ctx := context.Background()
	none, err := s.Serving.CatalogChanges(ctx, time.Time{})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("changes of an empty catalogue = %+v", none)
	}
	// a, b, c and d fall in the four shards of the feed.
	shards := map[int]bool{}
	for _, id := range []string{"a", "b", "c", "d"} {
		shards[schema.ChangeShard(id)] = true
	}
	if len(shards) != schema.ChangeShards {
		t.Fatalf("the items cover shards %v; the test needs all %d", shards, schema.ChangeShards)
	}
	// Change times are kept to the millisecond.
	t1, t2, t3 := t0.Add(time.Hour+300*time.Microsecond), t0.Add(2*time.Hour), t0.Add(3*time.Hour+700*time.Microsecond)
	at := func(id string, when time.Time) catalog.Item {
		it := shopItem(id, true, "Home")
		it.UpdatedAt = when
		return it
	}
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.Seed.PutItem(ctx, at(id, t1)))
	}
	must(t, s.Seed.PutItem(ctx, at("d", t2)))
	must(t, s.Seed.TombstoneItem(ctx, "a", t3))
	ms := func(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

	got, err := s.Serving.CatalogChanges(ctx, t2.Add(-time.Microsecond))
	must(t, err)
	if len(got) != 2 || !sameItem(got[0], at("d", t2)) || got[0].Deleted || !got[0].ChangedAt.Equal(t2) ||
		got[1].ID != "a" || !got[1].Deleted || !got[1].ChangedAt.Equal(ms(t3)) {
		t.Fatalf("changes since t2 = %+v; want d written at t2, then a deleted at t3", got)
	}
	all, err := s.Serving.CatalogChanges(ctx, t1)
	must(t, err)
	var lines []string
	for _, it := range all {
		lines = append(lines, fmt.Sprintf("%s %t %s", it.ID, it.Deleted, it.ChangedAt.UTC().Format(time.RFC3339Nano)))
	}
	want := []string{
		"b false 2026-11-20T13:00:00Z", "c false 2026-11-20T13:00:00Z",
		"d false 2026-11-20T14:00:00Z", "a true 2026-11-20T15:00:00Z",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("changes since t1:\n%s\nwant, oldest first, changes to the millisecond:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !sameItem(all[0], at("b", t1)) || !sameItem(all[3], at("a", t1)) {
		t.Fatalf("rows = %+v; want them whole, the tombstone with the attributes it had", all)
	}
	later, err := s.Serving.CatalogChanges(ctx, ms(t3).Add(time.Millisecond))
	must(t, err)
	if len(later) != 0 {
		t.Fatalf("changes after the last one = %+v", later)
	}

	// Writing an item again moves it to its new change time; deleting and
	// recreating one reports it live.
	t4 := t3.Add(time.Hour)
	must(t, s.Seed.PutItem(ctx, at("b", t4)))
	must(t, s.Seed.PutItem(ctx, at("a", t4)))
	got, err = s.Serving.CatalogChanges(ctx, t4)
	must(t, err)
	if len(got) != 2 || got[0].ID != "a" || got[0].Deleted || got[1].ID != "b" {
		t.Fatalf("changes since t4 = %+v; want a (recreated) and b", got)
	}
	if all, err := s.Serving.CatalogChanges(ctx, t1); err != nil || len(all) != 4 {
		t.Fatalf("changes since t1 after the rewrites = %+v %v; want each item once", all, err)
	}
}

func testRuns(t *testing.T, s Stores) {
	ctx := context.Background()
	snap := recommendations.SnapshotRef{AsOf: t0, Bytes: 1234, Chunks: 1, SHA256: "abcd"}
	eval := &recommendations.Evaluation{HoldoutDays: 28, Cutoff: t0.AddDate(0, 0, -28), Customers: 3, K: 10,
		Models: []recommendations.EvaluationModel{
			{Model: "tailor", Metrics: recommendations.Metrics{Precision: 0.1, Recall: 0.5, NDCG: 0.25, MAP: 0.2, HitRate: 2.0 / 3, Coverage: 0.75, Users: 3}},
			{Model: "popularity", Metrics: recommendations.Metrics{HitRate: 1.0 / 3, Users: 3}}}}
	first := recommendations.Run{AsOf: t0, StartedAt: t0.Add(time.Hour), Duration: 1500 * time.Millisecond, Customers: 7, Interactions: 10,
		Catalog: 5, Items: 4, Head: 3, Lambda: 500, Pairs: 6, PopularLists: 3, Snapshot: snap, ModelBytes: 1500, Evaluation: eval}
	must(t, s.Training.PutRun(ctx, first))
	must(t, s.Training.PutRun(ctx, recommendations.Run{AsOf: t0.Add(24 * time.Hour), StartedAt: t0.Add(25 * time.Hour), Items: 2}))
	rerun := first
	rerun.StartedAt, rerun.Duration, rerun.Items = t0.Add(2*time.Hour), 2*time.Second, 9
	must(t, s.Training.PutRun(ctx, rerun))

	latest, err := s.Serving.TrainingRuns(ctx, 1)
	must(t, err)
	if len(latest) != 1 || !latest[0].AsOf.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("latest run = %+v; want the one as of %s", latest, t0.Add(24*time.Hour))
	}
	runs, err := s.Serving.TrainingRuns(ctx, 10)
	must(t, err)
	if len(runs) == 2 && !runs[0].AsOf.After(runs[1].AsOf) {
		t.Fatalf("runs are not latest first: %v then %v", runs[0].AsOf, runs[1].AsOf)
	}
	slices.SortFunc(runs, func(a, b recommendations.Run) int { return a.AsOf.Compare(b.AsOf) })
	if len(runs) != 2 {
		t.Fatalf("runs = %+v; want two, the re-run of the first as_of replacing it", runs)
	}
	r := runs[0]
	if !r.AsOf.Equal(t0) || !r.StartedAt.Equal(t0.Add(2*time.Hour)) || r.DurationMS != 2000 || r.Items != 9 || r.Interactions != 10 ||
		r.Customers != 7 || r.Catalog != 5 || r.Head != 3 || r.Lambda != 500 || r.Pairs != 6 || r.PopularLists != 3 ||
		r.Snapshot != snap || r.ModelBytes != 1500 {
		t.Fatalf("run = %+v", r)
	}
	if r.Evaluation == nil || !r.Evaluation.Cutoff.Equal(eval.Cutoff) || r.Evaluation.HoldoutDays != 28 || r.Evaluation.K != 10 ||
		fmt.Sprint(r.Evaluation.Models) != fmt.Sprint(eval.Models) {
		t.Fatalf("evaluation = %+v, want %+v", r.Evaluation, eval)
	}
	if runs[1].Evaluation != nil {
		t.Fatalf("a run without an evaluation read back %+v", runs[1].Evaluation)
	}
	if !runs[1].AsOf.Equal(t0.Add(24*time.Hour)) || runs[1].Items != 2 || runs[1].DurationMS != 0 {
		t.Fatalf("second run = %+v", runs[1])
	}
}

// testConcurrent stores snapshots while requests read the newest; the race
// detector and the answers show that no read sees a half-stored one.
func testConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	first := payload(1000, 1)
	_, err := s.Training.PutSnapshot(ctx, ref(t0, first), first)
	must(t, err)
	var wg sync.WaitGroup
	errc := make(chan error, 40)
	for i := range 10 {
		wg.Go(func() {
			data := payload(1000+i, byte(i))
			if _, err := s.Training.PutSnapshot(ctx, ref(t0.Add(time.Duration(i+1)*time.Hour), data), data); err != nil {
				errc <- err
			}
		})
		wg.Go(func() {
			r, ok, err := s.Serving.LatestSnapshot(ctx)
			if err != nil || !ok {
				errc <- fmt.Errorf("latest: %v %v", ok, err)
				return
			}
			// A reader may lose the race with two newer stores (the chunks
			// are then gone); what it loads must never be partial.
			if data, err := s.Serving.LoadSnapshot(ctx, r); err == nil && int64(len(data)) != r.Bytes {
				errc <- fmt.Errorf("loaded %d bytes of %d", len(data), r.Bytes)
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
