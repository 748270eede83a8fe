package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
)

// Launch launches a campaign as of asOf (YYYY-MM-DD, "" for today) and
// reports whether the launch is complete. It runs in steps, each recorded
// on the campaign before the next, so any step can be interrupted and the
// launch asked for again:
//
//  1. draft → launching, with the launch day and the segmentation run;
//  2. the audience is materialised once: every customer record is matched
//     against the rules and the channel's consent, erased customers never,
//     and each member is assigned an arm; the sorted list is stored as a
//     snapshot of its own id, and that id and the arm sizes recorded (a
//     crash before that record makes the next attempt materialise again,
//     and nothing was written from the first; of two attempts racing, the
//     first to record wins and both write from its snapshot);
//  3. members are stored from the snapshot page by page, the launch cursor
//     (Launch.Written) moving after each page; storing a member again
//     changes nothing;
//  4. campaign.launched is published (with a stable id: a retry after a
//     crash here publishes the same event again, which subscribers drop),
//     then the campaign is running and the snapshot deleted.
//
// When the request's deadline comes within Reserve, Launch stops after a
// page and answers done=false; asking again continues from the cursor. A
// launched campaign is answered as it is (done=true): its assignment never
// changes. Asking for another day than the launch's is a Conflict.
func (s *Service) Launch(ctx context.Context, campaignID, asOf string) (c *campaigns.Campaign, done bool, err error) {
	now := s.now()
	day, err := campaigns.ParseLaunchDay(asOf, now)
	if err != nil {
		return nil, false, err
	}
	c, err = s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return nil, false, err
	}
	if c.Status.Launched() {
		if asOf != "" && asOf != c.Launch.AsOf {
			return nil, false, errs.E(errs.Conflict, fmt.Sprintf("campaign %s was launched as of %s", c.ID, c.Launch.AsOf))
		}
		return c, true, nil
	}
	if c.Status == campaigns.Draft {
		if c, err = s.startLaunch(ctx, c, day, asOf != ""); err != nil {
			return nil, false, err
		}
	} else if err := c.StartLaunch(day, asOf != "", "", now); err != nil {
		return nil, false, err
	}
	if !c.Launch.Snapshot {
		if c, err = s.snapshot(ctx, c); err != nil {
			return nil, false, err
		}
	}
	if !c.MembersWritten() {
		if c, err = s.writeMembers(ctx, c); err != nil || !c.MembersWritten() {
			return c, false, err
		}
	}
	if c, err = s.announce(ctx, c); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// startLaunch records step 1, checking the audience's score rules against
// the latest segmentation run first.
func (s *Service) startLaunch(ctx context.Context, c *campaigns.Campaign, day string, dayGiven bool) (*campaigns.Campaign, error) {
	run, err := s.latestRun(ctx)
	if err != nil {
		return nil, err
	}
	if c.Audience.UsesScores() {
		if err := c.Audience.CheckAgainstRun(run); err != nil {
			return nil, err
		}
	}
	runID := ""
	if run != nil {
		runID = run.RunID
	}
	now := s.now()
	return s.Campaigns.Update(ctx, c.ID, func(c *campaigns.Campaign) error {
		return c.StartLaunch(day, dayGiven, runID, now)
	})
}

