package recommendations

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"

	"tailor/shared/catalog"
)

func sampleSnapshot() *Snapshot {
	t := time.Date(2011, 12, 10, 2, 30, 0, 0, time.UTC)
	return &Snapshot{
		AsOf: t, CatalogAt: t.Add(time.Second), Head: 2, Lambda: 500, TailScale: 0.125,
		Catalog: []catalog.Item{
			{ID: "mug", Title: "Mug", Category: []string{"Home", "Kitchen"}, Brand: "Acme", PriceMinor: 1000, Currency: "GBP", InStock: true, UpdatedAt: t.Add(-time.Hour), Tags: []string{}},
			{ID: "teapot", Title: "Teapot", Category: []string{}, PriceMinor: -5, Currency: "GBP", Tags: []string{}, UpdatedAt: t.Add(-2 * time.Hour)},
		},
		Models: map[string]ItemModel{
			"mug":    {ItemID: "mug", Customers: 12, RepeatRate: 0.25, Neighbours: []Neighbour{{"teapot", 0.5}, {"gone", -0.125}}},
			"teapot": {ItemID: "teapot", Customers: 3, Neighbours: []Neighbour{}},
		},
		Popular: []PopularList{{WindowDays: 30, Items: []ScoredItem{{"mug", 10}, {"teapot", 5}}}, {WindowDays: 30, Category: "Home", Items: []ScoredItem{{"mug", 10}}}},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := sampleSnapshot()
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.MarshalBinary()
	if err != nil || !bytes.Equal(data, again) {
		t.Fatal("encoding is not deterministic")
	}
	got, err := UnmarshalSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, s)
	}
	// Scores are float32: a value that is not exact in float32 comes back
	// within float32 precision.
	s.Models["mug"].Neighbours[0].Score = 0.1
	data, _ = s.MarshalBinary()
	got, _ = UnmarshalSnapshot(data)
	if d := math.Abs(got.Models["mug"].Neighbours[0].Score - 0.1); d > 1e-8 {
		t.Errorf("0.1 came back %v", got.Models["mug"].Neighbours[0].Score)
	}
}

func TestSnapshotRejectsCorruptData(t *testing.T) {
	data, err := sampleSnapshot().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"empty":       nil,
		"no magic":    data[8:],
		"truncated":   data[:len(data)/2],
		"newer":       append([]byte("TAILORS\x02"), data[8:]...),
		"flipped":     append(append([]byte{}, data[:len(data)-3]...), data[len(data)-3]^0xff, data[len(data)-2], data[len(data)-1]),
		"not deflate": append(append([]byte{}, snapshotMagic...), 0xff, 0xff, 0xff),
	}
	for name, b := range bad {
		if _, err := UnmarshalSnapshot(b); !errors.Is(err, ErrCorruptSnapshot) {
			t.Errorf("%s: err = %v, want ErrCorruptSnapshot", name, err)
		}
	}
}

// bigSnapshot is a snapshot the size of a mid-sized shop.
func bigSnapshot(items, models, k int) *Snapshot {
	s := &Snapshot{Models: map[string]ItemModel{}}
	for i := range items {
		s.Catalog = append(s.Catalog, catalog.Item{ID: fmt.Sprintf("item-%06d", i), Title: fmt.Sprintf("A product title of item %d", i),
			Category: []string{fmt.Sprintf("cat-%d", i%20), fmt.Sprintf("sub-%d", i%200)}, Brand: fmt.Sprintf("brand-%d", i%50),
			PriceMinor: int64(i), Currency: "GBP", InStock: true})
	}
	for i := range models {
		m := ItemModel{ItemID: fmt.Sprintf("item-%06d", i), Customers: i}
		for j := range k {
			m.Neighbours = append(m.Neighbours, Neighbour{ItemID: fmt.Sprintf("item-%06d", (i+j+1)%items), Score: float64(j)})
		}
		s.Models[m.ItemID] = m
	}
	for _, w := range []int{1, 7, 30, 365} {
		l := PopularList{WindowDays: w}
		for i := range 200 {
			l.Items = append(l.Items, ScoredItem{ItemID: fmt.Sprintf("item-%06d", i), Score: float64(200 - i)})
		}
		s.Popular = append(s.Popular, l)
	}
	return s
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestSnapshotMemoryEstimate(t *testing.T) {
	s := bigSnapshot(20000, 8000, 50)
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	est := s.MemoryBytes()
	s = nil
	before := heapInUse()
	got, err := UnmarshalSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	x := NewIndex(got)
	used := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(x)
	t.Logf("snapshot %d bytes encoded, %d bytes in memory, estimate %d", len(data), used, est)
	if used > est || est > 3*used {
		t.Errorf("estimate %d for %d bytes really held: want an upper bound within 3×", est, used)
	}
}

func TestIndexApply(t *testing.T) {
	s := sampleSnapshot()
	x := NewIndex(s)
	if len(x.Live) != 2 || !x.Items["mug"].InStock || x.Popular[PopularKey{WindowDays: 30, Category: "Home"}][0].ItemID != "mug" || !x.ChangedAt.Equal(s.CatalogAt) {
		t.Fatalf("index %+v", x)
	}
	at := s.CatalogAt.Add(time.Minute)
	outOfStock := x.Live["mug"]
	outOfStock.InStock, outOfStock.UpdatedAt, outOfStock.ChangedAt = false, at, at
	newItem := catalog.Item{ID: "kettle", Title: "Kettle", Category: []string{"Home"}, InStock: true, UpdatedAt: at, ChangedAt: at}
	stale := x.Live["teapot"]
	stale.Title, stale.UpdatedAt, stale.ChangedAt = "old title", stale.UpdatedAt.Add(-time.Hour), at
	y := x.Apply([]catalog.Item{outOfStock, newItem, stale})
	if y.Items["mug"].InStock || y.Live["kettle"].Title != "Kettle" || y.Live["teapot"].Title != "Teapot" || !y.ChangedAt.Equal(at) {
		t.Fatalf("after changes: %+v", y.Live)
	}
	if len(y.Order) != 3 || y.Order[0] != "kettle" {
		t.Errorf("order %v", y.Order)
	}
	if !x.Items["mug"].InStock || len(x.Live) != 2 {
		t.Error("Apply modified the index it was called on")
	}
	del := catalog.Item{ID: "teapot", Deleted: true, ChangedAt: at.Add(time.Second)}
	z := y.Apply([]catalog.Item{del})
	if _, ok := z.Live["teapot"]; ok || len(z.Order) != 2 {
		t.Errorf("deleted teapot still served: %v", z.Order)
	}
	if again := z.Apply([]catalog.Item{del, newItem}); again != z {
		t.Error("re-applying seen changes built a new index")
	}
}
