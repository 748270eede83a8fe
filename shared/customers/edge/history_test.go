//go:build dynamodb

package edge_test

import (
	"context"
	"testing"
	"time"

	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
)

// withHistory serves the API with the customer's history read from
// DynamoDB Local, after storing evs.
func withHistory(t *testing.T, evs []events.Event) *harness {
	h := newHarness(t)
	env := ddbtest.New(t)
	clock := func() time.Time { return h.now }
	es := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: clock, Backoff: time.Millisecond}
	if _, err := es.Append(context.Background(), events.Owner{CustomerID: "c-123"}, evs); err != nil {
		t.Fatal(err)
	}
	h.svc.History = &eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: clock}
	return h.serve()
}

func TestHistoryHidesFreeTextAndPages(t *testing.T) {
	t0 := time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)
	h := withHistory(t, []events.Event{
		{ID: "e1", Type: events.View, CustomerID: "c-123", ItemID: "sku-1", Properties: `{"size":"9"}`, Time: t0},
		{ID: "e2", Type: events.Search, CustomerID: "c-123", Query: "ada's shoes", Time: t0.Add(time.Minute)},
		{ID: "e3", Type: events.Purchase, CustomerID: "c-123", ItemID: "sku-1", Quantity: 1, PriceMinor: 1250,
			Currency: "GBP", OrderID: "o-1", Time: t0.Add(2 * time.Minute)},
	})
	trail := func() []string {
		_, body, _ := h.do(request(t, "GET /v1/audit", "", map[string]string{"customer": "c-123"}, auth.Admin))
		return actions(body, "entries")
	}
	// The sample asks for purchases, with pii:read: nothing free to show.
	status, body, _ := h.do(sample(t, "events.json"))
	evs, _ := body["events"].([]any)
	if status != 200 || len(evs) != 1 || evs[0].(map[string]any)["event_id"] != "e3" || evs[0].(map[string]any)["price"] != "12.50" {
		t.Fatalf("purchases: %d %v", status, body)
	}
	if got := trail(); len(got) != 0 {
		t.Fatalf("a page without free text was audited: %v", got)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/events", "c-123", nil, auth.CustomersRead))
	evs, _ = body["events"].([]any)
	if status != 200 || len(evs) != 3 {
		t.Fatalf("without pii:read: %d %v", status, body)
	}
	for _, e := range evs {
		if m := e.(map[string]any); m["query"] != nil || m["properties"] != nil {
			t.Fatalf("free text shown without pii:read: %v", m)
		}
	}
	if got := trail(); len(got) != 0 {
		t.Fatalf("audited without pii:read: %v", got)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/events", "c-123", map[string]string{"limit": "2"},
		auth.CustomersRead, auth.PIIRead))
	evs, _ = body["events"].([]any)
	cursor, _ := body["next_cursor"].(string)
	if status != 200 || len(evs) != 2 || evs[1].(map[string]any)["query"] != "ada's shoes" || cursor == "" {
		t.Fatalf("first page with pii:read: %d %v", status, body)
	}
	if got := trail(); len(got) != 1 || got[0] != "pii.read" {
		t.Fatalf("trail after showing free text: %v", got)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/events", "c-123", map[string]string{"limit": "2", "cursor": cursor},
		auth.CustomersRead, auth.PIIRead))
	evs, _ = body["events"].([]any)
	if status != 200 || len(evs) != 1 || evs[0].(map[string]any)["properties"].(map[string]any)["size"] != "9" {
		t.Fatalf("second page: %d %v", status, body)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/events", "c-999", map[string]string{"cursor": cursor},
		auth.CustomersRead))
	if status != 400 {
		t.Fatalf("another customer's cursor: %d %v", status, body)
	}
	if status, _, _ := h.do(sample(t, "put.json")); status != 201 {
		t.Fatal("put")
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/export", "c-123", nil, auth.PIIRead))
	evs, _ = body["events"].([]any)
	if status != 200 || len(evs) != 3 || evs[0].(map[string]any)["event_id"] != "e3" {
		t.Fatalf("export: %d %v", status, body)
	}
}
