//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/local/apiclient"
	"tailor/shared/platform/auth"
)

// The personal values of the privacy test: none of them may be found in
// any table in plaintext, or in any log line, at any point.
var (
	graceProfile = apiclient.ProfileInput{Name: ptr("Grace Hopper"), Email: ptr("Grace.Hopper@example.org"),
		Phone: ptr("+447700900456"), BirthYear: ptr(1976), City: ptr("Arlington")}
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
				m, err := eventsdb.Readable(it)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s %+v", tbl.LogicalID, m))
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
	ctx := t.Context()
	admin := s.api()
	storefront := s.as(s.newKey("storefront", auth.EventsWrite, auth.RecommendationsRead)).api()
	crm := s.as(s.newKey("crm", auth.CustomersRead, auth.CustomersWrite)).api()
	readerKey := s.newKey("crm with pii", auth.CustomersRead, auth.PIIRead)
	reader := s.as(readerKey).api()
	readerID, _ := auth.ParseKey(readerKey)
	piiOnly := s.as(s.newKey("pii only", auth.PIIRead)).api()

	if put, err := crm.PutCustomerWithResponse(ctx, "c-grace", nil, apiclient.CustomerReplacement{Profile: &graceProfile,
		Consent: &apiclient.ConsentInput{Email: ptr(true)}, Tags: &[]apiclient.Tag{"vip"}}); err != nil || put.JSON201 == nil || !deref(put.JSON201.PiiMasked) {
		t.Fatalf("put by a key without pii:read: %v %s, want 201 and a masked answer", err, answered(put))
	}
	if put, err := admin.PutCustomerWithResponse(ctx, "c-linus", nil, apiclient.CustomerReplacement{Profile: &apiclient.ProfileInput{
		Name: ptr("Linus Torvalds"), Email: ptr("torvalds@example.net"), Phone: ptr("+447700900789")}}); err != nil || put.JSON201 == nil {
		t.Fatalf("put c-linus: %v %s", err, answered(put))
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
	ingest := func(c *apiclient.ClientWithResponses, evs []map[string]any) *apiclient.IngestEventsResponse {
		t.Helper()
		b, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.IngestEventsWithBodyWithResponse(ctx, "application/json", bytes.NewReader(b))
		if err != nil || got.JSON200 == nil {
			t.Fatalf("events: %v %s", err, answered(got))
		}
		return got
	}
	if got := ingest(storefront, events); got.JSON200.Accepted != 5 {
		t.Fatalf("events: %s", answered(got))
	}

	// A storefront key sends events and reads recommendations, never records.
	if got, err := storefront.GetRecommendationsWithResponse(ctx, "c-grace", nil); err != nil || got.JSON200 == nil {
		t.Fatalf("storefront recommendations: %v %s", err, answered(got))
	}
	for what, call := range map[string]func() (interface{ StatusCode() int }, error){
		"record": func() (interface{ StatusCode() int }, error) {
			return storefront.GetCustomerWithResponse(ctx, "c-grace")
		},
		"history": func() (interface{ StatusCode() int }, error) {
			return storefront.ListCustomerEventsWithResponse(ctx, "c-grace", nil)
		},
		"export": func() (interface{ StatusCode() int }, error) {
			return storefront.ExportCustomerWithResponse(ctx, "c-grace")
		},
		"look-up": func() (interface{ StatusCode() int }, error) {
			return storefront.LookupCustomersWithResponse(ctx, &apiclient.LookupCustomersParams{Email: "x@example.org"})
		},
	} {
		if got, err := call(); err != nil || got.StatusCode() != 403 {
			t.Errorf("storefront %s: %v %s, want 403", what, err, answered(got))
		}
	}

	// Masked without pii:read, decrypted with it.
	masked, err := crm.GetCustomerWithResponse(ctx, "c-grace")
	if err != nil || masked.JSON200 == nil {
		t.Fatalf("masked record: %v %s", err, answered(masked))
	}
	if mp := masked.JSON200.Profile; deref(mp.Email) != "G***@example.org" || deref(mp.Name) != "G. H." || deref(mp.Phone) != "+44********56" ||
		mp.City != nil || mp.BirthYear != nil || !deref(masked.JSON200.PiiMasked) {
		t.Fatalf("masked record %s", masked.Body)
	}
	hist, err := crm.ListCustomerEventsWithResponse(ctx, "c-grace", nil)
	if err != nil || hist.JSON200 == nil || strings.Contains(strings.ToLower(string(hist.Body)), "hopper") || len(hist.JSON200.Events) != 4 {
		t.Fatalf("history for a key without pii:read: %v %s", err, answered(hist))
	}
	full, err := reader.GetCustomerWithResponse(ctx, "c-grace")
	if err != nil || full.JSON200 == nil {
		t.Fatalf("record for pii:read: %v %s", err, answered(full))
	}
	if fp := full.JSON200.Profile; deref(fp.Email) != "Grace.Hopper@example.org" || deref(fp.City) != "Arlington" ||
		deref(fp.BirthYear) != 1976 || full.JSON200.PiiMasked != nil {
		t.Fatalf("record for pii:read %s", full.Body)
	}
	hist, err = reader.ListCustomerEventsWithResponse(ctx, "c-grace", nil)
	if err != nil || !strings.Contains(string(hist.Body), graceNote) || !strings.Contains(string(hist.Body), graceQuery) {
		t.Fatalf("history for pii:read lacks the free text: %v %s", err, answered(hist))
	}

	// Look-up by email: normalised, through the keyed hash.
	found, err := reader.LookupCustomersWithResponse(ctx, &apiclient.LookupCustomersParams{Email: "  grace.hopper@EXAMPLE.org"})
	if err != nil || found.JSON200 == nil || len(found.JSON200.Customers) != 1 || found.JSON200.Customers[0].CustomerId != "c-grace" {
		t.Fatalf("look-up: %v %s", err, answered(found))
	}
	if got, err := crm.LookupCustomersWithResponse(ctx, &apiclient.LookupCustomersParams{Email: "grace.hopper@example.org"}); err != nil || got.StatusCode() != 403 {
		t.Errorf("look-up without pii:read: %v %s", err, answered(got))
	}
	if got, err := piiOnly.GetCustomerWithResponse(ctx, "c-grace"); err != nil || got.StatusCode() != 403 {
		t.Errorf("record read by a pii:read key without customers:read: %v %s", err, answered(got))
	}

	// Export: everything in one document.
	exp, err := reader.ExportCustomerWithResponse(ctx, "c-grace")
	if err != nil || exp.JSON200 == nil {
		t.Fatalf("export: %v %s", err, answered(exp))
	}
	if c := exp.JSON200.Customer; deref(c.Profile.Phone) != "+447700900456" || c.Aggregates == nil {
		t.Errorf("export customer %+v", c)
	}
	if len(exp.JSON200.Events) != 4 || fmt.Sprint(exp.JSON200.AnonymousIds) != "[a-grace]" {
		t.Errorf("export events %d, aliases %v", len(exp.JSON200.Events), exp.JSON200.AnonymousIds)
	}
	if len(exp.JSON200.Audit) < 3 {
		t.Errorf("export audit %+v", exp.JSON200.Audit)
	}

	// No plaintext personal value in any table.
	if bad := holding(scanAll(t, s), append(graceNeedles, linusNeedles...)...); len(bad) > 0 {
		t.Fatalf("plaintext personal data in DynamoDB:\n%s", strings.Join(bad, "\n"))
	}

	// The audit trail, by customer and by key, page by page.
	trail, err := admin.ListAuditWithResponse(ctx, &apiclient.ListAuditParams{Customer: ptr("c-grace")})
	if err != nil || trail.JSON200 == nil {
		t.Fatalf("audit of c-grace: %v %s", err, answered(trail))
	}
	var actions []apiclient.AuditEntryAction
	for _, e := range trail.JSON200.Entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []apiclient.AuditEntryAction{apiclient.PiiRead, apiclient.CustomerLookup, apiclient.CustomerExport} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit of c-grace lacks %s: %v", want, actions)
		}
	}
	var byKey []apiclient.AuditEntry
	for p := (apiclient.ListAuditParams{Key: &readerID, Limit: ptr(1)}); ; {
		page, err := admin.ListAuditWithResponse(ctx, &p)
		if err != nil || page.JSON200 == nil {
			t.Fatalf("audit by key: %v %s", err, answered(page))
		}
		byKey = append(byKey, page.JSON200.Entries...)
		if p.Cursor = page.JSON200.NextCursor; p.Cursor == nil {
			break
		}
	}
	if len(byKey) != 4 { // the record, history with free text, look-up, export
		t.Errorf("audit by key %s: %d entries %+v, want 4", readerID, len(byKey), byKey)
	}
	if got, err := reader.ListAuditWithResponse(ctx, &apiclient.ListAuditParams{Customer: ptr("c-grace")}); err != nil || got.StatusCode() != 403 {
		t.Errorf("audit without admin: %v %s", err, answered(got))
	}

	// Erasure, twice: the second run finds nothing left to do.
	erased, err := admin.EraseCustomerWithResponse(ctx, "c-grace")
	if err != nil || erased.JSON200 == nil {
		t.Fatalf("erase: %v %s", err, answered(erased))
	}
	if e := erased.JSON200.Erased; e.HistoryItems != 4 || e.EventRecords != 4 || e.Aliases != 1 {
		t.Fatalf("erase: %s", erased.Body)
	}
	again, err := admin.EraseCustomerWithResponse(ctx, "c-grace")
	if err != nil || again.JSON200 == nil {
		t.Fatalf("erase again: %v %s", err, answered(again))
	}
	if e := again.JSON200.Erased; e.HistoryItems != 0 || e.EventRecords != 0 || e.Aliases != 0 || e.CampaignMemberships != 0 {
		t.Fatalf("erase again: %s", again.Body)
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
		if n := len(holding(items, "pk:C#c-linus profile:", "pk:H#C#c-linus")); n != 2 {
			t.Errorf("%s: the other customer's record is gone", when)
		}
	}
	checkErased("after erasure")
	if got, err := admin.GetCustomerWithResponse(ctx, "c-grace"); err != nil || got.ApplicationproblemJSON404 == nil {
		t.Errorf("get after erasure: %v %s", err, answered(got))
	}

	// Late and replayed events for the erased customer are refused and
	// store nothing; re-creation needs an admin key.
	late := []map[string]any{events[2], {"event_id": "01JPRIV000000000000000009", "type": "view", "customer_id": "c-grace",
		"anonymous_id": "a-grace", "item_id": "sku-3", "timestamp": "2026-11-21T09:00:00Z"}}
	for _, r := range ingest(storefront, late).JSON200.Results {
		if r.Status != apiclient.EventOutcomeStatusRejected || deref(r.Reason) != apiclient.CustomerErased {
			t.Errorf("late event: %+v", r)
		}
	}
	checkErased("after late events")
	if got, err := crm.PutCustomerWithResponse(ctx, "c-grace", nil, apiclient.CustomerReplacement{Profile: &apiclient.ProfileInput{Name: ptr("X")}}); err != nil || got.ApplicationproblemJSON409 == nil {
		t.Errorf("re-creation by a customers:write key: %v %s", err, answered(got))
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
