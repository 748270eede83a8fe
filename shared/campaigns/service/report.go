package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/campaigns/stats"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
)

// purchaseChunk is how many members' records one read asks for, and
// purchaseReaders how many reads run at once.
const (
	purchaseChunk   = 500
	purchaseReaders = 8
)

// Report returns the campaign's latest computed report, or NotFound
// before the first.
func (s *Service) Report(ctx context.Context, campaignID string) (campaigns.Report, error) {
	if _, err := s.Campaigns.Get(ctx, campaignID); err != nil {
		return campaigns.Report{}, err
	}
	return s.Reports.Report(ctx, campaignID)
}

// ComputeReport measures a launched campaign now and stores the result as
// its latest report. Every member is observed (intent to treat), except
// customers erased since the launch, who are counted and left out. Once
// the attribution window has closed the report is final: the campaign is
// completed and campaign.completed published (a stable id and the window's
// end as its time, so recomputing never announces anything new).
func (s *Service) ComputeReport(ctx context.Context, campaignID string) (campaigns.Report, error) {
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return campaigns.Report{}, err
	}
	if !c.Status.Launched() {
		return campaigns.Report{}, errs.E(errs.Conflict, fmt.Sprintf("campaign %s is %s; it has a report once launched", c.ID, c.Status))
	}
	now := s.now()
	w, _ := c.Window()
	closed := !now.Before(w.End)
	obs, tally, erased, err := s.observe(ctx, c, w)
	if err != nil {
		return campaigns.Report{}, err
	}
	var cost int64
	if c.CostMinor != nil {
		cost = *c.CostMinor
	}
	st, err := stats.BuildReport(stats.Input{Members: obs, HoldoutShare: c.Holdout, Cost: cost, Closed: closed})
	if err != nil {
		return campaigns.Report{}, fmt.Errorf("report of campaign %s: %w", c.ID, err)
	}
	r := campaigns.Report{CampaignID: c.ID, AsOf: now, WindowStart: w.Start.Format(time.DateOnly),
		WindowEnd: w.End.Format(time.DateOnly), Provisional: !closed, Erased: erased, Currency: c.Currency,
		Cost: c.Cost(), Stats: st, Funnel: tally.Funnel(), Integrity: tally.Integrity(), Satisfaction: tally.Satisfaction()}
	if err := s.Reports.SaveReport(ctx, r); err != nil {
		return campaigns.Report{}, err
	}
	if closed && c.Status != campaigns.Completed {
		if err := s.Bus.Publish(ctx, CompletedEvent(c, st.Members)); err != nil {
			return campaigns.Report{}, fmt.Errorf("complete campaign %s: %w", c.ID, err)
		}
		if _, err := s.Campaigns.Update(ctx, c.ID, func(c *campaigns.Campaign) error { return c.Complete(now) }); err != nil {
			return campaigns.Report{}, err
		}
	}
	return r, nil
}

// observe reads every member, its purchases and its engagement with the
// campaign, a chunk at a time with a few reads at once, and returns the
// members' observations, the tally of their engagement and how many
// members were left out because their customer is gone.
func (s *Service) observe(ctx context.Context, c *campaigns.Campaign, w campaigns.Window) ([]stats.Observation, *campaigns.EngagementTally, int, error) {
	var members []campaigns.Member
	if err := s.Members.All(ctx, c.ID, func(page []campaigns.Member) error {
		members = append(members, page...)
		return nil
	}); err != nil {
		return nil, nil, 0, err
	}
	chunks := slices.Collect(slices.Chunk(members, purchaseChunk))
	recs := make([]map[string]campaigns.MemberRecord, len(chunks))
	errc := make([]error, len(chunks))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(purchaseReaders, len(chunks)) {
		wg.Go(func() {
			for i := range next {
				ids := make([]string, len(chunks[i]))
				for j, m := range chunks[i] {
					ids[j] = m.CustomerID
				}
				recs[i], errc[i] = s.Customers.Outcomes(ctx, c.ID, ids)
			}
		})
	}
	for i := range chunks {
		next <- i
	}
	close(next)
	wg.Wait()
	obs := make([]stats.Observation, 0, len(members))
	tally := &campaigns.EngagementTally{}
	erased := 0
	for i, chunk := range chunks {
		if errc[i] != nil {
			return nil, nil, 0, fmt.Errorf("report of campaign %s: read members' records: %w", c.ID, errc[i])
		}
		for _, m := range chunk {
			r, ok := recs[i][m.CustomerID]
			if !ok {
				erased++
				continue
			}
			obs = append(obs, campaigns.Observe(m.Arm, r.PurchaseDays, c.Currency, w))
			tally.Add(m.Arm, r.Engagement)
		}
	}
	return obs, tally, erased, nil
}

// CompletedDetail is the detail of campaign.completed: ids, the channel,
// the window, the measured arm sizes and where to read the final report.
// It never holds personal data.
type CompletedDetail struct {
	CampaignID  string   `json:"campaign_id"`
	Channel     string   `json:"channel"`
	WindowStart string   `json:"window_start"`
	WindowEnd   string   `json:"window_end"`
	Members     ArmSizes `json:"members"`
	Report      string   `json:"report"`
}

// CompletedEvent is campaign.completed for c, whose window has closed,
// with the arm sizes of its final report. Its id is the campaign's and its
// time the window's end, so every emission of it is the same event.
func CompletedEvent(c *campaigns.Campaign, n stats.Counts) bus.Event {
	w, _ := c.Window()
	return bus.Event{ID: TypeCompleted + ":" + c.ID, Source: Source, DetailType: TypeCompleted, Time: w.End,
		Detail: CompletedDetail{CampaignID: c.ID, Channel: string(c.Channel), WindowStart: w.Start.Format(time.DateOnly),
			WindowEnd: w.End.Format(time.DateOnly), Members: ArmSizes{Treatment: n.Treatment, Holdout: n.Holdout},
			Report: "/v1/campaigns/" + c.ID + "/report"}}
}
