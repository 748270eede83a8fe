//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
)

// TestDashboardInABrowser loads the demo data into a local stack, then
// drives the dashboard in headless Chromium (shared/dashboard/browser):
// every page loads with no console error and no failed request, every
// chart draws, an analyst key sees masked personal data, a key without a
// page's scopes sees a clear message, and a campaign is created and
// launched from the page. Screenshots of every page go to
// TAILOR_SCREENSHOTS (make test: .build/screenshots).
func TestDashboardInABrowser(t *testing.T) {
	root, err := ddbtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools := os.Getenv("TAILOR_BROWSER_TOOLS")
	if tools == "" {
		tools = filepath.Join(root, ".build", "browser")
	}
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed under %s: run make browser-tools (make test does)", tools)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run make browser-tools (make test does)")
	}
	if _, err := os.Stat(filepath.Join(root, "shared", "dashboard", "web", "vendor", "echarts.min.js")); err != nil {
		t.Fatal("the charting library is not bundled: run make dashboard-assets (make test does)")
	}
	shots := os.Getenv("TAILOR_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(root, ".build", "screenshots")
	}

	s := startStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The demo: catalogue and events, training and scoring as of the last
	// day, a backtest, and the A/A campaigns.
	start := time.Now()
	if err := runLoad(ctx, []string{"--url", s.URL, "--key", s.AdminKey, "--quiet", "--nightly", "--campaign-demo",
		"--file", filepath.Join(root, demoFile)}); err != nil {
		t.Fatalf("demo load: %v", err)
	}
	t.Logf("demo data loaded, trained, scored and backtested in %s", time.Since(start).Round(time.Second))

	// One scored customer gets a profile, so the analyst has something
	// to see masked.
	status, _, page := s.call("GET", "/v1/segments/champions/customers?limit=1", nil)
	members, _ := page["customers"].([]any)
	if status != 200 || len(members) == 0 {
		t.Fatalf("champions: %d %v", status, page)
	}
	masked := members[0].(map[string]any)["customer_id"].(string)
	if status, _, body := s.call("PUT", "/v1/customers/"+masked, map[string]any{
		"profile": map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB"},
		"consent": map[string]bool{"email": true}, "tags": []string{"vip"}}); status != 200 && status != 201 {
		t.Fatalf("profile of %s: %d %v", masked, status, body)
	}

	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "shared", "dashboard", "browser", "dashboard.test.cjs"))
	cmd.Env = append(os.Environ(),
		"TAILOR_URL="+s.URL,
		"ADMIN_KEY="+s.AdminKey,
		"ANALYST_KEY="+s.newKey("analyst", auth.SegmentsRead, auth.CampaignsRead, auth.CustomersRead),
		"NARROW_KEY="+s.newKey("storefront", auth.EventsWrite),
		"MASKED_CUSTOMER="+masked,
		"SCREENSHOTS="+shots,
		"TOOLS="+tools,
		"CHROMIUM="+chromium)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res struct {
		Pages       map[string]any `json:"pages"`
		Screenshots []string       `json:"screenshots"`
		Timings     map[string]any `json:"timings"`
		Analyst     map[string]any `json:"analyst"`
		Failures    []string       `json:"failures"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("browser test: %v (%v)\nstdout: %s\nstderr: %s", err, runErr, stdout.String(), stderr.String())
	}
	for _, f := range res.Failures {
		t.Error(f)
	}
	if runErr != nil && len(res.Failures) == 0 {
		t.Errorf("browser test: %v\n%s", runErr, stderr.String())
	}
	for _, want := range []string{"overview", "segments", "segment-members", "customer", "recommendations", "models", "campaigns",
		"campaign-new", "campaign", "analyst-customer", "narrow-key-models"} {
		p := filepath.Join(shots, want+".png")
		if st, err := os.Stat(p); err != nil || st.Size() < 10_000 {
			t.Errorf("screenshot %s: %v", p, err)
		}
	}
	// The time to the Segments grid drawn is reported, not asserted: the
	// machine is shared.
	timings, _ := json.Marshal(res.Timings)
	t.Logf("segments page, time to the RFM grid drawn: %s; screenshots: %s", timings, strings.Join(res.Screenshots, ", "))
	if err := os.WriteFile(filepath.Join(shots, "timings.json"), append(timings, '\n'), 0o644); err != nil {
		t.Error(err)
	}
	fmt.Fprintf(os.Stderr, "dashboard: segments grid drawn %v ms after navigation start\n", res.Timings["segments_grid_drawn_ms"])
}
