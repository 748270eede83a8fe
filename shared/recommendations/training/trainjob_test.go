package training_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"tailor/shared/platform/apigw/apigwtest"
	"tailor/shared/platform/errs"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/memory"
	"tailor/shared/recommendations/service"
	"tailor/shared/recommendations/service/servicetest"
	"tailor/shared/recommendations/training"
)

func sample(t *testing.T, name string) json.RawMessage { return apigwtest.File(t, "train", name) }

func TestAsOf(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		payload string
		want    time.Time
		invalid bool
	}{
		{"sample as_of", string(sample(t, "as_of.json")), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), false},
		{"sample schedule", string(sample(t, "scheduled.json")), time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC), false},
		{"empty object", `{}`, now, false},
		{"no payload", ``, now, false},
		{"offset time", `{"as_of":"2011-12-10T01:00:00+01:00"}`, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC), false},
		{"not a time", `{"as_of":"yesterday"}`, time.Time{}, true},
		{"typo", `{"asof":"2011-12-10T00:00:00Z"}`, time.Time{}, true},
		{"array", `[]`, time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := training.AsOf([]byte(tc.payload), now)
			if tc.invalid {
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("err = %v, want Invalid", err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("AsOf = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// backend is the storage a training test runs the job on, holding the
// seeded shop.
type backend struct {
	store   training.Store
	serving service.Store
	// leftovers stores lists of an earlier model: the neighbour list of
	// "gone", an item nobody touches any more, pointing at the mug, and the
	// 30-day popularity list of "Gone", a category that sold nothing this
	// month.
	leftovers func(t *testing.T)
	// hasRun reports whether a run record of asOf is stored.
	hasRun func(t *testing.T, asOf time.Time) bool
	// rows renders every row the job owns (neighbour and popularity lists)
	// by key, to compare two runs.
	rows func(t *testing.T) map[string]string
}

func newJob(store training.Store, clock *time.Time) *training.Job {
	return &training.Job{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return *clock }}
}

// testTrainWritesListsAndRunAndIsIdempotent trains on the shop with
// leftovers of an earlier model, checks the lists, runs again with the
// same as_of and checks that nothing changed.
func testTrainWritesListsAndRunAndIsIdempotent(t *testing.T, b backend) {
	ctx := context.Background()
	b.leftovers(t)

	clock := servicetest.Now.Add(13 * time.Hour)
	job := newJob(b.store, &clock)
	run, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// 14 items were touched before as_of; the new mug never was. The
	// history holds every view and purchase (the customer's cart add is
	// after as_of and ignored by training, not by the scan).
	if !run.AsOf.Equal(asOf) || run.Items != 14 || run.Catalog != len(servicetest.Items()) || run.Removed != 1 ||
		run.Interactions != len(servicetest.Events()) || run.Pairs == 0 || run.PopularLists == 0 {
		t.Fatalf("run = %+v", run)
	}

	lists, err := b.serving.Lists(ctx, []string{servicetest.Mug, "gone", servicetest.NewMug}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lists.Models["gone"]; ok {
		t.Fatal("the stale neighbour list of an item without interactions survived the run")
	}
	if _, ok := lists.Models[servicetest.NewMug]; ok {
		t.Fatal("an item without interactions got a neighbour list")
	}
	mug := lists.Models[servicetest.Mug].Neighbours
	if len(mug) < 3 || mug[0].ItemID != servicetest.Spoon && mug[0].ItemID != servicetest.Teapot {
		t.Fatalf("mug neighbours = %v; want spoon and teapot (bought with it by six) first", mug)
	}
	// Training-time attributes travel with the list.
	if a := lists.Trained[servicetest.Teapot]; a.Category != "Home/Kitchen" || a.Brand != "Acme" || a.PriceMinor != 2500 {
		t.Fatalf("teapot attributes in the list = %+v", a)
	}
	pop, err := b.serving.Popular(ctx, []recommendations.PopularKey{{WindowDays: 30}, {WindowDays: 30, Category: "Home"},
		{WindowDays: 30, Category: "Gone"}, {WindowDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pop[recommendations.PopularKey{WindowDays: 30, Category: "Gone"}]; ok {
		t.Fatal("a stale popularity list survived the run")
	}
	home := pop[recommendations.PopularKey{WindowDays: 30, Category: "Home"}]
	if len(home.Items) == 0 || home.Items[0].ItemID != servicetest.Mug || !home.AsOf.Equal(asOf) {
		t.Fatalf("popular in Home = %+v; want the mug (ten buyers) first", home)
	}
	for _, it := range home.Items {
		if home.Attrs[it.ItemID].Category[:4] != "Home" {
			t.Fatalf("popular in Home holds %s of %q", it.ItemID, home.Attrs[it.ItemID].Category)
		}
	}
	if len(pop[recommendations.PopularKey{WindowDays: 30}].Items) != 14 {
		t.Fatalf("global 30-day list = %v", pop[recommendations.PopularKey{WindowDays: 30}].Items)
	}
	if !b.hasRun(t, asOf) {
		t.Fatal("no run record")
	}

	// The same as_of again, later: the same rows, byte for byte.
	before := b.rows(t)
	clock = clock.Add(time.Hour)
	again, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Items != run.Items || again.Pairs != run.Pairs || again.Removed != 0 {
		t.Fatalf("second run = %+v, first %+v", again, run)
	}
	after := b.rows(t)
	if len(before) != len(after) {
		t.Fatalf("rows: %d before, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("row %s changed on a re-run:\n%s\n%s", k, v, after[k])
		}
	}
}

func memoryBackend(shop *servicetest.Memory) backend {
	s := shop.Store
	return backend{store: s, serving: s,
		leftovers: func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.WriteNeighbours(ctx, &recommendations.Model{Items: map[string]recommendations.ItemModel{
				"gone": {ItemID: "gone", Neighbours: []recommendations.Neighbour{{ItemID: servicetest.Mug, Score: 0.5}}}}}, nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.WritePopular(ctx, []recommendations.PopularList{{WindowDays: 30, Category: "Gone",
				Items: []recommendations.ScoredItem{{ItemID: "gone", Score: 1}}}}, nil, servicetest.Now); err != nil {
				t.Fatal(err)
			}
		},
		hasRun: func(t *testing.T, asOf time.Time) bool {
			runs, err := s.Runs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.AsOf.Equal(asOf) {
					return true
				}
			}
			return false
		},
		rows: func(t *testing.T) map[string]string {
			ctx := context.Background()
			attrs, listed, err := s.Catalog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lists, err := s.Lists(ctx, listed, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for id, m := range lists.Models {
				out["I#"+id+"|NEIGHBOURS"] = fmt.Sprintf("%+v %+v", m, lists.Trained[id])
			}
			keys := []recommendations.PopularKey{}
			for _, w := range []int{1, 7, 30, 365} {
				keys = append(keys, recommendations.PopularKey{WindowDays: w})
				for _, it := range attrs {
					keys = append(keys, recommendations.PopularKey{WindowDays: w, Category: it.TopCategory()})
				}
			}
			pop, err := s.Popular(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range pop {
				out[fmt.Sprintf("POPULAR#%dd|%s", k.WindowDays, k.Category)] = fmt.Sprintf("%+v", p)
			}
			return out
		},
	}
}

func TestTrainWritesListsAndRunAndIsIdempotent(t *testing.T) {
	testTrainWritesListsAndRunAndIsIdempotent(t, memoryBackend(servicetest.NewMemory(t)))
}

// testTrainWithoutHistoryClearsOldLists runs the job on a store without
// history that holds the neighbour list of "old"; listed returns the items
// that still have one afterwards.
func testTrainWithoutHistoryClearsOldLists(t *testing.T, store training.Store, listed func(t *testing.T) int) {
	clock := time.Now()
	run, err := newJob(store, &clock).Handle(context.Background(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if run.Items != 0 || run.Removed != 1 {
		t.Fatalf("run = %+v", run)
	}
	if n := listed(t); n != 0 {
		t.Fatalf("%d neighbour lists remain", n)
	}
}

func TestTrainWithoutHistoryClearsOldLists(t *testing.T) {
	s := memory.New()
	ctx := context.Background()
	if _, err := s.WriteNeighbours(ctx, &recommendations.Model{Items: map[string]recommendations.ItemModel{"old": {ItemID: "old"}}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	testTrainWithoutHistoryClearsOldLists(t, s, func(t *testing.T) int {
		_, listed, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(listed)
	})
}