// snapshot is step 2.
func (s *Service) snapshot(ctx context.Context, c *campaigns.Campaign) (*campaigns.Campaign, error) {
	m := campaigns.NewMatcher(c, c.Launch.SegmentRunID, c.Launch.AsOf)
	var (
		mu      sync.Mutex
		members []campaigns.Member
	)
	take := func(page []campaigns.Candidate) error {
		var mine []campaigns.Member
		for _, cd := range page {
			if m.Match(cd) {
				mine = append(mine, campaigns.Member{CustomerID: cd.CustomerID, Arm: campaigns.Assign(c.ID, cd.CustomerID, c.Holdout)})
			}
		}
		mu.Lock()
		members = append(members, mine...)
		mu.Unlock()
		return nil
	}
	if ids := c.Audience.CustomerIDs; len(ids) > 0 {
		// An explicit list is read by key, not by scanning everyone.
		page, err := s.Customers.Candidates(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("launch campaign %s: read the listed customers: %w", c.ID, err)
		}
		_ = take(page)
	} else if err := s.Customers.Scan(ctx, take); err != nil {
		return nil, fmt.Errorf("launch campaign %s: scan customers: %w", c.ID, err)
	}
	slices.SortFunc(members, func(a, b campaigns.Member) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	members = slices.CompactFunc(members, func(a, b campaigns.Member) bool { return a.CustomerID == b.CustomerID })
	treatment := 0
	for _, mb := range members {
		if mb.Arm == campaigns.Treatment {
			treatment++
		}
	}
	snapshotID := campaigns.NewSnapshotID(random())
	if err := s.Members.SaveSnapshot(ctx, c.ID, snapshotID, members); err != nil {
		return nil, err
	}
	now := s.now()
	return s.Campaigns.Update(ctx, c.ID, func(c *campaigns.Campaign) error {
		return c.TakeSnapshot(snapshotID, treatment, len(members)-treatment, now)
	})
}

// writeMembers is step 3: pages of the snapshot from the launch cursor on,
// until every member is stored or the deadline nears.
func (s *Service) writeMembers(ctx context.Context, c *campaigns.Campaign) (*campaigns.Campaign, error) {
	snap, err := s.Members.Snapshot(ctx, c.ID, c.Launch.SnapshotID, c.Launch.Members)
	if err != nil {
		return nil, fmt.Errorf("launch campaign %s: %w", c.ID, err)
	}
	size := s.LaunchPage
	if size <= 0 {
		size = DefaultLaunchPage
	}
	for {
		from := c.Launch.Written
		to := min(from+size, len(snap))
		if from < to {
			if s.nearDeadline(ctx) {
				return c, nil
			}
			if err := s.Members.Put(ctx, c.ID, snap[from:to]); err != nil {
				return nil, err
			}
		}
		now := s.now()
		if c, err = s.Campaigns.Update(ctx, c.ID, func(c *campaigns.Campaign) error { return c.Progress(to, now) }); err != nil {
			return nil, err
		}
		if c.MembersWritten() {
			return c, nil
		}
	}
}

// nearDeadline reports whether the request has less than Reserve left.
func (s *Service) nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	if !ok {
		return false
	}
	reserve := s.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	return time.Until(d) < reserve
}

// announce is step 4.
func (s *Service) announce(ctx context.Context, c *campaigns.Campaign) (*campaigns.Campaign, error) {
	if c.Status == campaigns.Launching {
		if err := s.Bus.Publish(ctx, LaunchedEvent(c)); err != nil {
			return nil, fmt.Errorf("launch campaign %s: %w", c.ID, err)
		}
		now := s.now()
		var err error
		if c, err = s.Campaigns.Update(ctx, c.ID, func(c *campaigns.Campaign) error { return c.FinishLaunch(now) }); err != nil {
			return nil, err
		}
	}
	if err := s.Members.DropSnapshot(ctx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// Source is the source of every event the campaigns feature publishes.
const Source = "tailor.campaigns"

// The detail types of the events published.
const (
	TypeLaunched  = "campaign.launched"
	TypeCompleted = "campaign.completed"
)

// ArmSizes is the number of members per arm, as events carry it.
type ArmSizes struct {
	Treatment int `json:"treatment"`
	Holdout   int `json:"holdout"`
}

// LaunchedDetail is the detail of campaign.launched: ids, the channel, the
// arm sizes and where to read each arm. It never holds personal data.
type LaunchedDetail struct {
	CampaignID string   `json:"campaign_id"`
	Channel    string   `json:"channel"`
	AsOf       string   `json:"as_of"`
	WindowEnd  string   `json:"window_end"`
	Members    ArmSizes `json:"members"`
	// Audience holds the API paths that list each arm.
	Audience     map[string]string `json:"audience"`
	SegmentRunID string            `json:"segment_run_id,omitempty"`
}

// LaunchedEvent is campaign.launched for c, whose members are all
// written. Its id and time depend only on c, so a retry repeats it.
func LaunchedEvent(c *campaigns.Campaign) bus.Event {
	w, _ := c.Window()
	path := "/v1/campaigns/" + c.ID + "/audience?arm="
	return bus.Event{ID: TypeLaunched + ":" + c.ID, Source: Source, DetailType: TypeLaunched, Time: *c.Launch.LaunchedAt,
		Detail: LaunchedDetail{CampaignID: c.ID, Channel: string(c.Channel), AsOf: c.Launch.AsOf,
			WindowEnd: w.End.Format(time.DateOnly), Members: ArmSizes{Treatment: c.Launch.Treatment, Holdout: c.Launch.Holdout},
			Audience:     map[string]string{string(campaigns.Treatment): path + string(campaigns.Treatment), string(campaigns.Holdout): path + string(campaigns.Holdout)},
			SegmentRunID: c.Launch.SegmentRunID}}
}
