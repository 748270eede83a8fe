// Package memory is the in-memory twin of package dynamo: the same ports
// of package service (Customers, Runs, RunReader, MemberLister) with the
// same semantics (conditional score writes, the latest-run pointer that
// never moves back, members by run and segment with opaque cursors, blobs
// by name), for service and edge tests that need no database. The suite
// in package contract holds both to the same behaviour. Everything here is
// safe for concurrent use; the zero values are empty stores.
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"

	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

// defaultPageSize is the records per ScanSegment page when PageSize is 0.
const defaultPageSize = 100

type record struct {
	days        map[string]customers.Amounts
	eventDays   map[string]int64
	rating, nps *customers.Answer
	scores      *customers.Scores
}

// copyAnswer returns a copy of a, so callers never share the stored one.
func copyAnswer(a *customers.Answer) *customers.Answer {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// copyScores returns a copy of s, so callers never share the stored one.
func copyScores(s *customers.Scores) *customers.Scores {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// CustomerScores is the customer records as the score job and the
// segments API see them: purchase days in, scores out, members by segment.
type CustomerScores struct {
	// PageSize is how many records one ScanSegment page holds; 100 when 0.
	PageSize int

	mu   sync.Mutex
	recs map[string]*record
}

func copyDays(days map[string]customers.Amounts) map[string]customers.Amounts {
	if days == nil {
		return nil
	}
	out := make(map[string]customers.Amounts, len(days))
	for d, am := range days {
		out[d] = maps.Clone(am)
	}
	return out
}

// scanSegmentOf spreads customers over scan segments by a hash of the id,
// as DynamoDB spreads items by a hash of the partition key.
func scanSegmentOf(customerID string, total int) int {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % uint32(total))
}

// ScanSegment reads scan segment seg of total: every customer record is in
// exactly one segment, pages hold up to PageSize records in id order.
func (s *CustomerScores) ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error {
	if total < 1 || seg < 0 || seg >= total {
		return fmt.Errorf("scan customers segment %d/%d: segment must be in 0..total-1", seg, total)
	}
	s.mu.Lock()
	var page []segments.CustomerDays
	for _, id := range slices.Sorted(maps.Keys(s.recs)) {
		if scanSegmentOf(id, total) == seg {
			r := s.recs[id]
			page = append(page, segments.CustomerDays{CustomerID: id, Days: copyDays(r.days), EventDays: maps.Clone(r.eventDays),
				LastRating: copyAnswer(r.rating), LastNPS: copyAnswer(r.nps), Previous: copyScores(r.scores)})
		}
	}
	s.mu.Unlock()
	size := s.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	for chunk := range slices.Chunk(page, size) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(chunk); err != nil {
			return err
		}
	}
	return nil
}

// WriteScores sets each customer's scores and nothing else. As in
// DynamoDB, the write is conditional: the record must exist, must not hold
// scores of a later as-of date and must not already hold exactly these
// scores; records that fail the condition count as unchanged.
func (s *CustomerScores) WriteScores(ctx context.Context, scores []segments.CustomerScores) (written, unchanged int64, err error) {
	for _, cs := range scores {
		if err := ctx.Err(); err != nil {
			return written, unchanged, err
		}
		s.mu.Lock()
		r := s.recs[cs.CustomerID]
		switch {
		case r == nil, r.scores != nil && (r.scores.AsOf > cs.Scores.AsOf || *r.scores == cs.Scores):
			unchanged++
		default:
			sc := cs.Scores
			r.scores = &sc
			written++
		}
		s.mu.Unlock()
	}
	return written, unchanged, nil
}

// Members lists a page of the customers in segment slug of run runID, in
// customer id order. The cursor is opaque to callers and only valid for
// the same run and segment; as with a DynamoDB Query, a full page carries
// a cursor even when nothing follows it.
func (s *CustomerScores) Members(ctx context.Context, runID, slug string, limit int, cursor string) (segments.MemberPage, error) {
	segKey := segments.SegmentKey(runID, slug)
	if limit < 1 {
		return segments.MemberPage{}, fmt.Errorf("list members of segment %s: limit %d is below 1", segKey, limit)
	}
	after := ""
	if cursor != "" {
		var c segments.MemberCursor
		if !ddb.OpenCursor(cursor, &c) || !c.Valid(segKey) {
			return segments.MemberPage{}, segments.ErrCursor
		}
		after = c.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	page := segments.MemberPage{Members: []segments.Member{}}
	for _, id := range slices.Sorted(maps.Keys(s.recs)) {
		sc := s.recs[id].scores
		if id <= after || sc == nil || segments.SegmentKey(sc.RunID, sc.Segment) != segKey {
			continue
		}
		page.Members = append(page.Members, segments.Member{CustomerID: id, Scores: *sc})
		if len(page.Members) == limit {
			page.Next = ddb.SealCursor(segments.MemberCursor{Key: segKey, ID: id})
			break
		}
	}
	return page, nil
}

// SeedAggregates stores customer records that hold only the given
// purchase days and feedback answers, replacing existing records (scores
// included). It is for benchmarks and tests; workers is accepted for the
// dynamo adapter's signature and not needed here.
func (s *CustomerScores) SeedAggregates(ctx context.Context, recs []segments.CustomerDays, workers int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = map[string]*record{}
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.recs[r.CustomerID] = &record{days: copyDays(r.Days), eventDays: maps.Clone(r.EventDays), rating: copyAnswer(r.LastRating), nps: copyAnswer(r.LastNPS)}
	}
	return nil
}

