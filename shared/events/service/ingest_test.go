package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/events"
	"tailor/shared/events/memory"
	"tailor/shared/events/service"
	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*service.Service, *memory.Events) {
	t.Helper()
	m := &memory.Events{Now: func() time.Time { return now }}
	m.SetCategory("sku-1", "Home")
	m.SetCategory("sku-2", "Garden")
	return &service.Service{Store: m, Now: func() time.Time { return now }, Workers: 4}, m
}

// ev is a view (or, with qty > 0, a purchase) as a client sends it.
func ev(id, cust, anon, item string, minute int) json.RawMessage {
	in := events.Input{EventID: id, Type: events.View, CustomerID: cust, AnonymousID: anon, ItemID: item,
		Timestamp: now.Add(time.Duration(minute-60) * time.Minute).Format(time.RFC3339)}
	b, _ := json.Marshal(in)
	return b
}

func statuses(out []service.Outcome) []events.Status {
	st := make([]events.Status, len(out))
	for i, o := range out {
		st[i] = o.Status
	}
	return st
}

func fieldNames(o service.Outcome) []string {
	var names []string
	for _, f := range o.Errors {
		names = append(names, f.Field)
	}
	return names
}

func history(t *testing.T, m *memory.Events, cust string) []events.Event {
	t.Helper()
	page, err := (&memory.History{Events: m, Now: func() time.Time { return now }}).List(context.Background(), cust,
		events.HistoryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func TestDecodingRejectsBadEventsOneByOne(t *testing.T) {
	svc, m := newService(t)
	big := fmt.Sprintf(`{"event_id":"e-big","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T09:00:00Z","properties":{"x":%q}}`,
		strings.Repeat("x", events.MaxEventBytes))
	raws := []json.RawMessage{
		json.RawMessage(`{not json`),
		json.RawMessage(`42`),
		json.RawMessage(big),
		json.RawMessage(`{"event_id":"e-3","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T09:00:00Z","colour":"red"}`),
		json.RawMessage(`{"event_id":"e-4","type":"view","customer_id":"c-1","item_id":"sku-1","timestamp":"2026-11-20T09:00:00Z","quantity":"2"}`),
		ev("e-5", "c-1", "", "sku-1", 0),
	}
	out := svc.Ingest(context.Background(), raws, nil)
	want := []events.Status{events.Rejected, events.Rejected, events.Rejected, events.Rejected, events.Rejected, events.Accepted}
	if !slices.Equal(statuses(out), want) {
		t.Fatalf("statuses %v, want %v", statuses(out), want)
	}
	for i, detail := range []string{"invalid JSON", "invalid JSON", fmt.Sprintf("the limit is %d", events.MaxEventBytes),
		`unknown field "colour"`, `"quantity" must be of type int64`} {
		if out[i].Reason != service.ReasonInvalid || !strings.Contains(out[i].Detail, detail) {
			t.Errorf("event %d: %+v, want detail with %q", i, out[i], detail)
		}
	}
	if out[3].EventID != "e-3" || out[4].EventID != "e-4" {
		t.Errorf("event id %q", out[3].EventID)
	}
	if got := history(t, m, "c-1"); len(got) != 1 || got[0].ID != "e-5" {
		t.Fatalf("stored %v, want e-5 only", got)
	}
}

// TestFieldNames: the SQS handler passes no prefix, and field names stay
// as the event spells them; the HTTP batch names each event by its index.
func TestFieldNames(t *testing.T) {
	svc, _ := newService(t)
	bad := json.RawMessage(`{"event_id":"e-1","type":"click","customer_id":"c-1","timestamp":"yesterday"}`)
	out := svc.Ingest(context.Background(), []json.RawMessage{bad}, nil)
	if want := []string{"type", "timestamp"}; !slices.Equal(fieldNames(out[0]), want) {
		t.Fatalf("field names %q, want %q", fieldNames(out[0]), want)
	}
	raws := []json.RawMessage{ev("e-0", "c-1", "", "sku-1", 0), ev("e-1", "c-1", "", "sku-1", 1), ev("e-2", "c-1", "", "sku-1", 2), bad}
	out = svc.Ingest(context.Background(), raws, func(i int) string { return fmt.Sprintf("events[%d].", i) })
	if want := []string{"events[3].type", "events[3].timestamp"}; !slices.Equal(fieldNames(out[3]), want) {
		t.Fatalf("field names %q, want %q", fieldNames(out[3]), want)
	}
}

func TestDeduplication(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	changed := json.RawMessage(`{"event_id":"e-1","type":"view","customer_id":"c-1","item_id":"sku-2","timestamp":"2026-11-20T09:00:00Z"}`)
	raws := []json.RawMessage{ev("e-1", "c-1", "", "sku-1", 0), ev("e-2", "c-1", "", "sku-1", 1), ev("e-1", "c-1", "", "sku-1", 0), changed}
	out := svc.Ingest(ctx, raws, nil)
	want := []events.Status{events.Accepted, events.Accepted, events.Duplicate, events.Rejected}
	if !slices.Equal(statuses(out), want) {
		t.Fatalf("first batch %v, want %v", statuses(out), want)
	}
	if out[2].Detail != "same event as index 0" || out[3].Reason != service.ReasonIDConflict || !strings.Contains(out[3].Detail, "index 0") {
		t.Fatalf("in-batch copies: %+v %+v", out[2], out[3])
	}

	// Sent again: the same content is a duplicate, other content under a
	// used id a conflict; nothing counts twice.
	out = svc.Ingest(ctx, []json.RawMessage{changed, ev("e-2", "c-1", "", "sku-1", 1), ev("e-3", "c-1", "", "sku-1", 2)}, nil)
	want = []events.Status{events.Rejected, events.Duplicate, events.Accepted}
	if !slices.Equal(statuses(out), want) || out[0].Reason != service.ReasonIDConflict {
		t.Fatalf("second batch %+v", out)
	}
	if a := m.Aggregates(events.Owner{CustomerID: "c-1"}); a == nil || a.Events != 3 || a.Views != 3 {
		t.Fatalf("aggregates %+v", a)
	}

}

func TestIdentityResolution(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	watch := &faulty{Store: m}
	svc.Store = watch
	visitor, cust := events.Owner{AnonymousID: "a-1"}, events.Owner{CustomerID: "c-1"}
	out := svc.Ingest(ctx, []json.RawMessage{ev("v-1", "", "a-1", "sku-1", 0), ev("v-2", "", "a-1", "sku-2", 1)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Accepted, events.Accepted}) {
		t.Fatalf("visitor %+v", out)
	}
	if a := m.Aggregates(visitor); a == nil || a.Events != 2 {
		t.Fatalf("visitor aggregates %+v", a)
	}

	// The login carries both ids: the visitor merges into the customer, and
	// the visitor's events of the same batch go to the customer too.
	out = svc.Ingest(ctx, []json.RawMessage{ev("v-3", "", "a-1", "sku-1", 2), ev("login", "c-1", "a-1", "sku-1", 3)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Accepted, events.Accepted}) {
		t.Fatalf("login batch %+v", out)
	}
	if a := m.Aggregates(visitor); a != nil {
		t.Fatalf("the visitor keeps aggregates: %+v", a)
	}
	if a := m.Aggregates(cust); a == nil || a.Events != 4 || a.Views != 4 {
		t.Fatalf("customer aggregates %+v", a)
	}
	// Later anonymous events belong to the customer.
	svc.Ingest(ctx, []json.RawMessage{ev("v-4", "", "a-1", "sku-2", 4)}, nil)
	hist := history(t, m, "c-1")
	var got []string
	for _, e := range hist {
		got = append(got, e.ID+"/"+e.Category)
	}
	if want := "v-4/Garden login/Home v-3/Home v-2/Garden v-1/Home"; strings.Join(got, " ") != want {
		t.Fatalf("history %s, want %s", strings.Join(got, " "), want)
	}
	if a := m.Aggregates(visitor); a != nil {
		t.Fatalf("a later visitor event stayed anonymous: %+v", a)
	}
	// Owners are resolved before the writes: none was refused.
	if watch.ownerChanged != 0 {
		t.Fatalf("%d writes went to a linked visitor", watch.ownerChanged)
	}
}

// TestLoginDuringWrite: the visitor logs in between the owner look-up and
// the write; the write is refused with events.ErrOwnerChanged and the
// service writes the events to the customer instead.
func TestLoginDuringWrite(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	race := &faulty{Store: m, loginBeforeAppend: map[string]string{"a-2": "c-2"}}
	svc.Store = race
	out := svc.Ingest(ctx, []json.RawMessage{ev("x-1", "", "a-2", "sku-1", 0), ev("x-2", "", "a-2", "sku-1", 1)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Accepted, events.Accepted}) {
		t.Fatalf("outcomes %+v", out)
	}
	if race.ownerChanged == 0 {
		t.Fatal("the store never refused the write to the linked visitor")
	}
	if a := m.Aggregates(events.Owner{CustomerID: "c-2"}); a == nil || a.Events != 2 {
		t.Fatalf("customer aggregates %+v", a)
	}
	if a := m.Aggregates(events.Owner{AnonymousID: "a-2"}); a != nil {
		t.Fatalf("visitor aggregates %+v", a)
	}
}

func TestOutcomesComeBackInRequestOrder(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	svc.Ingest(ctx, []json.RawMessage{ev("old-0", "c-0", "", "sku-1", 0)}, nil)
	var (
		raws []json.RawMessage
		want []events.Status
		ids  []string
	)
	for i := range 90 {
		id := fmt.Sprintf("e-%02d", i)
		switch i % 6 {
		case 0:
			raws, want = append(raws, json.RawMessage(`{"event_id":"`+id+`","type":"click"}`)), append(want, events.Rejected)
		case 1:
			raws, want = append(raws, ev("old-0", "c-0", "", "sku-1", 0)), append(want, events.Duplicate)
			id = "old-0"
		default:
			raws, want = append(raws, ev(id, fmt.Sprintf("c-%d", i%13), fmt.Sprintf("a-%d", i%5), "sku-1", i)), append(want, events.Accepted)
		}
		ids = append(ids, id)
	}
	out := svc.Ingest(ctx, raws, nil)
	if len(out) != len(raws) {
		t.Fatalf("%d outcomes for %d events", len(out), len(raws))
	}
	for i, o := range out {
		if o.Index != i || o.EventID != ids[i] || o.Status != want[i] {
			t.Errorf("outcome %d: %+v, want %s of %s", i, o, want[i], ids[i])
		}
	}
	c := service.Counts(out)
	if c[events.Accepted] != 60 || c[events.Duplicate] != 15 || c[events.Rejected] != 15 || len(c) != 3 {
		t.Fatalf("counts %v", c)
	}
	stored := 0
	for c := range 13 {
		stored += len(history(t, m, fmt.Sprintf("c-%d", c)))
	}
	if stored != 61 {
		t.Fatalf("%d events stored, want 61", stored)
	}
}

func TestStorageFailuresAreRetriableOutcomes(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	down := errs.E(errs.Transient, "table unavailable")
	svc.Store = &faulty{Store: m, appendFor: map[string]error{"c-bad": down}}
	out := svc.Ingest(ctx, []json.RawMessage{ev("f-1", "c-ok", "", "sku-1", 0), ev("f-2", "c-bad", "", "sku-1", 1)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Accepted, events.Failed}) || out[1].Reason != service.ReasonUnavailable {
		t.Fatalf("one owner failing: %+v", out)
	}
	if strings.Contains(out[1].Detail, "table unavailable") {
		t.Fatalf("storage error text in the outcome: %q", out[1].Detail)
	}

	svc.Store = &faulty{Store: m, categories: down}
	out = svc.Ingest(ctx, []json.RawMessage{ev("f-3", "c-ok", "", "sku-1", 0), json.RawMessage(`{}`)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Failed, events.Rejected}) {
		t.Fatalf("categories failing: %+v", out)
	}

	svc.Store = &faulty{Store: m, link: down}
	out = svc.Ingest(ctx, []json.RawMessage{ev("f-4", "c-5", "a-5", "sku-1", 0), ev("f-5", "c-6", "", "sku-1", 0)}, nil)
	if !slices.Equal(statuses(out), []events.Status{events.Failed, events.Accepted}) {
		t.Fatalf("link failing: %+v", out)
	}

	svc.Store = m
	m.Erase("c-gone")
	out = svc.Ingest(ctx, []json.RawMessage{ev("f-6", "c-gone", "", "sku-1", 0)}, nil)
	if out[0].Status != events.Rejected || out[0].Reason != service.ReasonErased {
		t.Fatalf("erased customer: %+v", out)
	}

	late, cancel := context.WithDeadline(ctx, now)
	defer cancel()
	out = svc.Ingest(late, []json.RawMessage{ev("f-7", "c-ok", "", "sku-1", 0)}, nil)
	if out[0].Status != events.Failed || out[0].Detail != "not stored in time; retry this event" {
		t.Fatalf("past the deadline: %+v", out)
	}
	// Retrying the failed events stores exactly them.
	out = svc.Ingest(ctx, []json.RawMessage{ev("f-1", "c-ok", "", "sku-1", 0), ev("f-2", "c-bad", "", "sku-1", 1),
		ev("f-3", "c-ok", "", "sku-1", 0), ev("f-4", "c-5", "a-5", "sku-1", 0), ev("f-7", "c-ok", "", "sku-1", 0)}, nil)
	if want := []events.Status{events.Duplicate, events.Accepted, events.Accepted, events.Accepted, events.Accepted}; !slices.Equal(statuses(out), want) {
		t.Fatalf("retry %v, want %v", statuses(out), want)
	}
}

// faulty wraps a store with failures and races.
type faulty struct {
	service.Store
	categories, link error
	appendFor        map[string]error // customer id -> error of Append
	// loginBeforeAppend links an anonymous id to a customer right before
	// the first write to the visitor, as a concurrent login would.
	loginBeforeAppend map[string]string

	mu           sync.Mutex
	ownerChanged int
}

func (f *faulty) Categories(ctx context.Context, ids []string) (map[string]string, error) {
	if f.categories != nil {
		return nil, f.categories
	}
	return f.Store.Categories(ctx, ids)
}

func (f *faulty) Link(ctx context.Context, anon, cust string) (string, error) {
	if f.link != nil {
		return "", f.link
	}
	return f.Store.Link(ctx, anon, cust)
}

func (f *faulty) Append(ctx context.Context, o events.Owner, evs []events.Event) ([]events.Status, error) {
	if err := f.appendFor[o.CustomerID]; err != nil && o.CustomerID != "" {
		return make([]events.Status, len(evs)), err
	}
	f.mu.Lock()
	cust, login := f.loginBeforeAppend[o.AnonymousID]
	delete(f.loginBeforeAppend, o.AnonymousID)
	f.mu.Unlock()
	if login && o.Anonymous() {
		if _, err := f.Store.Link(ctx, o.AnonymousID, cust); err != nil {
			return nil, err
		}
	}
	st, err := f.Store.Append(ctx, o, evs)
	if errors.Is(err, events.ErrOwnerChanged) {
		f.mu.Lock()
		f.ownerChanged++
		f.mu.Unlock()
	}
	return st, err
}

// TestEngagementAndFeedback: message and feedback events go through the
// same validation, de-duplication and identity rules as every event, and
// their answers reach the customer's aggregates.
func TestEngagementAndFeedback(t *testing.T) {
	ctx := context.Background()
	svc, m := newService(t)
	raws := []json.RawMessage{
		json.RawMessage(`{"event_id":"m-1","type":"message_delivered","customer_id":"c-1","campaign_id":"spring","channel":"email","timestamp":"2026-11-20T08:00:00Z"}`),
		json.RawMessage(`{"event_id":"m-2","type":"message_opened","anonymous_id":"a-1","campaign_id":"spring","timestamp":"2026-11-20T08:05:00Z"}`),
		json.RawMessage(`{"event_id":"m-3","type":"message_clicked","customer_id":"c-1","anonymous_id":"a-1","campaign_id":"spring","timestamp":"2026-11-20T08:06:00Z"}`),
		json.RawMessage(`{"event_id":"f-1","type":"feedback","customer_id":"c-1","rating":2,"nps":5,"topic":"complaint","comment":"Late again.","campaign_id":"spring","timestamp":"2026-11-20T08:30:00Z"}`),
		json.RawMessage(`{"event_id":"f-2","type":"feedback","customer_id":"c-1","nps":10,"timestamp":"2026-11-20T08:20:00Z"}`),
		// Invalid: no campaign; no answer; answers out of range and an unknown topic; a fractional rating.
		json.RawMessage(`{"event_id":"bad-1","type":"unsubscribed","customer_id":"c-1","timestamp":"2026-11-20T08:00:00Z"}`),
		json.RawMessage(`{"event_id":"bad-2","type":"feedback","customer_id":"c-1","comment":"?","timestamp":"2026-11-20T08:00:00Z"}`),
		json.RawMessage(`{"event_id":"bad-3","type":"feedback","customer_id":"c-1","rating":6,"nps":11,"topic":"rant","timestamp":"2026-11-20T08:00:00Z"}`),
		json.RawMessage(`{"event_id":"bad-4","type":"feedback","customer_id":"c-1","rating":4.5,"timestamp":"2026-11-20T08:00:00Z"}`),
		// The same feedback again is a duplicate; the same id with another comment a conflict.
		json.RawMessage(`{"event_id":"f-1","type":"feedback","customer_id":"c-1","rating":2,"nps":5,"topic":"complaint","comment":"Late again.","campaign_id":"spring","timestamp":"2026-11-20T08:30:00Z"}`),
		json.RawMessage(`{"event_id":"f-1","type":"feedback","customer_id":"c-1","rating":2,"nps":5,"topic":"complaint","comment":"Fine.","campaign_id":"spring","timestamp":"2026-11-20T08:30:00Z"}`),
	}
	out := svc.Ingest(ctx, raws, func(i int) string { return fmt.Sprintf("events[%d].", i) })
	want := []events.Status{events.Accepted, events.Accepted, events.Accepted, events.Accepted, events.Accepted,
		events.Rejected, events.Rejected, events.Rejected, events.Rejected, events.Duplicate, events.Rejected}
	if !slices.Equal(statuses(out), want) {
		t.Fatalf("statuses %v, want %v", statuses(out), want)
	}
	for i, fields := range map[int][]string{5: {"events[5].campaign_id"}, 6: {"events[6].rating"},
		7: {"events[7].rating", "events[7].nps", "events[7].topic"}, 8: {"events[8].rating"}} {
		if !slices.Equal(fieldNames(out[i]), fields) || out[i].Reason != service.ReasonInvalid {
			t.Errorf("event %d: %+v, want errors on %v", i, out[i], fields)
		}
	}
	if out[10].Reason != service.ReasonIDConflict {
		t.Fatalf("reused id: %+v", out[10])
	}
	// The visitor's opened message moved to the customer at the login.
	a := m.Aggregates(events.Owner{CustomerID: "c-1"})
	if a == nil || a.Events != 5 || a.Feedback == nil || a.Feedback.Count != 2 || a.Feedback.LastRating.Value != 2 ||
		a.Feedback.NPSCategory() != events.Detractor || a.Feedback.OpenComplaints() != 1 || a.Feedback.ByTopic[events.Complaint] != 1 {
		t.Fatalf("aggregates %+v", a)
	}
	hist := history(t, m, "c-1")
	if len(hist) != 5 || hist[0].ID != "f-1" || hist[0].Comment != "Late again." || hist[0].CampaignID != "spring" || *hist[0].NPS != 5 {
		t.Fatalf("history %+v", hist)
	}
}
