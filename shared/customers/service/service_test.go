package service_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"tailor/shared/campaigns"
	campaignsmem "tailor/shared/campaigns/memory"
	"tailor/shared/customers"
	"tailor/shared/customers/memory"
	"tailor/shared/customers/service"
	"tailor/shared/events"
	"tailor/shared/platform/audit"
	auditmem "tailor/shared/platform/audit/memory"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/pii"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// history holds each customer's event history, newest first, paged by
// offset.
type history struct{ events map[string][]events.Event }

func (h *history) List(_ context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error) {
	from := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil {
			return events.HistoryPage{}, errs.E(errs.Invalid, "bad cursor")
		}
		from = n
	}
	mine := h.events[customerID]
	to := min(from+q.Limit, len(mine))
	page := events.HistoryPage{Events: slices.Clone(mine[from:to])}
	if to < len(mine) {
		page.Next = strconv.Itoa(to)
	}
	return page, nil
}

type fixture struct {
	svc     *service.Service
	table   *memory.Table
	records *memory.Customers
	audit   *auditmem.Audit
	history *history
	// campaigns holds campaign members: the customers service reaches
	// them through its Memberships port.
	campaigns *campaignsmem.Store
}

func newFixture(t *testing.T) *fixture {
	k := func() []byte { b := make([]byte, 32); _, _ = rand.Read(b); return b }
	keys, err := pii.NewLocalKeys([][]byte{k()}, k())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{table: memory.NewTable(), audit: &auditmem.Audit{}, history: &history{events: map[string][]events.Event{}},
		campaigns: &campaignsmem.Store{}}
	f.records = &memory.Customers{Table: f.table, Index: pii.NewIndex(keys)}
	f.svc = &service.Service{Records: f.records, Privacy: &memory.Privacy{Table: f.table, Now: func() time.Time { return t0 }},
		Audit: f.audit, History: f.history, Memberships: &campaignsmem.Memberships{Store: f.campaigns}, Now: func() time.Time { return t0 }}
	if err := f.svc.Check(); err != nil {
		t.Fatal(err)
	}
	return f
}

func caller(key string, scopes ...auth.Scope) service.Caller {
	return service.Caller{Principal: auth.Principal{KeyID: key, Scopes: scopes, Valid: true}, RequestID: "req-" + key}
}

var (
	writer = caller("writerkeyaaaaaaa", auth.CustomersWrite)
	reader = caller("readerkeyaaaaaaa", auth.CustomersRead, auth.PIIRead)
	admin  = caller("adminkeyaaaaaaaa", auth.Admin)
)

