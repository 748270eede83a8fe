// Package service is what the campaigns API does: create, change, list
// and delete drafts; launch a campaign (materialise its audience once,
// assign arms, store the members page by page so a launch resumes where a
// crash or a timeout left it); list an arm's members, with contact
// details only for keys with pii:read and every such read audited; stop a
// campaign; and compute its report from the members' purchases with
// package stats. It publishes campaign.launched and campaign.completed on
// the event bus. It reaches storage only through the ports declared here,
// in the campaigns, customers and segments domain types.
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/platform/audit"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

// Campaigns stores campaigns. Implementations must be safe for
// concurrent use.
type Campaigns interface {
	// Create stores a new campaign; an existing id is a Conflict error.
	Create(ctx context.Context, c *campaigns.Campaign) error
	// Get returns the campaign, or a NotFound error.
	Get(ctx context.Context, campaignID string) (*campaigns.Campaign, error)
	// List returns a page of at most limit campaigns, newest first, from
	// cursor (the Next of an earlier page, "" for the first; anything
	// else is an Invalid error). Listed campaigns carry no customer ids.
	List(ctx context.Context, limit int, cursor string) (campaigns.Page, error)
	// Update reads the campaign, lets change modify it and stores the
	// result if the stored version has not moved meanwhile, reading and
	// trying again when it has. A change that leaves Version as it was
	// stores nothing; an error from change is returned as it is.
	Update(ctx context.Context, campaignID string, change func(*campaigns.Campaign) error) (*campaigns.Campaign, error)
	// Delete removes a campaign still at version (a Conflict error when
	// it moved on, NotFound when it is gone) and everything stored with it.
	Delete(ctx context.Context, campaignID string, version int64) error
}

// Members stores a launch's audience snapshot and the members it becomes.
// Implementations must be safe for concurrent use.
type Members interface {
	// SaveSnapshot stores the materialised audience, sorted by customer
	// id, as snapshot snapshotID of the campaign.
	SaveSnapshot(ctx context.Context, campaignID, snapshotID string, members []campaigns.Member) error
	// Snapshot returns the first n members of a stored snapshot (NotFound
	// when it is missing or shorter).
	Snapshot(ctx context.Context, campaignID, snapshotID string, n int) ([]campaigns.Member, error)
	// DropSnapshot deletes every snapshot of the campaign; none is no
	// error.
	DropSnapshot(ctx context.Context, campaignID string) error
	// Put stores members; storing one again changes nothing.
	Put(ctx context.Context, campaignID string, members []campaigns.Member) error
	// Arm lists a page of at most limit members of an arm in customer id
	// order from cursor (as for Campaigns.List).
	Arm(ctx context.Context, campaignID string, arm campaigns.Arm, limit int, cursor string) (campaigns.MemberPage, error)
	// All hands every member of both arms to fn, a page at a time.
	All(ctx context.Context, campaignID string, fn func([]campaigns.Member) error) error
}

// Reports keeps each campaign's latest report. Implementations must be
// safe for concurrent use.
type Reports interface {
	// SaveReport replaces the campaign's latest report.
	SaveReport(ctx context.Context, r campaigns.Report) error
	// Report returns the latest report, or NotFound before the first.
	Report(ctx context.Context, campaignID string) (campaigns.Report, error)
}

// Customers reads the customer records audiences are drawn from and
// reports are measured on. Implementations must be safe for concurrent use.
type Customers interface {
	// Scan hands every customer record to fn, a page at a time; fn may be
	// called from several goroutines at once. Erased customers come with
	// Erased set.
	Scan(ctx context.Context, fn func([]campaigns.Candidate) error) error
	// Candidates returns the records of the named customers that exist.
	Candidates(ctx context.Context, customerIDs []string) ([]campaigns.Candidate, error)
	// Outcomes returns, for each named customer whose record exists and
	// is not erased, the per-day purchases (an empty map when it has
	// none) and the engagement with the campaign (nil when none); the
	// others are absent.
	Outcomes(ctx context.Context, campaignID string, customerIDs []string) (map[string]campaigns.MemberRecord, error)
	// Contacts returns an entry for each named customer whose record
	// exists and is not erased: its email and phone when open is true,
	// an empty Contact otherwise.
	Contacts(ctx context.Context, customerIDs []string, open bool) (map[string]campaigns.Contact, error)
}

// Runs reads the latest segmentation run.
type Runs interface {
	// Latest returns the latest complete run's report, or NotFound
	// before the first run.
	Latest(ctx context.Context) (segments.Report, error)
}

// AuditLog records reads of personal data.
type AuditLog interface {
	// Record appends e; recording the same entry twice keeps the first.
	Record(ctx context.Context, e audit.Entry) error
}

