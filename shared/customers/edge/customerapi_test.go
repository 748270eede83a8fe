package edge_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	campaignsmem "tailor/shared/campaigns/memory"
	"testing"
	"time"

	"tailor/shared/customers/edge"
	"tailor/shared/customers/memory"
	"tailor/shared/customers/service"
	"tailor/shared/events"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/apigw/apigwtest"
	auditmem "tailor/shared/platform/audit/memory"
	"tailor/shared/platform/pii"
)

// sample loads one of the events/ files that `sam local invoke -e` uses.
func sample(t *testing.T, name string) apigw.Event { return apigwtest.Request(t, "customers", name) }

type harness struct {
	t      *testing.T
	router *apigw.Router
	store  service.Records
	svc    *service.Service
	now    time.Time
}

// noHistory is an event history with no events.
type noHistory struct{}

func (noHistory) List(context.Context, string, events.HistoryQuery) (events.HistoryPage, error) {
	return events.HistoryPage{Events: []events.Event{}}, nil
}

// newHarness serves the API over the in-memory adapters.
func newHarness(t *testing.T) *harness {
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	keys, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	tbl := memory.NewTable()
	h := &harness{t: t, store: &memory.Customers{Table: tbl, Index: pii.NewIndex(keys)},
		now: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return h.now }
	h.svc = &service.Service{Records: h.store, Now: clock, History: noHistory{},
		Privacy: &memory.Privacy{Table: tbl, TombstoneTTL: 400 * 24 * time.Hour, Now: clock},
		Audit:   &auditmem.Audit{}, Memberships: &campaignsmem.Memberships{Store: &campaignsmem.Store{}}}
	return h.serve()
}

// serve registers the API on a fresh router.
func (h *harness) serve() *harness {
	h.router = apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	(&edge.API{Service: h.svc}).Register(h.router)
	return h
}

func (h *harness) do(ev apigw.Event) (int, map[string]any, apigw.Result) {
	h.t.Helper()
	out, err := h.router.Serve(context.Background(), ev)
	if err != nil {
		h.t.Fatal(err)
	}
	var body map[string]any
	if out.Body != "" {
		if err := json.Unmarshal([]byte(out.Body), &body); err != nil {
			h.t.Fatalf("body is not JSON: %q", out.Body)
		}
	}
	return out.StatusCode, body, out
}

