package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// eventsServer is a server recording events in a file of the test's own,
// and the SDK's EventBridge client pointed at it, as a function's is.
func eventsServer(t *testing.T) (*testServer, *eventbridge.Client, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "events", "events.jsonl")
	ts := startServer(t, func(c *Config) { c.EventsFile = file })
	client := eventbridge.New(eventbridge.Options{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(ts.url),
	})
	return ts, client, file
}

func readEvents(t *testing.T, file string) []Event {
	t.Helper()
	evs, err := ReadEvents(file)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestPutEventsWithTheSDK(t *testing.T) {
	ts, client, file := eventsServer(t)
	at := time.Date(2026, 11, 20, 10, 0, 0, 500e6, time.FixedZone("CET", 3600))
	out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source:       aws.String("tailor.campaigns"),
		DetailType:   aws.String("campaign.launched"),
		Detail:       aws.String(`{ "event_id": "campaign.launched:c-1", "campaign_id": "c-1", "arms": {"treatment": 900} }`),
		EventBusName: aws.String("arn:aws:events:eu-west-1:123456789012:event-bus/tl-Bus"),
		Time:         aws.Time(at),
		Resources:    []string{"arn:aws:tailor:campaign/c-1"},
	}, {
		Source:     aws.String("tailor.test"),
		DetailType: aws.String("test.happened"),
		Detail:     aws.String(`{}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 0 || len(out.Entries) != 2 {
		t.Fatalf("FailedEntryCount %d, %d entries", out.FailedEntryCount, len(out.Entries))
	}
	evs := readEvents(t, file)
	if len(evs) != 2 {
		t.Fatalf("%d events recorded, want 2", len(evs))
	}
	first := evs[0]
	if first.ID != aws.ToString(out.Entries[0].EventId) || evs[1].ID != aws.ToString(out.Entries[1].EventId) || first.ID == evs[1].ID {
		t.Errorf("recorded ids %s, %s; answered %s, %s", first.ID, evs[1].ID,
			aws.ToString(out.Entries[0].EventId), aws.ToString(out.Entries[1].EventId))
	}
	if first.Source != "tailor.campaigns" || first.DetailType != "campaign.launched" || first.EventBusName != "tl-Bus" ||
		first.Version != "0" || first.Account != "123456789012" || first.Region != ts.cfg.Region {
		t.Errorf("first event %+v", first)
	}
	if want := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC); !first.Time.Equal(want) || first.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v: the entry's, to the second, in UTC", first.Time, want)
	}
	if string(first.Detail) != `{"event_id":"campaign.launched:c-1","campaign_id":"c-1","arms":{"treatment":900}}` {
		t.Errorf("detail %s", first.Detail)
	}
	if len(first.Resources) != 1 || first.Resources[0] != "arn:aws:tailor:campaign/c-1" {
		t.Errorf("resources %v", first.Resources)
	}
	second := evs[1]
	if second.EventBusName != "default" || second.Resources == nil || time.Since(second.Time) > time.Minute {
		t.Errorf("an entry with no bus, resources or time: %+v", second)
	}

	// The line itself is EventBridge's envelope, as a rule's target gets it.
	var line map[string]any
	b, _ := json.Marshal(first)
	_ = json.Unmarshal(b, &line)
	for _, k := range []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail", "event-bus-name"} {
		if _, ok := line[k]; !ok {
			t.Errorf("line has no %q: %s", k, b)
		}
	}
	if line["time"] != "2026-11-20T09:00:00Z" {
		t.Errorf("time written as %v", line["time"])
	}
}

func TestPutEventsRefusesWhatEventBridgeRefuses(t *testing.T) {
	_, client, file := eventsServer(t)
	ctx := context.Background()
	entry := func(detail string) types.PutEventsRequestEntry {
		return types.PutEventsRequestEntry{Source: aws.String("tailor.test"), DetailType: aws.String("test.happened"), Detail: aws.String(detail)}
	}

	// Whole calls: more than ten entries, or more than 256 KB.
	eleven := make([]types.PutEventsRequestEntry, 11)
	for i := range eleven {
		eleven[i] = entry(fmt.Sprintf(`{"n":%d}`, i))
	}
	big := entry(`{"pad":"` + strings.Repeat("x", 130<<10) + `"}`)
	for name, entries := range map[string][]types.PutEventsRequestEntry{
		"eleven entries":    eleven,
		"over 256 KB":       {big, big},
		"no entries at all": {},
	} {
		_, err := client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
			t.Errorf("%s: got %v, want a ValidationException", name, err)
		}
	}

	// Entries: each fails alone, in its place.
	noSource := entry(`{}`)
	noSource.Source = nil
	out, err := client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		entry(`{"n":1}`), entry(`not json`), entry(`[1,2]`), entry(`"text"`), noSource, entry(""), big,
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "MalformedDetail", "MalformedDetail", "MalformedDetail", "InvalidArgument", "InvalidArgument", ""}
	if int(out.FailedEntryCount) != 5 || len(out.Entries) != len(want) {
		t.Fatalf("FailedEntryCount %d, %d entries", out.FailedEntryCount, len(out.Entries))
	}
	for i, w := range want {
		r := out.Entries[i]
		if aws.ToString(r.ErrorCode) != w || (w == "") != (r.EventId != nil) || (w != "") != (r.ErrorMessage != nil) {
			t.Errorf("entry %d: EventId %v ErrorCode %v ErrorMessage %v, want code %q", i,
				aws.ToString(r.EventId), aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage), w)
		}
	}
	if msg := aws.ToString(out.Entries[4].ErrorMessage); msg != "Parameter Source is not valid. Reason: Source is a required argument." {
		t.Errorf("missing source: %q", msg)
	}

	evs := readEvents(t, file)
	if len(evs) != 2 || string(evs[0].Detail) != `{"n":1}` || evs[1].ID != aws.ToString(out.Entries[6].EventId) {
		t.Errorf("recorded %d events; want only the two valid entries", len(evs))
	}
}

func TestEventsAPIAnswersOnlyPutEvents(t *testing.T) {
	_, client, _ := eventsServer(t)
	_, err := client.ListRules(context.Background(), &eventbridge.ListRulesInput{})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "UnknownOperationException" {
		t.Errorf("ListRules: got %v, want UnknownOperationException", err)
	}
}

func TestEventsFileStartsEmpty(t *testing.T) {
	_, client, file := eventsServer(t)
	if _, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String("tailor.test"), DetailType: aws.String("test.happened"), Detail: aws.String(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if n := len(readEvents(t, file)); n != 1 {
		t.Fatalf("%d events recorded, want 1", n)
	}
	// As the function logs are: a new run's events are about a new run's
	// data (DynamoDB Local keeps nothing between runs).
	startServer(t, func(c *Config) { c.EventsFile = file })
	if n := len(readEvents(t, file)); n != 0 {
		t.Errorf("a new server kept %d events of the last", n)
	}
}

func TestRuntimesPublishThroughTheServer(t *testing.T) {
	// The parent's own endpoint for EventBridge must not win over the
	// server's: the runtime's events belong in the events file.
	t.Setenv("AWS_ENDPOINT_URL_EVENTS", "http://127.0.0.1:1")
	ts, _, file := eventsServer(t)
	e, _ := decodeEcho(t, ts.do(t, "GET", "/echo/publish?publish=echo.published:1", nil, nil))
	if e.Env["AWS_ENDPOINT_URL_EVENTS"] != ts.url {
		t.Errorf("AWS_ENDPOINT_URL_EVENTS = %q, want %q", e.Env["AWS_ENDPOINT_URL_EVENTS"], ts.url)
	}
	if e.Env["EVENT_BUS_NAME"] != "tl-Bus" {
		t.Errorf("EVENT_BUS_NAME = %q, want tl-Bus (!Ref of the template's bus)", e.Env["EVENT_BUS_NAME"])
	}
	evs := readEvents(t, file)
	if len(evs) != 1 || evs[0].EventBusName != "tl-Bus" || evs[0].DetailType != "echo.published" ||
		!strings.Contains(string(evs[0].Detail), `"event_id":"echo.published:1"`) ||
		!strings.Contains(string(evs[0].Detail), e.Lambda.RequestID) {
		t.Errorf("recorded %+v", evs)
	}
	r := ts.do(t, "GET", "/echo/publish?publish=not%20an%20id", nil, nil)
	if r.status != http.StatusInternalServerError {
		t.Errorf("an invalid event: status %d", r.status)
	}
}

func TestConfigEnvOverridesTheEventsEndpoint(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Env = map[string]string{EventsEndpointVar: "http://127.0.0.1:9"} })
	e, _ := decodeEcho(t, ts.do(t, "GET", "/echo/env", nil, nil))
	if got := e.Env[EventsEndpointVar]; got != "http://127.0.0.1:9" {
		t.Errorf("%s = %q, want Config.Env's", EventsEndpointVar, got)
	}
}
