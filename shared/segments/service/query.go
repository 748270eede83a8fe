package service

import (
	"context"
	"encoding/json"
	"fmt"

	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

// RunReader is the run storage the segments API needs.
type RunReader interface {
	// Latest returns the latest complete run's report (NotFound before
	// the first).
	Latest(ctx context.Context) (segments.Report, error)
	// Run returns a run's report by id (NotFound when absent).
	Run(ctx context.Context, runID string) (segments.Report, error)
	// GetBlob reads a blob of a run (NotFound when never written).
	GetBlob(ctx context.Context, runID, name string) ([]byte, error)
}

// MemberLister is the membership storage the segments API needs.
type MemberLister interface {
	// Members returns a page of at most limit customers of segment slug
	// of run runID, in customer id order, from cursor (the Next of an
	// earlier page of the same segment, "" for the first; anything else
	// is Invalid).
	Members(ctx context.Context, runID, slug string, limit int, cursor string) (segments.MemberPage, error)
}

// Query answers the segments API from what the nightly runs stored.
type Query struct {
	Runs    RunReader
	Members MemberLister
}

// Latest returns the latest complete run's report, or NotFound before the
// first run.
func (q *Query) Latest(ctx context.Context) (segments.Report, error) {
	return q.Runs.Latest(ctx)
}

// Run returns the report of run id, or NotFound when id is not a run id
// (a YYYY-MM-DD date) or no such run exists.
func (q *Query) Run(ctx context.Context, id string) (segments.Report, error) {
	asOf, err := ParseAsOf(id)
	if err != nil || RunID(asOf) != id {
		return segments.Report{}, errs.E(errs.NotFound, fmt.Sprintf("there is no run %q; run ids are dates, YYYY-MM-DD", id))
	}
	return q.Runs.Run(ctx, id)
}

// LatestBacktest returns the result of the latest backtest, or NotFound
// before the first.
func (q *Query) LatestBacktest(ctx context.Context) (BacktestResult, error) {
	b, err := q.Runs.GetBlob(ctx, latestBacktestRun, latestBacktestBlob)
	if errs.Is(err, errs.NotFound) {
		return BacktestResult{}, errs.E(errs.NotFound, "no backtest has run yet: invoke the segment function with "+
			`{"phase":"backtest","calibration_end":"YYYY-MM-DD","holdout_end":"YYYY-MM-DD"} (make run DEMO=1 runs one)`)
	}
	if err != nil {
		return BacktestResult{}, err
	}
	var res BacktestResult
	if err := json.Unmarshal(b, &res); err != nil {
		return BacktestResult{}, fmt.Errorf("decode the latest backtest: %w", err)
	}
	return res, nil
}

// Members is one page of the members of a segment of the latest run.
type Members struct {
	RunID string
	// Segment is the segment's slug.
	Segment string
	segments.MemberPage
}

// LatestMembers lists a page of the customers in the segment named by
// slug in the latest run: NotFound for an unknown slug or before the first
// run, Invalid for a cursor the same segment's listing did not hand out.
func (q *Query) LatestMembers(ctx context.Context, slug string, limit int, cursor string) (Members, error) {
	if _, ok := segments.SegmentBySlug(slug); !ok {
		return Members{}, errs.E(errs.NotFound, fmt.Sprintf("there is no segment %q; GET /v1/segments lists them", slug))
	}
	rep, err := q.Runs.Latest(ctx)
	if err != nil {
		return Members{}, err
	}
	page, err := q.Members.Members(ctx, rep.RunID, slug, limit, cursor)
	if err != nil {
		return Members{}, err
	}
	return Members{RunID: rep.RunID, Segment: slug, MemberPage: page}, nil
}
