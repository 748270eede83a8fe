//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"tailor/shared/local/apiclient"
	"tailor/shared/recommendations/service/servicetest"
)

// TestRecommendationsEndToEnd loads a small shop through the public API,
// trains by invoking TrainFunction through the runner's Lambda Invoke API,
// and checks what a storefront gets from the recommend function, all
// through the real bootstraps.
func TestRecommendationsEndToEnd(t *testing.T) {
	s := startStack(t)
	api, ctx := s.api(), t.Context()

	items, err := json.Marshal(map[string]any{"items": servicetest.Items()})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := api.BatchPutItemsWithBodyWithResponse(ctx, "application/json", bytes.NewReader(items))
	if err != nil || batch.JSON200 == nil || batch.JSON200.Created != len(servicetest.Items()) {
		t.Fatalf("load catalogue: %v %s", err, answered(batch))
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
		s.sendEvents(chunk)
	}

	// Before any training the popularity lists are empty, and no run is
	// listed or served.
	popular, err := api.GetPopularWithResponse(ctx, nil)
	if err != nil || popular.JSON200 == nil || len(popular.JSON200.Items) != 0 || popular.JSON200.AsOf != nil {
		t.Fatalf("popular before training: %v %s", err, answered(popular))
	}
	runs, err := api.ListTrainingRunsWithResponse(ctx, nil)
	if err != nil || runs.JSON200 == nil || len(runs.JSON200.Runs) != 0 || runs.JSON200.Serving != nil {
		t.Fatalf("training runs before training: %v %s", err, answered(runs))
	}

	run := invokeJSON(t, s, "TrainFunction", fmt.Sprintf(`{"as_of": %q}`, servicetest.Now.Format(time.RFC3339)))
	// Training reads the customer records: the shop's 17 customers and the
	// 100 anonymous window shoppers.
	snap, _ := run["snapshot"].(map[string]any)
	if run["items"] != float64(14) || run["customers"] != float64(117) || run["pairs"].(float64) <= 0 || snap["bytes"].(float64) <= 0 {
		t.Fatalf("training run: %v", run)
	}
	runs, err = api.ListTrainingRunsWithResponse(ctx, &apiclient.ListTrainingRunsParams{Limit: ptr(5)})
	if err != nil || runs.JSON200 == nil || len(runs.JSON200.Runs) != 1 || runs.JSON200.Runs[0].Customers != 117 ||
		runs.JSON200.Serving == nil || runs.JSON200.Serving.Sha256 != runs.JSON200.Runs[0].Snapshot.Sha256 {
		t.Fatalf("training runs after training: %v %s", err, answered(runs))
	}

	recs := func(p apiclient.GetRecommendationsParams) []apiclient.RecommendedItem {
		t.Helper()
		got, err := api.GetRecommendationsWithResponse(ctx, servicetest.Customer, &p)
		if err != nil || got.JSON200 == nil {
			t.Fatalf("recommendations %+v: %v %s", p, err, answered(got))
		}
		for _, it := range got.JSON200.Items {
			if it.ItemId == servicetest.Spoon {
				t.Fatalf("recommendations %+v hold the out-of-stock spoon: %s", p, got.Body)
			}
		}
		return got.JSON200.Items
	}
	ids := func(items []apiclient.RecommendedItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.ItemId)
		}
		return out
	}
	discover, mixed := ptr(apiclient.Discover), ptr(apiclient.Mixed)
	exclude := func(x ...apiclient.GetRecommendationsParamsExclude) *[]apiclient.GetRecommendationsParamsExclude {
		return &x
	}

	for _, p := range []apiclient.GetRecommendationsParams{
		{Mode: discover, Limit: ptr(10)},
		{Exclude: exclude(apiclient.Purchased), Limit: ptr(13)},
		{Mode: mixed, Exclude: exclude(apiclient.Purchased, apiclient.InCart), Limit: ptr(5), Explain: ptr(true)},
	} {
		if got := ids(recs(p)); slices.Contains(got, servicetest.Mug) {
			t.Fatalf("recommendations %+v hold the purchased mug: %v", p, got)
		}
	}
	mixedList := recs(apiclient.GetRecommendationsParams{Limit: ptr(5), Explain: ptr(true)})
	if len(mixedList) != 5 || !slices.Contains(ids(mixedList), servicetest.Mug) {
		t.Fatalf("mixed = %v; want five items with the mug to buy again", ids(mixedList))
	}
	for _, it := range mixedList {
		if it.Reason == nil {
			t.Fatalf("explain=true item without a reason: %+v", it)
		}
	}

	before := ids(recs(apiclient.GetRecommendationsParams{Mode: discover, Limit: ptr(5)}))
	s.sendEvents([]map[string]any{{"event_id": "e2e-cart-1", "type": "add_to_cart", "customer_id": servicetest.Customer,
		"item_id": "sku-71", "timestamp": time.Now().UTC().Format(time.RFC3339)}})
	after := ids(recs(apiclient.GetRecommendationsParams{Mode: discover, Limit: ptr(5)}))
	if slices.Equal(before, after) || !slices.Contains(after, "sku-72") {
		t.Fatalf("after an add_to_cart of the kite: %v, before %v; want the list changed, with the puzzle", after, before)
	}

	similar, err := api.GetSimilarItemsWithResponse(ctx, servicetest.Mug, &apiclient.GetSimilarItemsParams{Limit: ptr(3)})
	if err != nil || similar.JSON200 == nil {
		t.Fatalf("similar: %v %s", err, answered(similar))
	}
	sim := similar.JSON200.Items
	if len(sim) != 3 || sim[0].ItemId != servicetest.Teapot {
		t.Fatalf("similar to the mug: %s; want the teapot (bought with it by six) first", similar.Body)
	}
	for _, it := range sim {
		if it.Backfill {
			t.Fatalf("similar to the mug holds an item not bought with it: %s", similar.Body)
		}
	}

	// 101 people looked at the hose and the bath mat; ten bought the mug.
	month := &apiclient.GetPopularParams{Window: ptr(apiclient.N30d), Limit: ptr(3)}
	popular, err = api.GetPopularWithResponse(ctx, month)
	if err != nil || popular.JSON200 == nil || len(popular.JSON200.Items) != 3 || popular.JSON200.Items[2].ItemId != servicetest.Mug {
		t.Fatalf("popular after training: %v %s", err, answered(popular))
	}

	// The hose sells out through the catalogue API: gone from the next
	// refresh of the catalogue held in memory (every request here).
	hose, err := api.GetItemWithResponse(ctx, "sku-62")
	if err != nil || hose.JSON200 == nil {
		t.Fatalf("get the hose: %v %s", err, answered(hose))
	}
	h := hose.JSON200
	soldOut, err := api.PutItemWithResponse(ctx, "sku-62", apiclient.ItemInput{Title: h.Title, Category: h.Category,
		Brand: h.Brand, Price: h.Price, Currency: h.Currency, InStock: ptr(false)})
	if err != nil || soldOut.JSON200 == nil {
		t.Fatalf("sell out the hose: %v %s", err, answered(soldOut))
	}
	popular, err = api.GetPopularWithResponse(ctx, month)
	if err != nil || popular.JSON200 == nil {
		t.Fatalf("popular after the hose sold out: %v %s", err, answered(popular))
	}
	for _, it := range popular.JSON200.Items {
		if it.ItemId == "sku-62" {
			t.Fatalf("popular after the hose sold out: %s", popular.Body)
		}
	}
	if got, err := s.as(s.newKey("catalog only", "catalog:read")).api().GetPopularWithResponse(ctx, nil); err != nil || got.ApplicationproblemJSON403 == nil {
		t.Fatalf("popular with a catalog:read key: %v %s", err, answered(got))
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
