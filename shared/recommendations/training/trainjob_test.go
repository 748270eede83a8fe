package training_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"tailor/shared/catalog"
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
	// hasRun reports whether a run record of asOf is stored.
	hasRun func(t *testing.T, asOf time.Time) bool
}

func newJob(store training.Store, clock *time.Time) *training.Job {
	return &training.Job{Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return *clock }}
}

// load reads and decodes the newest snapshot.
func load(t *testing.T, s service.Store) (recommendations.SnapshotRef, *recommendations.Snapshot) {
	t.Helper()
	ctx := context.Background()
	ref, ok, err := s.LatestSnapshot(ctx)
	if err != nil || !ok {
		t.Fatalf("latest snapshot: %v %v", ok, err)
	}
	data, err := s.LoadSnapshot(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ref.SHA256 || int64(len(data)) != ref.Bytes {
		t.Fatalf("stored bytes do not match the reference %+v", ref)
	}
	snap, err := recommendations.UnmarshalSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	return ref, snap
}

// testTrainStoresSnapshotAndRun trains on the shop, checks what the
// snapshot holds, runs again with the same as_of and checks that the same
// snapshot is stored.
func testTrainStoresSnapshotAndRun(t *testing.T, b backend) {
	ctx := context.Background()
	clock := servicetest.Now.Add(13 * time.Hour)
	job := newJob(b.store, &clock)
	run, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// 17 customer records (16 buyers and viewers and the customer); 14
	// items touched before as_of, the new mug never was.
	if !run.AsOf.Equal(asOf) || run.Customers != 17 || run.Items != 14 || run.Catalog != len(servicetest.Items()) ||
		run.Head != 14 || run.Lambda != 500 || run.Pairs == 0 || run.PopularLists == 0 || run.Snapshot.Bytes == 0 || run.ModelBytes <= 0 {
		t.Fatalf("run = %+v", run)
	}
	ref, snap := load(t, b.serving)
	if ref != run.Snapshot || !snap.AsOf.Equal(asOf) || !snap.CatalogAt.Equal(clock) || snap.Head != 14 {
		t.Fatalf("snapshot %+v (as of %v, catalogue at %v); run says %+v", ref, snap.AsOf, snap.CatalogAt, run.Snapshot)
	}
	if len(snap.Catalog) != len(servicetest.Items()) {
		t.Fatalf("snapshot catalogue has %d items", len(snap.Catalog))
	}
	if _, ok := snap.Models[servicetest.NewMug]; ok {
		t.Fatal("an item without interactions got a neighbour list")
	}
	mug := snap.Models[servicetest.Mug].Neighbours
	if len(mug) < 3 || mug[0].ItemID != servicetest.Spoon && mug[0].ItemID != servicetest.Teapot {
		t.Fatalf("mug neighbours = %v; want spoon and teapot (bought with it by six) first", mug)
	}
	home := recommendations.FindPopular(snap.Popular, 30, "Home")
	if len(home) == 0 || home[0].ItemID != servicetest.Mug {
		t.Fatalf("popular in Home = %+v; want the mug (ten buyers) first", home)
	}
	if len(recommendations.FindPopular(snap.Popular, 30, "")) != 14 {
		t.Fatalf("global 30-day list = %v", recommendations.FindPopular(snap.Popular, 30, ""))
	}
	if !b.hasRun(t, asOf) {
		t.Fatal("no run record")
	}
	if run.Evaluation != nil {
		t.Fatalf("an evaluation ran with EvaluationDays 0: %+v", run.Evaluation)
	}
	// The recommend side serves it.
	svc := &service.Service{Store: b.serving, Scorer: recommendations.DefaultScorer(), Now: func() time.Time { return clock },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	l, err := svc.Similar(ctx, service.SimilarQuery{ItemID: servicetest.Mug, Limit: 1})
	if err != nil || len(l.Items) != 1 || l.Items[0].ItemID != servicetest.Teapot {
		t.Fatalf("similar to the mug = %+v %v; want the teapot (the spoon is out of stock)", l, err)
	}

	// The same as_of again, later: the same model and catalogue, so the
	// same bytes (only the catalogue's read time differs).
	clock = clock.Add(time.Hour)
	again, err := job.Handle(ctx, sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, snap2 := load(t, b.serving)
	snap.CatalogAt = snap2.CatalogAt
	first, _ := snap.MarshalBinary()
	second, _ := snap2.MarshalBinary()
	if again.Items != run.Items || again.Pairs != run.Pairs || !bytes.Equal(first, second) {
		t.Fatalf("second run = %+v, first %+v; snapshots equal: %v", again, run, bytes.Equal(first, second))
	}
}

func memoryBackend(shop *servicetest.Memory) backend {
	s := shop.Store
	return backend{store: s, serving: s,
		hasRun: func(t *testing.T, asOf time.Time) bool {
			runs, err := s.TrainingRuns(context.Background(), 1000)
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
	}
}

func TestTrainStoresSnapshotAndRun(t *testing.T) {
	testTrainStoresSnapshotAndRun(t, memoryBackend(servicetest.NewMemory(t)))
}

// testTrainWithoutHistory runs the job on a store with a catalogue but no
// customer records: the snapshot holds the catalogue and no lists.
func testTrainWithoutHistory(t *testing.T, store training.Store, serving service.Store) {
	clock := time.Now()
	run, err := newJob(store, &clock).Handle(context.Background(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, snap := load(t, serving)
	if run.Items != 0 || run.Customers != 0 || len(snap.Models) != 0 || len(snap.Catalog) != 2 {
		t.Fatalf("run = %+v, snapshot catalogue %d lists %d", run, len(snap.Catalog), len(snap.Models))
	}
}

func TestTrainWithoutHistory(t *testing.T) {
	s := memory.New()
	for _, id := range []string{"a", "b"} {
		if err := s.PutItem(context.Background(), catalog.Item{ID: id, Title: id, Currency: "GBP", InStock: true}); err != nil {
			t.Fatal(err)
		}
	}
	testTrainWithoutHistory(t, s, s)
}

// A model that would not fit the recommend function's memory fails the
// run with a clear error and stores nothing: the function keeps serving
// the snapshot it has.
func TestTrainRefusesAModelTooLargeToServe(t *testing.T) {
	shop := servicetest.NewMemory(t)
	clock := servicetest.Now
	job := newJob(shop.Store, &clock)
	if _, err := job.Run(context.Background(), servicetest.Now); err != nil {
		t.Fatal(err)
	}
	before, _, _ := shop.Store.LatestSnapshot(context.Background())
	job.MaxModelBytes = 1 << 10
	clock = clock.Add(time.Hour)
	_, err := job.Run(context.Background(), clock)
	if !errors.Is(err, training.ErrModelTooLarge) || !strings.Contains(err.Error(), "RecommendMemorySize") {
		t.Fatalf("err = %v; want ErrModelTooLarge naming the setting to raise", err)
	}
	if after, _, _ := shop.Store.LatestSnapshot(context.Background()); after != before {
		t.Fatalf("a refused model replaced the snapshot: %+v", after)
	}
}

// With EvaluationDays set, the run record carries the offline evaluation
// of a model trained that many days earlier, for Tailor and popularity.
func TestTrainEvaluatesOnAHoldout(t *testing.T) {
	shop := servicetest.NewMemory(t)
	clock := servicetest.Now.Add(13 * time.Hour)
	job := newJob(shop.Store, &clock)
	job.EvaluationDays = 7
	run, err := job.Handle(context.Background(), sample(t, "as_of.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := run.Evaluation
	if ev == nil || ev.HoldoutDays != 7 || !ev.Cutoff.Equal(run.AsOf.AddDate(0, 0, -7)) || ev.Customers == 0 || len(ev.Models) != 2 {
		t.Fatalf("evaluation %+v", ev)
	}
	runs, err := shop.Store.TrainingRuns(context.Background(), 1)
	if err != nil || len(runs) != 1 || runs[0].Evaluation == nil || runs[0].Evaluation.Customers != ev.Customers {
		t.Fatalf("stored run %+v %v", runs, err)
	}
}
