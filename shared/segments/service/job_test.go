package service

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/errs"
)

// memory is an in-memory Customers and Runs for the decomposition tests.
type memory struct {
	mu      sync.Mutex
	records []CustomerDays
	scores  map[string]customers.Scores
	runs    map[string]Record
	sums    map[string][]SegmentSummary
	blobs   map[string][]byte
	latest  string
}

func newMemory(records []CustomerDays) *memory {
	return &memory{records: records, scores: map[string]customers.Scores{}, runs: map[string]Record{},
		sums: map[string][]SegmentSummary{}, blobs: map[string][]byte{}}
}

func (m *memory) ScanSegment(ctx context.Context, seg, total int, fn func([]CustomerDays) error) error {
	var page []CustomerDays
	for _, r := range m.records {
		h := fnv.New32a()
		h.Write([]byte(r.CustomerID))
		if int(h.Sum32()%uint32(total)) != seg {
			continue
		}
		page = append(page, r)
		if len(page) == 37 {
			if err := fn(page); err != nil {
				return err
			}
			page = nil
		}
	}
	if len(page) > 0 {
		return fn(page)
	}
	return nil
}

func (m *memory) WriteScores(ctx context.Context, scores []CustomerScores) (int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var w, u int64
	for _, s := range scores {
		if old, ok := m.scores[s.CustomerID]; ok && (old == s.Scores || old.AsOf > s.Scores.AsOf) {
			u++
			continue
		}
		m.scores[s.CustomerID] = s.Scores
		w++
	}
	return w, u, nil
}

func (m *memory) SaveRun(ctx context.Context, rec Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[rec.RunID] = rec
	return nil
}

func (m *memory) SaveSegments(ctx context.Context, runID string, sums []SegmentSummary) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sums[runID] = sums
	return nil
}

func (m *memory) SetLatest(ctx context.Context, runID, asOf string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if asOf >= m.latest {
		m.latest = asOf
	}
	return nil
}

func (m *memory) PutBlob(ctx context.Context, runID, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[runID+"/"+name] = data
	return nil
}

func (m *memory) DeleteBlobs(ctx context.Context, runID, prefix string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.blobs {
		if strings.HasPrefix(k, runID+"/"+prefix) {
			delete(m.blobs, k)
		}
	}
	return nil
}

func (m *memory) GetBlob(ctx context.Context, runID, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[runID+"/"+name]
	if !ok {
		return nil, errs.E(errs.NotFound, name)
	}
	return b, nil
}

