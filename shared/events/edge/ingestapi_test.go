//go:build dynamodb

package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	campaignsdb "tailor/shared/campaigns/dynamo"
	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	customersdb "tailor/shared/customers/dynamo"
	customersedge "tailor/shared/customers/edge"
	customerssvc "tailor/shared/customers/service"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/edge"
	"tailor/shared/events/service"
	"tailor/shared/platform/apigw"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

// The tests of this file run the ingest function end to end on DynamoDB
// Local, reading what ingestion wrote through the customers function.

// harness is the ingest function and the customers function wired to one
// set of fresh tables, through a ddb.DB that tests may wrap.
type harness struct {
	t         testing.TB
	env       *ddbtest.Env
	events    *eventsdb.Events
	ingest    *apigw.Router
	customers *apigw.Router
	api       *edge.API
	invoker   *edge.Invoker
}

func newHarness(t testing.TB, wrap func(ddb.DB) ddb.DB) *harness {
	t.Helper()
	return newHarnessOn(t, ddbtest.New(t), wrap)
}

func newHarnessOn(t testing.TB, env *ddbtest.Env, wrap func(ddb.DB) ddb.DB) *harness {
	t.Helper()
	var db ddb.DB = env.DB
	if wrap != nil {
		db = wrap(db)
	}
	clock := func() time.Time { return now }
	es := &eventsdb.Events{DB: db, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: clock, Backoff: time.Millisecond}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	svc := &service.Service{Store: es, Now: clock}
	h := &harness{t: t, env: env, events: es, ingest: apigw.NewRouter(log), customers: apigw.NewRouter(log)}
	h.api = &edge.API{Service: svc, Log: log}
	h.api.Register(h.ingest)
	h.invoker = &edge.Invoker{HTTP: h.ingest.Serve, SQS: h.api.SQS}
	capi := &customersedge.API{Service: &customerssvc.Service{Now: clock,
		Records:     &customersdb.Customers{DB: env.DB, Table: env.Table("CustomersTable")},
		History:     &eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: clock},
		Privacy:     &customersdb.Privacy{DB: env.DB, Customers: env.Table("CustomersTable"), Events: env.Table("EventsTable")},
		Audit:       &auditdb.Audit{DB: env.DB, Table: env.Table("AuditTable")},
		Memberships: &campaignsdb.Memberships{DB: env.DB, Table: env.Table("CampaignsTable")}}}
	capi.Register(h.customers)
	return h
}

// putItems stores catalog items with the given top categories.
func (h *harness) putItems(cats map[string]string) {
	h.t.Helper()
	items := &catalogdb.Items{DB: h.env.DB, Table: h.env.Table("ItemsTable")}
	for id, cat := range cats {
		it, err := catalog.New(id, catalog.Input{Title: "Item " + id, Category: []string{cat}, Price: "1.00", Currency: "GBP"}, now, "")
		if err != nil {
			h.t.Fatal(err)
		}
		if _, _, err := items.Put(context.Background(), it); err != nil {
			h.t.Fatal(err)
		}
	}
}

func getCustomer(t *testing.T, h *harness, id string) map[string]any {
	t.Helper()
	var ev apigw.Event
	loadEvent(t, "customers", "get.json", &ev)
	ev.PathParameters = map[string]string{"id": id}
	var body map[string]any
	if status := serve(t, h.customers, ev, &body); status != 200 {
		t.Fatalf("GET customer %s: %d %v", id, status, body)
	}
	return body
}

