package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"tailor/shared/local/lambdahost"
)

func init() {
	register("invoke-schedule", "fire one of the template's schedules now on the running tailor serve", runInvokeSchedule)
}

// runInvokeSchedule asks the running tailor serve to fire a schedule, as
// EventBridge would at its time, and prints what each target answered.
// The server resolves the name with the parameters it runs with, so a
// condition such as ScoreRunner picks the same schedules as there.
func runInvokeSchedule(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invoke-schedule", flag.ContinueOnError)
	base := fs.String("url", "http://"+envOr("TAILOR_ADDR", "127.0.0.1:3000"), "base URL of the running tailor serve")
	at := fs.String("time", "", "the scheduled event's time, RFC 3339 (e.g. 2011-12-10T02:30:00Z: the nightly jobs then run as of 2011-12-09); now when empty")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tailor invoke-schedule [--url URL] [--time T] NAME\n\n"+
			"NAME is a schedule's name: <Function><Event> for a function's Schedule event (TrainFunctionNightly),\n"+
			"the rule's logical id for an AWS::Events::Rule (ScoreNightlyRule), or an event name only one schedule has (Refresh).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		if list, err := listSchedules(ctx, *base); err == nil {
			fmt.Fprintln(os.Stderr, "\nschedules of the running server:")
			printSchedules(os.Stderr, list)
		}
		return errors.New("want one schedule name")
	}
	body := []byte("{}")
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--time %q: want RFC 3339, e.g. 2011-12-10T02:30:00Z", *at)
		}
		body, _ = json.Marshal(map[string]time.Time{"time": t})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*base, "/")+"/_tailor/schedules/"+fs.Arg(0), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// No client timeout: a nightly job may run for its whole 15 minutes.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("is tailor serve running at %s? %w", *base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var problem struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &problem)
		return fmt.Errorf("%s: %s", resp.Status, problem.Message)
	}
	var answer struct {
		Schedule string    `json:"schedule"`
		Time     time.Time `json:"time"`
		Targets  []struct {
			Target    string          `json:"target"`
			Skipped   string          `json:"skipped"`
			RequestID string          `json:"requestId"`
			Outcome   string          `json:"outcome"`
			Payload   json.RawMessage `json:"payload"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	failed := 0
	for _, t := range answer.Targets {
		if t.Skipped != "" {
			fmt.Printf("%s: skipped: %s\n", t.Target, t.Skipped)
			continue
		}
		fmt.Printf("%s: %s (request %s, scheduled time %s)\n", t.Target, t.Outcome, t.RequestID, answer.Time.Format(time.RFC3339))
		var pretty bytes.Buffer
		if json.Indent(&pretty, t.Payload, "", "  ") == nil {
			fmt.Println(pretty.String())
		}
		if t.Outcome != "success" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d target(s) failed; their logs are in the log directory (.local/logs/<LogicalId>.log)", failed)
	}
	return nil
}

func listSchedules(ctx context.Context, base string) ([]lambdahost.ScheduleInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_tailor/schedules", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []lambdahost.ScheduleInfo
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// printSchedules writes one line per schedule: name, expression, targets
// and whether and when it fires.
func printSchedules(w io.Writer, schedules []lambdahost.ScheduleInfo) {
	for _, sc := range schedules {
		state := ""
		switch {
		case !sc.Enabled:
			state = "  (disabled)"
		case sc.Unsupported != "":
			state = "  (not run: " + sc.Unsupported + ")"
		case !sc.Next.IsZero():
			state = "  next " + sc.Next.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(w, "      %-30s %-20s -> %s%s\n", sc.Name, sc.Expression, strings.Join(sc.Targets, ", "), state)
	}
}

// printQueuesAndSchedules adds the queues and schedules to tailor serve's
// start-up summary.
func printQueuesAndSchedules(w io.Writer, srv *lambdahost.Server, firing bool) {
	queues := srv.Queues()
	if len(queues) > 0 {
		fmt.Fprintf(w, "  %-40s -> SQS, in memory (AWS_ENDPOINT_URL_SQS=%s):\n", "POST / (X-Amz-Target: AmazonSQS.*)", srv.URL())
	}
	for _, q := range queues {
		var notes []string
		if len(q.Consumers) > 0 {
			notes = append(notes, "polled for "+strings.Join(q.Consumers, ", "))
		}
		if q.DeadLetterQueue != "" {
			notes = append(notes, fmt.Sprintf("to %s after %d receives", q.DeadLetterQueue, q.MaxReceiveCount))
		}
		fmt.Fprintf(w, "      %s  %s\n", q.URL, strings.Join(notes, "; "))
	}
	schedules := srv.Schedules()
	if len(schedules) == 0 {
		return
	}
	how := "not fired on their own (tailor serve --schedules fires them)"
	if firing {
		how = "fired on their expressions"
	}
	fmt.Fprintf(w, "  %-40s -> tailor invoke-schedule NAME; schedules %s:\n", "POST /_tailor/schedules/{name}", how)
	printSchedules(w, schedules)
}
