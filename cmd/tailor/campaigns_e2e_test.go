//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/stats"
	"tailor/shared/local/apiclient"
	"tailor/shared/local/dataset"
	"tailor/shared/local/lambdahost"
	"tailor/shared/local/replay"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
)

// members lists an arm of a campaign through the API, every page, as
// "<customer id>" or "<customer id> <email>" when a contact came back.
func (s *stack) members(campaignID string, arm apiclient.Arm) []string {
	s.t.Helper()
	api := s.api()
	var out []string
	var cursor *string
	for range 100 {
		page, err := api.GetCampaignAudienceWithResponse(context.Background(), campaignID,
			&apiclient.GetCampaignAudienceParams{Arm: &arm, Limit: ptr(2), Cursor: cursor})
		if err != nil || page.JSON200 == nil {
			s.t.Fatalf("audience %s: %v %s", arm, err, answered(page))
		}
		for _, m := range page.JSON200.Members {
			if m.Arm != arm {
				s.t.Fatalf("a %s member in the %s arm: %+v", m.Arm, arm, m)
			}
			line := m.CustomerId
			if m.Contact != nil {
				line += " " + deref(m.Contact.Email)
			}
			out = append(out, line)
		}
		if cursor = page.JSON200.NextCursor; cursor == nil {
			return out
		}
	}
	s.t.Fatal("audience never ended")
	return nil
}

// problem checks a problem JSON answer: its status and, unless field is
// "", that its errors name field.
func problem(t *testing.T, what string, r interface{ StatusCode() int }, p *apiclient.Problem, wantCode int, field string) {
	t.Helper()
	if p == nil || r.StatusCode() != wantCode || !strings.HasPrefix(p.Type, "/problems/") {
		t.Fatalf("%s: %s, want %d problem JSON", what, answered(r), wantCode)
	}
	if field == "" {
		return
	}
	for _, e := range deref(p.Errors) {
		if e.Field == field {
			return
		}
	}
	t.Fatalf("%s: %s does not name %s", what, answered(r), field)
}

