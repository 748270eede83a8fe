//go:build dynamodb

package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/edge"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

// workload is a reproducible stream of distinct events with their
// expected owners.
type workload struct {
	raws   []json.RawMessage // one per distinct event
	events []events.Event    // cleaned, with categories
	login  map[string]string // anonymous id -> customer it logs in as
	cats   map[string]string // catalog: item -> top category
}

func newWorkload(t *testing.T, rng *rand.Rand, n int) *workload {
	w := &workload{login: map[string]string{}, cats: map[string]string{}}
	categories := []string{"Home", "Kitchen", "Garden", "Toys", "Books", "Fashion", "Beauty", "Sport"}
	for i := range 300 {
		w.cats[fmt.Sprintf("sku-%d", i)] = categories[i%len(categories)]
	}
	// Few owners, so that random batches still give each transaction a
	// few events: DynamoDB Local runs transactions one at a time.
	const customers, anons, logins = 60, 24, 16
	for a := range logins {
		w.login[fmt.Sprintf("a-%d", a)] = fmt.Sprintf("c-%d", a)
	}
	types := []events.Type{events.View, events.View, events.View, events.View, events.AddToCart, events.AddToCart,
		events.RemoveFromCart, events.Purchase, events.Purchase, events.Purchase, events.Refund, events.Search}
	add := func(in events.Input) {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		e, err := events.Validate(in, now, "")
		if err != nil {
			t.Fatalf("generated an invalid event %s: %v", raw, err)
		}
		e.Category = w.cats[e.ItemID]
		w.raws = append(w.raws, raw)
		w.events = append(w.events, e)
	}
	// One event in 25 is a campaign message or feedback, drawn from its
	// own source so that the shopping events are those of the seed.
	engagement := n / 25
	for i := 0; len(w.raws) < n-engagement; i++ {
		in := events.Input{EventID: fmt.Sprintf("ev-%06d", i), Type: types[rng.IntN(len(types))],
			Timestamp: now.Add(-time.Duration(rng.Int64N(int64(120 * 24 * time.Hour)))).Truncate(time.Millisecond).Format(time.RFC3339Nano),
			ItemID:    fmt.Sprintf("sku-%d", rng.IntN(350)), Channel: "web"}
		switch r := rng.IntN(100); {
		case r < 75:
			in.CustomerID = fmt.Sprintf("c-%d", rng.IntN(customers))
		case r < 98:
			in.AnonymousID = fmt.Sprintf("a-%d", rng.IntN(anons))
		default:
			a := rng.IntN(logins)
			in.AnonymousID, in.CustomerID = fmt.Sprintf("a-%d", a), fmt.Sprintf("c-%d", a)
		}
		switch in.Type {
		case events.Purchase, events.Refund:
			q := rng.Int64N(5) + 1
			in.Quantity = &q
			in.Currency = "GBP"
			if rng.IntN(10) == 0 {
				in.Currency = "EUR"
			}
			p := rng.IntN(20000) + 1
			in.Price = fmt.Sprintf("%d.%02d", p/100, p%100)
			in.OrderID = fmt.Sprintf("o-%d", rng.IntN(3000))
		case events.Search:
			in.ItemID, in.Query = "", fmt.Sprintf("query %d", rng.IntN(50))
		case events.AddToCart:
			q := rng.Int64N(3) + 1
			in.Quantity = &q
		}
		if rng.IntN(5) == 0 {
			in.Properties = json.RawMessage(fmt.Sprintf(`{"campaign_id":"c%d"}`, rng.IntN(9)))
		}
		add(in)
	}
	other := rand.New(rand.NewPCG(uint64(n), 25))
	kinds := []events.Type{events.MessageDelivered, events.MessageDelivered, events.MessageOpened, events.MessageClicked,
		events.Unsubscribed, events.Feedback, events.Feedback, events.Feedback}
	topics := []events.Topic{"", events.Complaint, events.Complaint, events.Question, events.Suggestion, events.Praise}
	for i := 0; len(w.raws) < n; i++ {
		in := events.Input{EventID: fmt.Sprintf("en-%06d", i), Type: kinds[other.IntN(len(kinds))],
			Timestamp:  now.Add(-time.Duration(other.Int64N(int64(120 * 24 * time.Hour)))).Truncate(time.Millisecond).Format(time.RFC3339Nano),
			CampaignID: fmt.Sprintf("camp-%d", other.IntN(4))}
		if r := other.IntN(100); r < 80 {
			in.CustomerID = fmt.Sprintf("c-%d", other.IntN(customers))
		} else {
			in.AnonymousID = fmt.Sprintf("a-%d", other.IntN(anons))
		}
		if in.Type == events.Feedback {
			rating, score := 1+other.IntN(5), other.IntN(11)
			switch other.IntN(3) {
			case 0:
				in.Rating = &rating
			case 1:
				in.NPS = &score
			default:
				in.Rating, in.NPS = &rating, &score
			}
			in.Topic = topics[other.IntN(len(topics))]
			if other.IntN(2) == 0 {
				in.Comment = fmt.Sprintf("comment %d", i)
			}
		}
		add(in)
	}
	// Every visitor that logs in does so at least once.
	for a, c := range w.login {
		add(events.Input{EventID: "login-" + a, Type: events.View, AnonymousID: a, CustomerID: c, ItemID: "sku-1",
			Timestamp: now.Add(-time.Hour).Format(time.RFC3339)})
	}
	return w
}

