package replay_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"tailor/shared/local/replay"
)

// customerAPI is a fake events API that accepts everything and records,
// per request, the customers it names, and every time two requests in
// flight at once named the same customer.
type customerAPI struct {
	mu       sync.Mutex
	inFlight map[string]bool
	clashes  int
	requests [][]string // per request, its events' customers in order
}

func (a *customerAPI) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	var in struct {
		Events []struct {
			CustomerID string `json:"customer_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 400, nil, nil
	}
	var custs []string
	for _, e := range in.Events {
		custs = append(custs, e.CustomerID)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(custs)))
	a.mu.Lock()
	for _, c := range distinct {
		if a.inFlight[c] {
			a.clashes++
		}
		a.inFlight[c] = true
	}
	a.requests = append(a.requests, custs)
	a.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // long enough for the other senders to start theirs
	a.mu.Lock()
	for _, c := range distinct {
		delete(a.inFlight, c)
	}
	a.mu.Unlock()
	out := struct {
		Results []map[string]any `json:"results"`
	}{}
	for i := range in.Events {
		out.Results = append(out.Results, map[string]any{"index": i, "status": "accepted"})
	}
	b, _ := json.Marshal(out)
	return 200, b, nil
}

// TestLoadByCustomerKeepsCustomersTogether: grouped by customer, every
// request carries whole runs of customers (a customer's events are
// contiguous across the whole load), and two requests that share a
// customer, the one whose events spill into the next batch, are never in
// flight at once.
func TestLoadByCustomerKeepsCustomersTogether(t *testing.T) {
	open := func() (io.ReadCloser, error) { return os.Open("../../../testdata/demo/online_retail_demo.csv.gz") }
	api := &customerAPI{inFlight: map[string]bool{}}
	l := &replay.Loader{Send: api, Batch: 40, Senders: 4, ByCustomer: true}
	rep, err := l.Retail(context.Background(), open)
	if err != nil || rep.Accepted != 6245 || rep.Failed != 0 {
		t.Fatalf("load: %+v %v", rep, err)
	}
	if api.clashes != 0 {
		t.Fatalf("%d times two requests in flight named the same customer", api.clashes)
	}
	// Within each request a customer's events are contiguous, and a
	// customer spans several requests only as the last customer of one
	// and the first of the next.
	spans, interior := map[string]int{}, map[string]bool{}
	for _, custs := range api.requests {
		seen := map[string]bool{}
		for i, c := range custs {
			if seen[c] && custs[i-1] != c {
				t.Fatalf("customer %s is split inside a request: %v", c, custs)
			}
			if !seen[c] {
				spans[c]++
			}
			seen[c] = true
			if c != custs[0] && c != custs[len(custs)-1] {
				interior[c] = true
			}
		}
	}
	for c := range interior {
		if spans[c] > 1 {
			t.Fatalf("customer %s fills the middle of a request and is in another one", c)
		}
	}
	split := 0
	for _, n := range spans {
		if n > 1 {
			split++
		}
	}
	if split == 0 {
		t.Fatal("no customer spans two requests: the test checks nothing about sending them in turn")
	}
}
