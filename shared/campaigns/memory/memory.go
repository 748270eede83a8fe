// Package memory is the in-memory twin of package dynamo: the ports of
// the campaigns service (Campaigns, Members and Reports in Store; the
// customer records audiences are drawn from in Customers) with the same
// semantics: versioned read-modify-write, newest-first listing and
// members by arm with opaque cursors, a snapshot that must be complete to
// be read. The suite in package contract holds both to the same
// behaviour. It is for tests and local runs; everything is safe for
// concurrent use and the zero values are empty stores.
package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"tailor/shared/campaigns"
	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// Store keeps campaigns, their snapshots, members and reports.
type Store struct {
	mu        sync.Mutex
	campaigns map[string]*campaigns.Campaign
	snapshots map[string]map[string][]campaigns.Member // campaign -> snapshot id -> members
	members   map[string]map[string]campaigns.Arm      // campaign -> customer -> arm
	reports   map[string]campaigns.Report
}

func (s *Store) init() {
	if s.campaigns == nil {
		s.campaigns = map[string]*campaigns.Campaign{}
		s.snapshots = map[string]map[string][]campaigns.Member{}
		s.members = map[string]map[string]campaigns.Arm{}
		s.reports = map[string]campaigns.Report{}
	}
}

// Create stores a new campaign; an existing id is a Conflict error.
func (s *Store) Create(_ context.Context, c *campaigns.Campaign) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if _, ok := s.campaigns[c.ID]; ok {
		return errs.E(errs.Conflict, fmt.Sprintf("campaign %s already exists", c.ID))
	}
	s.campaigns[c.ID] = c.Clone()
	return nil
}

// Get returns the campaign, or a NotFound error.
func (s *Store) Get(_ context.Context, campaignID string) (*campaigns.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[campaignID]
	if !ok {
		return nil, campaigns.NotFound(campaignID)
	}
	return c.Clone(), nil
}

// List returns a page of campaigns, newest first, without customer ids.
// As with a DynamoDB Query, a full page carries a cursor even when
// nothing follows it.
func (s *Store) List(_ context.Context, limit int, cursor string) (campaigns.Page, error) {
	if limit < 1 {
		return campaigns.Page{}, fmt.Errorf("list campaigns: limit %d is below 1", limit)
	}
	after := ""
	if cursor != "" {
		var c campaigns.ListCursor
		if !ddb.OpenCursor(cursor, &c) || !c.Valid() {
			return campaigns.Page{}, campaigns.ErrCursor
		}
		after = c.Key
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := map[string]*campaigns.Campaign{}
	for _, c := range s.campaigns {
		keys[campaigns.ListKey(c)] = c
	}
	page := campaigns.Page{Campaigns: []*campaigns.Campaign{}}
	for _, k := range slices.Backward(slices.Sorted(maps.Keys(keys))) {
		if after != "" && k >= after {
			continue
		}
		c := keys[k].Clone()
		c.Audience.CustomerIDs = nil
		page.Campaigns = append(page.Campaigns, c)
		if len(page.Campaigns) == limit {
			page.Next = ddb.SealCursor(campaigns.ListCursor{Key: k})
			break
		}
	}
	return page, nil
}

// Update runs change on a copy of the stored campaign and stores the
// result when change moved its version.
func (s *Store) Update(_ context.Context, campaignID string, change func(*campaigns.Campaign) error) (*campaigns.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.campaigns[campaignID]
	if !ok {
		return nil, campaigns.NotFound(campaignID)
	}
	next := cur.Clone()
	if err := change(next); err != nil {
		return nil, err
	}
	if next.Version != cur.Version {
		s.campaigns[campaignID] = next.Clone()
	}
	return next.Clone(), nil
}

// Delete removes a campaign still at version and everything stored with
// it.
func (s *Store) Delete(_ context.Context, campaignID string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.campaigns[campaignID]
	switch {
	case !ok:
		return campaigns.NotFound(campaignID)
	case cur.Version != version:
		return errs.E(errs.Conflict, fmt.Sprintf("campaign %s changed since version %d", campaignID, version))
	}
	delete(s.campaigns, campaignID)
	delete(s.snapshots, campaignID)
	delete(s.members, campaignID)
	delete(s.reports, campaignID)
	return nil
}

// SaveSnapshot stores a materialised audience.
func (s *Store) SaveSnapshot(_ context.Context, campaignID, snapshotID string, members []campaigns.Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.snapshots[campaignID] == nil {
		s.snapshots[campaignID] = map[string][]campaigns.Member{}
	}
	s.snapshots[campaignID][snapshotID] = slices.Clone(members)
	return nil
}

// Snapshot returns the first n members of a stored snapshot.
func (s *Store) Snapshot(_ context.Context, campaignID, snapshotID string, n int) ([]campaigns.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, ok := s.snapshots[campaignID][snapshotID]
	if !ok || len(snap) < n {
		return nil, errs.E(errs.NotFound, fmt.Sprintf("the audience snapshot of campaign %s is missing", campaignID))
	}
	return slices.Clone(snap[:n]), nil
}

// DropSnapshot deletes every snapshot of the campaign.
func (s *Store) DropSnapshot(_ context.Context, campaignID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snapshots, campaignID)
	return nil
}

