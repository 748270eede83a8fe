package bus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

func TestBatchesKeepToCountAndBytes(t *testing.T) {
	sized := func(n int) Entry {
		return Entry{Source: "s", DetailType: "d", Detail: []byte(strings.Repeat("x", n-16))}
	}
	many := func(n, size int) []Entry {
		out := make([]Entry, n)
		for i := range out {
			out[i] = sized(size)
		}
		return out
	}
	tests := []struct {
		name    string
		entries []Entry
		want    []int // entries per batch
	}{
		{"none", nil, nil},
		{"one", many(1, 100), []int{1}},
		{"ten", many(10, 100), []int{10}},
		{"eleven", many(11, 100), []int{10, 1}},
		{"twenty-three", many(23, 100), []int{10, 10, 3}},
		{"by bytes", many(5, 100<<10), []int{2, 2, 1}},
		{"exactly the limit", many(4, MaxSize/4), []int{4}},
		{"one byte over", append(many(3, MaxSize/4), sized(MaxSize/4+1)), []int{3, 1}},
		{"each at the limit", many(3, MaxSize), []int{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			batches := Batches(tc.entries)
			var got []int
			total := 0
			for _, b := range batches {
				got = append(got, len(b))
				size := 0
				for _, e := range b {
					size += e.Size()
				}
				if len(b) > MaxBatch || size > MaxSize {
					t.Errorf("batch of %d entries, %d bytes", len(b), size)
				}
				total += len(b)
			}
			if len(got) != len(tc.want) || total != len(tc.entries) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("batches %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestEncodeCountsSizeAsEventBridge(t *testing.T) {
	e, err := Encode(Event{ID: "x.y:1", Source: "tailor.test", DetailType: "x.y", Detail: map[string]int{"n": 1},
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 7200))})
	if err != nil {
		t.Fatal(err)
	}
	// 14 for the time, then the UTF-8 bytes of source, type and detail.
	if want := 14 + len("tailor.test") + len("x.y") + len(`{"event_id":"x.y:1","n":1}`); e.Size() != want {
		t.Errorf("size %d, want %d", e.Size(), want)
	}
	if e.Time.Location() != time.UTC || e.Time.Hour() != 1 {
		t.Errorf("time %v, want UTC", e.Time)
	}
	_, err = Encode(Event{})
	var ee *errs.Error
	if !errs.Is(err, errs.Invalid) || !errors.As(err, &ee) || len(ee.Fields) != 5 {
		t.Errorf("empty event: %v, want every missing field named", err)
	}
}
