//go:build dynamodb

package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCampaignMembershipsExportedAndErased: through tailor serve, a
// launched campaign's member finds the membership (and a feedback event
// answering the campaign) in their export; erasing them deletes their
// member items from CampaignsTable and counts them, so the audience, a
// report computed afterwards and the export no longer show them.
func TestCampaignMembershipsExportedAndErased(t *testing.T) {
	s := startStack(t)
	asOf := time.Now().UTC().AddDate(0, 0, -2).Truncate(24 * time.Hour)
	people := []string{"m-gone", "m-2", "m-3", "m-4"}
	for _, id := range people {
		code, _, body := s.call("PUT", "/v1/customers/"+id, map[string]any{
			"profile": map[string]any{"email": id + "@example.com", "country": "GB"}, "consent": map[string]bool{"email": true}})
		if code != http.StatusCreated {
			t.Fatalf("put %s: %d %v", id, code, body)
		}
	}
	code, _, body := s.call("POST", "/v1/campaigns", map[string]any{"name": "Membership check", "channel": "email",
		"audience": map[string]any{"countries": []string{"GB"}}, "holdout": 0.5, "currency": "GBP"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, body)
	}
	id := body["campaign_id"].(string)
	if code, _, body = s.call("POST", "/v1/campaigns/"+id+"/launch", map[string]any{"as_of": asOf.Format(time.DateOnly)}); code != http.StatusOK {
		t.Fatalf("launch: %d %v", code, body)
	}
	arms := map[string]string{}
	for _, arm := range []string{"treatment", "holdout"} {
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
	code, _, body = s.call("GET", "/v1/customers/m-gone/export", nil)
	if code != http.StatusOK {
		t.Fatalf("export: %d %v", code, body)
	}
	ms, _ := body["campaign_memberships"].([]any)
	if len(ms) != 1 {
		t.Fatalf("export memberships %v", body["campaign_memberships"])
	}
	m := ms[0].(map[string]any)
	if m["campaign_id"] != id || m["name"] != "Membership check" || m["channel"] != "email" || m["arm"] != arms["m-gone"] ||
		m["assigned_at"] == nil {
		t.Fatalf("export membership %v, want campaign %s arm %s", m, id, arms["m-gone"])
	}
	if !strings.Contains(fmt.Sprint(body["events"]), "feedback") {
		t.Fatalf("export events lack the feedback: %v", body["events"])
	}

	// Erasure deletes the member items and counts them.
	code, _, body = s.call("DELETE", "/v1/customers/m-gone", nil)
	if erased, _ := body["erased"].(map[string]any); code != http.StatusOK || erased["campaign_memberships"] != float64(1) {
		t.Fatalf("erase: %d %v, want erased.campaign_memberships 1", code, body)
	}
	var left []string
	for _, arm := range []string{"treatment", "holdout"} {
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
	if code, _, body = s.call("GET", "/v1/customers/m-gone/export", nil); code == http.StatusOK || body["campaign_memberships"] != nil {
		t.Fatalf("export after erasure: %d %v", code, body)
	}

	// A report computed now counts only the remaining members.
	code, _, body = s.call("POST", "/v1/campaigns/"+id+"/report", nil)
	if code != http.StatusOK {
		t.Fatalf("report: %d %v", code, body)
	}
	conv := body["stats"].(map[string]any)["conversion"].(map[string]any)
	tr, ho := conv["treatment"].(map[string]any), conv["holdout"].(map[string]any)
	if tr["members"].(float64)+ho["members"].(float64) != float64(len(people)-1) {
		t.Fatalf("report after erasure counts %v + %v members, want %d", tr["members"], ho["members"], len(people)-1)
	}
}
