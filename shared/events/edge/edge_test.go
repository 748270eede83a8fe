package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"tailor/shared/events"
	"tailor/shared/events/edge"
	"tailor/shared/events/memory"
	"tailor/shared/events/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/apigw/apigwtest"
	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)

func loadEvent(t testing.TB, dir, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(apigwtest.File(t, dir, name), v); err != nil {
		t.Fatal(err)
	}
}

func serve(t *testing.T, r *apigw.Router, ev apigw.Event, v any) int {
	t.Helper()
	out, err := r.Serve(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil && out.Body != "" {
		if err := json.Unmarshal([]byte(out.Body), v); err != nil {
			t.Fatalf("body is not JSON: %q", out.Body)
		}
	}
	return out.StatusCode
}

func postEvents(ev apigw.Event, body string) apigw.Event {
	ev.Body = body
	return ev
}

// memHarness is the ingest function's handlers over the in-memory store,
// with its logs and metrics kept.
type memHarness struct {
	store   *memory.Events
	svc     *service.Service
	api     *edge.API
	ingest  *apigw.Router
	invoker *edge.Invoker
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newMemHarness(t *testing.T) *memHarness {
	t.Helper()
	clock := func() time.Time { return now }
	h := &memHarness{store: &memory.Events{Now: clock}, logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	for _, item := range []string{"sku-1", "sku-42", "sku-43"} {
		h.store.SetCategory(item, "Home")
	}
	log := slog.New(slog.NewJSONHandler(h.logs, nil))
	h.svc = &service.Service{Store: h.store, Now: clock}
	h.api = &edge.API{Service: h.svc, Log: log, Metrics: h.metrics}
	h.ingest = apigw.NewRouter(log)
	h.api.Register(h.ingest)
	h.invoker = &edge.Invoker{HTTP: h.ingest.Serve, SQS: h.api.SQS}
	return h
}

// logLines returns the JSON log lines with message msg.
func (h *memHarness) logLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(h.logs.Bytes(), []byte("\n")) {
		var line map[string]any
		if len(l) == 0 {
			continue
		}
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

func TestBatchLimits(t *testing.T) {
	h := newMemHarness(t)
	var ev apigw.Event
	loadEvent(t, "ingest", "post.json", &ev)
	one := `{"event_id":"e-%d","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T10:00:00Z"}`
	many := make([]string, events.MaxBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf(one, i)
	}
	var p apigw.Problem
	if status := serve(t, h.ingest, postEvents(ev, `{"events":[`+strings.Join(many, ",")+`]}`), &p); status != 413 ||
		!strings.Contains(p.Detail, "at most 500 events") {
		t.Fatalf("501 events: %d %+v", status, p)
	}
	big := `{"events":[{"event_id":"e-1","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T10:00:00Z","properties":{"x":"` +
		strings.Repeat("x", events.MaxBatchBytes) + `"}}]}`
	if status := serve(t, h.ingest, postEvents(ev, big), &p); status != 413 || !strings.Contains(p.Detail, "1048576") {
		t.Fatalf("1 MB: %d %+v", status, p)
	}
	for body, want := range map[string]int{`{"events":[]}`: 400, `{}`: 400, `{"events":[1,`: 400, `{"evnts":[]}`: 400} {
		if status := serve(t, h.ingest, postEvents(ev, body), &p); status != want {
			t.Errorf("%s: %d, want %d", body, status, want)
		}
	}
	if a := h.store.Aggregates(events.Owner{CustomerID: "c-1"}); a != nil {
		t.Fatalf("a refused batch stored events: %+v", a)
	}
	// One malformed event does not stop the others.
	var resp edge.Response
	body := `{"events":[42, {"event_id":"e-1","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T10:00:00Z","colour":"red"},` +
		fmt.Sprintf(one, 2) + `, {"event_id":"e-3","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-22T10:00:00Z"}]}`
	serve(t, h.ingest, postEvents(ev, body), &resp)
	if resp.Accepted != 1 || resp.Rejected != 3 || resp.Results[2].Status != events.Accepted ||
		!strings.Contains(resp.Results[1].Detail, "colour") || resp.Results[3].Errors[0].Field != "events[3].timestamp" {
		t.Fatalf("mixed batch %+v", resp)
	}
}

// postSample posts the sample batch (events/ingest/post.json) and checks
// the answer every store must give: 200, one outcome per event in request
// order, the invalid purchase rejected with the batch's field names, the
// copy of the first event a duplicate.
func postSample(t *testing.T, r *apigw.Router) (apigw.Event, edge.Response) {
	t.Helper()
	var ev apigw.Event
	loadEvent(t, "ingest", "post.json", &ev)
	var resp edge.Response
	if status := serve(t, r, ev, &resp); status != 200 {
		t.Fatalf("status %d", status)
	}
	want := []events.Status{events.Accepted, events.Accepted, events.Accepted, events.Accepted, events.Rejected, events.Duplicate}
	if resp.Accepted != 4 || resp.Rejected != 1 || resp.Duplicate != 1 || resp.Failed != 0 || len(resp.Results) != len(want) {
		t.Fatalf("response %+v", resp)
	}
	for i, o := range resp.Results {
		if o.Index != i || o.Status != want[i] || o.EventID != fmt.Sprintf("01JDEMO000000000000000000%d", 1+i%5) {
			t.Errorf("result %d: %+v, want %s", i, o, want[i])
		}
	}
	bad := resp.Results[4]
	var fields []string
	for _, f := range bad.Errors {
		fields = append(fields, f.Field)
	}
	if bad.Reason != service.ReasonInvalid || !slices.Equal(fields, []string{"events[4].price", "events[4].order_id"}) {
		t.Fatalf("rejection %+v", bad)
	}
	return ev, resp
}

// TestPostAnswersEveryEventInOrder: the response counts the outcomes and
// lists one per event, by index; the counts go out as metrics.
func TestPostAnswersEveryEventInOrder(t *testing.T) {
	h := newMemHarness(t)
	postSample(t, h.ingest)
	// The anonymous visitor logged in with event 2: all four stored events
	// are the customer's.
	if a := h.store.Aggregates(events.Owner{CustomerID: "c-123"}); a == nil || a.Events != 4 || a.Views != 1 ||
		a.CartAdds != 1 || a.Orders != 1 || a.Units != 2 || a.Searches != 1 || a.Revenue["GBP"] != 2500 {
		t.Fatalf("aggregates %+v", a)
	}

	var metric struct {
		Source                                                        string
		EventsAccepted, EventsDuplicate, EventsRejected, EventsFailed float64
	}
	if err := json.Unmarshal(h.metrics.Bytes(), &metric); err != nil {
		t.Fatalf("metrics %q: %v", h.metrics.String(), err)
	}
	if metric.Source != "http" || metric.EventsAccepted != 4 || metric.EventsDuplicate != 1 || metric.EventsRejected != 1 || metric.EventsFailed != 0 {
		t.Fatalf("metrics %+v", metric)
	}
}

func TestSQSSampleOnMemory(t *testing.T) {
	h := newMemHarness(t)
	var raw json.RawMessage
	loadEvent(t, "ingest", "sqs.json", &raw)
	out, err := h.invoker.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	// The invalid message is not retried: it would never succeed.
	if resp := out.(lambdaevents.SQSEventResponse); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp)
	}
	a := h.store.Aggregates(events.Owner{CustomerID: "c-200"})
	if a == nil || a.Orders != 1 || a.Revenue["GBP"] != 1250 || a.Refunds["GBP"] != 1250 || a.RefundedUnits != 1 || a.Events != 2 {
		t.Fatalf("aggregates %+v", a)
	}
	rejected := h.logLines(t, "event rejected")
	if len(rejected) != 1 || rejected[0]["messageId"] != "059f36b4-87a3-44ab-83d2-661970000002" || rejected[0]["reason"] != service.ReasonInvalid {
		t.Fatalf("rejections logged %v", rejected)
	}
	if strings.Contains(h.logs.String(), "not json") {
		t.Fatal("a message body reached the log")
	}
}

// TestSQSRejectionNamesCleanFields: an SQS message holds one event, whose
// rejection names the bad fields as the event spells them.
func TestSQSRejectionNamesCleanFields(t *testing.T) {
	h := newMemHarness(t)
	ev := lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{MessageId: "m-1",
		Body: `{"event_id":"e-1","type":"click","customer_id":"c-1","timestamp":"yesterday"}`}}}
	resp, err := h.api.SQS(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	rejected := h.logLines(t, "event rejected")
	if len(rejected) != 1 || rejected[0]["messageId"] != "m-1" || fmt.Sprint(rejected[0]["fields"]) != "[type timestamp]" {
		t.Fatalf("rejections logged %v", rejected)
	}
}

// TestSQSReportsExactlyTheFailedMessagesOnMemory: messages whose events
// could not be stored come back as batch item failures, and nothing else.
func TestSQSReportsExactlyTheFailedMessagesOnMemory(t *testing.T) {
	h := newMemHarness(t)
	h.svc.Store = &failingOwners{Store: h.store, owners: map[string]bool{"c-1": true, "c-3": true}}
	var ev lambdaevents.SQSEvent
	for i := range 5 {
		ev.Records = append(ev.Records, lambdaevents.SQSMessage{MessageId: fmt.Sprintf("m-%d", i),
			Body: fmt.Sprintf(`{"event_id":"e-%d","type":"view","customer_id":"c-%d","item_id":"sku-1","timestamp":"2026-11-20T10:00:00Z"}`, i, i)})
	}
	resp, err := h.api.SQS(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m-1", "m-3"}) {
		t.Fatalf("failures %v", failed)
	}
	// Delivered again once storage is back, the failed ones are stored and
	// the others are duplicates.
	h.svc.Store = h.store
	if resp, err := h.api.SQS(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery %+v %v", resp, err)
	}
	for i := range 5 {
		if a := h.store.Aggregates(events.Owner{CustomerID: fmt.Sprintf("c-%d", i)}); a == nil || a.Views != 1 {
			t.Fatalf("c-%d: %+v", i, a)
		}
	}
}

// failingOwners fails every write of some customers.
type failingOwners struct {
	service.Store
	owners map[string]bool
}

func (f *failingOwners) Append(ctx context.Context, o events.Owner, evs []events.Event) ([]events.Status, error) {
	if f.owners[o.CustomerID] {
		return make([]events.Status, len(evs)), errs.E(errs.Transient, "injected")
	}
	return f.Store.Append(ctx, o, evs)
}

// TestFeedbackOverHTTPAndSQS: message and feedback events take both
// doors; a bad answer is named by its field, as the batch or the single
// message spells it.
func TestFeedbackOverHTTPAndSQS(t *testing.T) {
	h := newMemHarness(t)
	var ev apigw.Event
	loadEvent(t, "ingest", "post.json", &ev)
	body := `{"events":[
	 {"event_id":"m-1","type":"message_opened","customer_id":"c-1","campaign_id":"spring","timestamp":"2026-11-20T10:00:00Z"},
	 {"event_id":"f-1","type":"feedback","customer_id":"c-1","rating":0,"topic":"praise","timestamp":"2026-11-20T10:01:00Z"},
	 {"event_id":"f-2","type":"feedback","customer_id":"c-1","rating":5,"comment":"Lovely.","campaign_id":"spring","timestamp":"2026-11-20T10:02:00Z"},
	 {"event_id":"f-3","type":"feedback","customer_id":"c-1","nps":"ten","timestamp":"2026-11-20T10:03:00Z"}]}`
	var resp edge.Response
	if status := serve(t, h.ingest, postEvents(ev, body), &resp); status != 200 || resp.Accepted != 2 || resp.Rejected != 2 {
		t.Fatalf("batch %d %+v", status, resp)
	}
	if e := resp.Results[1].Errors; len(e) != 1 || e[0].Field != "events[1].rating" {
		t.Fatalf("rating error %+v", resp.Results[1])
	}
	if e := resp.Results[3].Errors; len(e) != 1 || e[0].Field != "events[3].nps" {
		t.Fatalf("nps error %+v", resp.Results[3])
	}
	sqs := lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{
		{MessageId: "m-1", Body: `{"event_id":"u-1","type":"unsubscribed","customer_id":"c-1","timestamp":"2026-11-20T10:04:00Z"}`},
		{MessageId: "m-2", Body: `{"event_id":"u-2","type":"unsubscribed","customer_id":"c-1","campaign_id":"spring","timestamp":"2026-11-20T10:04:00Z"}`},
	}}
	if out, err := h.api.SQS(context.Background(), sqs); err != nil || len(out.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", out, err)
	}
	rejected := h.logLines(t, "event rejected")
	if len(rejected) != 1 || rejected[0]["messageId"] != "m-1" || fmt.Sprint(rejected[0]["fields"]) != "[campaign_id]" {
		t.Fatalf("rejections logged %v", rejected)
	}
	if strings.Contains(h.logs.String(), "Lovely") {
		t.Fatal("a comment reached the log")
	}
	if a := h.store.Aggregates(events.Owner{CustomerID: "c-1"}); a == nil || a.Events != 3 || a.Feedback.Count != 1 || a.Feedback.LastRating.Value != 5 {
		t.Fatalf("aggregates %+v", a)
	}
}
