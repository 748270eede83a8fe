//go:build dynamodb

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"tailor/shared/platform/ddb/ddbtest"
)

// TestFoundationEndToEnd follows the README's examples through tailor serve
// and the real bootstraps.
func TestFoundationEndToEnd(t *testing.T) {
	s := startStack(t)

	status, hdr, body := s.call("PUT", "/v1/customers/c-123", map[string]any{
		"profile": map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
		"consent": map[string]any{"email": true, "sms": false}, "tags": []string{"newsletter"}})
	if status != 201 || hdr.Get("ETag") != `"1"` || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("PUT customer: %d %v %v", status, hdr, body)
	}
	status, _, body = s.call("GET", "/v1/customers/c-123", nil)
	if status != 200 || body["profile"].(map[string]any)["email"] != "ada@example.com" {
		t.Fatalf("GET customer: %d %v", status, body)
	}
	status, hdr, body = s.call("PATCH", "/v1/customers/c-123",
		`{"profile":{"city":"London"},"tags":{"add":["vip"],"remove":["newsletter"]}}`, "If-Match", `"1"`)
	if status != 200 || hdr.Get("ETag") != `"2"` || fmt.Sprint(body["tags"]) != "[vip]" {
		t.Fatalf("PATCH customer: %d %v", status, body)
	}
	status, _, _ = s.call("PATCH", "/v1/customers/c-123", `{"profile":{"city":"Leeds"}}`, "If-Match", `"1"`)
	if status != 412 {
		t.Fatalf("stale If-Match: %d", status)
	}
	status, hdr, body = s.call("PATCH", "/v1/customers/c-123", `{"profile":{"email":"not-an-address"}}`)
	if status != 400 || hdr.Get("Content-Type") != "application/problem+json" || body["type"] != "/problems/invalid-request" {
		t.Fatalf("bad PATCH: %d %v", status, body)
	}
	if errs := body["errors"].([]any); errs[0].(map[string]any)["field"] != "profile.email" {
		t.Fatalf("bad PATCH errors: %v", body)
	}
	status, _, body = s.call("GET", "/v1/customers/c-123", nil)
	if body["profile"].(map[string]any)["email"] != "ada@example.com" || body["version"] != float64(2) {
		t.Fatalf("a rejected PATCH changed the record: %v", body)
	}
	if status, _, body = s.call("GET", "/v1/customers/nobody", nil); status != 404 || body["status"] != float64(404) {
		t.Fatalf("unknown customer: %d %v", status, body)
	}
	if status, _, _ = s.call("PUT", "/v1/customers/c-1", `{"profile":{}}`, "Content-Type", "text/plain"); status != 415 {
		t.Fatalf("text/plain body: %d", status)
	}
	if status, _, body = s.call("GET", "/v1/nothing-here", nil); status != 404 {
		t.Fatalf("unknown route: %d %v", status, body)
	}

	status, _, body = s.call("PUT", "/v1/items/sku-42", map[string]any{"title": "Enamel mug, blue",
		"category": []string{"Home", "Kitchen"}, "brand": "Acme", "price": "12.50", "currency": "GBP"})
	if status != 201 || body["price"] != "12.50" {
		t.Fatalf("PUT item: %d %v", status, body)
	}
	status, _, body = s.call("POST", "/v1/items:batch", `{"items":[
		{"item_id":"sku-43","title":"Tea towel","category":["Home"],"price":"4.99","currency":"GBP","in_stock":false},
		{"item_id":"sku 44","title":"","category":[],"price":"1.999","currency":"GBP"}]}`)
	if status != 200 || body["created"] != float64(1) || body["rejected"] != float64(1) {
		t.Fatalf("batch: %d %v", status, body)
	}
	if status, _, body = s.call("GET", "/v1/items/sku-43", nil); status != 200 || body["in_stock"] != false {
		t.Fatalf("GET batch item: %d %v", status, body)
	}
	if status, _, _ = s.call("DELETE", "/v1/items/sku-42", nil); status != 204 {
		t.Fatalf("DELETE item: %d", status)
	}

	// Direct invoke with a sample event, as sam local invoke -e would.
	root, _ := ddbtest.ModuleRoot()
	sample, err := os.ReadFile(filepath.Join(root, "events", "customers", "get.json"))
	if err != nil {
		t.Fatal(err)
	}
	status, _, body = s.call("POST", "/2015-03-31/functions/CustomersFunction/invocations", string(sample))
	if status != 200 || body["statusCode"] != float64(200) {
		t.Fatalf("direct invoke: %d %v", status, body)
	}

	// Overlapping requests are served by more runtime processes, none lost.
	var wg sync.WaitGroup
	codes := make(chan int, 24)
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, _ := s.call("GET", "/v1/customers/c-123", nil)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("concurrent GET: %d", c)
		}
	}
	if st, ok := s.Srv.Stats("CustomersFunction"); !ok || st.Processes < 2 {
		t.Fatalf("expected several runtime processes for concurrent requests, stats %+v", st)
	}
}
