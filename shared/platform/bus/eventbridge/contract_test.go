package eventbridge_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/bus/contract"
	"tailor/shared/platform/bus/eventbridge"
)

// busTemplate declares a bus and no function: the server needs no built
// binary and no database to answer PutEvents.
const busTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  EventBus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub "${AWS::StackName}-events"
`

// TestContract runs the suite against the adapter talking to tailor
// serve's PutEvents endpoint, configured from the environment as a
// function's is.
func TestContract(t *testing.T) {
	dir := t.TempDir()
	tpl := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(tpl, []byte(busTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	contract.Run(t, func(t *testing.T) contract.Bus {
		n++
		file := filepath.Join(dir, "events", t.Name()[len("TestContract/"):]+".jsonl")
		srv, err := lambdahost.New(lambdahost.Config{
			Template:    tpl,
			BinDir:      dir,
			TablePrefix: "tailor-test-",
			EventsFile:  file,
			Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_REGION", "eu-west-1")
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
		t.Setenv("AWS_ENDPOINT_URL_EVENTS", srv.URL())
		p, err := eventbridge.New(context.Background(), "tailor-test-EventBus")
		if err != nil {
			t.Fatal(err)
		}
		return contract.Bus{Publisher: p, Published: func(t *testing.T) []bus.Entry {
			evs, err := lambdahost.ReadEvents(file)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]bus.Entry, len(evs))
			for i, e := range evs {
				if e.EventBusName != "tailor-test-EventBus" {
					t.Errorf("event %s went to bus %q", e.ID, e.EventBusName)
				}
				out[i] = bus.Entry{Source: e.Source, DetailType: e.DetailType, Time: e.Time, Detail: e.Detail}
			}
			return out
		}}
	})
	if n == 0 {
		t.Fatal("the suite opened no bus")
	}
}
