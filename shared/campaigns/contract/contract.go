// Package contract is the one test suite every implementation of the
// campaigns service's storage ports must pass: package memory runs it
// without a database and package dynamo against DynamoDB Local, so the two
// are proven to behave alike.
package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/memory"
	"tailor/shared/campaigns/service"
	"tailor/shared/campaigns/stats"
	"tailor/shared/customers"
	"tailor/shared/platform/errs"
)

// Table is the campaigns table's ports.
type Table interface {
	service.Campaigns
	service.Members
	service.Reports
}

// Memberships is the customers service's Memberships port as the
// campaigns adapters implement it on their members (declared again here:
// a feature's contract does not import another feature's service).
type Memberships interface {
	List(ctx context.Context, customerID string) ([]customers.CampaignMembership, error)
	Erase(ctx context.Context, customerID string) (int, error)
}

// Stores are the ports under test, all empty when open returns them.
type Stores struct {
	Table Table
	// Memberships reads and erases the members Table stores.
	Memberships Memberships
	Customers   service.Customers
	// Seed stores customer records as the customers feature, ingestion
	// and the segment job would have written them; an Erased record is an
	// erased customer's tombstone.
	Seed func(t *testing.T, recs ...memory.Record)
}

// Run runs the suite; open is called once per subtest for fresh stores.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"CreateGetRoundTrip", createGet},
		{"CreateTwiceConflicts", createTwice},
		{"GetMissing", getMissing},
		{"UpdateIsVersioned", updateVersioned},
		{"ConcurrentUpdatesAllApply", concurrentUpdates},
		{"LongCustomerListsRoundTrip", longCustomerLists},
		{"DeleteAtVersion", deleteAtVersion},
		{"ListNewestFirstByPage", listNewestFirst},
		{"SnapshotMustBeComplete", snapshots},
		{"MembersByArmAndPage", membersByArm},
		{"MembershipsOfACustomer", membershipsList},
		{"ErasingMembershipsLeavesOthers", membershipsErase},
		{"ReportsRoundTrip", reports},
		{"CustomersScanAndReads", customerReads},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// draft is a valid draft with every kind of field set.
