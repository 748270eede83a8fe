package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tailor/shared/local/apiclient"
	"tailor/shared/local/replay"
)

func init() {
	register("load", "replay the Online Retail data set through the API (items, then events)", runLoad)
}

// Data files: the full set next to the project, and the subset shipped in
// the repository for the demo (see testdata/demo/README.md for credit).
const (
	retailFile = "../shared/data/online_retail.csv.gz"
	demoFile   = "testdata/demo/online_retail_demo.csv.gz"
)

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", envOr("TAILOR_URL", "http://127.0.0.1:3000"), "base URL of the API")
	file := fs.String("file", retailFile, "Online Retail CSV (gzip or plain)")
	demo := fs.Bool("demo", false, "load the small demo subset shipped in "+demoFile)
	key := fs.String("key", os.Getenv("TAILOR_API_KEY"), "API key with events:write and catalog:write (or TAILOR_API_KEY)")
	keyFile := fs.String("key-file", "", "read the API key from this file (make run writes .local/admin.key)")
	batch := fs.Int("batch", 500, fmt.Sprintf("events per request (at most 500; %d with --demo)", demoBatch))
	senders := fs.Int("senders", 4, "concurrent requests")
	wait := fs.Duration("wait", 0, "wait up to this long for the API to answer before loading")
	quiet := fs.Bool("quiet", false, "no progress bar")
	checkpoint := fs.String("checkpoint", "", "file recording how far the load got, so that an interrupted load resumes (default .local/load-<data file>.checkpoint; \"none\" for no checkpoint)")
	restart := fs.Bool("restart", false, "ignore the checkpoint of an interrupted load and send everything")
	order := fs.String("order", "customer", "send events in \"file\" order, or grouped by \"customer\" (each customer's in file order), which writes each customer's record once per batch")
	nightly := fs.Bool("nightly", false, "then train as of the end of the last event's day and score as of that day (on with --demo)")
	campaignDemoFlag := fs.Bool("campaign-demo", false, "then create, launch and report A/A campaigns as of "+demoAsOf+" (on with --demo; needs campaigns:write)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *demo {
		*file = demoFile
		*nightly = true
		*campaignDemoFlag = true
		if !flagGiven(fs, "batch") {
			*batch = demoBatch
		}
	}
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		*key = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat(*file); err != nil {
		return fmt.Errorf("data file: %w (the full set lives in ../shared/data; --demo uses the subset in the repository)", err)
	}
	if *wait > 0 {
		if err := waitFor(ctx, *url, *wait); err != nil {
			return err
		}
	}
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = nil
	}
	if *order != "file" && *order != "customer" {
		return fmt.Errorf("--order is file or customer, not %q", *order)
	}
	api := &replay.HTTP{Base: *url, Key: *key}
	l := &replay.Loader{Send: api, Batch: *batch, Senders: *senders, Progress: progress, ByCustomer: *order == "customer"}
	if *checkpoint != "none" {
		if *checkpoint == "" {
			*checkpoint = filepath.Join(".local", "load-"+strings.TrimSuffix(filepath.Base(*file), ".gz")+".checkpoint")
		}
		source, err := replay.SourceOf(*file)
		if err != nil {
			return fmt.Errorf("data file: %w", err)
		}
		if *restart {
			if err := os.Remove(*checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove checkpoint: %w", err)
			}
		}
		// A checkpoint counts events in sending order, which the order
		// option changes.
		l.Checkpoint = &replay.Checkpoint{Path: *checkpoint, Source: source + " order=" + *order}
	}
	fmt.Fprintf(os.Stderr, "loading %s into %s\n", *file, *url)
	rep, err := l.Retail(ctx, func() (io.ReadCloser, error) { return os.Open(*file) })
	fmt.Print(rep)
	if err != nil || rep.Last.IsZero() {
		return err
	}
	if *nightly {
		if err := runNightly(ctx, *url, rep.Last); err != nil {
			return err
		}
	}
	if *campaignDemoFlag {
		if _, err := campaignDemo(ctx, api, demoCampaigns, os.Stdout); err != nil {
			return err
		}
	}
	if *demo {
		fmt.Println(dashboardNote(*url, *keyFile))
	}
	return nil
}

// runNightly trains and scores as the nightly schedule would have run just
// after last's day ended: historical data is months or years old. Training
// takes a time (midnight after that day, so the whole day counts); a
// segmentation run takes a date and counts the purchases made on it.
func runNightly(ctx context.Context, url string, last time.Time) error {
	day := last.UTC().Truncate(24 * time.Hour)
	runs := []struct{ fn, asOf string }{
		{"TrainFunction", day.Add(24 * time.Hour).Format(time.RFC3339)},
		{"ScoreFunction", day.Format(time.DateOnly)},
	}
	for _, r := range runs {
		out, err := invoke(ctx, url, r.fn, fmt.Sprintf(`{"as_of":%q}`, r.asOf))
		if err != nil {
			return err
		}
		fmt.Printf("%s as of %s: %s\n", r.fn, r.asOf, summary(out))
	}
	// Then how the purchase model, calibrated 90 days earlier, predicted
	// those 90 days (the dashboard's Models page shows it).
	cal := day.AddDate(0, 0, -90).Format(time.DateOnly)
	out, err := invoke(ctx, url, "ScoreFunction", fmt.Sprintf(`{"phase":"backtest","calibration_end":%q,"holdout_end":%q}`, cal, day.Format(time.DateOnly)))
	if err != nil {
		return err
	}
	var bt struct {
		Backtest struct {
			Report struct {
				Model     string `json:"model"`
				Customers int    `json:"customers"`
				Churn     struct {
					AUC   float64 `json:"auc"`
					Skill float64 `json:"skill"`
				} `json:"churn"`
				Purchases struct {
					Predicted float64 `json:"predicted_total"`
					Actual    float64 `json:"actual_total"`
				} `json:"purchases"`
			} `json:"report"`
		} `json:"backtest"`
	}
	if err := json.Unmarshal(out, &bt); err != nil {
		return fmt.Errorf("backtest answer: %w: %s", err, out)
	}
	r := bt.Backtest.Report
	fmt.Printf("ScoreFunction backtest %s to %s: model=%s customers=%d churn AUC=%.4f Brier %.1f%% below the base rate; purchases predicted %.0f, actual %.0f\n",
		cal, day.Format(time.DateOnly), r.Model, r.Customers, r.Churn.AUC, 100*r.Churn.Skill, r.Purchases.Predicted, r.Purchases.Actual)
	return nil
}

// invoke runs a function through the Lambda Invoke API that tailor serve
// (and the AWS Lambda endpoint) offers.
func invoke(ctx context.Context, base, function, payload string) ([]byte, error) {
	u := strings.TrimRight(base, "/") + "/2015-03-31/functions/" + function + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 15 * time.Minute}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", function, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return nil, fmt.Errorf("invoke %s: status %d: %s", function, resp.StatusCode, b)
	}
	return b, nil
}

// summary keeps the scalar fields of a job's JSON answer, for one line of
// output.
func summary(b []byte) string {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 3754886, not 3.754886e+06
	if dec.Decode(&m) != nil {
		return string(b)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case json.Number, string, bool:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

// waitFor polls base until any HTTP answer comes back (to GET /v1/popular
// without a key: a 401 is an answer).
func waitFor(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	api, err := apiclient.NewClient(strings.TrimRight(base, "/"), apiclient.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}))
	if err != nil {
		return err
	}
	for {
		if resp, err := api.GetPopular(ctx, nil); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API at %s did not answer within %s", base, limit)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("waiting for %s", base))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
