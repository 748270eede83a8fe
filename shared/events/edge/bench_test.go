//go:build dynamodb

package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"tailor/shared/events/edge"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
)

// BenchmarkIngest measures POST /v1/events through the handler against
// DynamoDB Local: events per second, the capacity DynamoDB Local reports
// (ReturnConsumedCapacity TOTAL) per event, and the write capacity
// DynamoDB would bill by its published rules (billedWCU: DynamoDB Local
// reports one item per table for a transaction), for batches of 1, 25 and 500
// new events. Traffic: 200 active customers, 1,000 catalog items, a
// storefront mix of views, carts, purchases and searches.
//
//	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8011 go test -tags dynamodb ./shared/events/edge -run '^$' -bench Ingest -benchtime 20x -count 5
func BenchmarkIngest(b *testing.B) {
	for _, size := range []int{1, 25, 500} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			meter := &ddbtest.Meter{}
			h := newBenchHarness(b, meter)
			var sample apigw.Event
			loadEvent(b, "ingest", "post.json", &sample)
			rng := rand.New(rand.NewPCG(uint64(size), 1))
			seq := 0
			bodies := make([]string, b.N)
			for i := range bodies {
				evs := make([]json.RawMessage, size)
				for k := range evs {
					evs[k] = benchEvent(rng, seq)
					seq++
				}
				body, _ := json.Marshal(edge.Request{Events: evs})
				bodies[i] = string(body)
			}
			meter.Reset()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				out, err := h.Serve(context.Background(), postEvents(sample, bodies[i]))
				if err != nil || out.StatusCode != 200 {
					b.Fatalf("status %d: %v %s", out.StatusCode, err, out.Body)
				}
				var resp edge.Response
				if err := json.Unmarshal([]byte(out.Body), &resp); err != nil || resp.Accepted != size {
					b.Fatalf("accepted %d of %d: %v", resp.Accepted, size, err)
				}
			}
			took := time.Since(start)
			b.StopTimer()
			rcu, wcu := meter.Capacity()
			n := float64(b.N * size)
			b.ReportMetric(n/took.Seconds(), "events/s")
			b.ReportMetric(wcu/n, "WCU/event")
			b.ReportMetric(meter.Modelled()/n, "billedWCU/event")
			b.ReportMetric(meter.ModelledReads()/n, "billedRCU/event")
			b.ReportMetric(rcu/n, "RCU/event")
		})
	}
}

// BenchmarkIngestStorefront measures what a storefront's stream costs:
// batches of 1 to 20 events (60% views, 20% carts, 10% purchases, 10%
// searches) from 2,000 active customers, each of whom already has a
// history of 10 events (stored first, not metered), so records are the
// size they are in steady state. It reports the write and read capacity
// DynamoDB would bill per event (billedWCU, billedRCU: a key that finds
// nothing is billed too) and the read capacity DynamoDB Local reports per
// event (RCU, which leaves such keys out).
//
// stream=sessions is what a storefront sends: each batch is one shopper's
// session, its events minutes apart. stream=mixed puts a random customer
// on every event of a batch (a server-side collector merging many
// sessions): every event is then a write of its own customer's record.
//
//	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8011 go test -tags dynamodb ./shared/events/edge -run '^$' -bench Storefront -benchtime 300x
func BenchmarkIngestStorefront(b *testing.B) {
	for _, stream := range []string{"sessions", "mixed"} {
		b.Run("stream="+stream, func(b *testing.B) { benchStorefront(b, stream == "sessions") })
	}
}

