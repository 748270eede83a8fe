package service_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/memory"
	"tailor/shared/campaigns/service"
	"tailor/shared/customers"
	"tailor/shared/platform/audit"
	auditmem "tailor/shared/platform/audit/memory"
	"tailor/shared/platform/auth"
	busmem "tailor/shared/platform/bus/memory"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
	segmentsmem "tailor/shared/segments/memory"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

type fixture struct {
	svc    *service.Service
	store  *memory.Store
	people *memory.Customers
	bus    *busmem.Bus
	audit  *auditmem.Audit
	now    *time.Time
}

func setup(t *testing.T) *fixture {
	t.Helper()
	now := t0
	f := &fixture{store: &memory.Store{}, people: &memory.Customers{PageSize: 7}, bus: &busmem.Bus{}, audit: &auditmem.Audit{}, now: &now}
	runs := &segmentsmem.SegmentRuns{}
	ctx := context.Background()
	run := segments.Report{RunID: "2026-11-19", AsOf: "2026-11-19", Status: "complete",
		Segments: []segments.SegmentReport{{Segment: "at-risk"}, {Segment: "champions"}}}
	run.Model.Clusters.K = 3
	if err := runs.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := runs.SetLatest(ctx, run.RunID, run.AsOf); err != nil {
		t.Fatal(err)
	}
	n := 0
	f.svc = &service.Service{Campaigns: f.store, Members: f.store, Reports: f.store, Customers: f.people, Runs: runs,
		Audit: f.audit, Bus: f.bus, Now: func() time.Time { return *f.now }, LaunchPage: 10,
		NewID: func() string { n++; return fmt.Sprintf("cmp-%d", n) }}
	if err := f.svc.Check(); err != nil {
		t.Fatal(err)
	}
	return f
}

var emailOK = map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true}}

// seed stores n customers with email consent in GB, purchases on the
// days given, and the scores of the latest run.
func (f *fixture) seed(n int) []string {
	var ids []string
	for i := range n {
		id := fmt.Sprintf("c-%03d", i)
		ids = append(ids, id)
		f.people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: id, Consent: emailOK, Country: "GB",
			Scores:       &customers.Scores{RunID: "2026-11-19", Segment: "at-risk", Currency: "GBP"},
			PurchaseDays: map[string]customers.Amounts{"2026-10-01": {"GBP": 1000}}},
			Contact: campaigns.Contact{Email: id + "@example.com", Phone: "+447700900123"}})
	}
	return ids
}

func input() campaigns.Input {
	return campaigns.Input{Name: "Win back", Channel: campaigns.Email, Currency: "GBP",
		Audience: campaigns.AudienceInput{Segments: []string{"at-risk"}}}
}

