package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/local/replay"
)

// store is a fake events API: it answers accepted for an event id it has
// not seen and duplicate for one it has, and cancels the load after
// stopAfter requests (0: never).
type store struct {
	mu        sync.Mutex
	seen      map[string]int
	requests  int
	stopAfter int
	cancel    context.CancelFunc
}

func (s *store) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	var in struct {
		Events []struct {
			ID string `json:"event_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &in); err != nil || path != "/v1/events" {
		return 400, nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.stopAfter > 0 && s.requests > s.stopAfter {
		s.cancel()
		return 0, nil, context.Canceled
	}
	var results []string
	for i, e := range in.Events {
		st := "accepted"
		if s.seen[e.ID] > 0 {
			st = "duplicate"
		}
		s.seen[e.ID]++
		results = append(results, fmt.Sprintf(`{"index":%d,"status":%q}`, i, st))
	}
	return 200, []byte(`{"results":[` + strings.Join(results, ",") + `]}`), nil
}

func rawEvents(n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"event_id":"e-%05d"}`, i))
	}
	return out
}

// TestInterruptedLoadResumes: a load cut off part way leaves a checkpoint;
// the next load of the same source sends only what had no answer (plus
// the chunks in flight), every event ends stored once, the checkpoint goes
// away, and a third load changes nothing and says so.
func TestInterruptedLoadResumes(t *testing.T) {
	const n, batch = 5000, 100
	evs := rawEvents(n)
	path := filepath.Join(t.TempDir(), "load.checkpoint")
	api := &store{seen: map[string]int{}, stopAfter: 20}
	ctx, cancel := context.WithCancel(context.Background())
	api.cancel = cancel
	cp := &replay.Checkpoint{Path: path, Source: "retail v1", Every: time.Nanosecond}
	l := &replay.Loader{Send: api, Batch: batch, Senders: 3, Attempts: 2, Checkpoint: cp}

	var first replay.Report
	if err := l.Events(ctx, evs, &first); err == nil {
		t.Fatal("the cut-off load reported no error")
	}
	if !strings.Contains(first.String(), "stopped part way") || first.Answered == 0 || first.Answered >= n {
		t.Fatalf("the cut-off load's report: %+v\n%s", first, first)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no checkpoint after the cut-off load: %v", err)
	}
	var saved struct{ Done, Events int }
	if err := json.Unmarshal(b, &saved); err != nil || saved.Events != n || saved.Done == 0 || saved.Done > 20*batch {
		t.Fatalf("checkpoint %s: %v", b, err)
	}
	for i := range saved.Done {
		if api.seen[fmt.Sprintf("e-%05d", i)] != 1 {
			t.Fatalf("event %d is inside the checkpoint but was not stored", i)
		}
	}

	// A checkpoint of another source is not used.
	other := &replay.Loader{Send: &store{seen: map[string]int{}}, Batch: batch, Checkpoint: &replay.Checkpoint{Path: path, Source: "retail v2"}}
	var fresh replay.Report
	if err := other.Events(context.Background(), rawEvents(10), &fresh); err != nil || fresh.Resumed != 0 || fresh.Accepted != 10 {
		t.Fatalf("other source: %+v %v", fresh, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil { // the other load completed and removed it
		t.Fatal(err)
	}

	api.stopAfter, api.requests = 0, 0
	var second replay.Report
	if err := l.Events(context.Background(), evs, &second); err != nil {
		t.Fatal(err)
	}
	if second.Resumed != saved.Done || second.Accepted+second.Duplicate != n-saved.Done {
		t.Fatalf("resumed load: %+v (checkpoint at %d)", second, saved.Done)
	}
	if second.Duplicate > 3*batch {
		t.Fatalf("the resumed load sent %d events again; only the chunks in flight should be", second.Duplicate)
	}
	for i := range n {
		if c := api.seen[fmt.Sprintf("e-%05d", i)]; c == 0 {
			t.Fatalf("event %d never stored", i)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the checkpoint outlived a complete load: %v", err)
	}

	var third replay.Report
	if err := l.Events(context.Background(), evs, &third); err != nil {
		t.Fatal(err)
	}
	if third.Resumed != 0 || third.Duplicate != n || third.Answered != n || !third.Unchanged() || !strings.Contains(third.String(), "nothing changed") {
		t.Fatalf("third load: %+v\n%s", third, third)
	}
	if second.Unchanged() {
		t.Fatal("a load that stored events says nothing changed")
	}
}