func benchStorefront(b *testing.B, sessions bool) {
	const customers, history = 2000, 10
	meter := &ddbtest.Meter{}
	h := newBenchHarness(b, meter)
	var sample apigw.Event
	loadEvent(b, "ingest", "post.json", &sample)
	post := func(evs []json.RawMessage) {
		body, _ := json.Marshal(edge.Request{Events: evs})
		out, err := h.Serve(context.Background(), postEvents(sample, string(body)))
		if err != nil || out.StatusCode != 200 {
			b.Fatalf("status %d: %v %s", out.StatusCode, err, out.Body)
		}
		var resp edge.Response
		if err := json.Unmarshal([]byte(out.Body), &resp); err != nil || resp.Accepted != len(evs) {
			b.Fatalf("accepted %d of %d: %v", resp.Accepted, len(evs), err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	seq := 0
	var warm []json.RawMessage
	for range history {
		for c := range customers {
			warm = append(warm, storefrontEvent(rng, seq, c, randomTime(rng)))
			seq++
		}
	}
	for chunk := range slices.Chunk(warm, 500) {
		post(chunk)
	}
	batches := make([][]json.RawMessage, b.N)
	for i := range batches {
		c, at := rng.IntN(customers), randomTime(rng)
		for k := range 1 + rng.IntN(20) {
			if !sessions {
				c, at = rng.IntN(customers), randomTime(rng)
			}
			batches[i] = append(batches[i], storefrontEvent(rng, seq, c, at.Add(time.Duration(k)*time.Minute)))
			seq++
		}
	}
	meter.Reset()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for _, evs := range batches {
		post(evs)
		n += len(evs)
	}
	took := time.Since(start)
	b.StopTimer()
	rcu, _ := meter.Capacity()
	b.ReportMetric(float64(n)/took.Seconds(), "events/s")
	b.ReportMetric(meter.Modelled()/float64(n), "billedWCU/event")
	b.ReportMetric(meter.ModelledReads()/float64(n), "billedRCU/event")
	b.ReportMetric(rcu/float64(n), "RCU/event")
}

// randomTime is a time in the 30 days before now.
func randomTime(rng *rand.Rand) time.Time {
	return now.Add(-time.Duration(20+rng.IntN(30*24*60)) * time.Minute)
}

// storefrontEvent is event seq of customer c at time at: a view, cart,
// purchase or search in the storefront mix.
func storefrontEvent(rng *rand.Rand, seq, c int, at time.Time) json.RawMessage {
	item := rng.IntN(1000)
	ts := at.Format(time.RFC3339)
	var s string
	switch r := rng.IntN(100); {
	case r < 60:
		s = fmt.Sprintf(`{"event_id":"s-%d","type":"view","customer_id":"c-%d","item_id":"sku-%d","timestamp":%q,"channel":"web"}`, seq, c, item, ts)
	case r < 80:
		s = fmt.Sprintf(`{"event_id":"s-%d","type":"add_to_cart","customer_id":"c-%d","item_id":"sku-%d","quantity":1,"timestamp":%q,"channel":"web"}`, seq, c, item, ts)
	case r < 90:
		s = fmt.Sprintf(`{"event_id":"s-%d","type":"purchase","customer_id":"c-%d","item_id":"sku-%d","quantity":2,"price":"12.50","currency":"GBP","order_id":"o-%d","timestamp":%q,"channel":"web"}`, seq, c, item, seq, ts)
	default:
		s = fmt.Sprintf(`{"event_id":"s-%d","type":"search","customer_id":"c-%d","query":"blue mug","timestamp":%q,"channel":"app"}`, seq, c, ts)
	}
	return json.RawMessage(s)
}

func benchEvent(rng *rand.Rand, seq int) json.RawMessage {
	c := rng.IntN(200)
	item := rng.IntN(1000)
	ts := now.Add(-time.Duration(rng.IntN(30*24*60)) * time.Minute).Format(time.RFC3339)
	var s string
	switch r := rng.IntN(100); {
	case r < 60:
		s = fmt.Sprintf(`{"event_id":"b-%d","type":"view","customer_id":"c-%d","item_id":"sku-%d","timestamp":%q,"channel":"web"}`, seq, c, item, ts)
	case r < 80:
		s = fmt.Sprintf(`{"event_id":"b-%d","type":"add_to_cart","customer_id":"c-%d","item_id":"sku-%d","quantity":1,"timestamp":%q,"channel":"web"}`, seq, c, item, ts)
	case r < 90:
		s = fmt.Sprintf(`{"event_id":"b-%d","type":"purchase","customer_id":"c-%d","item_id":"sku-%d","quantity":2,"price":"12.50","currency":"GBP","order_id":"o-%d","timestamp":%q,"channel":"web"}`, seq, c, item, seq/3, ts)
	default:
		s = fmt.Sprintf(`{"event_id":"b-%d","type":"search","customer_id":"c-%d","query":"blue mug","timestamp":%q,"channel":"app"}`, seq, c, ts)
	}
	return json.RawMessage(s)
}

// newBenchHarness wires the ingest handler over meter and a fresh set of
// tables with a 1,000-item catalog.
func newBenchHarness(b *testing.B, meter *ddbtest.Meter) *apigw.Router {
	h := newHarness(b, func(db ddb.DB) ddb.DB { meter.DB = db; return meter })
	cats := map[string]string{}
	for i := range 1000 {
		cats[fmt.Sprintf("sku-%d", i)] = []string{"Home", "Kitchen", "Garden", "Toys"}[i%4]
	}
	h.putItems(cats)
	return h.ingest
}
