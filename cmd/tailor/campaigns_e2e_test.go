//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/stats"
	"tailor/shared/local/dataset"
	"tailor/shared/local/lambdahost"
	"tailor/shared/local/replay"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
)

// members lists an arm of a campaign through the API, every page, as
// "<customer id>" or "<customer id> <email>" when a contact came back.
func (s *stack) members(campaignID, arm string) []string {
	s.t.Helper()
	var out []string
	cursor := ""
	for range 100 {
		q := url.Values{"arm": {arm}, "limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		code, _, body := s.call("GET", "/v1/campaigns/"+campaignID+"/audience?"+q.Encode(), nil)
		if code != http.StatusOK {
			s.t.Fatalf("audience %s: %d %v", arm, code, body)
		}
		for _, m := range body["members"].([]any) {
			mm := m.(map[string]any)
			if mm["arm"] != arm {
				s.t.Fatalf("a %s member in the %s arm: %v", mm["arm"], arm, mm)
			}
			line := mm["customer_id"].(string)
			if ct, ok := mm["contact"].(map[string]any); ok {
				line += " " + fmt.Sprint(ct["email"])
			}
			out = append(out, line)
		}
		next, _ := body["next_cursor"].(string)
		if cursor = next; cursor == "" {
			return out
		}
	}
	s.t.Fatal("audience never ended")
	return nil
}

// problem checks a problem JSON answer.
func problem(t *testing.T, what string, code int, body map[string]any, wantCode int, field string) {
	t.Helper()
	if code != wantCode || !strings.HasPrefix(fmt.Sprint(body["type"]), "/problems/") {
		t.Fatalf("%s: %d %v, want %d problem JSON", what, code, body, wantCode)
	}
	if field == "" {
		return
	}
	for _, e := range body["errors"].([]any) {
		if e.(map[string]any)["field"] == field {
			return
		}
	}
	t.Fatalf("%s: %v does not name %s", what, body, field)
}

// TestCampaignEndToEnd: through tailor serve and the real bootstraps, a
// campaign is created, launched (an audience without the customer who gave
// no email consent and without the erased one), launched again with the
// same assignment and one campaign.launched event, listed with contact
// details only for a key with pii:read (audited), measured after
// purchases; bad input gets problem JSON and changes nothing.
func TestCampaignEndToEnd(t *testing.T) {
	s := startStack(t)
	asOf := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	day := asOf.Format(time.DateOnly)

	people := []string{"c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-noconsent", "c-erased"}
	for _, id := range people {
		profile := map[string]any{"email": id + "@example.com", "country": "GB"}
		consent := map[string]bool{"email": id != "c-noconsent"}
		code, _, body := s.call("PUT", "/v1/customers/"+id, map[string]any{"profile": profile, "consent": consent})
		if code != http.StatusCreated {
			t.Fatalf("put %s: %d %v", id, code, body)
		}
	}
	// Purchases 30 days before the launch: the pre-period.
	var evs []map[string]any
	for i, id := range people {
		evs = append(evs, purchase(fmt.Sprintf("pre-%d", i), id, "10.00", asOf.AddDate(0, 0, -30)))
	}
	s.sendEvents(evs)
	if code, _, body := s.call("DELETE", "/v1/customers/c-erased", nil); code != http.StatusOK {
		t.Fatalf("erase: %d %v", code, body)
	}

	create := func(changes map[string]any) (int, map[string]any) {
		in := map[string]any{"name": "Autumn newsletter", "channel": "email",
			"audience": map[string]any{"countries": []string{"GB"}}, "holdout": 0.5, "currency": "GBP", "cost": "5.00"}
		for k, v := range changes {
			in[k] = v
		}
		code, _, body := s.call("POST", "/v1/campaigns", in)
		return code, body
	}
	code, body := create(map[string]any{"audience": map[string]any{"segments": []string{"whales"}}})
	problem(t, "unknown segment", code, body, 400, "audience.segments[0]")
	code, body = create(map[string]any{"holdout": 0.9})
	problem(t, "holdout 0.9", code, body, 400, "holdout")
	code, body = create(map[string]any{"attribution_days": 400})
	problem(t, "window of 400 days", code, body, 400, "attribution_days")
	if code, _, body := s.call("GET", "/v1/campaigns", nil); code != 200 || len(body["campaigns"].([]any)) != 0 {
		t.Fatalf("refused creates stored something: %d %v", code, body)
	}

	code, body = create(nil)
	if code != http.StatusCreated || body["status"] != "draft" {
		t.Fatalf("create: %d %v", code, body)
	}
	id := body["campaign_id"].(string)
	code, _, body = s.call("POST", "/v1/campaigns/"+id+"/launch", map[string]any{"as_of": day})
	if code != http.StatusOK || body["status"] != "running" {
		t.Fatalf("launch: %d %v", code, body)
	}
	launch := body["launch"].(map[string]any)
	if launch["members"] != float64(8) || launch["as_of"] != day {
		t.Fatalf("launch: %v; want the 8 customers with email consent who were not erased", launch)
	}
	version := body["version"]

	treatment, holdout := s.members(id, "treatment"), s.members(id, "holdout")
	all := slices.Sorted(slices.Values(slices.Concat(treatment, holdout)))
	want := []string{"c-1 c-1@example.com", "c-2 c-2@example.com", "c-3 c-3@example.com", "c-4 c-4@example.com",
		"c-5 c-5@example.com", "c-6 c-6@example.com", "c-7 c-7@example.com", "c-8 c-8@example.com"}
	if !slices.Equal(all, want) {
		t.Fatalf("audience (admin key) %v, want %v", all, want)
	}

	// A second launch answers the launched campaign: same assignment, no
	// new announcement.
	code, _, body = s.call("POST", "/v1/campaigns/"+id+"/launch", nil)
	if code != http.StatusOK || body["version"] != version {
		t.Fatalf("launch again: %d %v", code, body)
	}
	if !slices.Equal(s.members(id, "treatment"), treatment) || !slices.Equal(s.members(id, "holdout"), holdout) {
		t.Fatal("the second launch changed the assignment")
	}
	events, err := lambdahost.ReadEvents(s.Events)
	if err != nil {
		t.Fatal(err)
	}
	var launched []lambdahost.Event
	for _, e := range events {
		if e.DetailType == "campaign.launched" {
			launched = append(launched, e)
		}
	}
	if len(launched) != 1 || launched[0].Source != "tailor.campaigns" {
		t.Fatalf("campaign.launched %d times: %v", len(launched), events)
	}
	var detail map[string]any
	_ = json.Unmarshal(launched[0].Detail, &detail)
	if detail["event_id"] != "campaign.launched:"+id || strings.Contains(string(launched[0].Detail), "@example.com") {
		t.Fatalf("launched detail: %s", launched[0].Detail)
	}

	// PATCH after launch: 409, nothing changes.
	code, _, body = s.call("PATCH", "/v1/campaigns/"+id, map[string]any{"name": "Late"})
	problem(t, "patch after launch", code, body, 409, "")
	if code, _, body = s.call("GET", "/v1/campaigns/"+id, nil); body["name"] != "Autumn newsletter" || body["version"] != version {
		t.Fatalf("after the refused patch: %d %v", code, body)
	}

	// campaigns:read sees ids only; with pii:read the emails, audited.
	reader := s.as(s.newKey("analyst", auth.CampaignsRead))
	ids := slices.Concat(reader.members(id, "treatment"), reader.members(id, "holdout"))
	if len(ids) != 8 || slices.ContainsFunc(ids, func(l string) bool { return strings.Contains(l, "@") }) {
		t.Fatalf("campaigns:read sees %v", ids)
	}
	crm := s.as(s.newKey("crm", auth.CampaignsRead, auth.PIIRead))
	if got := crm.members(id, "treatment"); !slices.Equal(got, treatment) {
		t.Fatalf("pii:read sees %v", got)
	}
	code, _, body = s.call("GET", "/v1/audit?customer="+strings.Fields(treatment[0])[0], nil)
	if code != 200 || !strings.Contains(fmt.Sprint(body["entries"]), "pii.read") {
		t.Fatalf("audit of an answered member: %d %v", code, body)
	}

	// Purchases in the window by the first member of each arm.
	buyers := map[string]bool{strings.Fields(treatment[0])[0]: true}
	if len(holdout) > 0 {
		buyers[strings.Fields(holdout[0])[0]] = true
	}
	evs = nil
	for b := range buyers {
		evs = append(evs, purchase("win-"+b, b, "25.00", asOf.Add(12*time.Hour)))
	}
	// The first treatment member opens the message and answers the
	// campaign's survey.
	opener := strings.Fields(treatment[0])[0]
	evs = append(evs,
		map[string]any{"event_id": "open-1", "type": "message_opened", "customer_id": opener, "campaign_id": id,
			"timestamp": asOf.Add(2 * time.Hour).Format(time.RFC3339)},
		map[string]any{"event_id": "survey-1", "type": "feedback", "customer_id": opener, "campaign_id": id,
			"rating": 4, "nps": 9, "timestamp": asOf.Add(3 * time.Hour).Format(time.RFC3339)})
	s.sendEvents(evs)
	code, _, body = s.call("POST", "/v1/campaigns/"+id+"/report", nil)
	if code != http.StatusOK || body["provisional"] != true {
		t.Fatalf("report: %d %v", code, body)
	}
	conv := body["stats"].(map[string]any)["conversion"].(map[string]any)
	tr, ho := conv["treatment"].(map[string]any), conv["holdout"].(map[string]any)
	if tr["members"] != float64(len(treatment)) || ho["members"] != float64(len(holdout)) || tr["conversions"] != float64(1) ||
		ho["conversions"] != float64(min(1, len(holdout))) {
		t.Fatalf("conversion: %v", conv)
	}
	funnel := body["funnel"].(map[string]any)
	opened := funnel["opened"].(map[string]any)
	if funnel["members"] != float64(len(treatment)) || opened["count"] != float64(1) || opened["rate"] != 1/float64(len(treatment)) ||
		funnel["delivered"].(map[string]any)["count"] != float64(0) {
		t.Fatalf("funnel: %v", funnel)
	}
	if integrity := body["integrity"].(map[string]any); integrity["holdout_engaged"] != float64(0) || integrity["warning"] != nil {
		t.Fatalf("integrity: %v", integrity)
	}
	sat := body["satisfaction"].(map[string]any)
	if st := sat["treatment"].(map[string]any); st["respondents"] != float64(1) || st["mean_rating"] != float64(4) || st["nps"] != float64(100) ||
		sat["holdout"].(map[string]any)["mean_rating"] != nil || sat["overall"].(map[string]any)["respondents"] != float64(1) {
		t.Fatalf("satisfaction: %v", sat)
	}
	if code, _, got := reader.call("GET", "/v1/campaigns/"+id+"/report", nil); code != 200 || got["as_of"] != body["as_of"] {
		t.Fatalf("GET report: %d %v", code, got)
	}

	// The hourly schedule, invoked as EventBridge would, recomputes it.
	root, _ := ddbtest.ModuleRoot()
	sched, err := os.ReadFile(filepath.Join(root, "events", "campaigns", "schedule.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/2015-03-31/functions/CampaignsFunction/invocations", "application/json", bytes.NewReader(sched))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var refreshed map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&refreshed); err != nil || resp.StatusCode != 200 ||
		resp.Header.Get("X-Amz-Function-Error") != "" || refreshed["reports_computed"] != float64(1) {
		t.Fatalf("scheduled refresh: %d %v %v", resp.StatusCode, refreshed, err)
	}
}

func purchase(eventID, customerID, price string, at time.Time) map[string]any {
	return map[string]any{"event_id": eventID, "type": "purchase", "customer_id": customerID, "item_id": "sku-1",
		"quantity": 1, "price": price, "currency": "GBP", "order_id": "o-" + eventID, "timestamp": at.Format(time.RFC3339)}
}

// sendEvents posts events and checks every one was accepted.
func (s *stack) sendEvents(evs []map[string]any) {
	s.t.Helper()
	code, _, body := s.call("POST", "/v1/events", map[string]any{"events": evs})
	if code != http.StatusOK || body["accepted"] != float64(len(evs)) {
		s.t.Fatalf("events: %d %v", code, body)
	}
}

// TestCampaignDemoOnRetailSubset: the A/A campaigns of tailor load
// --campaign-demo, on the replayed demo subset of Online Retail, count per
// arm exactly the members and converters that an independent reading of
// the CSV finds: customers with a purchase before 2011-10-01, converted by
// a purchase in the 30 days from then.
func TestCampaignDemoOnRetailSubset(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	root, _ := ddbtest.ModuleRoot()
	file := filepath.Join(root, demoFile)
	api := &replay.HTTP{Base: s.URL, Key: s.AdminKey}
	l := &replay.Loader{Send: api, Batch: 500, Senders: 4}
	if _, err := l.Retail(ctx, func() (io.ReadCloser, error) { return os.Open(file) }); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	reports, err := campaignDemo(ctx, api, 2, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo output:\n%s", out.String())

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Date(2011, 10, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, demoWindow)
	before, converted := map[string]bool{}, map[string]bool{}
	if err := dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
		if r.Kind != dataset.RowPurchase {
			return nil
		}
		switch t := r.Time.UTC(); {
		case t.Before(start):
			before[r.CustomerID] = true
		case t.Before(end):
			converted[r.CustomerID] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || len(before) == 0 {
		t.Fatalf("%d reports, %d customers before %s", len(reports), len(before), demoAsOf)
	}
	for _, r := range reports {
		var n, x stats.Counts
		for c := range before {
			arm := campaigns.Assign(r.CampaignID, c, demoHoldout)
			if arm == campaigns.Treatment {
				n.Treatment++
				if converted[c] {
					x.Treatment++
				}
			} else {
				n.Holdout++
				if converted[c] {
					x.Holdout++
				}
			}
		}
		conv := r.Stats.Conversion
		if r.Stats.Members != n || conv.Treatment.Conversions != x.Treatment || conv.Holdout.Conversions != x.Holdout || r.Provisional {
			t.Errorf("campaign %s: members %+v conversions %d/%d; the CSV gives %+v and %d/%d", r.CampaignID, r.Stats.Members,
				conv.Treatment.Conversions, conv.Holdout.Conversions, n, x.Treatment, x.Holdout)
		}
	}
}