func TestPostSampleBatch(t *testing.T) {
	h := newHarness(t, nil)
	h.putItems(map[string]string{"sku-42": "Home", "sku-43": "Home"})
	ev, resp := postSample(t, h.ingest)

	// The anonymous visitor logged in with event 2: its view and cart
	// belong to c-123 now.
	c := getCustomer(t, h, "c-123")
	agg := c["aggregates"].(map[string]any)
	if agg["events"] != float64(4) || agg["views"] != float64(1) || agg["cart_adds"] != float64(1) ||
		agg["orders"] != float64(1) || agg["units"] != float64(2) || agg["searches"] != float64(1) {
		t.Fatalf("aggregates %v", agg)
	}
	if rev := agg["revenue"].(map[string]any); rev["GBP"] != "25.00" {
		t.Fatalf("revenue %v", rev)
	}
	if aff := agg["category_affinity"].(map[string]any)["2026-11"].(map[string]any); aff["Home"] != float64(1+3+5) {
		t.Fatalf("affinity %v", aff)
	}
	if rec := agg["recent_interactions"].([]any); len(rec) != 3 || rec[0].(map[string]any)["type"] != "purchase" {
		t.Fatalf("recent %v", rec)
	}

	// Sending the same batch again changes nothing.
	var again edge.Response
	serve(t, h.ingest, ev, &again)
	if again.Accepted != 0 || again.Duplicate != 5 || again.Rejected != 1 {
		t.Fatalf("second send %+v", again)
	}
	if c2 := getCustomer(t, h, "c-123"); fmt.Sprint(c2["aggregates"]) != fmt.Sprint(agg) {
		t.Fatalf("aggregates changed:\n%v\n%v", agg, c2["aggregates"])
	}

	// An anonymous-only event after the login lands on the customer.
	later := `{"events":[{"event_id":"e-later","type":"view","anonymous_id":"a-9","item_id":"sku-43","timestamp":"2026-11-20T10:18:00Z"}]}`
	serve(t, h.ingest, postEvents(ev, later), &resp)
	if resp.Accepted != 1 {
		t.Fatalf("later view %+v", resp)
	}
	if agg := getCustomer(t, h, "c-123")["aggregates"].(map[string]any); agg["views"] != float64(2) {
		t.Fatalf("later view not on the customer: %v", agg)
	}
}

func TestHistoryOfCustomer(t *testing.T) {
	h := newHarness(t, nil)
	var ev apigw.Event
	loadEvent(t, "ingest", "post.json", &ev)
	serve(t, h.ingest, ev, nil)

	var get apigw.Event
	loadEvent(t, "customers", "events.json", &get)
	var page customersedge.HistoryResponse
	if status := serve(t, h.customers, get, &page); status != 200 {
		t.Fatalf("status %d", status)
	}
	if len(page.Events) != 1 || page.Events[0].Type != events.Purchase || page.Events[0].Price != "12.50" ||
		string(page.Events[0].Properties) != `{"campaign_id":"spring"}` {
		t.Fatalf("purchases %+v", page)
	}

	// Paging through everything, two at a time, newest first; the moved
	// anonymous events are part of the customer's history.
	get.QueryStringParameters = map[string]string{"limit": "2"}
	var ids []string
	for range 5 {
		page = customersedge.HistoryResponse{}
		if status := serve(t, h.customers, get, &page); status != 200 {
			t.Fatalf("status %d", status)
		}
		for _, e := range page.Events {
			ids = append(ids, e.EventID)
		}
		if page.NextCursor == "" {
			break
		}
		get.QueryStringParameters["cursor"] = page.NextCursor
	}
	want := "01JDEMO0000000000000000004 01JDEMO0000000000000000003 01JDEMO0000000000000000002 01JDEMO0000000000000000001"
	if strings.Join(ids, " ") != want {
		t.Fatalf("history %v", ids)
	}

	// A time window: from inclusive, to exclusive.
	get.QueryStringParameters = map[string]string{"from": "2026-11-20T10:05:00Z", "to": "2026-11-20T10:16:00Z"}
	page = customersedge.HistoryResponse{}
	serve(t, h.customers, get, &page)
	if len(page.Events) != 2 || page.Events[0].EventID != "01JDEMO0000000000000000003" || page.Events[1].EventID != "01JDEMO0000000000000000002" {
		t.Fatalf("window %+v", page.Events)
	}

	for name, q := range map[string]map[string]string{
		"bad cursor":     {"cursor": "not-a-cursor"},
		"foreign cursor": {"cursor": "eyJwayI6IkgjQyNjLTEiLCJzayI6IjIwMjYtMTEtMjBUMTA6MDA6MDAuMDAwMDAwMDAwWiNlLTEifQ"},
		"bad type":       {"type": "click"},
		"bad limit":      {"limit": "500"},
		"bad time":       {"from": "yesterday"},
	} {
		get.QueryStringParameters = q
		var p apigw.Problem
		if status := serve(t, h.customers, get, &p); status != 400 {
			t.Errorf("%s: status %d %+v", name, status, p)
		}
	}

	// Expired events are never shown, even before DynamoDB deletes them.
	hist := &eventsdb.History{DB: h.env.DB, Table: h.env.Table("EventsTable"),
		Now: func() time.Time { return now.Add(schema.Retention + time.Hour) }}
	old, err := hist.List(context.Background(), "c-123", events.HistoryQuery{Limit: 10})
	if err != nil || len(old.Events) != 0 {
		t.Fatalf("after retention: %+v %v", old, err)
	}
}

