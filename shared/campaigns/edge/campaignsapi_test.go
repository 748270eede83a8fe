package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/edge"
	"tailor/shared/campaigns/memory"
	"tailor/shared/campaigns/service"
	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/apigw/apigwtest"
	auditmem "tailor/shared/platform/audit/memory"
	busmem "tailor/shared/platform/bus/memory"
	"tailor/shared/segments"
	segmentsmem "tailor/shared/segments/memory"
)

func sample(t *testing.T, name string) apigw.Event { return apigwtest.Request(t, "campaigns", name) }

func setup(t *testing.T) (func(apigw.Event) (int, map[string]any), *memory.Customers, *edge.API) {
	t.Helper()
	ctx := context.Background()
	runs := &segmentsmem.SegmentRuns{}
	run := segments.Report{RunID: "2026-11-19", AsOf: "2026-11-19", Segments: []segments.SegmentReport{{Segment: "at-risk"}}}
	if err := runs.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := runs.SetLatest(ctx, run.RunID, run.AsOf); err != nil {
		t.Fatal(err)
	}
	store, people := &memory.Store{}, &memory.Customers{}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	n := 0
	svc := &service.Service{Campaigns: store, Members: store, Reports: store, Customers: people, Runs: runs,
		Audit: &auditmem.Audit{}, Bus: &busmem.Bus{}, Now: func() time.Time { return now },
		NewID: func() string { n++; return fmt.Sprintf("cmp-%d", n) }}
	r := apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	api := &edge.API{Service: svc}
	api.Register(r)
	do := func(ev apigw.Event) (int, map[string]any) {
		t.Helper()
		out, err := r.Serve(context.Background(), ev)
		var body map[string]any
		if err == nil && out.Body != "" {
			err = json.Unmarshal([]byte(out.Body), &body)
		}
		if err != nil {
			t.Fatalf("%s: %v (body %q)", ev.RouteKey, err, out.Body)
		}
		return out.StatusCode, body
	}
	for i := range 30 {
		id := fmt.Sprintf("c-%02d", i)
		people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: id, Country: "GB",
			Consent: map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true}},
			Scores:  &customers.Scores{RunID: "2026-11-19", Segment: "at-risk"}},
			Contact: campaigns.Contact{Email: id + "@example.com"}})
	}
	return do, people, api
}

