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

// TestLoadByCustomerKeepsCustomersTogether: grouped by customer, a
// request carries whole customers, as many as fit; a customer with more
// events than a batch has requests of its own, sent one after the other:
// two requests in flight at once never name the same customer.
func TestLoadByCustomerKeepsCustomersTogether(t *testing.T) {
	const batch = 40
	open := func() (io.ReadCloser, error) { return os.Open("../../../testdata/demo/online_retail_demo.csv.gz") }
	api := &customerAPI{inFlight: map[string]bool{}}
	l := &replay.Loader{Send: api, Batch: batch, Senders: 4, ByCustomer: true}
	rep, err := l.Retail(context.Background(), open)
	if err != nil || rep.Accepted != 6245 || rep.Failed != 0 {
		t.Fatalf("load: %+v %v", rep, err)
	}
	if api.clashes != 0 {
		t.Fatalf("%d times two requests in flight named the same customer", api.clashes)
	}
	total, requests := map[string]int{}, map[string]int{}
	for _, custs := range api.requests {
		seen := map[string]bool{}
		for i, c := range custs {
			if seen[c] && custs[i-1] != c {
				t.Fatalf("customer %s is split inside a request: %v", c, custs)
			}
			if !seen[c] {
				requests[c]++
			}
			seen[c] = true
			total[c]++
		}
		if len(seen) > 1 && len(custs) > batch {
			t.Fatalf("a request of %d events", len(custs))
		}
	}
	big := 0
	for _, custs := range api.requests {
		for _, c := range custs {
			if requests[c] > 1 && (total[c] <= batch || custs[0] != custs[len(custs)-1]) {
				t.Fatalf("customer %s (%d events) is in %d requests, one of them shared: %v", c, total[c], requests[c], custs)
			}
		}
	}
	for c, n := range requests {
		if n > 1 {
			big++
		} else if total[c] > batch {
			t.Fatalf("customer %s has %d events in one request", c, total[c])
		}
	}
	if big == 0 {
		t.Fatal("no customer fills two requests: the test checks nothing about sending them in turn")
	}
	if len(api.requests) > 6245/batch*2 {
		t.Fatalf("%d requests for 6,245 events in batches of %d: customers are not packed", len(api.requests), batch)
	}
}
