package edge_test

import (
	"slices"
	"testing"
	"time"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/auth"
)

// request is the sample GET turned into routeKey with the given path id,
// query and scopes.
func request(t *testing.T, routeKey, id string, query map[string]string, scopes ...auth.Scope) apigw.Event {
	ev := sample(t, "get.json")
	ev.RouteKey, ev.RequestContext.RouteKey = routeKey, routeKey
	ev.PathParameters = map[string]string{}
	if id != "" {
		ev.PathParameters["id"] = id
	}
	ev.QueryStringParameters = query
	return apigw.WithPrincipal(ev, auth.Principal{KeyID: "samplekeybbbbbbb", Scopes: scopes, Valid: true})
}

// actions lists the actions of a GET /v1/audit or export body's entries.
func actions(body map[string]any, field string) []string {
	var out []string
	list, _ := body[field].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any)["action"].(string))
	}
	return out
}

func TestAdminRecreatesAnErasedCustomer(t *testing.T) {
	h := newHarness(t)
	if status, _, _ := h.do(sample(t, "put.json")); status != 201 {
		t.Fatal("setup")
	}
	h.now = h.now.Add(time.Minute)
	if status, _, _ := h.do(sample(t, "delete.json")); status != 200 {
		t.Fatal("erase")
	}
	h.now = h.now.Add(time.Minute)
	if status, body, _ := h.do(sample(t, "put.json")); status != 409 || body["type"] != "/problems/conflict" {
		t.Fatalf("PUT by customers:write after erasure: %d %v", status, body)
	}
	ev := sample(t, "put.json")
	ev = apigw.WithPrincipal(ev, auth.Principal{KeyID: "adminkeyaaaaaaaa", Scopes: []auth.Scope{auth.Admin}, Valid: true})
	status, body, out := h.do(ev)
	if status != 201 || out.Headers["ETag"] != `"1"` || body["profile"].(map[string]any)["email"] != "ada@example.com" {
		t.Fatalf("PUT by admin after erasure: %d %v", status, body)
	}
	status, body, _ = h.do(request(t, "GET /v1/audit", "", map[string]string{"customer": "c-123"}, auth.Admin))
	got := actions(body, "entries")
	if want := []string{"pii.read", "customer.recreate", "customer.erase", "pii.read"}; status != 200 || !slices.Equal(got, want) {
		t.Fatalf("audit trail: %d %v", status, got)
	}
}

func TestLookupAndExport(t *testing.T) {
	h := newHarness(t)
	if status, _, _ := h.do(sample(t, "put.json")); status != 201 {
		t.Fatal("setup")
	}
	status, body, _ := h.do(request(t, "GET /v1/customers", "", map[string]string{"email": " ADA@example.com"}, auth.PIIRead))
	found, _ := body["customers"].([]any)
	if status != 200 || len(found) != 1 || found[0].(map[string]any)["profile"].(map[string]any)["email"] != "ada@example.com" {
		t.Fatalf("lookup: %d %v", status, body)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers", "", map[string]string{"email": "nobody@example.com"}, auth.PIIRead))
	if found, ok := body["customers"].([]any); status != 200 || !ok || len(found) != 0 {
		t.Fatalf("lookup of nobody: %d %v", status, body)
	}
	if status, _, _ := h.do(request(t, "GET /v1/customers", "", nil, auth.PIIRead)); status != 400 {
		t.Fatalf("lookup without email: %d", status)
	}
	status, body, _ = h.do(request(t, "GET /v1/customers/{id}/export", "c-123", nil, auth.PIIRead))
	if status != 200 || body["customer"].(map[string]any)["customer_id"] != "c-123" || body["exported_at"] != "2026-11-20T10:00:00Z" {
		t.Fatalf("export: %d %v", status, body)
	}
	if evs, ok := body["events"].([]any); !ok || len(evs) != 0 {
		t.Fatalf("export events: %v", body["events"])
	}
	if ids, ok := body["anonymous_ids"].([]any); !ok || len(ids) != 0 {
		t.Fatalf("export aliases: %v", body["anonymous_ids"])
	}
	if got := actions(body, "audit"); !slices.Contains(got, "customer.export") || !slices.Contains(got, "customer.lookup") {
		t.Fatalf("export audit: %v", got)
	}
	if status, _, _ := h.do(request(t, "GET /v1/customers/{id}/export", "c-404", nil, auth.PIIRead)); status != 404 {
		t.Fatalf("export of nobody: %d", status)
	}
}

func TestQueryValidation(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, route, id string
		query           map[string]string
		status          int
		field           string
	}{
		{"audit by both", "GET /v1/audit", "", map[string]string{"customer": "c-1", "key": "samplekeyaaaaaaa"}, 400, "customer"},
		{"audit by neither", "GET /v1/audit", "", nil, 400, "customer"},
		{"audit bad key", "GET /v1/audit", "", map[string]string{"key": "x"}, 400, "key"},
		{"audit bad from", "GET /v1/audit", "", map[string]string{"customer": "c-1", "from": "yesterday"}, 400, "from"},
		{"audit bad limit", "GET /v1/audit", "", map[string]string{"customer": "c-1", "limit": "501"}, 400, "limit"},
		{"audit bad cursor", "GET /v1/audit", "", map[string]string{"customer": "c-1", "cursor": "nope"}, 400, ""},
		{"audit by operator", "GET /v1/audit", "", map[string]string{"key": "operator"}, 200, ""},
		{"events bad type", "GET /v1/customers/{id}/events", "c-1", map[string]string{"type": "stare"}, 400, "type"},
		{"events to before from", "GET /v1/customers/{id}/events", "c-1",
			map[string]string{"from": "2026-11-20T10:00:00Z", "to": "2026-11-20T09:00:00Z"}, 400, "to"},
		{"events bad to", "GET /v1/customers/{id}/events", "c-1", map[string]string{"to": "soon"}, 400, "to"},
		{"events bad limit", "GET /v1/customers/{id}/events", "c-1", map[string]string{"limit": "201"}, 400, "limit"},
		{"events bad id", "GET /v1/customers/{id}/events", "c 1", nil, 400, "customer_id"},
		{"events", "GET /v1/customers/{id}/events", "c-1", map[string]string{"type": "purchase", "limit": "200"}, 200, ""},
		{"erase bad id", "DELETE /v1/customers/{id}", "c 1", nil, 400, "customer_id"},
		{"export bad id", "GET /v1/customers/{id}/export", "c 1", nil, 400, "customer_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, _ := h.do(request(t, c.route, c.id, c.query, auth.Admin))
			if status != c.status {
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
}
