package edge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/apigw/apigwtest"
	"tailor/shared/segments"
	"tailor/shared/segments/edge"
	"tailor/shared/segments/memory"
	"tailor/shared/segments/service"
)

// sample loads one of the events/ files that `sam local invoke -e` uses.
func sample(t *testing.T, dir, name string) []byte { return apigwtest.File(t, dir, name) }

// fixture is the score job and the segments API on one backend's storage,
// with what the scenario needs to look at that storage from outside.
type fixture struct {
	job     *service.Job
	router  *apigw.Router
	members service.MemberLister
	// seed stores customer records with the given purchase days.
	seed func(t *testing.T, recs []segments.CustomerDays)
	// scores returns the scores a customer's record holds, nil for none.
	scores func(t *testing.T, customerID string) *customers.Scores
	// snapshot returns every record of recs as stored, to prove a re-run
	// changes nothing.
	snapshot func(t *testing.T, recs []segments.CustomerDays) any
	// setDays replaces a customer's purchase days, keeping its scores.
	setDays func(t *testing.T, customerID string, days map[string]customers.Amounts)
	// afterFirstRun checks what only this backend can check.
	afterFirstRun func(t *testing.T)
}

func newFixture(customers service.Customers, members service.MemberLister, runs interface {
	service.Runs
	service.RunReader
}) *fixture {
	f := &fixture{members: members}
	f.job = &service.Job{Customers: customers, Runs: runs, Config: segments.Config{Segments: 4},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	f.router = apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	(&edge.API{Query: &service.Query{Runs: runs, Members: members}}).Register(f.router)
	return f
}

// changedDays is a Customers whose scan shows some customers with other
// purchase days, as if their aggregates had changed since they were
// scored.
type changedDays struct {
	service.Customers
	days map[string]map[string]customers.Amounts
}

func (c *changedDays) ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error {
	return c.Customers.ScanSegment(ctx, seg, total, func(page []segments.CustomerDays) error {
		for i, r := range page {
			if d, ok := c.days[r.CustomerID]; ok {
				page[i].Days = d
			}
		}
		return fn(page)
	})
}

func memoryFixture() *fixture {
	store := &memory.CustomerScores{}
	scan := &changedDays{Customers: store, days: map[string]map[string]customers.Amounts{}}
	f := newFixture(scan, store, &memory.SegmentRuns{})
	f.seed = func(t *testing.T, recs []segments.CustomerDays) {
		if err := store.SeedAggregates(context.Background(), recs, 4); err != nil {
			t.Fatal(err)
		}
	}
	f.scores = func(t *testing.T, id string) *customers.Scores {
		if s, ok := store.Scores()[id]; ok {
			return &s
		}
		return nil
	}
	f.snapshot = func(t *testing.T, recs []segments.CustomerDays) any { return store.Scores() }
	f.setDays = func(t *testing.T, id string, days map[string]customers.Amounts) { scan.days[id] = days }
	return f
}

func TestJobAndAPI(t *testing.T) { scenario(t, memoryFixture()) }

// invoke runs the score function's handler on a sample event.
func (f *fixture) invoke(t *testing.T, name string) service.Response {
	t.Helper()
	var req service.Request
	if err := json.Unmarshal(sample(t, "score", name), &req); err != nil {
		t.Fatal(err)
	}
	resp, err := f.job.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return resp
}

// get serves a sample request, optionally with other path parameters and
// query.
func (f *fixture) get(t *testing.T, name string, edit func(*apigw.Event)) (int, map[string]any) {
	t.Helper()
	var ev apigw.Event
	if err := json.Unmarshal(sample(t, "segments", name), &ev); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&ev)
	}
	res, err := f.router.Serve(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Fatalf("%s: %q", name, res.Body)
	}
	return res.StatusCode, body
}

