//go:build dynamodb

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"tailor/shared/recommendations/service/servicetest"
)

// TestRecommendationsEndToEnd loads a small shop through the public API,
// trains by invoking TrainFunction through the runner's Lambda Invoke API,
// and checks what a storefront gets from the recommend function, all
// through the real bootstraps.
func TestRecommendationsEndToEnd(t *testing.T) {
	s := startStack(t)

	status, _, body := s.call("POST", "/v1/items:batch", map[string]any{"items": servicetest.Items()})
	if status != 200 || body["created"] != float64(len(servicetest.Items())) {
		t.Fatalf("load catalogue: %d %v", status, body)
	}
	evs := servicetest.Events()
	// Window shoppers who look at the hose and the bath mat, so the history
	// runs to a few hundred events.
	for i := range 100 {
		for _, it := range []string{"sku-62", "sku-51"} {
			evs = append(evs, map[string]any{"event_id": fmt.Sprintf("browse-%03d-%s", i, it), "type": "view",
				"anonymous_id": fmt.Sprintf("a-%03d", i), "item_id": it,
				"timestamp": servicetest.Now.Add(-time.Duration(i+1) * time.Hour).Format(time.RFC3339)})
		}
	}
	for chunk := range slices.Chunk(evs, 500) {
		status, _, body := s.call("POST", "/v1/events", map[string]any{"events": chunk})
		if status != 200 || body["accepted"] != float64(len(chunk)) {
			t.Fatalf("load events: %d %v", status, body)
		}
	}

	// Before any training the popularity lists are empty.
	status, _, body = s.call("GET", "/v1/popular", nil)
	if status != 200 || len(body["items"].([]any)) != 0 {
		t.Fatalf("popular before training: %d %v", status, body)
	}

	run := invokeJSON(t, s, "TrainFunction", fmt.Sprintf(`{"as_of": %q}`, servicetest.Now.Format(time.RFC3339)))
	// Training reads the customer records: the shop's 17 customers and the
	// 100 anonymous window shoppers.
	snap, _ := run["snapshot"].(map[string]any)
	if run["items"] != float64(14) || run["customers"] != float64(117) || run["pairs"].(float64) <= 0 || snap["bytes"].(float64) <= 0 {
		t.Fatalf("training run: %v", run)
	}

	recs := func(query string) []map[string]any {
		t.Helper()
		status, _, body := s.call("GET", "/v1/customers/"+servicetest.Customer+"/recommendations"+query, nil)
		if status != 200 {
			t.Fatalf("recommendations%s: %d %v", query, status, body)
		}
		var out []map[string]any
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			if m["item_id"] == servicetest.Spoon {
				t.Fatalf("recommendations%s holds the out-of-stock spoon: %v", query, body)
			}
			out = append(out, m)
		}
		return out
	}
	ids := func(items []map[string]any) []string {
		var out []string
		for _, it := range items {
			out = append(out, it["item_id"].(string))
		}
		return out
	}

	for _, q := range []string{"?mode=discover&limit=10", "?exclude=purchased&limit=13", "?mode=mixed&exclude=purchased,in_cart&limit=5&explain=true"} {
		if got := ids(recs(q)); slices.Contains(got, servicetest.Mug) {
			t.Fatalf("recommendations%s holds the purchased mug: %v", q, got)
		}
	}
	mixed := recs("?limit=5&explain=true")
	if len(mixed) != 5 || !slices.Contains(ids(mixed), servicetest.Mug) {
		t.Fatalf("mixed = %v; want five items with the mug to buy again", ids(mixed))
	}
	for _, it := range mixed {
		if it["reason"] == nil {
			t.Fatalf("explain=true item without a reason: %v", it)
		}
	}

	before := ids(recs("?mode=discover&limit=5"))
	status, _, body = s.call("POST", "/v1/events", map[string]any{"events": []map[string]any{{"event_id": "e2e-cart-1",
		"type": "add_to_cart", "customer_id": servicetest.Customer, "item_id": "sku-71", "timestamp": time.Now().UTC().Format(time.RFC3339)}}})
	if status != 200 || body["accepted"] != float64(1) {
		t.Fatalf("add to cart: %d %v", status, body)
	}
	after := ids(recs("?mode=discover&limit=5"))
	if slices.Equal(before, after) || !slices.Contains(after, "sku-72") {
		t.Fatalf("after an add_to_cart of the kite: %v, before %v; want the list changed, with the puzzle", after, before)
	}

	status, _, body = s.call("GET", "/v1/items/"+servicetest.Mug+"/similar?limit=3", nil)
	if status != 200 {
		t.Fatalf("similar: %d %v", status, body)
	}
	sim := body["items"].([]any)
	if len(sim) != 3 || sim[0].(map[string]any)["item_id"] != servicetest.Teapot {
		t.Fatalf("similar to the mug: %v; want the teapot (bought with it by six) first", sim)
	}
	for _, it := range sim {
		if it.(map[string]any)["backfill"] != false {
			t.Fatalf("similar to the mug holds an item not bought with it: %v", sim)
		}
	}

	// 101 people looked at the hose and the bath mat; ten bought the mug.
	status, _, body = s.call("GET", "/v1/popular?window=30d&limit=3", nil)
	if status != 200 || len(body["items"].([]any)) != 3 || body["items"].([]any)[2].(map[string]any)["item_id"] != servicetest.Mug {
		t.Fatalf("popular after training: %d %v", status, body)
	}

	// The hose sells out through the catalogue API: gone from the next
	// refresh of the catalogue held in memory (every request here).
	status, _, body = s.call("GET", "/v1/items/sku-62", nil)
	if status != 200 {
		t.Fatalf("get the hose: %d %v", status, body)
	}
	hose := map[string]any{"title": body["title"], "category": body["category"], "brand": body["brand"], "price": body["price"],
		"currency": body["currency"], "in_stock": false}
	if status, _, body = s.call("PUT", "/v1/items/sku-62", hose); status != 200 {
		t.Fatalf("sell out the hose: %d %v", status, body)
	}
	status, _, body = s.call("GET", "/v1/popular?window=30d&limit=3", nil)
	for _, it := range body["items"].([]any) {
		if it.(map[string]any)["item_id"] == "sku-62" {
			t.Fatalf("popular after the hose sold out: %v", body)
		}
	}
	if status, _, _ = s.as(s.newKey("catalog only", "catalog:read")).call("GET", "/v1/popular", nil); status != 403 {
		t.Fatalf("popular with a catalog:read key: %d", status)
	}
}

// invokeJSON runs a function through the runner's Lambda Invoke API, as
// tailor load does, and decodes its JSON answer.
func invokeJSON(t *testing.T, s *stack, function, payload string) map[string]any {
	t.Helper()
	raw, err := invoke(context.Background(), s.URL, function, payload)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("invoke %s: %q", function, raw)
	}
	return out
}
