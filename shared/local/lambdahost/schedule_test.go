package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func (qs *queueServer) invocations(t *testing.T) []json.RawMessage {
	return readLines[json.RawMessage](t, filepath.Join(qs.out, "invocations.jsonl"))
}

func TestInvokeSchedule(t *testing.T) {
	qs := newQueueServer(t, nil)
	qs.start(t)
	ctx := context.Background()
	at := time.Date(2011, 12, 10, 2, 30, 0, 0, time.UTC)
	res, err := qs.InvokeSchedule(ctx, "WorkerFunctionTick", at)
	if err != nil || len(res) != 1 || res[0].Target != "WorkerFunction" || res[0].Result.Outcome != Success {
		t.Fatalf("InvokeSchedule = %+v, %v", res, err)
	}
	inv := qs.invocations(t)
	if len(inv) != 1 {
		t.Fatalf("worker saw %d invocations", len(inv))
	}
	// The scheduled event as EventBridge sends it to a rule's target.
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(inv[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "0" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || !ev.Time.Equal(at) ||
		ev.Region != "eu-west-1" || ev.AccountID != "123456789012" || string(ev.Detail) != "{}" || ev.ID == "" ||
		len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:events:eu-west-1:123456789012:rule/tq-WorkerFunctionTick" {
		t.Errorf("scheduled event %s", inv[0])
	}
	if strings.Contains(string(inv[0]), "event-bus-name") {
		t.Errorf("scheduled event carries the bus name: %s", inv[0])
	}

	// A constant Input is passed as it is; an event's name alone finds
	// its schedule when no other schedule has one of that name.
	if _, err := qs.InvokeSchedule(ctx, "Hourly", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if inv := qs.invocations(t); len(inv) != 2 || string(inv[1]) != `{"from":"input"}` {
		t.Errorf("Input target got %s", inv[len(inv)-1])
	}

	if _, err := qs.InvokeSchedule(ctx, "MachineNightly", time.Time{}); !errors.Is(err, ErrUnsupportedTarget) {
		t.Errorf("state machine schedule: %v", err)
	}
	if _, err := qs.InvokeSchedule(ctx, "Nope", time.Time{}); !errors.Is(err, ErrUnknownSchedule) || !strings.Contains(err.Error(), "WorkerFunctionTick") {
		t.Errorf("unknown schedule: %v", err)
	}

	// The endpoint tailor invoke-schedule calls.
	resp, err := http.Post(qs.URL()+"/_tailor/schedules/WorkerFunctionHourly", "application/json", strings.NewReader(`{"time":"2026-01-01T10:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer scheduleAnswer
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %v", resp.StatusCode, err)
	}
	if len(answer.Targets) != 1 || answer.Targets[0].Outcome != "success" || !strings.Contains(string(answer.Targets[0].Payload), "queueUrl") {
		t.Errorf("answer %+v", answer)
	}
	for path, want := range map[string]int{"Nope": http.StatusNotFound, "MachineNightly": http.StatusNotImplemented} {
		resp, err := http.Post(qs.URL()+"/_tailor/schedules/"+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// fast fires every interval, standing in for a cron expression so the test
// need not wait for the next minute.
type fast time.Duration

func (f fast) Next(t time.Time) time.Time { return t.Add(time.Duration(f)) }

func TestSchedulesFire(t *testing.T) {
	qs := newQueueServer(t, func(c *Config) { c.Schedules = true })
	for _, sc := range qs.schedules {
		if sc.def.Name == "WorkerFunctionTick" {
			sc.expr = fast(300 * time.Millisecond)
		}
	}
	qs.start(t)
	eventually(t, 10*time.Second, "two firings", func() bool { return len(qs.invocations(t)) >= 2 })
	var ev events.CloudWatchEvent
	if err := json.Unmarshal(qs.invocations(t)[0], &ev); err != nil || ev.DetailType != "Scheduled Event" {
		t.Errorf("fired %s", qs.invocations(t)[0])
	}
	infos := map[string]ScheduleInfo{}
	for _, i := range qs.Schedules() {
		infos[i.Name] = i
	}
	if i := infos["WorkerFunctionTick"]; !i.Enabled || i.Next.IsZero() {
		t.Errorf("Tick = %+v, want armed", i)
	}
	if i := infos["WorkerFunctionHourly"]; i.Next.IsZero() || i.Next.Minute() != 0 {
		t.Errorf("Hourly = %+v, want the next whole hour", i)
	}
	if i := infos["MachineNightly"]; i.Unsupported == "" || !i.Next.IsZero() {
		t.Errorf("MachineNightly = %+v, want unsupported and not armed", i)
	}
}

func TestSchedulesOffByDefault(t *testing.T) {
	qs := newQueueServer(t, nil)
	qs.start(t)
	for _, i := range qs.Schedules() {
		if !i.Next.IsZero() {
			t.Errorf("%s armed without Config.Schedules", i.Name)
		}
	}
}
