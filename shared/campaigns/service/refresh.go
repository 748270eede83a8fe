package service

import (
	"context"
	"slices"
	"time"

	"tailor/shared/campaigns"
	"tailor/shared/platform/errs"
)

// refreshPage is how many campaigns one listing call of Refresh reads.
const refreshPage = 200

// RefreshResult says what one scheduled refresh did.
type RefreshResult struct {
	// Launches continued (campaigns left launching by a client that
	// stopped asking) and reports computed; Completed counts the reports
	// that closed their window.
	Launches  int `json:"launches_continued"`
	Reports   int `json:"reports_computed"`
	Completed int `json:"completed"`
	// Failed counts campaigns whose step failed (logged by the caller
	// from Errors); Left those not reached before the deadline.
	Failed int      `json:"failed"`
	Left   int      `json:"left_for_next_run"`
	Errors []string `json:"-"`
}

// Refresh is the scheduled run: it continues launches nobody is
// continuing, then recomputes the reports of running and stopped
// campaigns, the stalest report first, until every one is done or the
// deadline nears. A report computed after the window closed is final and
// completes its campaign, so each campaign is recomputed on every run
// while its window is open and once after it closes.
func (s *Service) Refresh(ctx context.Context) (RefreshResult, error) {
	var res RefreshResult
	var launching, measured []*campaigns.Campaign
	for cursor := ""; ; {
		page, err := s.Campaigns.List(ctx, refreshPage, cursor)
		if err != nil {
			return res, err
		}
		for _, c := range page.Campaigns {
			switch c.Status {
			case campaigns.Launching:
				launching = append(launching, c)
			case campaigns.Running, campaigns.Stopped:
				measured = append(measured, c)
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	fail := func(c *campaigns.Campaign, err error) {
		res.Failed++
		res.Errors = append(res.Errors, c.ID+": "+err.Error())
	}
	for i, c := range launching {
		if s.nearDeadline(ctx) {
			res.Left += len(launching) - i + len(measured)
			return res, nil
		}
		if _, _, err := s.Launch(ctx, c.ID, ""); err != nil {
			fail(c, err)
			continue
		}
		res.Launches++
	}
	stale, err := s.byReportAge(ctx, measured)
	if err != nil {
		return res, err
	}
	for i, c := range stale {
		if s.nearDeadline(ctx) {
			res.Left += len(stale) - i
			break
		}
		r, err := s.ComputeReport(ctx, c.ID)
		if err != nil {
			fail(c, err)
			continue
		}
		res.Reports++
		if !r.Provisional {
			res.Completed++
		}
	}
	return res, nil
}

// byReportAge orders campaigns by the time of their latest report, those
// without one first, so a run that stops at its deadline leaves the
// freshest reports for the next.
func (s *Service) byReportAge(ctx context.Context, cs []*campaigns.Campaign) ([]*campaigns.Campaign, error) {
	asOf := make(map[string]time.Time, len(cs))
	for _, c := range cs {
		r, err := s.Reports.Report(ctx, c.ID)
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return nil, err
		default:
			asOf[c.ID] = r.AsOf
		}
	}
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b *campaigns.Campaign) int { return asOf[a.ID].Compare(asOf[b.ID]) })
	return out, nil
}