// owner is the partition key of the aggregates an event must end up in.
func (w *workload) owner(e events.Event) string {
	switch {
	case e.CustomerID != "":
		return "C#" + e.CustomerID
	case w.login[e.AnonymousID] != "":
		return "C#" + w.login[e.AnonymousID]
	}
	return "N#" + e.AnonymousID
}

// ownerOf is the expected owner of a raw event.
func (w *workload) ownerOf(t *testing.T, raw json.RawMessage) string {
	var in events.Input
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	return w.owner(events.Event{CustomerID: in.CustomerID, AnonymousID: in.AnonymousID})
}

// sends returns the distinct events plus dup (a fraction) duplicates, in
// random order.
func (w *workload) sends(rng *rand.Rand, dup float64) []json.RawMessage {
	out := slices.Clone(w.raws)
	for range int(dup * float64(len(w.raws))) {
		out = append(out, w.raws[rng.IntN(len(w.raws))])
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// replayStats counts what the clients saw.
type replayStats struct {
	requests, crashed, resent, accepted, duplicate int
}

// replay sends events through the HTTP handler with clients concurrent
// senders, in batches of random size up to maxBatch, reshuffling what is
// left after every request (maxBatch 0: full batches in the given order),
// retrying exactly what did not get
// stored: failed events, and whole batches whose invocation crashed (the
// client then gets no answer at all).
func replay(t *testing.T, h *harness, sends []json.RawMessage, clients, maxBatch int, seed uint64) replayStats {
	t.Helper()
	var sample apigw.Event
	loadEvent(t, "ingest", "post.json", &sample)
	var (
		mu       sync.Mutex
		queue    = slices.Clone(sends)
		inFlight int
		stats    replayStats
		wg       sync.WaitGroup
	)
	const maxRequests = 20000
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			for {
				mu.Lock()
				if len(queue) == 0 {
					idle := inFlight == 0
					mu.Unlock()
					if idle {
						return
					}
					time.Sleep(time.Millisecond)
					continue
				}
				if stats.requests >= maxRequests {
					mu.Unlock()
					t.Errorf("gave up after %d requests", maxRequests)
					return
				}
				n := min(len(queue), events.MaxBatch)
				if maxBatch > 0 {
					n = min(len(queue), 1+rng.IntN(maxBatch))
				}
				batch := slices.Clone(queue[:n])
				queue = queue[n:]
				inFlight++
				stats.requests++
				mu.Unlock()

				body, _ := json.Marshal(edge.Request{Events: batch})
				ctx := ddbtest.Invocation(context.Background())
				out, err := h.ingest.Serve(ctx, postEvents(sample, string(body)))
				var resp edge.Response
				if err == nil && out.StatusCode == 200 {
					err = json.Unmarshal([]byte(out.Body), &resp)
				}

				mu.Lock()
				inFlight--
				switch {
				case ddbtest.Crashed(ctx) || err != nil || out.StatusCode != 200:
					stats.crashed++
					stats.resent += len(batch)
					queue = append(queue, batch...)
				default:
					for i, r := range resp.Results {
						switch r.Status {
						case events.Accepted:
							stats.accepted++
						case events.Duplicate:
							stats.duplicate++
						case events.Failed:
							stats.resent++
							queue = append(queue, batch[i])
						default:
							t.Errorf("event %s: %+v", r.EventID, r)
						}
					}
				}
				if maxBatch > 0 {
					rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return stats
}

// snapshot is the state of the tables that ingestion owns, normalised:
// what must not depend on faults, retries or arrival order.
type snapshot struct {
	aggregates map[string]string // owner pk -> aggregates as JSON plus order ids
	aliases    map[string]string // anonymous id -> customer, moved
	records    map[string]string // E# + event id -> content hash: what de-duplicates it (its owner's history page)
	history    map[string]string // pk + history key -> content hash
}

func scan(t *testing.T, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items
}

func aggString(a *customers.Aggregates) string {
	b, _ := json.Marshal(a)
	return string(b) + " orders=" + strings.Join(a.OrderIDs, ",")
}

func takeSnapshot(t *testing.T, h *harness) snapshot {
	t.Helper()
	s := snapshot{map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}}
	customerRows := scan(t, h.env.DB, h.env.Table("CustomersTable"))
	// A customer's order ids are order items, pk=O#<customer_id>; the
	// fold in memory keeps them in the aggregates.
	orders := map[string][]string{}
	for _, it := range customerRows {
		var v struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			t.Fatal(err)
		}
		if c, ok := strings.CutPrefix(v.PK, schema.PfxOrder); ok {
			orders["C#"+c] = append(orders["C#"+c], v.SK)
		}
	}
	for _, it := range customerRows {
		var v struct {
			PK, SK     string
			Agg        *customers.Aggregates `dynamodbav:"agg"`
			CustomerID string                `dynamodbav:"customer_id"`
			Moved      bool                  `dynamodbav:"moved"`
		}
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(v.PK, "A#"):
			s.aliases[v.PK] = fmt.Sprintf("%s moved=%v", v.CustomerID, v.Moved)
		case v.Agg != nil:
			a := v.Agg.Clone()
			a.OrderIDs = slices.Compact(slices.Sorted(slices.Values(append(a.OrderIDs, orders[v.PK]...))))
			s.aggregates[v.PK] = aggString(a)
		}
	}
	for _, it := range scan(t, h.env.DB, h.env.Table("EventsTable")) {
		var v struct {
			PK, SK string
			Hash   string `dynamodbav:"hash"`
		}
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(v.PK, "E#"):
			s.records[v.PK] = v.Hash
		case strings.HasPrefix(v.PK, "H#"):
			_, es, err := eventsdb.DecodePage(it)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				k := v.PK + " " + events.HistoryKey(e.Event)
				if _, twice := s.history[k]; twice {
					s.history[k] += " twice"
				} else {
					s.history[k] = e.Hash
				}
				if _, ok := s.records["E#"+e.Event.ID]; !ok {
					s.records["E#"+e.Event.ID] = e.Hash
				}
			}
		}
	}
	return s
}

