//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/local/apiclient"
	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/segments"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

// invokeFunction calls a function through tailor serve's Lambda Invoke
// API, as `aws lambda invoke` would.
func (s *stack) invokeFunction(name string, payload []byte) service.Response {
	s.t.Helper()
	resp, err := http.Post(s.URL+"/2015-03-31/functions/"+name+"/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out service.Response
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" || json.Unmarshal(raw, &out) != nil || out.Record == nil {
		s.t.Fatalf("invoke %s: %d %s", name, resp.StatusCode, raw)
	}
	return out
}

// TestSegmentEndToEnd: ScoreFunction invoked directly through the local
// runner scores a small customer base that buys in GBP and EUR in the
// currency most customers buy in (the template's default), counting both;
// an analyst key (segments:read only) lists a segment's members page by
// page and gets exactly the customers whose records hold that segment; a
// re-run changes nothing.
func TestSegmentEndToEnd(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	recs := service.Synthetic(300, 4, asOf)
	scores := &segmentsdb.CustomerScores{DB: s.Env.DB, Table: s.Env.Table("CustomersTable")}
	if err := scores.SeedAggregates(ctx, recs, 4); err != nil {
		t.Fatal(err)
	}
	root, _ := ddbtest.ModuleRoot()
	payload, err := os.ReadFile(filepath.Join(root, "events", "score", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	first := s.invokeFunction("ScoreFunction", payload)
	if first.RunID != "2011-12-10" || first.Record.Written != first.Record.Customers || first.Record.Customers == 0 {
		t.Fatalf("first run: %+v", first.Record)
	}
	perCurrency := map[string]int64{}
	for _, r := range recs {
		seen := map[string]bool{}
		for _, am := range r.Days {
			for cur := range am {
				seen[cur] = true
			}
		}
		for cur := range seen {
			perCurrency[cur]++
		}
	}
	if rec := first.Record; rec.Currency != "GBP" || rec.CurrencyChoice != segments.CurrencyDominant || len(perCurrency) != 2 ||
		!maps.Equal(rec.CurrencyCustomers, perCurrency) || rec.Customers != perCurrency["GBP"] || rec.SkippedOtherCurrency != perCurrency["EUR"] {
		t.Fatalf("currency %q chosen %q, customers per currency %v (records say %v), %d scored, %d other currency",
			rec.Currency, rec.CurrencyChoice, rec.CurrencyCustomers, perCurrency, rec.Customers, rec.SkippedOtherCurrency)
	}

	analyst := s.as(s.newKey("analyst", auth.SegmentsRead)).api()
	overview, err := analyst.GetSegmentsWithResponse(ctx)
	if err != nil || overview.JSON200 == nil || overview.JSON200.RunId != "2011-12-10" {
		t.Fatalf("GET /v1/segments: %v %s", err, answered(overview))
	}
	var biggest apiclient.SegmentSlug
	var size int64
	for _, sg := range overview.JSON200.Segments {
		if sg.Customers > size {
			biggest, size = sg.Segment, sg.Customers
		}
	}
	run, err := analyst.GetSegmentRunWithResponse(ctx, first.RunID)
	if err != nil || run.JSON200 == nil || run.JSON200.RunId != first.RunID || run.JSON200.Customers != first.Record.Customers ||
		run.JSON200.Currency != "GBP" || deref(run.JSON200.CurrencyChoice) != apiclient.Dominant {
		t.Fatalf("GET /v1/segments/runs/%s: %v %s", first.RunID, err, answered(run))
	}
	if none, err := analyst.GetSegmentRunWithResponse(ctx, "2011-12-11"); err != nil || none.ApplicationproblemJSON404 == nil {
		t.Fatalf("a run that never ran: %v %s", err, answered(none))
	}
	if none, err := analyst.GetSegmentBacktestWithResponse(ctx); err != nil || none.ApplicationproblemJSON404 == nil {
		t.Fatalf("the backtest before any: %v %s", err, answered(none))
	}

	people := &customersdb.Customers{DB: s.Env.DB, Table: s.Env.Table("CustomersTable")}
	var want []string
	for _, r := range recs {
		c, err := people.Get(ctx, r.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Scores != nil && c.Scores.Segment == string(biggest) {
			want = append(want, r.CustomerID)
		}
	}
	slices.Sort(want)
	var got []string
	p := apiclient.ListSegmentMembersParams{Limit: ptr(13)}
	for pages := 0; ; pages++ {
		page, err := analyst.ListSegmentMembersWithResponse(ctx, biggest, &p)
		if err != nil || page.JSON200 == nil {
			t.Fatalf("page %d: %v %s", pages, err, answered(page))
		}
		for _, m := range page.JSON200.Customers {
			got = append(got, m.CustomerId)
		}
		if p.Cursor = page.JSON200.NextCursor; p.Cursor == nil {
			break
		}
	}
	if int(size) != len(want) || !slices.Equal(got, want) {
		t.Fatalf("listed %d members of %s, records say %d (summary %v)", len(got), biggest, len(want), size)
	}
	if got, err := analyst.GetCustomerWithResponse(ctx, want[0]); err != nil || got.StatusCode() != http.StatusForbidden {
		t.Errorf("analyst key read a customer record: %v %s", err, answered(got))
	}

	again := s.invokeFunction("ScoreFunction", payload)
	if again.RunID != first.RunID || again.Record.Written != 0 || again.Record.Unchanged != first.Record.Customers {
		t.Fatalf("re-run: %+v", again.Record)
	}
}
