//go:build dynamodb

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"tailor/shared/local/apiclient"
	"tailor/shared/local/lambdahost"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

// publishedOf reads the details of one detail type from the events file
// tailor serve appends to.
func publishedOf(t *testing.T, s *stack, detailType string) []map[string]any {
	t.Helper()
	all, err := lambdahost.ReadEvents(s.Events)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range all {
		if e.DetailType != detailType {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestChangeEventsEndToEnd: through the local stack, an abandoned cart of
// a consenting customer reaches the events file once, with the items not
// bought; the carts of a customer without consent and of an erased one do
// not; a segment run announces each scored customer's segment, and its
// re-run announces nothing more.
func TestChangeEventsEndToEnd(t *testing.T) {
	s := startStack(t)
	api, ctx := s.api(), t.Context()
	for _, id := range []string{"c-1", "c-2", "c-3"} {
		put, err := api.PutCustomerWithResponse(ctx, id, nil, apiclient.CustomerReplacement{
			Profile: &apiclient.ProfileInput{Country: ptr("GB")},
			Consent: &apiclient.ConsentInput{Email: ptr(id != "c-2")}})
		if err != nil || put.JSON201 == nil {
			t.Fatalf("put %s: %v %s", id, err, answered(put))
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	cart := func(n int, customerID, item string, at time.Time) map[string]any {
		return map[string]any{"event_id": fmt.Sprintf("cart-%d", n), "type": "add_to_cart", "customer_id": customerID,
			"item_id": item, "timestamp": at.Format(time.RFC3339)}
	}
	bought := purchase("buy-b", "c-1", "4.00", now.Add(-4*time.Hour))
	bought["item_id"] = "sku-b"
	s.sendEvents([]map[string]any{
		purchase("old-1", "c-1", "10.00", now.AddDate(0, 0, -40)),
		purchase("old-2", "c-2", "12.00", now.AddDate(0, 0, -20)),
		cart(1, "c-1", "sku-a", now.Add(-5*time.Hour)),
		cart(2, "c-1", "sku-b", now.Add(-5*time.Hour)),
		bought,
		cart(3, "c-2", "sku-a", now.Add(-5*time.Hour)),
		cart(4, "c-3", "sku-a", now.Add(-5*time.Hour)),
		cart(5, "c-1", "sku-c", now.Add(-time.Hour)),
	})
	if erased, err := api.EraseCustomerWithResponse(ctx, "c-3"); err != nil || erased.JSON200 == nil {
		t.Fatalf("erase: %v %s", err, answered(erased))
	}

	fire := func() {
		t.Helper()
		res, err := s.Srv.InvokeSchedule(ctx, "CartsFunctionAbandoned", time.Time{})
		if err != nil || len(res) != 1 || res[0].Skipped != "" || res[0].Result.Outcome != lambdahost.Success {
			t.Fatalf("abandoned-cart schedule: %v %+v", err, res)
		}
	}
	fire()
	got := publishedOf(t, s, "cart.abandoned")
	want := fmt.Sprintf("cart.abandoned:c-1:%d", now.Add(-5*time.Hour).Unix())
	if len(got) != 1 || got[0]["event_id"] != want || got[0]["customer_id"] != "c-1" {
		t.Fatalf("cart.abandoned: %v; want one, %s", got, want)
	}
	var items []string
	for _, it := range got[0]["items"].([]any) {
		items = append(items, it.(string))
	}
	// sku-c joined the open cart; sku-b was bought inside the delay.
	if !slices.Equal(items, []string{"sku-a", "sku-c"}) {
		t.Fatalf("items %v", items)
	}
	fire()
	if n := len(publishedOf(t, s, "cart.abandoned")); n != 1 {
		t.Fatalf("%d cart.abandoned after a second run", n)
	}

	// The segment run: the first announces every scored customer's
	// segment, its re-run nothing.
	recs := service.Synthetic(300, 4, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
	seed := &segmentsdb.CustomerScores{DB: s.Env.DB, Table: s.Env.Table("CustomersTable")}
	if err := seed.SeedAggregates(ctx, recs, 4); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"as_of": "2011-12-10"}`)
	first := s.invokeFunction("ScoreFunction", payload)
	entered := publishedOf(t, s, "segment.entered")
	if int64(len(entered)) != first.Record.Customers || first.Record.Customers == 0 {
		t.Fatalf("%d segment.entered for %d customers scored", len(entered), first.Record.Customers)
	}
	for _, d := range entered {
		if d["run_id"] != "2011-12-10" || d["segment"] == "" || d["event_id"] != "segment.entered:"+d["customer_id"].(string)+":2011-12-10:"+d["segment"].(string) {
			t.Fatalf("segment.entered %v", d)
		}
	}
	again := s.invokeFunction("ScoreFunction", payload)
	if n := len(publishedOf(t, s, "segment.entered")) + len(publishedOf(t, s, "segment.left")) +
		len(publishedOf(t, s, "churn_risk.raised")); n != len(entered) || again.Record.Written != 0 {
		t.Fatalf("the re-run wrote %d and published %d more segment events", again.Record.Written, n-len(entered))
	}
}