func TestCustomerLifecycleWithSampleEvents(t *testing.T) {
	h := newHarness(t)
	status, body, out := h.do(sample(t, "put.json"))
	if status != 201 || out.Headers["ETag"] != `"1"` || body["customer_id"] != "c-123" {
		t.Fatalf("put: %d %v %v", status, out.Headers, body)
	}
	if p := body["profile"].(map[string]any); p["email"] != "ada@example.com" || p["birth_year"] != float64(1990) {
		t.Fatalf("profile %v", p)
	}
	// The sample PATCH carries If-Match "1".
	h.now = h.now.Add(time.Hour)
	status, body, out = h.do(sample(t, "patch.json"))
	if status != 200 || out.Headers["ETag"] != `"2"` {
		t.Fatalf("patch: %d %v", status, body)
	}
	consent := body["consent"].(map[string]any)
	if sms := consent["sms"].(map[string]any); sms["granted"] != true || sms["updated_at"] != "2026-11-20T11:00:00Z" {
		t.Fatalf("sms consent %v", sms)
	}
	if email := consent["email"].(map[string]any); email["updated_at"] != "2026-11-20T10:00:00Z" {
		t.Fatalf("email consent time moved: %v", email)
	}
	if tags := body["tags"].([]any); len(tags) != 1 || tags[0] != "vip" {
		t.Fatalf("tags %v", tags)
	}
	// Replaying the same PATCH is now stale.
	if status, body, _ = h.do(sample(t, "patch.json")); status != 412 || body["status"] != float64(412) {
		t.Fatalf("stale patch: %d %v", status, body)
	}
	status, body, out = h.do(sample(t, "get.json"))
	if status != 200 || out.Headers["ETag"] != `"2"` || body["profile"].(map[string]any)["city"] != "Manchester" {
		t.Fatalf("get: %d %v", status, body)
	}
	// DELETE is erasure (admin): it answers what it removed and can be repeated.
	if status, body, _ = h.do(sample(t, "delete.json")); status != 200 || body["customer_id"] != "c-123" || body["erased"] == nil {
		t.Fatalf("erase: %d %v", status, body)
	}
	if status, body, _ = h.do(sample(t, "get.json")); status != 404 || body["type"] != "/problems/not-found" {
		t.Fatalf("get after erasure: %d %v", status, body)
	}
	if status, body, _ = h.do(sample(t, "delete.json")); status != 200 {
		t.Fatalf("second erasure: %d %v", status, body)
	}
	if status, _, _ = h.do(sample(t, "put.json")); status != 409 {
		t.Fatalf("PUT by customers:write after erasure must be refused (tombstone): %d", status)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	h := newHarness(t)
	if status, _, _ := h.do(sample(t, "put.json")); status != 201 {
		t.Fatal("setup")
	}
	before, err := h.store.Get(context.Background(), "c-123")
	if err != nil {
		t.Fatal(err)
	}
	patch := func(mut func(*apigw.Event)) apigw.Event {
		ev := sample(t, "patch.json")
		delete(ev.Headers, "if-match")
		mut(&ev)
		return ev
	}
	cases := []struct {
		name   string
		ev     apigw.Event
		status int
		field  string
	}{
		{"invalid email", patch(func(e *apigw.Event) { e.Body = `{"profile":{"email":"not-an-address"}}` }), 400, "profile.email"},
		{"unknown field", patch(func(e *apigw.Event) { e.Body = `{"profile":{"emial":"a@b.co"}}` }), 400, ""},
		{"malformed", patch(func(e *apigw.Event) { e.Body = `{"profile":` }), 400, ""},
		{"content type", patch(func(e *apigw.Event) { e.Headers["content-type"] = "text/plain" }), 415, ""},
		{"too large", patch(func(e *apigw.Event) {
			e.Body = `{"profile":{"name":"` + strings.Repeat("a", edge.MaxBody) + `"}}`
		}), 413, ""},
		{"bad if-match", patch(func(e *apigw.Event) { e.Headers["if-match"] = "yesterday" }), 400, ""},
		{"stale if-match", patch(func(e *apigw.Event) { e.Headers["if-match"] = `"7"` }), 412, ""},
		{"bad id", patch(func(e *apigw.Event) { e.PathParameters["id"] = "c 123" }), 400, "customer_id"},
		{"unknown consent", patch(func(e *apigw.Event) { e.Body = `{"consent":{"post":true}}` }), 400, "consent.post"},
		{"create only", func() apigw.Event {
			ev := sample(t, "put.json")
			ev.Headers["if-none-match"] = "*"
			return ev
		}(), 412, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, out := h.do(c.ev)
			if status != c.status || out.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("status %d (%v), want %d", status, body, c.status)
			}
			if c.field != "" {
				errsList, _ := body["errors"].([]any)
				if len(errsList) == 0 || errsList[0].(map[string]any)["field"] != c.field {
					t.Fatalf("errors %v, want field %s", body["errors"], c.field)
				}
			}
		})
	}
	after, err := h.store.Get(context.Background(), "c-123")
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || after.Profile != before.Profile {
		t.Fatalf("rejected requests changed the record: %+v -> %+v", before, after)
	}
}

func TestConcurrentPatchesWithoutIfMatchAllLand(t *testing.T) {
	h := newHarness(t)
	if status, _, _ := h.do(sample(t, "put.json")); status != 201 {
		t.Fatal("setup")
	}
	tags := []string{"a", "b", "c", "d"}
	done := make(chan int)
	for _, tag := range tags {
		go func() {
			ev := sample(t, "patch.json")
			delete(ev.Headers, "if-match")
			ev.Body = `{"tags":{"add":["` + tag + `"]}}`
			out, _ := h.router.Serve(context.Background(), ev)
			done <- out.StatusCode
		}()
	}
	ok := 0
	for range tags {
		if <-done == 200 {
			ok++
		}
	}
	got, _ := h.store.Get(context.Background(), "c-123")
	// Every 200 must be reflected: a write that reported success is never lost.
	n := 0
	for _, tag := range tags {
		for _, have := range got.Tags {
			if have == tag {
				n++
			}
		}
	}
	if n != ok || got.Version != int64(1+ok) {
		t.Fatalf("%d patches succeeded but record has %d of their tags, version %d: %+v", ok, n, got.Version, got)
	}
	if ok < 2 {
		t.Fatalf("only %d of %d concurrent patches succeeded; retries should absorb most races", ok, len(tags))
	}
}
