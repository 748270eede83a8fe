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
	"tailor/shared/platform/apigw/apigwtest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/ddb/ddbtest"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/edge"
	"tailor/shared/segments/service"
)

// sample loads one of the events/ files that `sam local invoke -e` uses.
func sample(t *testing.T, dir, name string) []byte { return apigwtest.File(t, dir, name) }

type fixture struct {
	env       *ddbtest.Env
	customers *segmentsdb.CustomerScores
	runs      *segmentsdb.SegmentRuns
	job       *service.Job
	router    *apigw.Router
}

func newFixture(t *testing.T) *fixture {
	env := ddbtest.New(t)
	f := &fixture{env: env,
		customers: &segmentsdb.CustomerScores{DB: env.DB, Table: env.Table("CustomersTable")},
		runs:      &segmentsdb.SegmentRuns{DB: env.DB, Table: env.Table("ModelsTable")}}
	f.job = &service.Job{Customers: f.customers, Runs: f.runs, Config: service.Config{Segments: 4},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	f.router = apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	(&edge.API{Runs: f.runs, Members: f.customers}).Register(f.router)
	return f
}

// invoke runs the segment function's handler on a sample event.
func (f *fixture) invoke(t *testing.T, name string) service.Response {
	t.Helper()
	var req service.Request
	if err := json.Unmarshal(sample(t, "segment", name), &req); err != nil {
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

func rawItem(t *testing.T, f *fixture, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.env.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws(f.env.Table("CustomersTable")),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "C#" + id}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func aws(s string) *string { return &s }

func TestJobAndAPIAgainstDynamoDB(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	recs := service.Synthetic(400, 9, asOf)
	if err := f.customers.SeedAggregates(ctx, recs, 4); err != nil {
		t.Fatal(err)
	}
	// One customer also has a profile with personal data, written through
	// the customers store as the API would.
	people := &customersdb.Customers{DB: f.env.DB, Table: f.env.Table("CustomersTable")}
	c0 := &customers.Customer{ID: recs[0].CustomerID, Profile: customers.Profile{Name: "Ada Lovelace", Email: "ada@example.com"},
		Version: 1, CreatedAt: asOf, UpdatedAt: asOf, Consent: map[string]customers.ConsentState{}, Tags: []string{"vip"}}
	if err := people.Save(ctx, c0, 0); err != nil {
		t.Fatal(err)
	}

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

	// The profile and the aggregates are untouched; the scores are there.
	got, err := people.Get(ctx, c0.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Profile.Email != "ada@example.com" || got.Version != 1 || !reflect.DeepEqual(got.Aggregates.PurchaseDays, recs[0].Days) ||
		got.Scores == nil || got.Scores.RunID != "2011-12-10" || got.Scores.Segment == "" {
		t.Fatalf("customer after the run: %+v scores %+v", got, got.Scores)
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

	// Every segment's members, page by page, are exactly the customers
	// whose record holds that segment, in id order, ids and scores only.
	want := map[string][]string{}
	for _, r := range recs {
		c, err := people.Get(ctx, r.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Scores != nil {
			want[c.Scores.Segment] = append(want[c.Scores.Segment], r.CustomerID)
		}
	}
	for _, seg := range service.SegmentsSlugs() {
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
	if code, _ := f.get(t, "run.json", func(ev *apigw.Event) { ev.PathParameters["id"] = "2011-12-03" }); code != http.StatusNotFound {
		t.Errorf("missing run: %d", code)
	}

	// Re-run, this time from the schedule's event: same run id, nothing
	// written, every record byte-for-byte the same.
	before := map[string]map[string]types.AttributeValue{}
	for _, r := range recs {
		before[r.CustomerID] = rawItem(t, f, r.CustomerID)
	}
	again := f.invoke(t, "schedule.json").Record
	if again.RunID != rec.RunID || again.Written != 0 || again.Unchanged != rec.Customers {
		t.Fatalf("re-run: written %d unchanged %d", again.Written, again.Unchanged)
	}
	for _, r := range recs {
		if !reflect.DeepEqual(before[r.CustomerID], rawItem(t, f, r.CustomerID)) {
			t.Fatalf("re-run changed customer %s", r.CustomerID)
		}
	}

	// A customer scored in this run and skipped in a later one keeps its
	// old scores but is not listed as a member of the later run.
	stale := recs[1]
	oldSeg := before[stale.CustomerID]["scores"].(*types.AttributeValueMemberM).Value["segment"].(*types.AttributeValueMemberS).Value
	eurOnly, _ := attributevalue.Marshal(map[string]customers.Amounts{"2011-01-05": {"EUR": 100}})
	upd, _ := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("agg.days"), expression.Value(eurOnly))).Build()
	if _, err := f.env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws(f.env.Table("CustomersTable")),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "C#" + stale.CustomerID}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"}},
		UpdateExpression: upd.Update(), ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values()}); err != nil {
		t.Fatal(err)
	}
	later, err := f.job.Handle(ctx, service.Request{AsOf: "2011-12-17"})
	if err != nil {
		t.Fatal(err)
	}
	if later.RunID != "2011-12-17" || later.Record.SkippedOtherCurrency != rec.SkippedOtherCurrency+1 {
		t.Fatalf("later run: %+v", later.Record)
	}
	for cursor, first := "", true; first || cursor != ""; first = false {
		page, err := f.customers.Members(ctx, "2011-12-17", oldSeg, 1000, cursor)
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
