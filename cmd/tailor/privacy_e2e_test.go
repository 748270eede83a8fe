//go:build dynamodb

package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/platform/auth"
)

// The personal values of the privacy test: none of them may be found in
// any table in plaintext, or in any log line, at any point.
var (
	graceProfile = map[string]any{"name": "Grace Hopper", "email": "Grace.Hopper@example.org",
		"phone": "+447700900456", "birth_year": 1976, "city": "Arlington"}
	graceNote  = "call grace.hopper@example.org after 6pm"
	graceQuery = "gift for hopper +447700900456"
	// Needles are searched case-insensitively; the ids c-grace and c-linus
	// are not personal values.
	graceNeedles = []string{"hopper", "447700900456", "arlington", "after 6pm", "gift for"}
	linusNeedles = []string{"torvalds", "447700900789"}
)

// scanAll returns every item of every table of the stack as text, one
// string per item, prefixed by the table's logical id.
func scanAll(t *testing.T, s *stack) []string {
	t.Helper()
	var out []string
	for _, tbl := range s.Env.Template.Tables {
		p := dynamodb.NewScanPaginator(s.Env.DB, &dynamodb.ScanInput{TableName: ptr(s.Env.Table(tbl.LogicalID))})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(it, &m); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s %v", tbl.LogicalID, m))
			}
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// holding returns the items that contain any of needles, ignoring case.
func holding(items []string, needles ...string) []string {
	var out []string
	for _, it := range items {
		low := strings.ToLower(it)
		for _, n := range needles {
			if strings.Contains(low, strings.ToLower(n)) {
				out = append(out, it)
				break
			}
		}
	}
	return out
}

// TestPersonalDataEndToEnd runs the privacy story through tailor serve and
// the real bootstraps: personal fields sealed before DynamoDB, masked for
// keys without pii:read, look-up by email through the keyed hash, export,
// audit trail, erasure down to zero items, the tombstone against late
// events, and no personal value in any log line.
func TestPersonalDataEndToEnd(t *testing.T) {
	s := startStack(t)
	storefront := s.as(s.newKey("storefront", auth.EventsWrite, auth.RecommendationsRead))
	crm := s.as(s.newKey("crm", auth.CustomersRead, auth.CustomersWrite))
	readerKey := s.newKey("crm with pii", auth.CustomersRead, auth.PIIRead)
	reader := s.as(readerKey)
	readerID, _ := auth.ParseKey(readerKey)
	piiOnly := s.as(s.newKey("pii only", auth.PIIRead))

	if st, _, b := crm.call("PUT", "/v1/customers/c-grace", map[string]any{"profile": graceProfile,
		"consent": map[string]bool{"email": true}, "tags": []string{"vip"}}); st != 201 || b["pii_masked"] != true {
		t.Fatalf("put by a key without pii:read: %d %v, want 201 and a masked answer", st, b)
	}
	if st, _, b := s.call("PUT", "/v1/customers/c-linus", map[string]any{"profile": map[string]any{
		"name": "Linus Torvalds", "email": "torvalds@example.net", "phone": "+447700900789"}}); st != 201 {
		t.Fatalf("put c-linus: %d %v", st, b)
	}
	events := []map[string]any{
		{"event_id": "01JPRIV000000000000000001", "type": "view", "anonymous_id": "a-grace", "item_id": "sku-1",
			"timestamp": "2026-11-20T09:00:00Z"},
		{"event_id": "01JPRIV000000000000000002", "type": "view", "anonymous_id": "a-grace", "customer_id": "c-grace",
			"item_id": "sku-2", "timestamp": "2026-11-20T09:05:00Z"},
		{"event_id": "01JPRIV000000000000000003", "type": "purchase", "customer_id": "c-grace", "item_id": "sku-2",
			"quantity": 1, "price": "9.99", "currency": "GBP", "order_id": "o-1", "timestamp": "2026-11-20T09:10:00Z",
			"properties": map[string]string{"note": graceNote}},
		{"event_id": "01JPRIV000000000000000004", "type": "search", "customer_id": "c-grace", "query": graceQuery,
			"timestamp": "2026-11-20T09:11:00Z"},
		{"event_id": "01JPRIV000000000000000005", "type": "view", "customer_id": "c-linus", "item_id": "sku-1",
			"timestamp": "2026-11-20T09:12:00Z"},
	}
	if st, _, b := storefront.call("POST", "/v1/events", map[string]any{"events": events}); st != 200 || fmt.Sprint(b["accepted"]) != "5" {
		t.Fatalf("events: %d %v", st, b)
	}

	// A storefront key sends events and reads recommendations, never records.
	if st, _, _ := storefront.call("GET", "/v1/customers/c-grace/recommendations", nil); st != 200 {
		t.Fatalf("storefront recommendations: %d", st)
	}
	for _, path := range []string{"/v1/customers/c-grace", "/v1/customers/c-grace/events", "/v1/customers/c-grace/export",
		"/v1/customers?email=x%40example.org"} {
		if st, _, _ := storefront.call("GET", path, nil); st != 403 {
			t.Errorf("storefront GET %s: %d, want 403", path, st)
		}
	}

	// Masked without pii:read, decrypted with it.
	_, _, masked := crm.call("GET", "/v1/customers/c-grace", nil)
	mp := masked["profile"].(map[string]any)
	if mp["email"] != "G***@example.org" || mp["name"] != "G. H." || mp["phone"] != "+44********56" ||
		mp["city"] != nil || mp["birth_year"] != nil || masked["pii_masked"] != true {
		t.Fatalf("masked record %v", masked)
	}
	_, _, hist := crm.call("GET", "/v1/customers/c-grace/events", nil)
	if strings.Contains(strings.ToLower(fmt.Sprint(hist)), "hopper") || len(hist["events"].([]any)) != 4 {
		t.Fatalf("history for a key without pii:read: %v", hist)
	}
	_, _, full := reader.call("GET", "/v1/customers/c-grace", nil)
	if fp := full["profile"].(map[string]any); fp["email"] != "Grace.Hopper@example.org" || fp["city"] != "Arlington" ||
		fp["birth_year"] != float64(1976) || full["pii_masked"] != nil {
		t.Fatalf("record for pii:read %v", full)
	}
	_, _, hist = reader.call("GET", "/v1/customers/c-grace/events", nil)
	if h := fmt.Sprint(hist); !strings.Contains(h, graceNote) || !strings.Contains(h, graceQuery) {
		t.Fatalf("history for pii:read lacks the free text: %v", hist)
	}

	// Look-up by email: normalised, through the keyed hash.
	st, _, found := reader.call("GET", "/v1/customers?email="+url.QueryEscape("  grace.hopper@EXAMPLE.org"), nil)
	if list, _ := found["customers"].([]any); st != 200 || len(list) != 1 || list[0].(map[string]any)["customer_id"] != "c-grace" {
		t.Fatalf("look-up: %d %v", st, found)
	}
	if st, _, _ := crm.call("GET", "/v1/customers?email=grace.hopper%40example.org", nil); st != 403 {
		t.Errorf("look-up without pii:read: %d", st)
	}
	if st, _, _ := piiOnly.call("GET", "/v1/customers/c-grace", nil); st != 403 {
		t.Errorf("record read by a pii:read key without customers:read: %d", st)
	}

	// Export: everything in one document.
	st, _, exp := reader.call("GET", "/v1/customers/c-grace/export", nil)
	if st != 200 {
		t.Fatalf("export: %d %v", st, exp)
	}
	if c := exp["customer"].(map[string]any); c["profile"].(map[string]any)["phone"] != "+447700900456" || c["aggregates"] == nil {
		t.Errorf("export customer %v", c)
	}
	if evs := exp["events"].([]any); len(evs) != 4 || fmt.Sprint(exp["anonymous_ids"]) != "[a-grace]" {
		t.Errorf("export events %d, aliases %v", len(evs), exp["anonymous_ids"])
	}
	if len(exp["audit"].([]any)) < 3 {
		t.Errorf("export audit %v", exp["audit"])
	}

	// No plaintext personal value in any table.
	if bad := holding(scanAll(t, s), append(graceNeedles, linusNeedles...)...); len(bad) > 0 {
		t.Fatalf("plaintext personal data in DynamoDB:\n%s", strings.Join(bad, "\n"))
	}

	// The audit trail, by customer and by key, page by page.
	_, _, trail := s.call("GET", "/v1/audit?customer=c-grace", nil)
	var actions []string
	for _, e := range trail["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	for _, want := range []string{"pii.read", "customer.lookup", "customer.export"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit of c-grace lacks %s: %v", want, actions)
		}
	}
	var byKey []any
	for cursor := ""; ; {
		_, _, page := s.call("GET", "/v1/audit?limit=1&key="+readerID+"&cursor="+cursor, nil)
		entries, ok := page["entries"].([]any)
		if !ok {
			t.Fatalf("audit by key: %v", page)
		}
		byKey = append(byKey, entries...)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(byKey) != 4 { // the record, history with free text, look-up, export
		t.Errorf("audit by key %s: %d entries %v, want 4", readerID, len(byKey), byKey)
	}
	if st, _, _ := reader.call("GET", "/v1/audit?customer=c-grace", nil); st != 403 {
		t.Errorf("audit without admin: %d", st)
	}

	// Erasure, twice: the second run finds nothing left to do.
	st, _, erased := s.call("DELETE", "/v1/customers/c-grace", nil)
	if e, _ := erased["erased"].(map[string]any); st != 200 || e["history_items"] != float64(4) || e["event_records"] != float64(4) || e["aliases"] != float64(1) {
		t.Fatalf("erase: %d %v", st, erased)
	}
	if st, _, again := s.call("DELETE", "/v1/customers/c-grace", nil); st != 200 || fmt.Sprint(again["erased"]) != "map[aliases:0 campaign_memberships:0 event_records:0 history_items:0]" {
		t.Fatalf("erase again: %d %v", st, again)
	}
	checkErased := func(when string) {
		t.Helper()
		items := scanAll(t, s)
		for _, it := range holding(items, "c-grace", "a-grace", "01JPRIV000000000000000001", "01JPRIV000000000000000002",
			"01JPRIV000000000000000003", "01JPRIV000000000000000004") {
			tomb := strings.HasPrefix(it, "CustomersTable map[erased_at:") && strings.Contains(it, "pk:C#c-grace sk:PROFILE]")
			if !tomb && !strings.HasPrefix(it, "AuditTable ") {
				t.Errorf("%s: an item about the erased customer remains: %s", when, it)
			}
		}
		if n := len(holding(items, "pk:C#c-linus profile:", "pk:H#C#c-linus", "pk:E#01JPRIV000000000000000005")); n != 3 {
			t.Errorf("%s: the other customer's record is gone", when)
		}
	}
	checkErased("after erasure")
	if st, _, _ := s.call("GET", "/v1/customers/c-grace", nil); st != 404 {
		t.Errorf("get after erasure: %d", st)
	}

	// Late and replayed events for the erased customer are refused and
	// store nothing; re-creation needs an admin key.
	late := []map[string]any{events[2], {"event_id": "01JPRIV000000000000000009", "type": "view", "customer_id": "c-grace",
		"anonymous_id": "a-grace", "item_id": "sku-3", "timestamp": "2026-11-21T09:00:00Z"}}
	_, _, res := storefront.call("POST", "/v1/events", map[string]any{"events": late})
	for _, r := range res["results"].([]any) {
		if m := r.(map[string]any); m["status"] != "rejected" || m["reason"] != "customer_erased" {
			t.Errorf("late event: %v", m)
		}
	}
	checkErased("after late events")
	if st, _, b := crm.call("PUT", "/v1/customers/c-grace", map[string]any{"profile": map[string]any{"name": "X"}}); st != 409 {
		t.Errorf("re-creation by a customers:write key: %d %v", st, b)
	}

	// Not one personal value in any function's log line.
	logs := strings.ToLower(s.logs.String())
	for _, n := range append(graceNeedles, linusNeedles...) {
		if strings.Contains(logs, strings.ToLower(n)) {
			t.Errorf("the logs hold the personal value %q", n)
		}
	}
	if !strings.Contains(logs, "[customersfunction]") {
		t.Error("no function logs were captured")
	}
}