// Service runs the campaigns API's requests. Every field but the tuning
// knobs is required.
type Service struct {
	Campaigns Campaigns
	Members   Members
	Reports   Reports
	Customers Customers
	Runs      Runs
	Audit     AuditLog
	Bus       bus.Publisher
	// Now is the clock of changes, launches and reports.
	Now func() time.Time
	// NewID makes campaign ids; random ones (campaigns.NewCampaignID)
	// when nil.
	NewID func() string
	// LaunchPage is how many members one launch step stores before the
	// launch cursor moves; DefaultLaunchPage when 0.
	LaunchPage int
	// Reserve is the time a launch leaves before the request's deadline,
	// to record its progress and answer; DefaultReserve when 0.
	Reserve time.Duration
}

// Defaults of the tuning knobs.
const (
	DefaultLaunchPage = 2000
	DefaultReserve    = 3 * time.Second
)

// Check reports which dependencies are missing, so a service is refused
// when it is wired rather than on the first request that needs one.
func (s *Service) Check() error {
	var missing []error
	for _, d := range []struct {
		name string
		ok   bool
	}{{"Campaigns", s.Campaigns != nil}, {"Members", s.Members != nil}, {"Reports", s.Reports != nil},
		{"Customers", s.Customers != nil}, {"Runs", s.Runs != nil}, {"Audit", s.Audit != nil},
		{"Bus", s.Bus != nil}, {"Now", s.Now != nil}} {
		if !d.ok {
			missing = append(missing, fmt.Errorf("campaigns service: %s is required", d.name))
		}
	}
	return errors.Join(missing...)
}

// Caller is who makes a request: the API key and the request id its audit
// entries carry.
type Caller struct {
	Principal auth.Principal
	RequestID string
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return campaigns.NewCampaignID(random())
}

func random() [10]byte {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return b
}

// latestRun returns the latest complete segmentation run, nil before the
// first.
func (s *Service) latestRun(ctx context.Context) (*segments.Report, error) {
	run, err := s.Runs.Latest(ctx)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the latest segmentation run: %w", err)
	}
	return &run, nil
}

// checkAudience checks an audience's score rules against the latest run.
func (s *Service) checkAudience(ctx context.Context, a campaigns.Audience) error {
	if !a.UsesScores() {
		return nil
	}
	run, err := s.latestRun(ctx)
	if err != nil {
		return err
	}
	return a.CheckAgainstRun(run)
}

// Create validates in and stores it as a new draft.
func (s *Service) Create(ctx context.Context, in campaigns.Input) (*campaigns.Campaign, error) {
	c, err := campaigns.New(s.newID(), in, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.checkAudience(ctx, c.Audience); err != nil {
		return nil, err
	}
	if err := s.Campaigns.Create(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Get returns the campaign, or a NotFound error.
func (s *Service) Get(ctx context.Context, campaignID string) (*campaigns.Campaign, error) {
	return s.Campaigns.Get(ctx, campaignID)
}

// List returns a page of campaigns, newest first.
func (s *Service) List(ctx context.Context, limit int, cursor string) (campaigns.Page, error) {
	return s.Campaigns.List(ctx, limit, cursor)
}

// Update changes a draft; a launched campaign is a Conflict error.
func (s *Service) Update(ctx context.Context, campaignID string, p campaigns.Patch) (*campaigns.Campaign, error) {
	checked := false
	return s.Campaigns.Update(ctx, campaignID, func(c *campaigns.Campaign) error {
		next, err := campaigns.Apply(c, p, s.now())
		if err != nil {
			return err
		}
		if p.Audience != nil && !checked {
			if err := s.checkAudience(ctx, next.Audience); err != nil {
				return err
			}
			checked = true
		}
		*c = *next
		return nil
	})
}

// Delete removes a draft; a launched campaign is a Conflict error.
func (s *Service) Delete(ctx context.Context, campaignID string) error {
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return err
	}
	if err := c.CheckDeletable(); err != nil {
		return err
	}
	return s.Campaigns.Delete(ctx, campaignID, c.Version)
}

// Stop stops a running campaign (see campaigns.Campaign.Stop).
func (s *Service) Stop(ctx context.Context, campaignID string) (*campaigns.Campaign, error) {
	now := s.now()
	return s.Campaigns.Update(ctx, campaignID, func(c *campaigns.Campaign) error { return c.Stop(now) })
}

// record appends an audit entry of the caller's about a customer.
func (s *Service) record(ctx context.Context, who Caller, action audit.Action, customerID string) error {
	return s.Audit.Record(ctx, audit.Entry{At: s.now(), KeyID: who.Principal.KeyID, Action: action,
		Target: audit.CustomerTarget(customerID), RequestID: who.RequestID})
}
