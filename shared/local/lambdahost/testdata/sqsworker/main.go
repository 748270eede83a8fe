// Command sqsworker is a test Lambda function for the local runner's queue
// and schedule support. For an SQS event it records each message it
// handles in $OUT_DIR/records.jsonl and reports the messages whose body
// starts with "fail" as batch item failures; a body "crashonce" ends the
// process the first time it is seen (before the batch is answered), and
// "crash" every time. Any other event is recorded whole in
// $OUT_DIR/invocations.jsonl; an event {"send": "text"} also sends text to
// the queue at $QUEUE_URL through the SDK, as a function that enqueues
// work does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// record is one line of records.jsonl.
type record struct {
	Body        string `json:"body"`
	MessageID   string `json:"messageId"`
	Receives    string `json:"receives"`
	EventSource string `json:"eventSource"`
	SourceARN   string `json:"eventSourceARN"`
	Batch       int    `json:"batch"`
}

func appendLine(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(os.Getenv("OUT_DIR"), name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe events.SQSEvent
	_ = json.Unmarshal(raw, &probe)
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" {
		return handleBatch(probe)
	}
	if err := appendLine("invocations.jsonl", raw); err != nil {
		return nil, err
	}
	var in struct {
		Send string `json:"send"`
	}
	_ = json.Unmarshal(raw, &in)
	if in.Send == "" {
		return map[string]string{"queueUrl": os.Getenv("QUEUE_URL")}, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	out, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(os.Getenv("QUEUE_URL")), MessageBody: aws.String(in.Send)})
	if err != nil {
		return nil, err
	}
	return map[string]string{"messageId": aws.ToString(out.MessageId), "queueUrl": os.Getenv("QUEUE_URL")}, nil
}

func handleBatch(ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{}
	for _, m := range ev.Records {
		switch m.Body {
		case "crash":
			os.Exit(3)
		case "crashonce":
			marker := filepath.Join(os.Getenv("OUT_DIR"), "crashed")
			if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
				_ = os.WriteFile(marker, nil, 0o644)
				os.Exit(3)
			}
		}
		if err := appendLine("records.jsonl", record{Body: m.Body, MessageID: m.MessageId, Receives: m.Attributes["ApproximateReceiveCount"],
			EventSource: m.EventSource, SourceARN: m.EventSourceARN, Batch: len(ev.Records)}); err != nil {
			return resp, err
		}
		if strings.HasPrefix(m.Body, "fail") {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func main() {
	lambda.Start(handle)
}