func TestSQSSample(t *testing.T) {
	h := newHarness(t, nil)
	var raw json.RawMessage
	loadEvent(t, "ingest", "sqs.json", &raw)
	out, err := h.invoker.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(lambdaevents.SQSEventResponse)
	// The invalid message is not retried: it would never succeed.
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp)
	}
	agg := getCustomer(t, h, "c-200")["aggregates"].(map[string]any)
	if agg["orders"] != float64(1) || agg["revenue"].(map[string]any)["GBP"] != "12.50" ||
		agg["refunds"].(map[string]any)["GBP"] != "12.50" || agg["refunded_units"] != float64(1) || agg["events"] != float64(2) {
		t.Fatalf("aggregates %v", agg)
	}
}

func TestSQSReportsExactlyTheFailedMessages(t *testing.T) {
	var faults *ddbtest.Faults
	h := newHarness(t, func(db ddb.DB) ddb.DB {
		faults = ddbtest.NewFaults(db, 1)
		return faults
	})
	h.events.Attempts = 1 // no internal retries: failures reach SQS
	var ev lambdaevents.SQSEvent
	loadEvent(t, "ingest", "sqs.json", &ev)
	ev.Records = ev.Records[:1]
	for i := range 40 {
		r := ev.Records[0]
		r.MessageId = fmt.Sprintf("m-%d", i)
		r.Body = fmt.Sprintf(`{"event_id":"e-%d","type":"view","customer_id":"c-%d","item_id":"sku-1","timestamp":"2026-11-20T10:00:00Z"}`, i, i)
		ev.Records = append(ev.Records, r)
	}
	ev.Records = ev.Records[1:]
	faults.Server = 0.3
	pending := map[string]bool{}
	for _, r := range ev.Records {
		pending[r.MessageId] = true
	}
	for round := 0; len(ev.Records) > 0; round++ {
		if round == 50 {
			t.Fatal("messages never succeeded")
		}
		resp, err := h.api.SQS(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		// What SQS does: delete the others, deliver the failed ones again.
		var again []lambdaevents.SQSMessage
		for _, r := range ev.Records {
			if failed[r.MessageId] {
				again = append(again, r)
			} else {
				delete(pending, r.MessageId)
			}
		}
		ev.Records = again
	}
	faults.Pause(true)
	for i := range 40 {
		agg := getCustomer(t, h, fmt.Sprintf("c-%d", i))["aggregates"].(map[string]any)
		if agg["views"] != float64(1) {
			t.Fatalf("c-%d: %v", i, agg)
		}
	}
	if faults.Count(ddbtest.FaultServer) == 0 || len(pending) != 0 {
		t.Fatalf("faults %d pending %v", faults.Count(ddbtest.FaultServer), pending)
	}
}

// TestFeedbackReachesTheCustomerRecord: feedback posted to the ingest
// function shows in GET /v1/customers/{id} under aggregates.feedback, as
// DynamoDB stored it.
func TestFeedbackReachesTheCustomerRecord(t *testing.T) {
	h := newHarness(t, nil)
	var ev apigw.Event
	loadEvent(t, "ingest", "post.json", &ev)
	body := `{"events":[
	 {"event_id":"f-1","type":"feedback","customer_id":"c-7","rating":1,"nps":0,"topic":"complaint","comment":"Broken.","timestamp":"2026-11-20T09:00:00Z"},
	 {"event_id":"f-2","type":"feedback","customer_id":"c-7","rating":4,"topic":"question","campaign_id":"spring","timestamp":"2026-11-20T09:30:00Z"},
	 {"event_id":"f-3","type":"feedback","customer_id":"c-7","nps":7,"topic":"complaint","timestamp":"2026-11-20T10:00:00Z"},
	 {"event_id":"m-1","type":"message_delivered","customer_id":"c-7","campaign_id":"spring","timestamp":"2026-11-20T10:10:00Z"}]}`
	var resp edge.Response
	if status := serve(t, h.ingest, postEvents(ev, body), &resp); status != 200 || resp.Accepted != 4 {
		t.Fatalf("post %d %+v", status, resp)
	}
	agg := getCustomer(t, h, "c-7")["aggregates"].(map[string]any)
	got, _ := json.Marshal(agg["feedback"])
	want := `{"by_topic":{"complaint":2,"question":1},"count":3,"last_nps":7,"last_nps_at":"2026-11-20T10:00:00Z",` +
		`"last_rating":4,"last_rating_at":"2026-11-20T09:30:00Z","nps_category":"passive","open_complaints":1}`
	if string(got) != want {
		t.Fatalf("feedback\n got  %s\n want %s", got, want)
	}
	if agg["events"] != float64(4) || agg["last_seen"] != "2026-11-20T10:00:00Z" {
		t.Fatalf("aggregates %v", agg)
	}
}

// Each batch's log line says which storage calls it made. Three new
// events of a new customer take one read of the record and one
// transaction, and read no history page: nothing of the customer is
// stored yet. Resent with an event newer than all three, only the resent
// ones are looked up on the customer's pages: one query.
func TestBatchLogLineCountsStorageCalls(t *testing.T) {
	var calls *ddb.Calls
	h := newHarness(t, func(db ddb.DB) ddb.DB { calls = &ddb.Calls{DB: db}; return calls })
	var logs strings.Builder
	h.api.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	h.api.Storage = func() any { return calls.Take() }
	var sample apigw.Event
	loadEvent(t, "ingest", "post.json", &sample)
	event := func(i int) string {
		return fmt.Sprintf(`{"event_id":"log-%d","type":"view","customer_id":"c-log","item_id":"sku-%d","timestamp":"2026-11-20T10:0%d:00Z"}`, i, i, i)
	}
	post := func(evs ...string) map[string]ddb.CallStats {
		t.Helper()
		logs.Reset()
		out, err := h.ingest.Serve(context.Background(), postEvents(sample, `{"events":[`+strings.Join(evs, ",")+`]}`))
		if err != nil || out.StatusCode != 200 {
			t.Fatalf("%d %v %s", out.StatusCode, err, out.Body)
		}
		var line struct {
			Msg     string                   `json:"msg"`
			Storage map[string]ddb.CallStats `json:"storage"`
		}
		for l := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
			if line.Msg == "events ingested" {
				return line.Storage
			}
		}
		t.Fatalf("no batch line in\n%s", logs.String())
		return nil
	}
	evTable, custTable := h.env.Table("EventsTable"), h.env.Table("CustomersTable")
	got := post(event(0), event(1), event(2))
	if got["GetItem "+custTable].Calls != 1 || got["TransactWriteItems "+custTable].Calls != 1 || got["Query "+evTable].Calls != 0 ||
		got["BatchWriteItem "+evTable].Calls != 0 {
		t.Fatalf("new events: %+v", got)
	}
	got = post(event(1), event(2), event(3))
	if got["Query "+evTable].Calls != 1 || got["TransactWriteItems "+custTable].Calls != 1 || got["BatchWriteItem "+evTable].Calls != 0 {
		t.Fatalf("two resent, one new: %+v", got)
	}
}