func draft(t *testing.T, campaignID string, at time.Time) *campaigns.Campaign {
	t.Helper()
	holdout, days := 0.2, 30
	c, err := campaigns.New(campaignID, campaigns.Input{Name: "Spring win-back", Channel: campaigns.Email,
		Audience: campaigns.AudienceInput{Segments: []string{"at-risk"}, Clusters: []int{1}, ChurnRisk: []string{"high"},
			CLV12m: &campaigns.RangeText{Min: "10.00", Max: "500.00"}, TagsAll: []string{"vip"}, TagsNone: []string{"staff"},
			Countries: []string{"GB"}, LastPurchaseAfter: "2026-01-01", LastPurchaseBefore: "2026-10-01",
			CustomerIDs: []string{"c-2", "c-1"}},
		Holdout: &holdout, AttributionDays: &days, Currency: "GBP", Cost: "250.00"}, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// same compares two campaigns through their JSON views, which hold every
// stored field.
func same(a, b *campaigns.Campaign) bool {
	ja, _ := json.Marshal(a.View())
	jb, _ := json.Marshal(b.View())
	return string(ja) == string(jb)
}

func show(c *campaigns.Campaign) string {
	b, _ := json.Marshal(c.View())
	return string(b)
}

func createGet(t *testing.T, s Stores) {
	ctx := context.Background()
	c := draft(t, "cmp-1", t0)
	if err := s.Table.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Table.Get(ctx, "cmp-1")
	if err != nil || !same(got, c) {
		t.Fatalf("get: %v\n got  %s\n want %s", err, show(got), show(c))
	}
	// A launched campaign keeps every launch field.
	launched := c.Clone()
	if err := launched.StartLaunch("2026-11-20", true, "2026-11-19", t0); err != nil {
		t.Fatal(err)
	}
	if err := launched.TakeSnapshot("snap-1", 80, 20, t0); err != nil {
		t.Fatal(err)
	}
	if err := launched.Progress(100, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := launched.FinishLaunch(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := launched.Stop(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	stored, err := s.Table.Update(ctx, "cmp-1", func(cur *campaigns.Campaign) error {
		*cur = *launched.Clone()
		return nil
	})
	if err != nil || !same(stored, launched) {
		t.Fatalf("update: %v\n got  %s\n want %s", err, show(stored), show(launched))
	}
	got, err = s.Table.Get(ctx, "cmp-1")
	if err != nil || !same(got, launched) || got.Launch.SnapshotID != "snap-1" {
		t.Fatalf("get launched: %v\n got  %s\n want %s", err, show(got), show(launched))
	}
}

func createTwice(t *testing.T, s Stores) {
	ctx := context.Background()
	if err := s.Table.Create(ctx, draft(t, "cmp-1", t0)); err != nil {
		t.Fatal(err)
	}
	other := draft(t, "cmp-1", t0.Add(time.Hour))
	other.Name = "Another"
	if err := s.Table.Create(ctx, other); !errs.Is(err, errs.Conflict) {
		t.Fatalf("second create: %v, want conflict", err)
	}
	if got, _ := s.Table.Get(ctx, "cmp-1"); got.Name != "Spring win-back" {
		t.Fatalf("the refused create changed the campaign: %s", got.Name)
	}
}

func getMissing(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, err := s.Table.Get(ctx, "cmp-none"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get: %v, want not found", err)
	}
	if _, err := s.Table.Update(ctx, "cmp-none", func(*campaigns.Campaign) error { return nil }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("update: %v, want not found", err)
	}
	if err := s.Table.Delete(ctx, "cmp-none", 1); !errs.Is(err, errs.NotFound) {
		t.Fatalf("delete: %v, want not found", err)
	}
	if _, err := s.Table.Report(ctx, "cmp-none"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("report: %v, want not found", err)
	}
}

func updateVersioned(t *testing.T, s Stores) {
	ctx := context.Background()
	if err := s.Table.Create(ctx, draft(t, "cmp-1", t0)); err != nil {
		t.Fatal(err)
	}
	name := "Renamed"
	next, err := s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error {
		n, err := campaigns.Apply(c, campaigns.Patch{Name: &name}, t0.Add(time.Hour))
		if err == nil {
			*c = *n
		}
		return err
	})
	if err != nil || next.Version != 2 || next.Name != name || len(next.Audience.CustomerIDs) != 2 {
		t.Fatalf("update: %+v %v", next, err)
	}
	// A failing change stores nothing and its error comes back as it is.
	boom := errs.E(errs.Conflict, "boom")
	if _, err := s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error {
		c.Name, c.Version = "Lost", c.Version+1
		return boom
	}); err != boom {
		t.Fatalf("failing change: %v", err)
	}
	// A change that leaves the version stores nothing.
	if _, err := s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error { c.Name = "Unversioned"; return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Table.Get(ctx, "cmp-1")
	if err != nil || got.Name != name || got.Version != 2 {
		t.Fatalf("after refused changes: %+v %v", got, err)
	}
}

func concurrentUpdates(t *testing.T, s Stores) {
	ctx := context.Background()
	c := draft(t, "cmp-1", t0)
	if err := s.Table.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	const writers = 6
	var wg sync.WaitGroup
	failures := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			_, failures[w] = s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error {
				c.Audience.TagsNone = append(c.Audience.TagsNone, fmt.Sprintf("w%d", w))
				c.Version++
				return nil
			})
		})
	}
	wg.Wait()
	for w, err := range failures {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	got, err := s.Table.Get(ctx, "cmp-1")
	if err != nil || got.Version != 1+writers || len(got.Audience.TagsNone) != 1+writers {
		t.Fatalf("after %d concurrent updates: version %d, tags_none %v, %v; every update must apply once", writers, got.Version, got.Audience.TagsNone, err)
	}
}

func longCustomerLists(t *testing.T, s Stores) {
	ctx := context.Background()
	c := draft(t, "cmp-1", t0)
	ids := make([]string, campaigns.MaxCustomerIDs)
	for i := range ids {
		ids[i] = fmt.Sprintf("c-%05d-%s", i, strings.Repeat("x", 120)) // 128 bytes each: 1.28 MB in all
	}
	c.Audience.CustomerIDs = ids
	if err := s.Table.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Table.Get(ctx, "cmp-1")
	if err != nil || !slices.Equal(got.Audience.CustomerIDs, ids) {
		t.Fatalf("get: %d ids, %v; want %d", len(got.Audience.CustomerIDs), err, len(ids))
	}
	short := []string{"c-1", "c-2", "c-3"}
	if _, err := s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error {
		c.Audience.CustomerIDs, c.Version = short, c.Version+1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Table.Get(ctx, "cmp-1"); err != nil || !slices.Equal(got.Audience.CustomerIDs, short) {
		t.Fatalf("after shortening: %d ids, %v", len(got.Audience.CustomerIDs), err)
	}
	if _, err := s.Table.Update(ctx, "cmp-1", func(c *campaigns.Campaign) error {
		c.Audience.CustomerIDs, c.Version = nil, c.Version+1
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Table.Get(ctx, "cmp-1"); err != nil || len(got.Audience.CustomerIDs) != 0 {
		t.Fatalf("after clearing: %d ids, %v", len(got.Audience.CustomerIDs), err)
	}
}

func deleteAtVersion(t *testing.T, s Stores) {
	ctx := context.Background()
	if err := s.Table.Create(ctx, draft(t, "cmp-1", t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Table.Delete(ctx, "cmp-1", 7); !errs.Is(err, errs.Conflict) {
		t.Fatalf("delete at another version: %v, want conflict", err)
	}
	if err := s.Table.Delete(ctx, "cmp-1", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Table.Get(ctx, "cmp-1"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	// The id can be used again, with nothing of the old campaign left.
	again := draft(t, "cmp-1", t0.Add(time.Hour))
	again.Audience.CustomerIDs = nil
	if err := s.Table.Create(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Table.Get(ctx, "cmp-1"); err != nil || len(got.Audience.CustomerIDs) != 0 {
		t.Fatalf("re-created: %+v %v", got, err)
	}
}

func listNewestFirst(t *testing.T, s Stores) {
	ctx := context.Background()
	var want []string
	for i := range 5 {
		c := draft(t, fmt.Sprintf("cmp-%d", i), t0.Add(time.Duration(i)*time.Minute))
		if err := s.Table.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		want = append([]string{c.ID}, want...)
	}
	var got []string
	cursor := ""
	for range 10 {
		page, err := s.Table.List(ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Campaigns {
			if c.Audience.CustomerIDs != nil {
				t.Errorf("listed %s carries its customer ids", c.ID)
			}
			got = append(got, c.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for _, bad := range []string{"nonsense", "eyJrIjoieCJ9"} {
		if _, err := s.Table.List(ctx, 2, bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("cursor %q: %v, want invalid", bad, err)
		}
	}
}

func members(n int, prefix string) []campaigns.Member {
	out := make([]campaigns.Member, n)
	for i := range out {
		id := fmt.Sprintf("%s%06d", prefix, i)
		out[i] = campaigns.Member{CustomerID: id, Arm: campaigns.Assign("cmp-1", id, 0.3)}
	}
	return out
}

func snapshots(t *testing.T, s Stores) {
	ctx := context.Background()
	if _, err := s.Table.Snapshot(ctx, "cmp-1", "snap-a", 0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing snapshot: %v, want not found", err)
	}
	// Long ids make the snapshot span several chunks of storage.
	big := members(30000, "customer-"+strings.Repeat("y", 60)+"-")
	if err := s.Table.SaveSnapshot(ctx, "cmp-1", "snap-a", big); err != nil {
		t.Fatal(err)
	}
	got, err := s.Table.Snapshot(ctx, "cmp-1", "snap-a", len(big))
	if err != nil || !slices.Equal(got, big) {
		t.Fatalf("snapshot: %d members, %v", len(got), err)
	}
	if got, err = s.Table.Snapshot(ctx, "cmp-1", "snap-a", 10); err != nil || !slices.Equal(got, big[:10]) {
		t.Fatalf("the first 10: %v %v", got, err)
	}
	if _, err := s.Table.Snapshot(ctx, "cmp-1", "snap-a", len(big)+1); !errs.Is(err, errs.NotFound) {
		t.Fatalf("snapshot asked for more than stored: %v, want not found", err)
	}
	// A second attempt's snapshot lives beside the first; each reads back
	// as it was stored.
	small := members(3, "c-")
	if err := s.Table.SaveSnapshot(ctx, "cmp-1", "snap-b", small); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Table.Snapshot(ctx, "cmp-1", "snap-b", 3); err != nil || !slices.Equal(got, small) {
		t.Fatalf("second snapshot: %v %v", got, err)
	}
	if got, err = s.Table.Snapshot(ctx, "cmp-1", "snap-a", len(big)); err != nil || !slices.Equal(got, big) {
		t.Fatalf("first snapshot after the second: %d members, %v", len(got), err)
	}
	if err := s.Table.SaveSnapshot(ctx, "cmp-2", "snap-a", nil); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Table.Snapshot(ctx, "cmp-2", "snap-a", 0); err != nil || len(got) != 0 {
		t.Fatalf("empty snapshot: %v %v", got, err)
	}
	for _, id := range []string{"cmp-1", "cmp-1"} {
		if err := s.Table.DropSnapshot(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, snap := range []string{"snap-a", "snap-b"} {
		if _, err := s.Table.Snapshot(ctx, "cmp-1", snap, 0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("dropped snapshot %s: %v, want not found", snap, err)
		}
	}
	if _, err := s.Table.Snapshot(ctx, "cmp-2", "snap-a", 0); err != nil {
		t.Fatalf("dropping one campaign's snapshots dropped another's: %v", err)
	}
}

func membersByArm(t *testing.T, s Stores) {
	ctx := context.Background()
	all := members(250, "c-")
	for range 2 { // storing again changes nothing
		if err := s.Table.Put(ctx, "cmp-1", all); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Table.Put(ctx, "cmp-2", members(5, "c-")); err != nil {
		t.Fatal(err)
	}
	for _, arm := range campaigns.Arms {
		var want, got []campaigns.Member
		for _, m := range all {
			if m.Arm == arm {
				want = append(want, m)
			}
		}
		cursor := ""
		for range 100 {
			page, err := s.Table.Arm(ctx, "cmp-1", arm, 40, cursor)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page.Members...)
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s arm: %d members, want %d in customer id order", arm, len(got), len(want))
		}
	}
	page, err := s.Table.Arm(ctx, "cmp-1", campaigns.Treatment, 10, "")
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %v %v", page, err)
	}
	if _, err := s.Table.Arm(ctx, "cmp-1", campaigns.Holdout, 10, page.Next); !errs.Is(err, errs.Invalid) {
		t.Fatalf("a treatment cursor on the holdout: %v, want invalid", err)
	}
	if _, err := s.Table.Arm(ctx, "cmp-2", campaigns.Treatment, 10, page.Next); !errs.Is(err, errs.Invalid) {
		t.Fatalf("another campaign's cursor: %v, want invalid", err)
	}
	var every []campaigns.Member
	if err := s.Table.All(ctx, "cmp-1", func(p []campaigns.Member) error { every = append(every, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(every, func(a, b campaigns.Member) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	if !slices.Equal(every, all) {
		t.Fatalf("all members: %d, want %d", len(every), len(all))
	}
}

// launchedWith stores a running campaign launched at t0 with members.
func launchedWith(t *testing.T, s Stores, campaignID, name string, ch campaigns.Channel, ms ...campaigns.Member) {
	t.Helper()
	ctx := context.Background()
	c := draft(t, campaignID, t0.Add(-time.Hour))
	c.Name, c.Channel, c.Status = name, ch, campaigns.Running
	c.Launch = &campaigns.Launch{AsOf: "2026-11-20", StartedAt: t0, Snapshot: true, Members: len(ms), Written: len(ms)}
	if err := s.Table.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Table.Put(ctx, campaignID, ms); err != nil {
		t.Fatal(err)
	}
}

func membershipsList(t *testing.T, s Stores) {
	ctx := context.Background()
	if got, err := s.Memberships.List(ctx, "c-1"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("no memberships: %#v %v, want an empty list", got, err)
	}
	launchedWith(t, s, "cmp-b", "Winter", campaigns.SMS, campaigns.Member{CustomerID: "c-1", Arm: campaigns.Holdout},
		campaigns.Member{CustomerID: "c-2", Arm: campaigns.Treatment})
	launchedWith(t, s, "cmp-a", "Spring", campaigns.Email, campaigns.Member{CustomerID: "c-1", Arm: campaigns.Treatment})
	// Members whose campaign item is gone are still listed, by id.
	if err := s.Table.Put(ctx, "cmp-z", []campaigns.Member{{CustomerID: "c-1", Arm: campaigns.Holdout}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Memberships.List(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []customers.CampaignMembership{
		{CampaignID: "cmp-a", Name: "Spring", Channel: "email", Arm: "treatment", AssignedAt: &t0},
		{CampaignID: "cmp-b", Name: "Winter", Channel: "sms", Arm: "holdout", AssignedAt: &t0},
		{CampaignID: "cmp-z", Arm: "holdout"}}
	if !slices.EqualFunc(got, want, func(a, b customers.CampaignMembership) bool {
		return a.CampaignID == b.CampaignID && a.Name == b.Name && a.Channel == b.Channel && a.Arm == b.Arm &&
			(a.AssignedAt == nil) == (b.AssignedAt == nil) && (a.AssignedAt == nil || a.AssignedAt.Equal(*b.AssignedAt))
	}) {
		t.Fatalf("memberships of c-1:\n%+v\nwant\n%+v", got, want)
	}
}

func membershipsErase(t *testing.T, s Stores) {
	ctx := context.Background()
	launchedWith(t, s, "cmp-1", "One", campaigns.Email, append(members(30, "c-"),
		campaigns.Member{CustomerID: "gone", Arm: campaigns.Treatment})...)
	launchedWith(t, s, "cmp-2", "Two", campaigns.Push, campaigns.Member{CustomerID: "gone", Arm: campaigns.Holdout},
		campaigns.Member{CustomerID: "c-000001", Arm: campaigns.Holdout})
	n, err := s.Memberships.Erase(ctx, "gone")
	if err != nil || n != 2 {
		t.Fatalf("erase: %d %v, want 2", n, err)
	}
	if got, err := s.Memberships.List(ctx, "gone"); err != nil || len(got) != 0 {
		t.Fatalf("after erasure: %+v %v", got, err)
	}
	for _, id := range []string{"cmp-1", "cmp-2"} {
		var ids []string
		if err := s.Table.All(ctx, id, func(p []campaigns.Member) error {
			for _, m := range p {
				ids = append(ids, m.CustomerID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, "gone") || len(ids) != map[string]int{"cmp-1": 30, "cmp-2": 1}[id] {
			t.Fatalf("%s members after erasure: %v", id, ids)
		}
	}
	if n, err := s.Memberships.Erase(ctx, "gone"); err != nil || n != 0 {
		t.Fatalf("erasing again: %d %v, want 0", n, err)
	}
	if got, err := s.Memberships.List(ctx, "c-000001"); err != nil || len(got) != 2 {
		t.Fatalf("another customer's memberships: %+v %v", got, err)
	}
}

func reports(t *testing.T, s Stores) {
	ctx := context.Background()
	obs := []stats.Observation{{Arm: stats.Treatment, Converted: true, Revenue: 1250, PreSpend: 300},
		{Arm: stats.Treatment}, {Arm: stats.Holdout, PreSpend: 100}, {Arm: stats.Holdout, Converted: true, Revenue: 99}}
	st, err := stats.BuildReport(stats.Input{Members: obs, HoldoutShare: 0.5, Cost: 1000})
	if err != nil {
		t.Fatal(err)
	}
	r := campaigns.Report{CampaignID: "cmp-1", AsOf: t0, WindowStart: "2026-11-20", WindowEnd: "2026-12-04",
		Provisional: true, Erased: 1, Currency: "GBP", Cost: "10.00", Stats: st}
	if err := s.Table.SaveReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.AsOf, r.Provisional = t0.Add(time.Hour), false
	if err := s.Table.SaveReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Table.Report(ctx, "cmp-1")
	want, _ := json.Marshal(r)
	have, _ := json.Marshal(got)
	if err != nil || string(have) != string(want) {
		t.Fatalf("report: %v\n got  %s\n want %s", err, have, want)
	}
}

func customerReads(t *testing.T, s Stores) {
	ctx := context.Background()
	days := map[string]customers.Amounts{"2026-10-01": {"GBP": 1250}, "2026-11-02": {"GBP": 500, "EUR": 700}}
	consent := map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: t0}}
	scores := &customers.Scores{RunID: "2026-11-19", AsOf: "2026-11-19", Currency: "GBP", R: 4, F: 3, M: 5, RFMCell: "435",
		Segment: "loyal", Cluster: 2, PAlive: 0.9, CLV12mMinor: 12345, ChurnRisk: "low"}
	// Engagement with two campaigns, one id holding dots: a report reads
	// only its own campaign's entry.
	spring := customers.CampaignEngagement{Delivered: t0, Opened: t0.Add(time.Hour),
		Rating: &customers.Answer{Value: 4, At: t0.Add(2 * time.Hour), EventID: "fb-1"},
		NPS:    &customers.Answer{Value: 9, At: t0.Add(2 * time.Hour), EventID: "fb-1"}}
	engaged := map[string]customers.CampaignEngagement{"spring.v2": spring, "autumn": {Unsubscribed: t0}}
	s.Seed(t,
		memory.Record{Candidate: campaigns.Candidate{CustomerID: "c-1", Consent: consent, Tags: []string{"vip"}, Country: "GB",
			Scores: scores, PurchaseDays: days}, Contact: campaigns.Contact{Email: "ada@example.com", Phone: "+447700900123"},
			Campaigns: engaged},
		memory.Record{Candidate: campaigns.Candidate{CustomerID: "c-2", Country: "FR"}},
		memory.Record{Candidate: campaigns.Candidate{CustomerID: "c-3", Erased: true}},
	)
	var seen []campaigns.Candidate
	var mu sync.Mutex
	if err := s.Customers.Scan(ctx, func(p []campaigns.Candidate) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, p...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(seen, func(a, b campaigns.Candidate) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	if len(seen) != 3 || seen[0].CustomerID != "c-1" || !seen[2].Erased || seen[0].Erased || seen[1].Erased {
		t.Fatalf("scan: %+v", seen)
	}
	c1 := seen[0]
	if c1.Country != "GB" || !slices.Equal(c1.Tags, []string{"vip"}) || !c1.Consent[customers.ConsentEmail].Granted ||
		c1.Scores == nil || *c1.Scores != *scores || !equalDays(c1.PurchaseDays, days) {
		t.Fatalf("scanned c-1: %+v", c1)
	}
	got, err := s.Customers.Candidates(ctx, []string{"c-2", "c-9", "c-1", "c-1"})
	if err != nil || len(got) != 2 {
		t.Fatalf("candidates: %+v %v", got, err)
	}
	bought, err := s.Customers.Outcomes(ctx, "spring.v2", []string{"c-1", "c-2", "c-3", "c-9"})
	if err != nil || len(bought) != 2 || !equalDays(bought["c-1"].PurchaseDays, days) || bought["c-2"].PurchaseDays == nil ||
		len(bought["c-2"].PurchaseDays) != 0 || bought["c-2"].Engagement != nil {
		t.Fatalf("outcomes: %+v %v; want c-1's days and an empty c-2, no erased or missing customer", bought, err)
	}
	if e := bought["c-1"].Engagement; e == nil || !reflect.DeepEqual(*e, spring) {
		t.Fatalf("c-1's engagement with spring.v2: %+v, want %+v", e, spring)
	}
	if other, err := s.Customers.Outcomes(ctx, "winter", []string{"c-1"}); err != nil || other["c-1"].Engagement != nil {
		t.Fatalf("engagement with a campaign c-1 never saw: %+v %v", other, err)
	}
	closed, err := s.Customers.Contacts(ctx, []string{"c-1", "c-2", "c-3", "c-9"}, false)
	if err != nil || len(closed) != 2 || !closed["c-1"].Empty() {
		t.Fatalf("contacts without opening: %+v %v", closed, err)
	}
	opened, err := s.Customers.Contacts(ctx, []string{"c-1", "c-2", "c-3"}, true)
	if err != nil || len(opened) != 2 || opened["c-1"] != (campaigns.Contact{Email: "ada@example.com", Phone: "+447700900123"}) || !opened["c-2"].Empty() {
		t.Fatalf("contacts: %+v %v", opened, err)
	}
}

func equalDays(a, b map[string]customers.Amounts) bool {
	return maps.EqualFunc(a, b, func(x, y customers.Amounts) bool { return maps.Equal(x, y) })
}
