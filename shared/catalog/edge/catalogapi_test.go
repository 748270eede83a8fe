package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"tailor/shared/platform/apigw/apigwtest"
	"testing"
	"time"

	"tailor/shared/catalog/edge"
	"tailor/shared/catalog/memory"
	"tailor/shared/catalog/service"
	"tailor/shared/platform/apigw"
)

func sample(t *testing.T, name string) apigw.Event { return apigwtest.Request(t, "catalog", name) }

func setup(t *testing.T) (func(apigw.Event) (int, map[string]any), *memory.Items, *time.Time) {
	s := &memory.Items{}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	api := &edge.API{Service: &service.Service{Items: s, Now: func() time.Time { return now }}}
	r := apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	api.Register(r)
	do := func(ev apigw.Event) (int, map[string]any) {
		t.Helper()
		out, err := r.Serve(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if out.Body != "" {
			if err := json.Unmarshal([]byte(out.Body), &body); err != nil {
				t.Fatalf("not JSON: %q", out.Body)
			}
		}
		return out.StatusCode, body
	}
	return do, s, &now
}

func TestItemLifecycle(t *testing.T) {
	do, _, now := setup(t)
	status, body := do(sample(t, "put.json"))
	if status != 201 || body["price"] != "12.50" || body["currency"] != "GBP" || body["in_stock"] != true {
		t.Fatalf("put: %d %v", status, body)
	}
	*now = now.Add(time.Hour)
	// The same content again writes nothing: the stored item comes back.
	status, body = do(sample(t, "put.json"))
	if status != 200 || body["created_at"] != "2026-11-20T10:00:00Z" || body["updated_at"] != "2026-11-20T10:00:00Z" {
		t.Fatalf("same content again: %d %v", status, body)
	}
	var in map[string]any
	ev := sample(t, "put.json")
	if err := json.Unmarshal([]byte(ev.Body), &in); err != nil {
		t.Fatal(err)
	}
	in["title"] = "Enamel mug, navy"
	b, _ := json.Marshal(in)
	ev.Body = string(b)
	status, body = do(ev)
	if status != 200 || body["created_at"] != "2026-11-20T10:00:00Z" || body["updated_at"] != "2026-11-20T11:00:00Z" {
		t.Fatalf("replace: %d %v", status, body)
	}
	status, body = do(sample(t, "get.json"))
	if status != 200 || body["title"] != "Enamel mug, navy" || len(body["category"].([]any)) != 3 {
		t.Fatalf("get: %d %v", status, body)
	}
	if status, _ = do(sample(t, "delete.json")); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ = do(sample(t, "get.json")); status != 404 {
		t.Fatalf("get deleted: %d", status)
	}
	bad := sample(t, "put.json")
	bad.Body = `{"title":"Mug","category":["Home"],"price":12.5,"currency":"GBP"}`
	if status, body = do(bad); status != 400 || !strings.Contains(body["detail"].(string), `"price"`) {
		t.Fatalf("float price: %d %v", status, body)
	}
	if status, _ = do(sample(t, "get.json")); status != 404 {
		t.Fatal("a rejected put created the item")
	}
}

func TestBatchReportsEveryEntry(t *testing.T) {
	do, s, _ := setup(t)
	status, body := do(sample(t, "batch.json"))
	if status != 200 || body["created"] != float64(2) || body["rejected"] != float64(1) || body["failed"] != float64(0) {
		t.Fatalf("batch: %d %v", status, body)
	}
	results := body["results"].([]any)
	rejected := results[2].(map[string]any)
	fields := map[string]bool{}
	for _, f := range rejected["errors"].([]any) {
		fields[f.(map[string]any)["field"].(string)] = true
	}
	for _, want := range []string{"items[2].item_id", "items[2].title", "items[2].category", "items[2].price"} {
		if !fields[want] {
			t.Errorf("rejected entry lacks %s: %v", want, rejected)
		}
	}
	it, err := s.Get(context.Background(), "sku-43")
	if err != nil || it.InStock || it.PriceMinor != 499 {
		t.Fatalf("sku-43: %+v %v", it, err)
	}
	// Sending the same batch again updates rather than creates.
	if _, body = do(sample(t, "batch.json")); body["updated"] != float64(2) || body["created"] != float64(0) {
		t.Fatalf("replay: %v", body)
	}
}

func TestBatchLimits(t *testing.T) {
	do, _, _ := setup(t)
	ev := sample(t, "batch.json")
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < 1001; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"item_id":"s%d","title":"T","category":["C"],"price":"1","currency":"GBP"}`, i)
	}
	b.WriteString(`]}`)
	ev.Body = b.String()
	if status, body := do(ev); status != 413 || !strings.Contains(body["detail"].(string), "1000") {
		t.Fatalf("1001 items: %d %v", status, body)
	}
	ev.Body = `{"items":[]}`
	if status, _ := do(ev); status != 400 {
		t.Fatalf("empty batch: %d", status)
	}
	ev.Body = `{"items":[{"item_id":"d","title":"T","category":["C"],"price":"1","currency":"GBP"},` +
		`{"item_id":"d","title":"T2","category":["C"],"price":"2","currency":"GBP"}]}`
	status, body := do(ev)
	res := body["results"].([]any)
	if status != 200 || res[0].(map[string]any)["status"] != "created" || res[1].(map[string]any)["status"] != "rejected" {
		t.Fatalf("duplicate ids: %d %v", status, body)
	}
}