// Delete removes a customer record, as erasure does.
func (s *CustomerScores) Delete(customerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.recs, customerID)
}

// Scores returns a copy of the scores every customer record holds, by
// customer id, as the customers API would show them.
func (s *CustomerScores) Scores() map[string]customers.Scores {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]customers.Scores{}
	for id, r := range s.recs {
		if r.scores != nil {
			out[id] = *r.scores
		}
	}
	return out
}

type latest struct {
	runID, asOf string
}

// SegmentRuns is the models-table storage of segmentation: run reports,
// the latest-run pointer, segment reports and a fanned-out run's
// intermediate results.
type SegmentRuns struct {
	mu sync.Mutex
	// runs holds each run's report as JSON, as the dynamo adapter does, so
	// a read never shares memory with the caller's report.
	runs    map[string][]byte
	latest  *latest
	reports map[string]map[string]segments.SegmentReport
	blobs   map[string]map[string][]byte
}

// SaveRun stores the run's report, replacing an earlier one of the run.
func (s *SegmentRuns) SaveRun(ctx context.Context, rep segments.Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("save segment run %s: %w", rep.RunID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs = map[string][]byte{}
	}
	s.runs[rep.RunID] = b
	return nil
}

// Run returns a run's report, or a NotFound error.
func (s *SegmentRuns) Run(ctx context.Context, runID string) (segments.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run(runID)
}

func (s *SegmentRuns) run(runID string) (segments.Report, error) {
	op := "get segment run " + runID
	b, ok := s.runs[runID]
	if !ok {
		return segments.Report{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("segment run %s does not exist", runID)}
	}
	var rep segments.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return segments.Report{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	return rep, nil
}

// Latest returns the latest complete run's report, or a NotFound error
// before the first run.
func (s *SegmentRuns) Latest(ctx context.Context) (segments.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		return segments.Report{}, &errs.Error{Op: "get latest segment run", Kind: errs.NotFound, Detail: "no segmentation run has completed yet"}
	}
	return s.run(s.latest.runID)
}

// SetLatest points the latest run at runID unless a run of a later as-of
// date is already latest.
func (s *SegmentRuns) SetLatest(ctx context.Context, runID, asOf string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil || s.latest.asOf <= asOf {
		s.latest = &latest{runID: runID, asOf: asOf}
	}
	return nil
}

// SaveSegments stores the segment reports of a run, replacing the run's
// earlier report of the same segment.
func (s *SegmentRuns) SaveSegments(ctx context.Context, runID string, reps []segments.SegmentReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reports == nil {
		s.reports = map[string]map[string]segments.SegmentReport{}
	}
	if s.reports[runID] == nil {
		s.reports[runID] = map[string]segments.SegmentReport{}
	}
	for _, r := range reps {
		s.reports[runID][r.Segment] = r
	}
	return nil
}

// Segments returns the reports SaveSegments stored for a run, in report
// order (segments.Segments); none for a run without any.
func (s *SegmentRuns) Segments(ctx context.Context, runID string) ([]segments.SegmentReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []segments.SegmentReport
	for _, r := range s.reports[runID] {
		out = append(out, r)
	}
	segments.SortReports(out)
	return out, nil
}

// PutBlob stores an intermediate result of a run; writing the same name
// again replaces it.
func (s *SegmentRuns) PutBlob(ctx context.Context, runID, name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobs == nil {
		s.blobs = map[string]map[string][]byte{}
	}
	if s.blobs[runID] == nil {
		s.blobs[runID] = map[string][]byte{}
	}
	s.blobs[runID][name] = slices.Clone(data)
	return nil
}

// GetBlob reads an intermediate result back; a missing one is NotFound.
func (s *SegmentRuns) GetBlob(ctx context.Context, runID, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[runID][name]
	if !ok {
		return nil, &errs.Error{Op: "get " + name + " of segment run " + runID, Kind: errs.NotFound, Detail: name + " has not been written"}
	}
	return slices.Clone(b), nil
}

// DeleteBlobs removes the run's intermediate results whose names start
// with prefix. Deleting what is already gone is not an error.
func (s *SegmentRuns) DeleteBlobs(ctx context.Context, runID, prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.blobs[runID] {
		if strings.HasPrefix(name, prefix) {
			delete(s.blobs[runID], name)
		}
	}
	return nil
}

// BlobNames lists the names of a run's intermediate results, sorted.
func (s *SegmentRuns) BlobNames(runID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.blobs[runID]))
}