func synthetic(n int, seed uint64) []CustomerDays {
	return Synthetic(n, seed, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
}

func comparable(rec Record) Record {
	rec.StartedAt, rec.FinishedAt, rec.DurationMS, rec.Mode = "", "", 0, ""
	rec.Config.Segments = 0
	return rec
}

// TestWorkersMergeExactly: one worker, seven workers and the fanned-out
// phases (eleven scan segments, each step a separate "invocation" through
// serialized blobs) give bit-for-bit the same run record and scores.
func TestWorkersMergeExactly(t *testing.T) {
	ctx := context.Background()
	records := synthetic(6000, 3)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	run := func(segments int) (Record, map[string]customers.Scores) {
		mem := newMemory(records)
		j := &Job{Customers: mem, Runs: mem, Config: Config{Segments: segments}}
		rec, err := j.Run(ctx, asOf)
		if err != nil {
			t.Fatal(err)
		}
		return rec, mem.scores
	}
	one, oneScores := run(1)
	if one.Customers == 0 || one.SkippedNoPurchase == 0 || one.SkippedOtherCurrency == 0 || one.Model.Clusters.K < 2 {
		t.Fatalf("run did not exercise every path: %+v", one)
	}
	if int(one.Written) != len(oneScores) || one.Written != one.Customers {
		t.Fatalf("written %d, scores %d, customers %d", one.Written, len(oneScores), one.Customers)
	}
	seven, sevenScores := run(7)
	if !reflect.DeepEqual(comparable(one), comparable(seven)) {
		a, _ := json.Marshal(comparable(one))
		b, _ := json.Marshal(comparable(seven))
		t.Fatalf("1 worker and 7 workers differ:\n%s\n%s", a, b)
	}
	if !reflect.DeepEqual(oneScores, sevenScores) {
		t.Fatal("1 worker and 7 workers wrote different scores")
	}

	// The fanned-out run, phase by phase, as the state machine calls it.
	mem := newMemory(records)
	j := &Job{Customers: mem, Runs: mem, Config: Config{Segments: 11}}
	plan, err := j.Handle(ctx, Request{Phase: PhasePlan, Input: &Request{AsOf: "2011-12-10T00:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(phase string, seg, iter int) Response {
		t.Helper()
		resp, err := j.Handle(ctx, Request{Phase: phase, RunID: plan.RunID, Segment: seg, Iteration: iter})
		if err != nil {
			t.Fatalf("%s %d/%d: %v", phase, seg, iter, err)
		}
		return resp
	}
	for _, s := range plan.Segments {
		call(PhaseSummarise, s, 0)
	}
	st := call(PhaseFit, 0, 0)
	for !st.Done {
		for _, s := range st.Segments {
			call(PhaseAssign, s, st.Iteration)
		}
		st = call(PhaseUpdate, 0, 0)
	}
	for _, s := range st.Segments {
		call(PhaseScore, s, 0)
		call(PhaseScore, s, 0) // a retried state changes nothing
	}
	fin := call(PhaseFinish, 0, 0)
	fan := *fin.Record
	// Each tally reports its last attempt: the retry found every record
	// already holding its scores.
	if fan.Written != 0 || fan.Unchanged != one.Written {
		t.Errorf("retried score states: written %d, unchanged %d, want 0 and %d", fan.Written, fan.Unchanged, one.Written)
	}
	fan.Written, fan.Unchanged = one.Written, 0
	if !reflect.DeepEqual(comparable(one), comparable(fan)) {
		a, _ := json.Marshal(comparable(one))
		b, _ := json.Marshal(comparable(fan))
		t.Fatalf("local and fanned-out runs differ:\n%s\n%s", a, b)
	}
	if !reflect.DeepEqual(oneScores, mem.scores) {
		t.Fatal("local and fanned-out runs wrote different scores")
	}
	// What the finished run leaves behind names no customer, so erasure has
	// nothing to find in it; a retried finish still works.
	for name, b := range mem.blobs {
		var raw any
		if err := decodeBlob(b, &raw); err != nil {
			t.Fatal(err)
		}
		text, _ := json.Marshal(raw)
		for id := range oneScores {
			if strings.Contains(string(text), `"`+id+`"`) {
				t.Fatalf("blob %s still names customer %s after the run finished", name, id)
			}
		}
	}
	if again := call(PhaseFinish, 0, 0); again.Record == nil || again.Record.Customers != fan.Customers {
		t.Fatalf("retried finish: %+v", again)
	}
}

// TestRerunChangesNothing: the same as-of date gives the same run id and
// scores; the second run writes nothing.
func TestRerunChangesNothing(t *testing.T) {
	ctx := context.Background()
	mem := newMemory(synthetic(800, 5))
	j := &Job{Customers: mem, Runs: mem, Config: Config{Segments: 3}}
	first, err := j.Run(ctx, time.Date(2011, 12, 10, 13, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	before := make(map[string]customers.Scores, len(mem.scores))
	for k, v := range mem.scores {
		before[k] = v
	}
	second, err := j.Run(ctx, time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID != "2011-12-10" || second.RunID != first.RunID {
		t.Fatalf("run ids %q, %q", first.RunID, second.RunID)
	}
	if second.Written != 0 || second.Unchanged != first.Written {
		t.Errorf("re-run wrote %d, left %d unchanged; want 0 and %d", second.Written, second.Unchanged, first.Written)
	}
	if !reflect.DeepEqual(before, mem.scores) {
		t.Error("re-run changed scores")
	}
	first.Written, second.Written, second.Unchanged = 0, 0, 0
	if !reflect.DeepEqual(comparable(first), comparable(second)) {
		t.Error("re-run changed the run record")
	}
}

func TestDerive(t *testing.T) {
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	days := map[string]customers.Amounts{
		"2011-01-01": {"GBP": 1000},
		"2011-01-08": {"GBP": 500, "EUR": 70},
		"2011-02-01": {"EUR": 900},
		"2011-12-10": {"GBP": 99999}, // on the as-of date: not counted
	}
	c, out, err := Derive(CustomerDays{CustomerID: "a", Days: days}, asOf, "GBP")
	if err != nil || out != Scored {
		t.Fatal(out, err)
	}
	if c.PurchaseDays != 2 || c.RecencyDays != 7 || c.AgeDays != 343 || c.TotalSpend != 1500 || c.RepeatSpend != 500 {
		t.Errorf("derived %+v", c)
	}
	if _, out, _ := Derive(CustomerDays{CustomerID: "b", Days: map[string]customers.Amounts{"2011-02-01": {"EUR": 1}}}, asOf, "GBP"); out != OtherCurrency {
		t.Errorf("EUR-only customer: %v", out)
	}
	if _, out, _ := Derive(CustomerDays{CustomerID: "c", Days: map[string]customers.Amounts{"2011-12-11": {"GBP": 1}}}, asOf, "GBP"); out != NoPurchase {
		t.Errorf("future-only customer: %v", out)
	}
	if _, _, err := Derive(CustomerDays{CustomerID: "d", Days: map[string]customers.Amounts{"11/12/2011": {"GBP": 1}}}, asOf, "GBP"); err == nil {
		t.Error("bad day accepted")
	}
	for _, s := range []string{"2011-12-10", "2011-12-10T23:59:59Z", "2011-12-11T00:30:00+01:00"} {
		got, err := ParseAsOf(s)
		if err != nil || !got.Equal(asOf) {
			t.Errorf("ParseAsOf(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseAsOf("yesterday"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad as_of: %v", err)
	}
	if _, err := (&memory{blobs: map[string][]byte{}}).GetBlob(context.Background(), "x", "y"); !errors.Is(err, err) {
		t.Fatal(err)
	}
}