// trail returns the audit entries about the customer, newest first.
func (f *fixture) trail(t *testing.T, customerID string) []audit.Entry {
	t.Helper()
	p, err := f.audit.List(context.Background(), audit.Query{Target: audit.CustomerTarget(customerID), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Entries
}

func actions(es []audit.Entry) []audit.Action {
	var out []audit.Action
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func (f *fixture) create(t *testing.T, customerID string, p customers.Profile, tags ...string) {
	t.Helper()
	_, created, err := f.svc.Replace(context.Background(), writer, customerID, customers.Replacement{Profile: p, Tags: tags}, service.Precondition{})
	if err != nil || !created {
		t.Fatalf("create %s: created=%v %v", customerID, created, err)
	}
}

// racing is a record store where another writer changes the record
// between the service's read and its write, on the first `races` reads.
type racing struct {
	service.Records
	races       int
	gets, saves atomic.Int64
}

func (r *racing) Get(ctx context.Context, customerID string) (*customers.Customer, error) {
	c, err := r.Records.Get(ctx, customerID)
	if n := r.gets.Add(1); err == nil && int(n) <= r.races {
		other, aerr := customers.Apply(c, customers.Patch{Tags: &customers.TagsPatch{Add: []string{fmt.Sprintf("other-%d", n)}}}, t0)
		if aerr != nil {
			return nil, aerr
		}
		if serr := r.Records.Save(ctx, other, c.Version); serr != nil {
			return nil, serr
		}
	}
	return c, err
}

func (r *racing) Save(ctx context.Context, c *customers.Customer, expected int64) error {
	r.saves.Add(1)
	return r.Records.Save(ctx, c, expected)
}

// raceUpdate adds the tag "mine" to c-1 with no precondition while
// another writer changes the record after each of the first races reads.
func raceUpdate(t *testing.T, races int) (*racing, *customers.Customer, *customers.Customer, error) {
	f := newFixture(t)
	f.create(t, "c-1", customers.Profile{Name: "Ada"})
	race := &racing{Records: f.records, races: races}
	f.svc.Records = race
	c, err := f.svc.Update(context.Background(), writer, "c-1",
		customers.Patch{Tags: &customers.TagsPatch{Add: []string{"mine"}}}, service.Precondition{})
	stored, serr := f.records.Get(context.Background(), "c-1")
	if serr != nil {
		t.Fatal(serr)
	}
	return race, c, stored, err
}

func TestRetryOnVersionConflictKeepsBothChanges(t *testing.T) {
	race, c, stored, err := raceUpdate(t, 1)
	if err != nil {
		t.Fatal(err)
	}
	if race.gets.Load() != 2 || race.saves.Load() != 2 {
		t.Fatalf("%d reads and %d writes, want 2 of each (one retry)", race.gets.Load(), race.saves.Load())
	}
	if !slices.Equal(stored.Tags, []string{"mine", "other-1"}) || stored.Version != 3 || c.Version != 3 ||
		!slices.Equal(c.Tags, stored.Tags) {
		t.Fatalf("stored %+v, answered %+v", stored, c)
	}
}

func TestRetryGivesUpAfterSaveAttempts(t *testing.T) {
	race, _, stored, err := raceUpdate(t, 100)
	if !errs.Is(err, errs.Precondition) || race.saves.Load() != service.SaveAttempts {
		t.Fatalf("after %d writes: %v", race.saves.Load(), err)
	}
	if slices.Contains(stored.Tags, "mine") || stored.Version != 1+service.SaveAttempts {
		t.Fatalf("stored %+v", stored)
	}
}

func TestPreconditionsAreNotRetried(t *testing.T) {
	for _, pre := range []service.Precondition{{IfMatch: true, Version: 1}, {IfNoneMatch: true}} {
		f := newFixture(t)
		if pre.IfMatch {
			f.create(t, "c-1", customers.Profile{Name: "Ada"})
		}
		race := &racing{Records: f.records, races: 100}
		f.svc.Records = race
		// With If-None-Match there is nothing to race on a missing record:
		// another writer creates it first.
		if pre.IfNoneMatch {
			f.create(t, "c-1", customers.Profile{Name: "Grace"})
		}
		_, _, err := f.svc.Replace(context.Background(), writer, "c-1", customers.Replacement{Tags: []string{"mine"}}, pre)
		if !errs.Is(err, errs.Precondition) || race.saves.Load() > 1 {
			t.Fatalf("%+v: %d writes, %v", pre, race.saves.Load(), err)
		}
	}
}

func TestAuditedRecreate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada"}, "vip")
	if _, err := f.svc.Erase(ctx, admin, "c-1"); err != nil {
		t.Fatal(err)
	}
	body := customers.Replacement{Profile: customers.Profile{Name: "Ada"}}
	// Not an admin: refused, nothing recorded, the tombstone stays.
	_, _, err := f.svc.Replace(ctx, writer, "c-1", body, service.Precondition{})
	if !errs.Is(err, errs.Conflict) || !errors.Is(err, customers.ErrErased) {
		t.Fatalf("re-create by a writer: %v", err)
	}
	if _, ok := f.table.TombstoneExpiry("c-1"); !ok {
		t.Fatal("a refused re-create cleared the tombstone")
	}
	if got := actions(f.trail(t, "c-1")); !slices.Equal(got, []audit.Action{audit.CustomerErase}) {
		t.Fatalf("trail after refusal: %v", got)
	}
	// An admin: recorded, tombstone cleared, a fresh record.
	c, created, err := f.svc.Replace(ctx, admin, "c-1", body, service.Precondition{})
	if err != nil || !created || c.Version != 1 || len(c.Tags) != 0 {
		t.Fatalf("re-create by an admin: %+v created=%v %v", c, created, err)
	}
	if _, ok := f.table.TombstoneExpiry("c-1"); ok {
		t.Fatal("tombstone left")
	}
	trail := f.trail(t, "c-1")
	if got := actions(trail); !slices.Equal(got, []audit.Action{audit.PIIRead, audit.CustomerRecreate, audit.CustomerErase}) &&
		!slices.Equal(got, []audit.Action{audit.CustomerRecreate, audit.PIIRead, audit.CustomerErase}) {
		t.Fatalf("trail: %v", got)
	}
	for _, e := range trail {
		if e.Action == audit.CustomerRecreate && (e.KeyID != admin.Principal.KeyID || e.RequestID != admin.RequestID || !e.At.Equal(t0)) {
			t.Fatalf("re-create entry %+v", e)
		}
	}
	if got, err := f.records.Get(ctx, "c-1"); err != nil || got.Profile.Name != "Ada" {
		t.Fatalf("stored %+v, %v", got, err)
	}
}

// failingClear is a Privacy whose ClearTombstone fails.
type failingClear struct{ service.Privacy }

func (failingClear) ClearTombstone(context.Context, string) error {
	return errs.E(errs.Transient, "unavailable")
}

func TestRecreateIsRecordedBeforeTheTombstoneGoes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada"})
	if _, err := f.svc.Erase(ctx, admin, "c-1"); err != nil {
		t.Fatal(err)
	}
	f.svc.Privacy = failingClear{f.svc.Privacy}
	if _, _, err := f.svc.Replace(ctx, admin, "c-1", customers.Replacement{}, service.Precondition{}); !errs.Is(err, errs.Transient) {
		t.Fatalf("replace: %v", err)
	}
	if got := actions(f.trail(t, "c-1")); !slices.Equal(got, []audit.Action{audit.CustomerRecreate, audit.CustomerErase}) {
		t.Fatalf("trail: %v", got)
	}
}

// failingErase is a Privacy whose Erase fails.
type failingErase struct{ service.Privacy }

func (failingErase) Erase(context.Context, string) (customers.Erasure, error) {
	return customers.Erasure{}, errs.E(errs.Transient, "unavailable")
}

func TestErasureIsRecordedFirst(t *testing.T) {
	f := newFixture(t)
	f.svc.Privacy = failingErase{f.svc.Privacy}
	if _, err := f.svc.Erase(context.Background(), admin, "c-1"); !errs.Is(err, errs.Transient) {
		t.Fatalf("erase: %v", err)
	}
	if got := f.trail(t, "c-1"); len(got) != 1 || got[0].Action != audit.CustomerErase || got[0].KeyID != admin.Principal.KeyID {
		t.Fatalf("trail: %+v", got)
	}
}

func TestViewMasksOrAudits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada Lovelace", Email: "ada@example.com", City: "London", Country: "GB"})
	f.create(t, "c-2", customers.Profile{Country: "GB"})
	before := len(f.trail(t, "c-1"))
	c, err := f.svc.Get(ctx, caller("plainkeyaaaaaaaa", auth.CustomersRead), "c-1")
	if err != nil || !c.PIIMasked || c.Profile.Email == "ada@example.com" || c.Profile.City != "" || c.Profile.Country != "GB" {
		t.Fatalf("masked view %+v, %v", c, err)
	}
	if len(f.trail(t, "c-1")) != before {
		t.Fatal("a masked read was audited")
	}
	c, err = f.svc.Get(ctx, reader, "c-1")
	if err != nil || c.PIIMasked || c.Profile.Email != "ada@example.com" || c.Profile.City != "London" {
		t.Fatalf("whole view %+v, %v", c, err)
	}
	trail := f.trail(t, "c-1")
	if len(trail) != before+1 || trail[0].Action != audit.PIIRead || trail[0].KeyID != reader.Principal.KeyID {
		t.Fatalf("trail %+v", trail)
	}
	if _, err := f.svc.Get(ctx, reader, "c-2"); err != nil {
		t.Fatal(err)
	}
	if got := f.trail(t, "c-2"); len(got) != 0 {
		t.Fatalf("a record without personal data was audited: %+v", got)
	}
	if _, err := f.svc.Get(ctx, reader, "c-9"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestEventsHideFreeTextFromKeysWithoutPIIRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.history.events["c-1"] = []events.Event{
		{ID: "e2", Type: events.Search, CustomerID: "c-1", Query: "red shoes", Time: t0.Add(time.Minute)},
		{ID: "e1", Type: events.View, CustomerID: "c-1", ItemID: "sku-1", Properties: `{"size":"9"}`, Time: t0},
	}
	f.history.events["c-2"] = []events.Event{{ID: "e0", Type: events.View, CustomerID: "c-2", ItemID: "sku-1", Time: t0}}
	q := events.HistoryQuery{Limit: 10}
	page, err := f.svc.Events(ctx, caller("plainkeyaaaaaaaa", auth.CustomersRead), "c-1", q)
	if err != nil || len(page.Events) != 2 || page.Events[0].Query != "" || page.Events[1].Properties != "" || page.Events[1].ItemID != "sku-1" {
		t.Fatalf("without pii:read: %+v, %v", page, err)
	}
	if got := f.trail(t, "c-1"); len(got) != 0 {
		t.Fatalf("audited without showing: %+v", got)
	}
	page, err = f.svc.Events(ctx, reader, "c-1", q)
	if err != nil || page.Events[0].Query != "red shoes" || page.Events[1].Properties != `{"size":"9"}` {
		t.Fatalf("with pii:read: %+v, %v", page, err)
	}
	if got := f.trail(t, "c-1"); len(got) != 1 || got[0].Action != audit.PIIRead {
		t.Fatalf("trail: %+v", got)
	}
	if _, err := f.svc.Events(ctx, reader, "c-2", q); err != nil {
		t.Fatal(err)
	}
	if got := f.trail(t, "c-2"); len(got) != 0 {
		t.Fatalf("a page without free text was audited: %+v", got)
	}
}

// TestFeedbackCommentIsFreeText: a feedback comment is shown and audited
// like the other free text, and the export carries it whole.
func TestFeedbackCommentIsFreeText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada Lovelace"})
	score := 3
	f.history.events["c-1"] = []events.Event{
		{ID: "e2", Type: events.Feedback, CustomerID: "c-1", Rating: 2, NPS: &score, Topic: events.Complaint,
			Comment: "Ring 07700 900123, the parcel never came", CampaignID: "spring", Time: t0.Add(time.Minute)},
		{ID: "e1", Type: events.MessageOpened, CustomerID: "c-1", CampaignID: "spring", Time: t0},
	}
	q := events.HistoryQuery{Limit: 10}
	page, err := f.svc.Events(ctx, caller("plainkeyaaaaaaaa", auth.CustomersRead), "c-1", q)
	if err != nil || len(page.Events) != 2 || page.Events[0].Comment != "" || page.Events[0].Rating != 2 ||
		*page.Events[0].NPS != 3 || page.Events[0].Topic != events.Complaint || page.Events[1].CampaignID != "spring" {
		t.Fatalf("without pii:read: %+v, %v", page, err)
	}
	if got := f.trail(t, "c-1"); len(got) != 0 {
		t.Fatalf("audited without showing: %+v", got)
	}
	page, err = f.svc.Events(ctx, reader, "c-1", q)
	if err != nil || page.Events[0].Comment != "Ring 07700 900123, the parcel never came" {
		t.Fatalf("with pii:read: %+v, %v", page, err)
	}
	if got := actions(f.trail(t, "c-1")); !slices.Equal(got, []audit.Action{audit.PIIRead}) {
		t.Fatalf("trail: %v", got)
	}
	out, err := f.svc.Export(ctx, reader, "c-1")
	if err != nil || len(out.Events) != 2 || out.Events[0].Comment != "Ring 07700 900123, the parcel never came" ||
		out.Events[0].Rating != 2 || *out.Events[0].NPS != 3 || out.Events[0].CampaignID != "spring" || out.Events[0].Topic != events.Complaint {
		t.Fatalf("export %+v, %v", out, err)
	}
}