// scenario runs the job and serves the API on fixture f: a first run, the
// listings, a re-run, a later run that skips a customer, and a backfill.
func scenario(t *testing.T, f *fixture) {
	ctx := context.Background()
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	recs := service.Synthetic(400, 9, asOf)
	f.seed(t, recs)

	// No run yet: 404 problem.
	if code, body := f.get(t, "list.json", nil); code != http.StatusNotFound {
		t.Fatalf("before any run: %d %v", code, body)
	}

	resp := f.invoke(t, "run.json")
	rec := resp.Record
	if resp.RunID != "2011-12-10" || rec.Status != "complete" || rec.Scanned != 400 || rec.Customers+rec.SkippedNoPurchase+rec.SkippedOtherCurrency != 400 ||
		rec.SkippedNoPurchase == 0 || rec.SkippedOtherCurrency == 0 || rec.Written != rec.Customers {
		t.Fatalf("run: %+v", rec)
	}
	if s := f.scores(t, recs[0].CustomerID); s == nil || s.RunID != "2011-12-10" || s.Segment == "" {
		t.Fatalf("scores of %s after the run: %+v", recs[0].CustomerID, s)
	}
	if f.afterFirstRun != nil {
		f.afterFirstRun(t)
	}

	// GET /v1/segments/backtest: 404 until a backtest has run, then its
	// result, whatever its dates.
	if code, body := f.get(t, "backtest.json", nil); code != http.StatusNotFound {
		t.Fatalf("backtest before any: %d %v", code, body)
	}
	bt := f.invoke(t, "backtest.json").Backtest
	if code, body := f.get(t, "backtest.json", nil); code != http.StatusOK || body["calibration_end"] != "2011-09-10" ||
		body["holdout_end"] != "2011-12-10" || bt == nil || body["currency"] != bt.Currency {
		t.Fatalf("backtest: %d %v", code, body)
	} else if rep, _ := body["report"].(map[string]any); rep == nil || rep["churn"] == nil {
		t.Fatalf("backtest report: %v", body["report"])
	}

	// GET /v1/segments: the latest run's sizes add up.
	code, body := f.get(t, "list.json", nil)
	if code != http.StatusOK || body["run_id"] != "2011-12-10" {
		t.Fatalf("list: %d %v", code, body)
	}
	var total float64
	for _, s := range body["segments"].([]any) {
		total += s.(map[string]any)["customers"].(float64)
	}
	if int64(total) != rec.Customers {
		t.Errorf("segment sizes add up to %v, want %d", total, rec.Customers)
	}
	// Satisfaction per segment: the run's figures, null where nobody answered.
	var rated float64
	for i, s := range body["segments"].([]any) {
		m, r := s.(map[string]any), rec.Segments[i]
		for _, k := range []string{"rated", "mean_rating", "nps_respondents", "nps"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("segment %v has no %s", m["segment"], k)
			}
		}
		rated += m["rated"].(float64)
		if (r.MeanRating == nil) != (m["mean_rating"] == nil) || (r.MeanRating != nil && m["mean_rating"] != *r.MeanRating) ||
			(r.NPS == nil) != (m["nps"] == nil) || (r.NPS != nil && m["nps"] != *r.NPS) || m["nps_respondents"] != float64(r.NPSRespondents) {
			t.Errorf("segment %v: %v, run %+v", m["segment"], m, r)
		}
	}
	if rated == 0 {
		t.Error("no segment has a rating")
	}

	// Every segment's members, page by page, are exactly the customers
	// whose record holds that segment, in id order, ids and scores only.
	want := map[string][]string{}
	for _, r := range recs {
		if s := f.scores(t, r.CustomerID); s != nil {
			want[s.Segment] = append(want[s.Segment], r.CustomerID)
		}
	}
	for _, seg := range segments.Slugs() {
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			code, body := f.get(t, "members.json", func(ev *apigw.Event) {
				ev.PathParameters["name"] = seg
				ev.QueryStringParameters = map[string]string{"limit": "7"}
				if cursor != "" {
					ev.QueryStringParameters["cursor"] = cursor
				}
			})
			if code != http.StatusOK {
				t.Fatalf("%s page %d: %d %v", seg, pages, code, body)
			}
			members := body["customers"].([]any)
			if len(members) > 7 {
				t.Fatalf("%s: page of %d", seg, len(members))
			}
			for _, m := range members {
				mm := m.(map[string]any)
				if len(mm) != 2 || mm["scores"].(map[string]any)["segment"] != seg {
					t.Fatalf("member %v", mm)
				}
				ids = append(ids, mm["customer_id"].(string))
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		slices.Sort(want[seg])
		if !slices.Equal(ids, want[seg]) {
			t.Errorf("%s: listed %d members, want %d", seg, len(ids), len(want[seg]))
		}
	}
	if code, _ := f.get(t, "members.json", func(ev *apigw.Event) { ev.PathParameters["name"] = "whales" }); code != http.StatusNotFound {
		t.Errorf("unknown segment: %d", code)
	}
	if code, _ := f.get(t, "members.json", func(ev *apigw.Event) { ev.QueryStringParameters = map[string]string{"cursor": "bm9wZQ"} }); code != http.StatusBadRequest {
		t.Errorf("forged cursor: %d", code)
	}
	if code, _ := f.get(t, "members.json", func(ev *apigw.Event) { ev.QueryStringParameters = map[string]string{"limit": "0"} }); code != http.StatusBadRequest {
		t.Errorf("limit 0: %d", code)
	}
	code, body = f.get(t, "run.json", nil)
	if code != http.StatusOK || body["run_id"] != "2011-12-10" || body["model"] == nil || strings.Contains(mustJSON(body), "ada@") {
		t.Fatalf("run: %d", code)
	}
	for _, id := range []string{"2011-12-03", "2011-12-3", "latest"} {
		if code, _ := f.get(t, "run.json", func(ev *apigw.Event) { ev.PathParameters["id"] = id }); code != http.StatusNotFound {
			t.Errorf("missing run %s: %d", id, code)
		}
	}

	// Re-run, this time from the schedule's event: same run id, nothing
	// written, every record the same.
	before := f.snapshot(t, recs)
	again := f.invoke(t, "schedule.json").Record
	if again.RunID != rec.RunID || again.Written != 0 || again.Unchanged != rec.Customers {
		t.Fatalf("re-run: written %d unchanged %d", again.Written, again.Unchanged)
	}
	if after := f.snapshot(t, recs); !reflect.DeepEqual(before, after) {
		t.Fatal("re-run changed customer records")
	}

	// A customer scored in this run and skipped in a later one keeps its
	// old scores but is not listed as a member of the later run.
	stale := recs[1]
	oldSeg := f.scores(t, stale.CustomerID).Segment
	f.setDays(t, stale.CustomerID, map[string]customers.Amounts{"2011-01-05": {"EUR": 100}})
	later, err := f.job.Handle(ctx, service.Request{AsOf: "2011-12-17"})
	if err != nil {
		t.Fatal(err)
	}
	if later.RunID != "2011-12-17" || later.Record.SkippedOtherCurrency != rec.SkippedOtherCurrency+1 {
		t.Fatalf("later run: %+v", later.Record)
	}
	if s := f.scores(t, stale.CustomerID); s == nil || s.RunID != "2011-12-10" || s.Segment != oldSeg {
		t.Fatalf("stale customer's scores: %+v", s)
	}
	for cursor, first := "", true; first || cursor != ""; first = false {
		page, err := f.members.Members(ctx, "2011-12-17", oldSeg, 1000, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			if m.CustomerID == stale.CustomerID {
				t.Fatalf("stale customer %s listed in the later run", stale.CustomerID)
			}
		}
		cursor = page.Next
	}
	if _, body := f.get(t, "list.json", nil); body["run_id"] != "2011-12-17" {
		t.Errorf("latest run %v", body["run_id"])
	}
	// A backfill of an earlier date neither moves the latest run nor
	// overwrites newer scores.
	back, err := f.job.Handle(ctx, service.Request{AsOf: "2011-12-03"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Record.Written != 0 {
		t.Errorf("backfill overwrote %d newer scores", back.Record.Written)
	}
	if _, body := f.get(t, "list.json", nil); body["run_id"] != "2011-12-17" {
		t.Errorf("latest run after backfill %v", body["run_id"])
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