func (f *fixture) members(t *testing.T, id string) []campaigns.Member {
	t.Helper()
	var out []campaigns.Member
	if err := f.store.All(context.Background(), id, func(p []campaigns.Member) error { out = append(out, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCreateChecksSegmentsAgainstTheLatestRun(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	in := input()
	in.Audience.Segments = []string{"lost"} // a segment, but none in the run
	if _, err := f.svc.Create(ctx, in); !errs.Is(err, errs.Invalid) {
		t.Fatalf("segment absent from the run: %v, want invalid", err)
	}
	in.Audience.Segments, in.Audience.Clusters = []string{"at-risk"}, []int{3}
	if _, err := f.svc.Create(ctx, in); !errs.Is(err, errs.Invalid) {
		t.Fatalf("cluster beyond k: %v, want invalid", err)
	}
	if page, _ := f.svc.List(ctx, 10, ""); len(page.Campaigns) != 0 {
		t.Fatalf("a refused create stored %d campaigns", len(page.Campaigns))
	}
	c, err := f.svc.Create(ctx, input())
	if err != nil || c.ID != "cmp-3" || c.Status != campaigns.Draft {
		t.Fatalf("create: %+v %v", c, err)
	}
}

func TestLaunchExcludesWithoutConsentAndErased(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ids := f.seed(30)
	f.people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: "c-noconsent", Country: "GB",
		Scores: &customers.Scores{RunID: "2026-11-19", Segment: "at-risk"}}})
	f.people.Erase("c-005")
	c, err := f.svc.Create(ctx, input())
	if err != nil {
		t.Fatal(err)
	}
	c, done, err := f.svc.Launch(ctx, c.ID, "")
	if err != nil || !done || c.Status != campaigns.Running || c.Launch.Members != 29 || c.Launch.AsOf != "2026-11-20" ||
		c.Launch.SegmentRunID != "2026-11-19" {
		t.Fatalf("launch: %+v %v %v", c.Launch, done, err)
	}
	got := f.members(t, c.ID)
	for _, m := range got {
		if m.CustomerID == "c-noconsent" || m.CustomerID == "c-005" {
			t.Fatalf("%s is a member", m.CustomerID)
		}
		if m.Arm != campaigns.Assign(c.ID, m.CustomerID, c.Holdout) {
			t.Fatalf("%s is in the wrong arm", m.CustomerID)
		}
	}
	if len(got) != len(ids)-1 {
		t.Fatalf("%d members, want %d", len(got), len(ids)-1)
	}
	if _, err := f.store.Snapshot(ctx, c.ID, c.Launch.SnapshotID, 0); !errs.Is(err, errs.NotFound) {
		t.Fatal("the snapshot outlived the launch")
	}
	ev := f.bus.OfType(service.TypeLaunched)
	if len(ev) != 1 {
		t.Fatalf("%d campaign.launched events", len(ev))
	}
}

// failingMembers fails Put after a number of calls, as a crash would.
type failingMembers struct {
	service.Members
	left int
}

var errCrash = errors.New("crash")

func (m *failingMembers) Put(ctx context.Context, id string, ms []campaigns.Member) error {
	if m.left == 0 {
		return errCrash
	}
	m.left--
	return m.Members.Put(ctx, id, ms)
}

func TestLaunchResumesAfterACrashAndNeverChanges(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(95)
	c, _ := f.svc.Create(ctx, input())
	crashing := *f.svc
	crashing.Members = &failingMembers{Members: f.store, left: 3}
	if _, _, err := crashing.Launch(ctx, c.ID, "2026-11-01"); !errors.Is(err, errCrash) {
		t.Fatalf("crashed launch: %v", err)
	}
	mid, _ := f.svc.Get(ctx, c.ID)
	if mid.Status != campaigns.Launching || mid.Launch.Written != 30 || !mid.Launch.Snapshot {
		t.Fatalf("after the crash: %s %+v", mid.Status, mid.Launch)
	}
	// Customers change after the snapshot: the audience does not.
	f.people.Erase("c-090")
	f.seed(120)
	if _, _, err := f.svc.Launch(ctx, c.ID, "2026-11-02"); !errs.Is(err, errs.Conflict) {
		t.Fatalf("resume as of another day: %v, want conflict", err)
	}
	done, ok, err := f.svc.Launch(ctx, c.ID, "")
	if err != nil || !ok || done.Launch.Members != 95 || done.Launch.AsOf != "2026-11-01" {
		t.Fatalf("resumed: %+v %v %v", done.Launch, ok, err)
	}
	first := f.members(t, c.ID)
	if len(first) != 95 || done.Launch.Treatment+done.Launch.Holdout != 95 {
		t.Fatalf("%d members after resuming", len(first))
	}
	again, ok, err := f.svc.Launch(ctx, c.ID, "2026-11-01")
	if err != nil || !ok || again.Version != done.Version {
		t.Fatalf("launch again: %v %v, version %d→%d", ok, err, done.Version, again.Version)
	}
	if !slices.Equal(f.members(t, c.ID), first) || len(f.bus.OfType(service.TypeLaunched)) != 1 {
		t.Fatal("a second launch changed the assignment or announced again")
	}
}

func TestLaunchStopsBeforeTheDeadline(t *testing.T) {
	f := setup(t)
	f.seed(40)
	c, _ := f.svc.Create(context.Background(), input())
	f.svc.Reserve = time.Hour // every deadline is near
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, done, err := f.svc.Launch(ctx, c.ID, "")
	if err != nil || done || got.Status != campaigns.Launching || got.Launch.Written != 0 || !got.Launch.Snapshot {
		t.Fatalf("near the deadline: %+v %v %v", got.Launch, done, err)
	}
	f.svc.Reserve = 0
	if got, done, err = f.svc.Launch(context.Background(), c.ID, ""); err != nil || !done || got.Launch.Written != 40 {
		t.Fatalf("continued: %+v %v %v", got.Launch, done, err)
	}
}

func TestAnnouncementRetriedAfterALostAnswerKeepsItsID(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(5)
	c, _ := f.svc.Create(ctx, input())
	f.bus.FailNext(errs.E(errs.Transient, "timeout"), true)
	if _, _, err := f.svc.Launch(ctx, c.ID, ""); err == nil {
		t.Fatal("a failed publish finished the launch")
	}
	if _, done, err := f.svc.Launch(ctx, c.ID, ""); err != nil || !done {
		t.Fatal(err)
	}
	ev := f.bus.OfType(service.TypeLaunched)
	if len(ev) != 2 || string(ev[0].Detail) != string(ev[1].Detail) || !ev[0].Time.Equal(ev[1].Time) {
		t.Fatalf("the retried announcement differs: %v", ev)
	}
}

func TestExplicitListIsReadByKey(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(20)
	in := input()
	in.Audience = campaigns.AudienceInput{CustomerIDs: []string{"c-001", "c-002", "c-404"}}
	c, err := f.svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err = f.svc.Launch(ctx, c.ID, ""); err != nil || c.Launch.Members != 2 {
		t.Fatalf("launch: %+v %v", c.Launch, err)
	}
}

func TestDraftsOnlyChangeAndDelete(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(3)
	c, _ := f.svc.Create(ctx, input())
	name := "Renamed"
	if got, err := f.svc.Update(ctx, c.ID, campaigns.Patch{Name: &name}); err != nil || got.Name != name {
		t.Fatalf("patch: %v", err)
	}
	bad := []string{"whales"}
	if _, err := f.svc.Update(ctx, c.ID, campaigns.Patch{Audience: &campaigns.AudienceInput{Segments: bad}}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("bad audience: %v", err)
	}
	if _, _, err := f.svc.Launch(ctx, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Update(ctx, c.ID, campaigns.Patch{Name: &name}); !errs.Is(err, errs.Conflict) {
		t.Fatalf("patch after launch: %v", err)
	}
	if err := f.svc.Delete(ctx, c.ID); !errs.Is(err, errs.Conflict) {
		t.Fatalf("delete after launch: %v", err)
	}
	other, _ := f.svc.Create(ctx, input())
	if err := f.svc.Delete(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, other.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted draft: %v", err)
	}
}

func TestAudienceShowsContactsOnlyWithPIIReadAndAudits(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(12)
	c, _ := f.svc.Create(ctx, input())
	if _, err := f.svc.Audience(ctx, service.Caller{}, c.ID, campaigns.Treatment, 10, ""); !errs.Is(err, errs.Conflict) {
		t.Fatalf("audience of a draft: %v", err)
	}
	if _, _, err := f.svc.Launch(ctx, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.people.Erase("c-003")
	analyst := service.Caller{Principal: auth.Principal{KeyID: "analystkeyaaaaaa", Scopes: []auth.Scope{auth.CampaignsRead}, Valid: true}, RequestID: "r-1"}
	page, err := f.svc.Audience(ctx, analyst, c.ID, campaigns.Treatment, 100, "")
	if err != nil || !page.PIIMasked || len(page.Members) == 0 {
		t.Fatalf("analyst: %+v %v", page, err)
	}
	for _, m := range page.Members {
		if m.Contact != nil || m.CustomerID == "c-003" {
			t.Fatalf("analyst sees %+v", m)
		}
	}
	crm := service.Caller{Principal: auth.Principal{KeyID: "crmkeyaaaaaaaaaa", Scopes: []auth.Scope{auth.CampaignsRead, auth.PIIRead}, Valid: true}, RequestID: "r-2"}
	page, err = f.svc.Audience(ctx, crm, c.ID, campaigns.Treatment, 100, "")
	if err != nil || page.PIIMasked {
		t.Fatalf("crm: %+v %v", page, err)
	}
	for _, m := range page.Members {
		if m.Contact == nil || m.Contact.Email != m.CustomerID+"@example.com" || m.Contact.Phone != "" {
			t.Fatalf("crm sees %+v; want the email only", m)
		}
		entries, _ := f.audit.List(ctx, audit.Query{Target: audit.CustomerTarget(m.CustomerID), Limit: 10})
		if len(entries.Entries) != 1 || entries.Entries[0].Action != audit.PIIRead || entries.Entries[0].KeyID != "crmkeyaaaaaaaaaa" {
			t.Fatalf("audit of %s: %+v", m.CustomerID, entries)
		}
	}
}

func TestReportMeasuresTheWindowAndCompletesOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ids := f.seed(40)
	in := input()
	days := 14
	in.AttributionDays, in.Cost = &days, "100.00"
	c, _ := f.svc.Create(ctx, in)
	if _, err := f.svc.ComputeReport(ctx, c.ID); !errs.Is(err, errs.Conflict) {
		t.Fatalf("report of a draft: %v", err)
	}
	if _, _, err := f.svc.Launch(ctx, c.ID, "2026-11-10"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Report(ctx, c.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("report before computing: %v", err)
	}
	// Every member buys once in the window; one customer is erased since.
	for i, id := range ids {
		f.people.Put(memory.Record{Candidate: campaigns.Candidate{CustomerID: id, Consent: emailOK,
			PurchaseDays: map[string]customers.Amounts{"2026-10-01": {"GBP": 1000}, "2026-11-12": {"GBP": int64(100 + i)}}}})
	}
	f.people.Erase(ids[0])
	r, err := f.svc.ComputeReport(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := r.Stats.Members
	if !r.Provisional || r.Erased != 1 || n.Treatment+n.Holdout != 39 || r.Stats.Conversion.Treatment.Conversions != n.Treatment ||
		r.WindowStart != "2026-11-10" || r.WindowEnd != "2026-11-24" || r.Cost != "100.00" {
		t.Fatalf("open window: %+v", r)
	}
	if got, _ := f.svc.Get(ctx, c.ID); got.Status != campaigns.Running || len(f.bus.OfType(service.TypeCompleted)) != 0 {
		t.Fatal("completed while the window is open")
	}
	*f.now = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for range 2 {
		if r, err = f.svc.ComputeReport(ctx, c.ID); err != nil || r.Provisional {
			t.Fatalf("closed window: %+v %v", r, err)
		}
	}
	got, _ := f.svc.Get(ctx, c.ID)
	if got.Status != campaigns.Completed || len(f.bus.OfType(service.TypeCompleted)) != 1 {
		t.Fatalf("status %s, %d completed events", got.Status, len(f.bus.OfType(service.TypeCompleted)))
	}
	stored, err := f.svc.Report(ctx, c.ID)
	if err != nil || !stored.AsOf.Equal(*f.now) {
		t.Fatalf("stored report: %+v %v", stored, err)
	}
}

func TestConcurrentLaunchesAgree(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(50)
	c, _ := f.svc.Create(ctx, input())
	const callers = 4
	var wg sync.WaitGroup
	errsOf := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			_, done, err := f.svc.Launch(ctx, c.ID, "")
			if err == nil && !done {
				err = errors.New("not done")
			}
			errsOf[i] = err
		})
	}
	wg.Wait()
	for i, err := range errsOf {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	got, _ := f.svc.Get(ctx, c.ID)
	ms := f.members(t, c.ID)
	if got.Status != campaigns.Running || got.Launch.Members != 50 || len(ms) != 50 {
		t.Fatalf("%s, %d members recorded, %d stored", got.Status, got.Launch.Members, len(ms))
	}
	for _, m := range ms {
		if m.Arm != campaigns.Assign(c.ID, m.CustomerID, c.Holdout) {
			t.Fatalf("%s in the wrong arm", m.CustomerID)
		}
	}
	for _, e := range f.bus.OfType(service.TypeLaunched) {
		if !strings.Contains(string(e.Detail), `"event_id":"campaign.launched:`+c.ID+`"`) {
			t.Fatalf("announcement %s", e.Detail)
		}
	}
}

func TestRefreshContinuesLaunchesAndRecomputesOpenReports(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.seed(30)
	launch := func(asOf string) *campaigns.Campaign {
		c, _ := f.svc.Create(ctx, input())
		if _, _, err := f.svc.Launch(ctx, c.ID, asOf); err != nil {
			t.Fatal(err)
		}
		return c
	}
	open, closed := launch("2026-11-15"), launch("2026-10-01")
	if _, err := f.svc.Stop(ctx, closed.ID); err != nil {
		t.Fatal(err)
	}
	abandoned, _ := f.svc.Create(ctx, input())
	crashing := *f.svc
	crashing.Members = &failingMembers{Members: f.store, left: 1}
	if _, _, err := crashing.Launch(ctx, abandoned.ID, ""); !errors.Is(err, errCrash) {
		t.Fatalf("crash: %v", err)
	}
	draft, _ := f.svc.Create(ctx, input())

	res, err := f.svc.Refresh(ctx)
	if err != nil || res.Launches != 1 || res.Reports != 2 || res.Completed != 1 || res.Failed != 0 || res.Left != 0 {
		t.Fatalf("refresh: %+v %v", res, err)
	}
	for id, want := range map[string]campaigns.Status{open.ID: campaigns.Running, closed.ID: campaigns.Completed,
		abandoned.ID: campaigns.Running, draft.ID: campaigns.Draft} {
		if c, _ := f.svc.Get(ctx, id); c.Status != want {
			t.Errorf("%s is %s, want %s", id, c.Status, want)
		}
	}
	// The next run measures the open and the newly launched campaign; the
	// completed one is done.
	if res, err = f.svc.Refresh(ctx); err != nil || res.Reports != 2 || res.Completed != 0 || res.Launches != 0 {
		t.Fatalf("second refresh: %+v %v", res, err)
	}
	if n := len(f.bus.OfType(service.TypeCompleted)); n != 1 {
		t.Fatalf("%d campaign.completed events", n)
	}
}