// TestCampaignEndToEnd: through tailor serve and the real bootstraps, a
// campaign is created, launched (an audience without the customer who gave
// no email consent and without the erased one), launched again with the
// same assignment and one campaign.launched event, listed with contact
// details only for a key with pii:read (audited), measured after
// purchases; bad input gets problem JSON and changes nothing.
func TestCampaignEndToEnd(t *testing.T) {
	s := startStack(t)
	api, ctx := s.api(), t.Context()
	asOf := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	day := asOf.Format(time.DateOnly)

	people := []string{"c-1", "c-2", "c-3", "c-4", "c-5", "c-6", "c-7", "c-8", "c-noconsent", "c-erased"}
	for _, id := range people {
		put, err := api.PutCustomerWithResponse(ctx, id, nil, apiclient.CustomerReplacement{
			Profile: &apiclient.ProfileInput{Email: ptr(id + "@example.com"), Country: ptr("GB")},
			Consent: &apiclient.ConsentInput{Email: ptr(id != "c-noconsent")}})
		if err != nil || put.JSON201 == nil {
			t.Fatalf("put %s: %v %s", id, err, answered(put))
		}
	}
	// Purchases 30 days before the launch: the pre-period.
	var evs []map[string]any
	for i, id := range people {
		evs = append(evs, purchase(fmt.Sprintf("pre-%d", i), id, "10.00", asOf.AddDate(0, 0, -30)))
	}
	s.sendEvents(evs)
	if erased, err := api.EraseCustomerWithResponse(ctx, "c-erased"); err != nil || erased.JSON200 == nil {
		t.Fatalf("erase: %v %s", err, answered(erased))
	}

	create := func(change func(*apiclient.CampaignInput)) *apiclient.CreateCampaignResponse {
		t.Helper()
		in := apiclient.CampaignInput{Name: "Autumn newsletter", Channel: apiclient.Email,
			Audience: apiclient.Audience{Countries: &[]string{"GB"}}, Holdout: ptr(0.5), Currency: "GBP", Cost: ptr("5.00")}
		if change != nil {
			change(&in)
		}
		got, err := api.CreateCampaignWithResponse(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := create(func(in *apiclient.CampaignInput) {
		in.Audience = apiclient.Audience{Segments: &[]apiclient.SegmentSlug{"whales"}}
	})
	problem(t, "unknown segment", got, got.ApplicationproblemJSON400, 400, "audience.segments[0]")
	got = create(func(in *apiclient.CampaignInput) { in.Holdout = ptr(0.9) })
	problem(t, "holdout 0.9", got, got.ApplicationproblemJSON400, 400, "holdout")
	got = create(func(in *apiclient.CampaignInput) { in.AttributionDays = ptr(400) })
	problem(t, "window of 400 days", got, got.ApplicationproblemJSON400, 400, "attribution_days")
	if list, err := api.ListCampaignsWithResponse(ctx, nil); err != nil || list.JSON200 == nil || len(list.JSON200.Campaigns) != 0 {
		t.Fatalf("refused creates stored something: %v %s", err, answered(list))
	}

	got = create(nil)
	if got.JSON201 == nil || got.JSON201.Status != apiclient.CampaignStatusDraft || got.HTTPResponse.Header.Get("Location") != "/v1/campaigns/"+got.JSON201.CampaignId {
		t.Fatalf("create: %s", answered(got))
	}
	id := got.JSON201.CampaignId
	launched, err := api.LaunchCampaignWithResponse(ctx, id, apiclient.LaunchRequest{AsOf: &openapi_types.Date{Time: asOf}})
	if err != nil || launched.JSON200 == nil || launched.JSON200.Status != apiclient.CampaignStatusRunning {
		t.Fatalf("launch: %v %s", err, answered(launched))
	}
	if l := launched.JSON200.Launch; l == nil || l.Members != 8 || l.AsOf.String() != day {
		t.Fatalf("launch: %s; want the 8 customers with email consent who were not erased", launched.Body)
	}
	version := launched.JSON200.Version

	treatment, holdout := s.members(id, apiclient.Treatment), s.members(id, apiclient.Holdout)
	all := slices.Sorted(slices.Values(slices.Concat(treatment, holdout)))
	want := []string{"c-1 c-1@example.com", "c-2 c-2@example.com", "c-3 c-3@example.com", "c-4 c-4@example.com",
		"c-5 c-5@example.com", "c-6 c-6@example.com", "c-7 c-7@example.com", "c-8 c-8@example.com"}
	if !slices.Equal(all, want) {
		t.Fatalf("audience (admin key) %v, want %v", all, want)
	}

	// A second launch, with no body, answers the launched campaign: same
	// assignment, no new announcement.
	again, err := api.LaunchCampaignWithBodyWithResponse(ctx, id, "application/json", nil)
	if err != nil || again.JSON200 == nil || again.JSON200.Version != version {
		t.Fatalf("launch again: %v %s", err, answered(again))
	}
	if !slices.Equal(s.members(id, apiclient.Treatment), treatment) || !slices.Equal(s.members(id, apiclient.Holdout), holdout) {
		t.Fatal("the second launch changed the assignment")
	}
	events, err := lambdahost.ReadEvents(s.Events)
	if err != nil {
		t.Fatal(err)
	}
	var announced []lambdahost.Event
	for _, e := range events {
		if e.DetailType == "campaign.launched" {
			announced = append(announced, e)
		}
	}
	if len(announced) != 1 || announced[0].Source != "tailor.campaigns" {
		t.Fatalf("campaign.launched %d times: %v", len(announced), events)
	}
	var detail map[string]any
	_ = json.Unmarshal(announced[0].Detail, &detail)
	if detail["event_id"] != "campaign.launched:"+id || strings.Contains(string(announced[0].Detail), "@example.com") {
		t.Fatalf("launched detail: %s", announced[0].Detail)
	}

	// PATCH after launch: 409, nothing changes.
	late, err := api.PatchCampaignWithResponse(ctx, id, apiclient.CampaignPatch{Name: ptr("Late")})
	if err != nil {
		t.Fatal(err)
	}
	problem(t, "patch after launch", late, late.ApplicationproblemJSON409, 409, "")
	if c, err := api.GetCampaignWithResponse(ctx, id); err != nil || c.JSON200 == nil || c.JSON200.Name != "Autumn newsletter" || c.JSON200.Version != version {
		t.Fatalf("after the refused patch: %v %s", err, answered(c))
	}

	// campaigns:read sees ids only; with pii:read the emails, audited.
	reader := s.as(s.newKey("analyst", auth.CampaignsRead))
	ids := slices.Concat(reader.members(id, apiclient.Treatment), reader.members(id, apiclient.Holdout))
	if len(ids) != 8 || slices.ContainsFunc(ids, func(l string) bool { return strings.Contains(l, "@") }) {
		t.Fatalf("campaigns:read sees %v", ids)
	}
	crm := s.as(s.newKey("crm", auth.CampaignsRead, auth.PIIRead))
	if got := crm.members(id, apiclient.Treatment); !slices.Equal(got, treatment) {
		t.Fatalf("pii:read sees %v", got)
	}
	trail, err := api.ListAuditWithResponse(ctx, &apiclient.ListAuditParams{Customer: ptr(strings.Fields(treatment[0])[0])})
	if err != nil || trail.JSON200 == nil || !slices.ContainsFunc(trail.JSON200.Entries, func(e apiclient.AuditEntry) bool { return e.Action == apiclient.PiiRead }) {
		t.Fatalf("audit of an answered member: %v %s", err, answered(trail))
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
	computed, err := api.ComputeCampaignReportWithResponse(ctx, id)
	if err != nil || computed.JSON200 == nil || !computed.JSON200.Provisional {
		t.Fatalf("report: %v %s", err, answered(computed))
	}
	rep := computed.JSON200
	tr, ho := rep.Stats.Conversion.Treatment, rep.Stats.Conversion.Holdout
	if tr.Members != len(treatment) || ho.Members != len(holdout) || tr.Conversions != 1 || ho.Conversions != min(1, len(holdout)) {
		t.Fatalf("conversion: %+v", rep.Stats.Conversion)
	}
	if f := rep.Funnel; f.Members != len(treatment) || f.Opened.Count != 1 || deref(f.Opened.Rate) != 1/float64(len(treatment)) || f.Delivered.Count != 0 {
		t.Fatalf("funnel: %+v", f)
	}
	if rep.Integrity.HoldoutEngaged != 0 || rep.Integrity.Warning != nil {
		t.Fatalf("integrity: %+v", rep.Integrity)
	}
	if sat := rep.Satisfaction; sat.Treatment.Respondents != 1 || deref(sat.Treatment.MeanRating) != 4 || deref(sat.Treatment.Nps) != 100 ||
		sat.Holdout.MeanRating != nil || sat.Overall.Respondents != 1 {
		t.Fatalf("satisfaction: %+v", sat)
	}
	if stored, err := reader.api().GetCampaignReportWithResponse(ctx, id); err != nil || stored.JSON200 == nil || !stored.JSON200.AsOf.Equal(rep.AsOf) {
		t.Fatalf("GET report: %v %s", err, answered(stored))
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

	// A second draft is changed (its cost removed) and deleted; the
	// launched campaign stops, and stopping it again changes nothing.
	draft := create(nil).JSON201
	changed, err := api.PatchCampaignWithResponse(ctx, draft.CampaignId, apiclient.CampaignPatch{Name: ptr("Renamed"), Cost: ptr("")})
	if err != nil || changed.JSON200 == nil || changed.JSON200.Name != "Renamed" || changed.JSON200.Cost != nil ||
		changed.JSON200.Version != draft.Version+1 {
		t.Fatalf("patch a draft: %v %s", err, answered(changed))
	}
	if del, err := api.DeleteCampaignWithResponse(ctx, draft.CampaignId); err != nil || del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete a draft: %v %s", err, answered(del))
	}
	if gone, err := api.GetCampaignWithResponse(ctx, draft.CampaignId); err != nil || gone.ApplicationproblemJSON404 == nil {
		t.Fatalf("a deleted draft: %v %s", err, answered(gone))
	}
	for range 2 {
		stopped, err := api.StopCampaignWithResponse(ctx, id)
		if err != nil || stopped.JSON200 == nil || stopped.JSON200.Status != apiclient.CampaignStatusStopped || stopped.JSON200.StoppedAt == nil {
			t.Fatalf("stop: %v %s", err, answered(stopped))
		}
	}
}

func purchase(eventID, customerID, price string, at time.Time) map[string]any {
	return map[string]any{"event_id": eventID, "type": "purchase", "customer_id": customerID, "item_id": "sku-1",
		"quantity": 1, "price": price, "currency": "GBP", "order_id": "o-" + eventID, "timestamp": at.Format(time.RFC3339)}
}

// sendEvents posts events and checks every one was accepted.
func (s *stack) sendEvents(evs []map[string]any) {
	s.t.Helper()
	b, err := json.Marshal(map[string]any{"events": evs})
	if err != nil {
		s.t.Fatal(err)
	}
	got, err := s.api().IngestEventsWithBodyWithResponse(context.Background(), "application/json", bytes.NewReader(b))
	if err != nil || got.JSON200 == nil || got.JSON200.Accepted != len(evs) {
		s.t.Fatalf("events: %v %s", err, answered(got))
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
	api := &replay.HTTP{Base: s.URL, Key: s.AdminKey, Client: s.HTTP}
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