func fieldsOf(body map[string]any) []string {
	var out []string
	errsList, _ := body["errors"].([]any)
	for _, e := range errsList {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func TestCampaignLifecycle(t *testing.T) {
	do, _, _ := setup(t)
	status, body := do(sample(t, "create.json"))
	if status != 201 || body["campaign_id"] != "cmp-1" || body["status"] != "draft" || body["cost"] != "250.00" ||
		body["holdout"] != 0.1 || body["goal"] != "purchase" {
		t.Fatalf("create: %d %v", status, body)
	}
	if status, body = do(sample(t, "patch.json")); status != 200 || body["holdout"] != 0.2 || body["version"] != float64(2) {
		t.Fatalf("patch: %d %v", status, body)
	}
	if status, body = do(sample(t, "list.json")); status != 200 || len(body["campaigns"].([]any)) != 1 {
		t.Fatalf("list: %d %v", status, body)
	}
	if status, body = do(sample(t, "launch.json")); status != 200 || body["status"] != "running" {
		t.Fatalf("launch: %d %v", status, body)
	}
	launch := body["launch"].(map[string]any)
	if launch["members"] != float64(30) || launch["as_of"] != "2026-11-20" || body["window_end"] != "2026-12-04" {
		t.Fatalf("launch: %v", body)
	}
	// A launch without a body (today) answers the launched campaign.
	again := sample(t, "launch.json")
	again.Body = ""
	delete(again.Headers, "content-type")
	if status, body = do(again); status != 200 || body["version"] != launch["version"] && body["status"] != "running" {
		t.Fatalf("launch again: %d %v", status, body)
	}
	status, body = do(sample(t, "audience.json"))
	if status != 200 || body["pii_masked"] != true || body["arm"] != "treatment" {
		t.Fatalf("audience: %d %v", status, body)
	}
	for _, m := range body["members"].([]any) {
		if _, ok := m.(map[string]any)["contact"]; ok {
			t.Fatalf("campaigns:read sees a contact: %v", m)
		}
	}
	if status, body = do(sample(t, "patch.json")); status != 409 || body["type"] != "/problems/conflict" {
		t.Fatalf("patch after launch: %d %v", status, body)
	}
	if status, body = do(sample(t, "report.json")); status != 200 || body["provisional"] != true {
		t.Fatalf("report: %d %v", status, body)
	}
	get := sample(t, "report.json")
	get.RouteKey, get.RequestContext.RouteKey, get.RequestContext.Authorizer.Lambda["scopes"] = "GET /v1/campaigns/{id}/report", "GET /v1/campaigns/{id}/report", "campaigns:read"
	if status, body = do(get); status != 200 || body["campaign_id"] != "cmp-1" {
		t.Fatalf("get report: %d %v", status, body)
	}
	if status, body = do(sample(t, "stop.json")); status != 200 || body["status"] != "stopped" {
		t.Fatalf("stop: %d %v", status, body)
	}
}

func TestBadInputIsProblemJSONAndChangesNothing(t *testing.T) {
	do, _, _ := setup(t)
	tests := []struct {
		name, body, field string
	}{
		{"holdout 0.9", `"holdout":0.9`, "holdout"},
		{"window 400 days", `"attribution_days":400`, "attribution_days"},
		{"unknown segment", `"audience":{"segments":["whales"]}`, "audience.segments[0]"},
		{"segment not in the run", `"audience":{"segments":["lost"]}`, "audience.segments[0]"},
		{"cost as a number", `"cost":250`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := sample(t, "create.json")
			var m map[string]json.RawMessage
			_ = json.Unmarshal([]byte(ev.Body), &m)
			var extra map[string]json.RawMessage
			_ = json.Unmarshal([]byte("{"+tc.body+"}"), &extra)
			for k, v := range extra {
				m[k] = v
			}
			b, _ := json.Marshal(m)
			ev.Body = string(b)
			status, body := do(ev)
			if status != 400 || body["type"] != "/problems/invalid-request" {
				t.Fatalf("%d %v", status, body)
			}
			if tc.field != "" && !slices.Contains(fieldsOf(body), tc.field) {
				t.Fatalf("fields %v, want %s", fieldsOf(body), tc.field)
			}
		})
	}
	if _, body := do(sample(t, "list.json")); len(body["campaigns"].([]any)) != 0 {
		t.Fatalf("refused creates stored campaigns: %v", body)
	}
	_, created := do(sample(t, "create.json"))
	id := created["campaign_id"].(string)
	launch := sample(t, "launch.json")
	launch.PathParameters["id"] = id
	if status, body := do(launch); status != 200 {
		t.Fatalf("launch: %d %v", status, body)
	}
	for _, q := range []map[string]string{{"arm": "both"}, {"limit": "0"}, {"limit": "1001"}, {"cursor": "junk"}} {
		ev := sample(t, "audience.json")
		ev.PathParameters["id"] = id
		for k, v := range q {
			ev.QueryStringParameters[k] = v
		}
		if status, body := do(ev); status != 400 {
			t.Fatalf("audience %v: %d %v", q, status, body)
		}
	}
	missing := sample(t, "get.json")
	missing.PathParameters["id"] = "cmp-none"
	if status, _ := do(missing); status != 404 {
		t.Fatalf("unknown campaign: %d", status)
	}
	wrongScope := sample(t, "create.json")
	wrongScope.RequestContext.Authorizer.Lambda["scopes"] = "campaigns:read"
	if status, _ := do(wrongScope); status != 403 {
		t.Fatalf("create with campaigns:read: %d", status)
	}
	future := sample(t, "launch.json")
	future.Body = `{"as_of":"2030-01-01"}`
	if status, body := do(future); status != 400 || !slices.Contains(fieldsOf(body), "as_of") {
		t.Fatalf("launch in the future: %d %v", status, body)
	}
}

func TestHandlerDispatchesHTTPAndSchedules(t *testing.T) {
	do, _, api := setup(t)
	do(sample(t, "create.json"))
	do(sample(t, "launch.json"))
	r := apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	api.Register(r)
	h := api.Handler(r.Serve, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	out, err := h(ctx, apigwtest.File(t, "campaigns", "schedule.json"))
	if res, ok := out.(service.RefreshResult); err != nil || !ok || res.Reports != 1 {
		t.Fatalf("schedule: %+v %v", out, err)
	}
	out, err = h(ctx, apigwtest.File(t, "campaigns", "get.json"))
	if res, ok := out.(apigw.Result); err != nil || !ok || res.StatusCode != 200 {
		t.Fatalf("http: %+v %v", out, err)
	}
	for _, bad := range []string{`[]`, `{"detail-type":"Scheduled Event"}`, `{}`} {
		if _, err := h(ctx, json.RawMessage(bad)); err == nil {
			t.Errorf("%s was handled", bad)
		}
	}
}
