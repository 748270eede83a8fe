//go:build dynamodb

package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"tailor/shared/local/apiclient"
)

// TestCampaignMembershipsExportedAndErased: through tailor serve, a
// launched campaign's member finds the membership (and a feedback event
// answering the campaign) in their export; erasing them deletes their
// member items from CampaignsTable and counts them, so the audience, a
// report computed afterwards and the export no longer show them.
func TestCampaignMembershipsExportedAndErased(t *testing.T) {
	s := startStack(t)
	api, ctx := s.api(), t.Context()
	asOf := time.Now().UTC().AddDate(0, 0, -2).Truncate(24 * time.Hour)
	people := []string{"m-gone", "m-2", "m-3", "m-4"}
	for _, id := range people {
		put, err := api.PutCustomerWithResponse(ctx, id, nil, apiclient.CustomerReplacement{
			Profile: &apiclient.ProfileInput{Email: ptr(id + "@example.com"), Country: ptr("GB")},
			Consent: &apiclient.ConsentInput{Email: ptr(true)}})
		if err != nil || put.JSON201 == nil {
			t.Fatalf("put %s: %v %s", id, err, answered(put))
		}
	}
	created, err := api.CreateCampaignWithResponse(ctx, apiclient.CampaignInput{Name: "Membership check", Channel: apiclient.Email,
		Audience: apiclient.Audience{Countries: &[]string{"GB"}}, Holdout: ptr(0.5), Currency: "GBP"})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create: %v %s", err, answered(created))
	}
	id := created.JSON201.CampaignId
	if launched, err := api.LaunchCampaignWithResponse(ctx, id, apiclient.LaunchRequest{AsOf: &openapi_types.Date{Time: asOf}}); err != nil || launched.JSON200 == nil {
		t.Fatalf("launch: %v %s", err, answered(launched))
	}
	arms := map[string]apiclient.Arm{}
	for _, arm := range []apiclient.Arm{apiclient.Treatment, apiclient.Holdout} {
		for _, line := range s.members(id, arm) {
			arms[strings.Fields(line)[0]] = arm
		}
	}
	if len(arms) != len(people) {
		t.Fatalf("members %v", arms)
	}
	s.sendEvents([]map[string]any{{"event_id": "fb-m-gone", "type": "feedback", "customer_id": "m-gone", "campaign_id": id,
		"rating": 5, "timestamp": asOf.Add(time.Hour).Format(time.RFC3339)}})

	// The export lists the membership and the feedback.
	export, err := api.ExportCustomerWithResponse(ctx, "m-gone")
	if err != nil || export.JSON200 == nil {
		t.Fatalf("export: %v %s", err, answered(export))
	}
	ms := export.JSON200.CampaignMemberships
	if len(ms) != 1 {
		t.Fatalf("export memberships %+v", ms)
	}
	if m := ms[0]; m.CampaignId != id || deref(m.Name) != "Membership check" || deref(m.Channel) != apiclient.Email ||
		m.Arm != arms["m-gone"] || m.AssignedAt == nil {
		t.Fatalf("export membership %+v, want campaign %s arm %s", m, id, arms["m-gone"])
	}
	if !slices.ContainsFunc(export.JSON200.Events, func(e apiclient.EventRecord) bool { return e.Type == apiclient.EventTypeFeedback }) {
		t.Fatalf("export events lack the feedback: %+v", export.JSON200.Events)
	}

	// Erasure deletes the member items and counts them.
	erased, err := api.EraseCustomerWithResponse(ctx, "m-gone")
	if err != nil || erased.JSON200 == nil || erased.JSON200.Erased.CampaignMemberships != 1 {
		t.Fatalf("erase: %v %s, want erased.campaign_memberships 1", err, answered(erased))
	}
	var left []string
	for _, arm := range []apiclient.Arm{apiclient.Treatment, apiclient.Holdout} {
		left = append(left, s.members(id, arm)...)
	}
	if len(left) != len(people)-1 || slices.ContainsFunc(left, func(l string) bool { return strings.HasPrefix(l, "m-gone ") }) {
		t.Fatalf("audience after erasure: %v", left)
	}
	for _, it := range scanAll(t, s) {
		if strings.HasPrefix(it, "CampaignsTable ") && strings.Contains(it, "m-gone") {
			t.Fatalf("CampaignsTable still names the erased customer: %s", it)
		}
	}
	if export, err = api.ExportCustomerWithResponse(ctx, "m-gone"); err != nil || export.JSON200 != nil {
		t.Fatalf("export after erasure: %v %s", err, answered(export))
	}

	// A report computed now counts only the remaining members.
	rep, err := api.ComputeCampaignReportWithResponse(ctx, id)
	if err != nil || rep.JSON200 == nil {
		t.Fatalf("report: %v %s", err, answered(rep))
	}
	if conv := rep.JSON200.Stats.Conversion; conv.Treatment.Members+conv.Holdout.Members != len(people)-1 {
		t.Fatalf("report after erasure counts %d + %d members, want %d", conv.Treatment.Members, conv.Holdout.Members, len(people)-1)
	}
}
