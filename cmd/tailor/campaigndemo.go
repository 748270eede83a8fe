package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"tailor/shared/campaigns"
	"tailor/shared/local/replay"
)

// The demo's A/A campaigns: launched as of DemoAsOf on every customer
// with a purchase before that day, half held out, measured over 30 days.
// No message is ever sent, so the true effect is zero and every
// difference the reports show is chance.
const (
	demoAsOf      = "2011-10-01"
	demoWindow    = 30
	demoHoldout   = 0.5
	demoCampaigns = 3
	// demoLaunchCalls bounds the launch requests of one campaign; each
	// continues where the previous one's time ran out (202).
	demoLaunchCalls = 100
)

// campaignDemo creates, launches and measures n A/A campaigns through the
// API, prints one summary per report and returns the reports.
func campaignDemo(ctx context.Context, api replay.Sender, n int, out io.Writer) ([]campaigns.Report, error) {
	var reports []campaigns.Report
	for i := range n {
		holdout, window := demoHoldout, demoWindow
		in := campaigns.Input{Name: fmt.Sprintf("A/A demo %d", i+1), Channel: campaigns.Onsite, Currency: "GBP",
			Holdout: &holdout, AttributionDays: &window,
			Audience: campaigns.AudienceInput{LastPurchaseBefore: demoAsOf}}
		var c campaigns.View
		if err := post(ctx, api, "/v1/campaigns", in, http.StatusCreated, &c); err != nil {
			return nil, fmt.Errorf("create campaign: %w", err)
		}
		launched := false
		for range demoLaunchCalls {
			status, body, err := api.Post(ctx, "/v1/campaigns/"+c.ID+"/launch", []byte(`{"as_of":"`+demoAsOf+`"}`))
			if err != nil {
				return nil, fmt.Errorf("launch campaign %s: %w", c.ID, err)
			}
			if status == http.StatusOK {
				launched = true
				break
			}
			if status != http.StatusAccepted {
				return nil, fmt.Errorf("launch campaign %s: status %d: %s", c.ID, status, body)
			}
		}
		if !launched {
			return nil, fmt.Errorf("launch campaign %s: not done after %d requests", c.ID, demoLaunchCalls)
		}
		var r campaigns.Report
		if err := post(ctx, api, "/v1/campaigns/"+c.ID+"/report", nil, http.StatusOK, &r); err != nil {
			return nil, fmt.Errorf("report of campaign %s: %w", c.ID, err)
		}
		fmt.Fprintln(out, demoSummary(c.ID, r))
		reports = append(reports, r)
	}
	return reports, nil
}

// post sends body as JSON and decodes the answer into v when the status
// is want.
func post(ctx context.Context, api replay.Sender, path string, body any, want int, v any) error {
	b := []byte{}
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	status, raw, err := api.Post(ctx, path, b)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("status %d: %s", status, raw)
	}
	return json.Unmarshal(raw, v)
}

// demoSummary is one report in a few lines: arm sizes and the SRM check,
// conversion per arm and the difference with its interval and p-value,
// revenue per member and CUPED's variance reduction.
func demoSummary(campaignID string, r campaigns.Report) string {
	st := r.Stats
	c := st.Conversion
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %s (A/A as of %s, %s to %s): treatment %d, holdout %d members; SRM p=%s\n",
		campaignID, demoAsOf, r.WindowStart, r.WindowEnd, st.Members.Treatment, st.Members.Holdout, num(&st.SRM.P))
	fmt.Fprintf(&b, "  conversion %s vs %s, difference %s [%s, %s], p=%s, significant at 5%%: %v\n",
		num(c.Treatment.Rate.Value), num(c.Holdout.Rate.Value), num(c.Difference.Value), num(c.Difference.Low),
		num(c.Difference.High), num(c.P), c.Significant)
	rv := st.CUPED
	fmt.Fprintf(&b, "  revenue per member (minor units, CUPED) difference %s [%s, %s], variance reduction %s",
		num(rv.Difference.Value), num(rv.Difference.Low), num(rv.Difference.High), num(rv.VarianceReduction))
	return b.String()
}

// demoBatch is the events per request of a demo load unless --batch says
// otherwise: on a busy laptop a request of 500 events can outlast the
// ingest function's 30 s timeout and be sent again, while 100 stay well
// inside it.
const demoBatch = 100

// flagGiven reports whether the command line set the flag called name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// dashboardNote is the last line of a demo load: where the dashboard is
// and which key signs in to it.
func dashboardNote(base, keyFile string) string {
	key := "an API key"
	if keyFile != "" {
		key = "the API key in " + keyFile
	}
	return fmt.Sprintf("dashboard: %s/dashboard/ (sign in with %s)", strings.TrimRight(base, "/"), key)
}

func num(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4g", *p)
}