// Put stores members.
func (s *Store) Put(_ context.Context, campaignID string, members []campaigns.Member) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.members[campaignID] == nil {
		s.members[campaignID] = map[string]campaigns.Arm{}
	}
	for _, m := range members {
		s.members[campaignID][m.CustomerID] = m.Arm
	}
	return nil
}

// Arm lists a page of an arm's members in customer id order.
func (s *Store) Arm(_ context.Context, campaignID string, arm campaigns.Arm, limit int, cursor string) (campaigns.MemberPage, error) {
	if limit < 1 {
		return campaigns.MemberPage{}, fmt.Errorf("list members: limit %d is below 1", limit)
	}
	after := ""
	if cursor != "" {
		var c campaigns.MemberCursor
		if !ddb.OpenCursor(cursor, &c) || !c.Valid(campaignID, arm) {
			return campaigns.MemberPage{}, campaigns.ErrCursor
		}
		after = c.CustomerID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	page := campaigns.MemberPage{Members: []campaigns.Member{}}
	ms := s.members[campaignID]
	for _, id := range slices.Sorted(maps.Keys(ms)) {
		if ms[id] != arm || id <= after {
			continue
		}
		page.Members = append(page.Members, campaigns.Member{CustomerID: id, Arm: arm})
		if len(page.Members) == limit {
			page.Next = ddb.SealCursor(campaigns.MemberCursor{CampaignID: campaignID, Arm: arm, CustomerID: id})
			break
		}
	}
	return page, nil
}

// All hands every member of both arms to fn in one page.
func (s *Store) All(_ context.Context, campaignID string, fn func([]campaigns.Member) error) error {
	s.mu.Lock()
	ms := s.members[campaignID]
	page := make([]campaigns.Member, 0, len(ms))
	for _, id := range slices.Sorted(maps.Keys(ms)) {
		page = append(page, campaigns.Member{CustomerID: id, Arm: ms[id]})
	}
	s.mu.Unlock()
	if len(page) == 0 {
		return nil
	}
	return fn(page)
}

// SaveReport replaces the campaign's latest report.
func (s *Store) SaveReport(_ context.Context, r campaigns.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.reports[r.CampaignID] = r
	return nil
}

// Report returns the latest report, or NotFound before the first.
func (s *Store) Report(_ context.Context, campaignID string) (campaigns.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reports[campaignID]
	if !ok {
		return campaigns.Report{}, errs.E(errs.NotFound, fmt.Sprintf("campaign %s has no report yet; POST to /v1/campaigns/%s/report computes one", campaignID, campaignID))
	}
	return r, nil
}

// Record is a customer record as Customers holds it.
type Record struct {
	campaigns.Candidate
	Contact campaigns.Contact
	// Campaigns is the aggregates' engagement per campaign id.
	Campaigns map[string]customers.CampaignEngagement
}

// Customers is the customer records audiences are drawn from.
type Customers struct {
	mu   sync.Mutex
	recs map[string]Record
	// PageSize is the records per Scan page; 100 when 0.
	PageSize int
}

// Put stores a record, replacing the customer's earlier one.
func (s *Customers) Put(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = map[string]Record{}
	}
	s.recs[r.CustomerID] = clone(r)
}