func TestFindByEmailAuditsEachCustomerFound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Email: "ada@example.com"})
	f.create(t, "c-2", customers.Profile{Email: "Ada@Example.com"})
	f.create(t, "c-3", customers.Profile{Email: "grace@example.com"})
	found, err := f.svc.FindByEmail(ctx, reader, "ada@example.com")
	if err != nil || len(found) != 2 || found[0].PIIMasked || found[0].Profile.Email == "" {
		t.Fatalf("found %+v, %v", found, err)
	}
	for id, want := range map[string]int{"c-1": 1, "c-2": 1, "c-3": 0} {
		n := 0
		for _, e := range f.trail(t, id) {
			if e.Action == audit.CustomerLookup {
				n++
			}
		}
		if n != want {
			t.Fatalf("%s has %d look-up entries, want %d", id, n, want)
		}
	}
}

func TestExportAssemblesEverything(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada Lovelace", Email: "ada@example.com"}, "vip")
	f.table.Link("a-2", "c-1")
	f.table.Link("a-1", "c-1")
	f.table.Link("a-3", "c-2")
	for i := range 450 {
		f.history.events["c-1"] = append(f.history.events["c-1"], events.Event{ID: fmt.Sprintf("e%03d", 449-i), Type: events.Purchase,
			CustomerID: "c-1", ItemID: "sku-1", Quantity: 1, PriceMinor: 1250, Currency: "GBP", OrderID: "o-1",
			Time: t0.Add(-time.Duration(i) * time.Minute)})
	}
	f.history.events["c-2"] = []events.Event{{ID: "x", Type: events.View, CustomerID: "c-2", ItemID: "sku-1", Time: t0}}
	if _, err := f.svc.Get(ctx, reader, "c-1"); err != nil { // one pii.read entry
		t.Fatal(err)
	}
	out, err := f.svc.Export(ctx, reader, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if out.Customer.ID != "c-1" || out.Customer.PIIMasked || out.Customer.Profile.Email != "ada@example.com" ||
		!slices.Equal(out.Customer.Tags, []string{"vip"}) || !out.ExportedAt.Equal(t0) {
		t.Fatalf("customer %+v at %v", out.Customer, out.ExportedAt)
	}
	if len(out.Events) != 450 || out.Events[0].EventID != "e449" || out.Events[449].EventID != "e000" || out.Events[0].Price != "12.50" {
		t.Fatalf("%d events, first %+v", len(out.Events), out.Events[0])
	}
	if !slices.Equal(out.Aliases, []string{"a-1", "a-2"}) {
		t.Fatalf("aliases %v", out.Aliases)
	}
	// The export's own entry is in the document.
	if got := actions(out.Audit); !slices.Contains(got, audit.CustomerExport) || !slices.Contains(got, audit.PIIRead) ||
		len(got) != len(f.trail(t, "c-1")) {
		t.Fatalf("audit %v", got)
	}
}

func TestExportOfNobodyRecordsNothing(t *testing.T) {
	f := newFixture(t)
	out, err := f.svc.Export(context.Background(), reader, "c-9")
	if !errs.Is(err, errs.NotFound) || out != nil {
		t.Fatalf("export: %+v, %v", out, err)
	}
	if got := f.trail(t, "c-9"); len(got) != 0 {
		t.Fatalf("trail %+v", got)
	}
	// An empty history and no aliases are empty lists, not missing ones.
	f.create(t, "c-1", customers.Profile{})
	out, err = f.svc.Export(context.Background(), reader, "c-1")
	if err != nil || out.Events == nil || out.Aliases == nil || len(out.Audit) != 1 {
		t.Fatalf("export: %+v, %v", out, err)
	}
}

func TestExportRefusesAHistoryTooLong(t *testing.T) {
	for _, n := range []int{service.MaxExportEvents, service.MaxExportEvents + 1} {
		f := newFixture(t)
		f.create(t, "c-1", customers.Profile{})
		evs := make([]events.Event, n)
		f.history.events["c-1"] = evs
		for i := range evs {
			evs[i] = events.Event{ID: strconv.Itoa(i), Type: events.View, CustomerID: "c-1", ItemID: "sku-1", Time: t0}
		}
		out, err := f.svc.Export(context.Background(), reader, "c-1")
		switch {
		case n == service.MaxExportEvents && (err != nil || len(out.Events) != n):
			t.Fatalf("%d events: %v", n, err)
		case n > service.MaxExportEvents && !errs.Is(err, errs.TooLarge):
			t.Fatalf("%d events: %v", n, err)
		}
	}
}

func TestExportCutsTheAuditTrail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{})
	for i := range service.MaxExportAudit + 300 {
		if err := f.audit.Record(ctx, audit.Entry{At: t0.Add(-time.Duration(i+1) * time.Second), KeyID: "k",
			Action: audit.PIIRead, Target: audit.CustomerTarget("c-1"), RequestID: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := f.svc.Export(ctx, reader, "c-1")
	if err != nil || len(out.Audit) != service.MaxExportAudit || out.Audit[0].Action != audit.CustomerExport {
		t.Fatalf("%d audit entries, %v", len(out.Audit), err)
	}
}

func TestCheckRefusesAnIncompleteService(t *testing.T) {
	if err := (&service.Service{Records: &memory.Customers{}}).Check(); err == nil {
		t.Fatal("a service without Privacy, Audit, History and Now passed Check")
	}
	if err := newFixture(t).svc.Check(); err != nil {
		t.Fatal(err)
	}
}

// launched stores a launched campaign (started at t0) with the members.
func (f *fixture) launched(t *testing.T, campaignID, name string, members ...campaigns.Member) {
	t.Helper()
	c, err := campaigns.New(campaignID, campaigns.Input{Name: name, Channel: campaigns.Email,
		Audience: campaigns.AudienceInput{CustomerIDs: []string{"c-1"}}, Currency: "GBP"}, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c.Status, c.Launch = campaigns.Running, &campaigns.Launch{AsOf: "2026-11-20", StartedAt: t0, Snapshot: true, Members: len(members)}
	ctx := context.Background()
	if err := f.campaigns.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := f.campaigns.Put(ctx, campaignID, members); err != nil {
		t.Fatal(err)
	}
}

// armOf lists an arm of a campaign, whole.
func (f *fixture) armOf(t *testing.T, campaignID string, arm campaigns.Arm) []string {
	t.Helper()
	p, err := f.campaigns.Arm(context.Background(), campaignID, arm, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range p.Members {
		ids = append(ids, m.CustomerID)
	}
	return ids
}

func TestExportListsAndErasureDeletesCampaignMemberships(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.create(t, "c-1", customers.Profile{Name: "Ada"})
	f.create(t, "c-2", customers.Profile{Name: "Grace"})
	f.launched(t, "cmp-b", "Winter", campaigns.Member{CustomerID: "c-1", Arm: campaigns.Holdout},
		campaigns.Member{CustomerID: "c-2", Arm: campaigns.Holdout})
	f.launched(t, "cmp-a", "Spring", campaigns.Member{CustomerID: "c-1", Arm: campaigns.Treatment},
		campaigns.Member{CustomerID: "c-2", Arm: campaigns.Treatment})
	f.launched(t, "cmp-c", "Other", campaigns.Member{CustomerID: "c-2", Arm: campaigns.Treatment})
	f.history.events["c-1"] = []events.Event{{ID: "fb", Type: events.Feedback, CustomerID: "c-1", Rating: 4, Topic: events.Topic("praise"),
		CampaignID: "cmp-a", Time: t0}}

	out, err := f.svc.Export(ctx, reader, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []customers.CampaignMembership{
		{CampaignID: "cmp-a", Name: "Spring", Channel: "email", Arm: "treatment", AssignedAt: &t0},
		{CampaignID: "cmp-b", Name: "Winter", Channel: "email", Arm: "holdout", AssignedAt: &t0}}
	if !slices.EqualFunc(out.CampaignMemberships, want, func(a, b customers.CampaignMembership) bool {
		return a.CampaignID == b.CampaignID && a.Name == b.Name && a.Channel == b.Channel && a.Arm == b.Arm &&
			a.AssignedAt != nil && a.AssignedAt.Equal(*b.AssignedAt)
	}) {
		t.Fatalf("memberships %+v", out.CampaignMemberships)
	}
	// Feedback is part of the exported history.
	if len(out.Events) != 1 || out.Events[0].Type != events.Feedback || out.Events[0].CampaignID != "cmp-a" || out.Events[0].Rating != 4 {
		t.Fatalf("events %+v", out.Events)
	}

	er, err := f.svc.Erase(ctx, admin, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if er.CampaignMemberships != 2 {
		t.Fatalf("erasure %+v, want 2 campaign memberships", er)
	}
	if got := f.armOf(t, "cmp-a", campaigns.Treatment); !slices.Equal(got, []string{"c-2"}) {
		t.Fatalf("cmp-a treatment after erasure: %v", got)
	}
	if got := f.armOf(t, "cmp-b", campaigns.Holdout); !slices.Equal(got, []string{"c-2"}) {
		t.Fatalf("cmp-b holdout after erasure: %v", got)
	}
	left, err := f.svc.Memberships.List(ctx, "c-1")
	if err != nil || len(left) != 0 {
		t.Fatalf("memberships after erasure: %v %v", left, err)
	}
	// Erasing again finishes nothing more and counts nothing.
	if er, err = f.svc.Erase(ctx, admin, "c-1"); err != nil || er.CampaignMemberships != 0 {
		t.Fatalf("second erasure %+v %v", er, err)
	}
	// The other customer's memberships are untouched.
	if got, err := f.svc.Memberships.List(ctx, "c-2"); err != nil || len(got) != 3 {
		t.Fatalf("c-2 memberships %+v %v", got, err)
	}
}