// expected computes the snapshot straight from the distinct events, with
// no storage involved.
func (w *workload) expected() snapshot {
	s := snapshot{map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}}
	byOwner := map[string][]events.Event{}
	for _, e := range w.events {
		o := w.owner(e)
		byOwner[o] = append(byOwner[o], e)
		s.records["E#"+e.ID] = e.Hash()
		s.history["H#"+o+" "+events.HistoryKey(e)] = e.Hash()
	}
	for o, evs := range byOwner {
		s.aggregates[o] = aggString(customers.Fold(evs))
	}
	for a, c := range w.login {
		s.aliases["A#"+a] = c + " moved=true"
	}
	return s
}

func compare(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	shown := 0
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] && shown < 3 {
			shown++
			t.Errorf("%s %s:\n got  %s\n want %s", what, k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && shown < 6 {
			shown++
			t.Errorf("%s: unexpected %s = %s", what, k, got[k])
		}
	}
}

// TestFaultsLoseNothingAndCountNothingTwice replays 10,000 distinct events
// plus 10% duplicates, in random order, through the HTTP handler with
// concurrent clients, once against a healthy database and once through a
// layer that throttles, fails with 500s, times out after writes were
// applied and kills the invocation between two writes. Clients retry only
// what was not stored. Both final states must equal the state computed
// from the distinct events alone: no event lost, none counted twice.
func TestFaultsLoseNothingAndCountNothingTwice(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	w := newWorkload(t, rng, 10_000)
	want := w.expected()

	// The fault-free run sends each owner's events together, in full
	// batches: a different arrival order from the faulty run's.
	clean := newHarness(t, nil)
	clean.putItems(w.cats)
	ordered := w.sends(rng, 0.1)
	slices.SortStableFunc(ordered, func(a, b json.RawMessage) int { return strings.Compare(w.ownerOf(t, a), w.ownerOf(t, b)) })
	start := time.Now()
	cs := replay(t, clean, ordered, 1, 0, 1)
	cleanTook := time.Since(start)

	var faults *ddbtest.Faults
	faulty := newHarness(t, func(db ddb.DB) ddb.DB {
		faults = ddbtest.NewFaults(db, 42)
		faults.Throttle, faults.Server, faults.Lost, faults.Crash = 0.06, 0.04, 0.03, 0.002
		return faults
	})
	faulty.putItems(w.cats)
	start = time.Now()
	fs := replay(t, faulty, w.sends(rng, 0.1), 4, 300, 2)
	faultyTook := time.Since(start)
	faults.Pause(true)

	var injected int64
	for k := range 4 {
		injected += faults.Count(k)
	}
	t.Logf("distinct events %d, sends %d (+10%% duplicates)", len(w.raws), len(w.raws)+len(w.raws)/10)
	t.Logf("fault-free: %d requests, %d accepted, %d duplicate, %s", cs.requests, cs.accepted, cs.duplicate, cleanTook.Round(time.Millisecond))
	t.Logf("faulty: %d requests (%d without an answer), %d events resent, %d accepted, %d duplicate, %s",
		fs.requests, fs.crashed, fs.resent, fs.accepted, fs.duplicate, faultyTook.Round(time.Millisecond))
	t.Logf("faults: %d of %d calls (%.1f%%): throttle %d, 500 %d, timeout after write %d, crash between writes %d",
		injected, faults.Calls(), 100*float64(injected)/float64(faults.Calls()), faults.Count(ddbtest.FaultThrottle),
		faults.Count(ddbtest.FaultServer), faults.Count(ddbtest.FaultLost), faults.Count(ddbtest.FaultCrash))

	if float64(injected) < 0.1*float64(faults.Calls()) || faults.Count(ddbtest.FaultCrash) == 0 || faults.Count(ddbtest.FaultLost) == 0 {
		t.Errorf("too few faults to prove anything")
	}
	if cs.accepted != len(w.raws) || fs.accepted > len(w.raws) {
		t.Errorf("accepted %d (clean) and %d (faulty) of %d distinct events", cs.accepted, fs.accepted, len(w.raws))
	}
	for name, h := range map[string]*harness{"fault-free": clean, "faulty": faulty} {
		got := takeSnapshot(t, h)
		compare(t, name+" aggregates", got.aggregates, want.aggregates)
		compare(t, name+" aliases", got.aliases, want.aliases)
		compare(t, name+" event records", got.records, want.records)
		compare(t, name+" history", got.history, want.history)
	}
}