// Erase leaves the customer's tombstone, as erasure does.
func (s *Customers) Erase(customerID string) {
	s.Put(Record{Candidate: campaigns.Candidate{CustomerID: customerID, Erased: true}})
}

func clone(r Record) Record {
	r.Consent = maps.Clone(r.Consent)
	r.Tags = slices.Clone(r.Tags)
	if r.Scores != nil {
		sc := *r.Scores
		r.Scores = &sc
	}
	days := make(map[string]customers.Amounts, len(r.PurchaseDays))
	for d, am := range r.PurchaseDays {
		days[d] = maps.Clone(am)
	}
	r.PurchaseDays = days
	camps := make(map[string]customers.CampaignEngagement, len(r.Campaigns))
	for id, e := range r.Campaigns {
		if e.Rating != nil {
			a := *e.Rating
			e.Rating = &a
		}
		if e.NPS != nil {
			a := *e.NPS
			e.NPS = &a
		}
		camps[id] = e
	}
	r.Campaigns = camps
	return r
}

// Scan hands every record to fn, a page at a time, in id order.
func (s *Customers) Scan(ctx context.Context, fn func([]campaigns.Candidate) error) error {
	size := s.PageSize
	if size <= 0 {
		size = 100
	}
	s.mu.Lock()
	all := make([]campaigns.Candidate, 0, len(s.recs))
	for _, id := range slices.Sorted(maps.Keys(s.recs)) {
		all = append(all, clone(s.recs[id]).Candidate)
	}
	s.mu.Unlock()
	for page := range slices.Chunk(all, size) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
	}
	return nil
}

// Candidates returns the records of the named customers that exist.
func (s *Customers) Candidates(_ context.Context, customerIDs []string) ([]campaigns.Candidate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []campaigns.Candidate
	for _, id := range dedup(customerIDs) {
		if r, ok := s.recs[id]; ok {
			out = append(out, clone(r).Candidate)
		}
	}
	return out, nil
}

// Outcomes returns the per-day purchases and the engagement with the
// campaign of the named customers that exist and are not erased.
func (s *Customers) Outcomes(_ context.Context, campaignID string, customerIDs []string) (map[string]campaigns.MemberRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]campaigns.MemberRecord{}
	for _, id := range customerIDs {
		if r, ok := s.recs[id]; ok && !r.Erased {
			c := clone(r)
			m := campaigns.MemberRecord{PurchaseDays: c.PurchaseDays}
			if e, ok := c.Campaigns[campaignID]; ok {
				m.Engagement = &e
			}
			out[id] = m
		}
	}
	return out, nil
}

// Contacts returns the contact details of the named customers that exist
// and are not erased (empty unless open).
func (s *Customers) Contacts(_ context.Context, customerIDs []string, open bool) (map[string]campaigns.Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]campaigns.Contact{}
	for _, id := range customerIDs {
		r, ok := s.recs[id]
		if !ok || r.Erased {
			continue
		}
		if open {
			out[id] = r.Contact
		} else {
			out[id] = campaigns.Contact{}
		}
	}
	return out, nil
}

func dedup(ids []string) []string {
	out := slices.Clone(ids)
	slices.SortFunc(out, strings.Compare)
	return slices.Compact(out)
}
