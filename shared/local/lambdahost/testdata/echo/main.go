// Command echo is a test Lambda function for the local runner. It answers
// with the event it received and facts about its process, and on request
// sleeps, crashes, fails or shapes its response in ways API Gateway must
// translate.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"tailor/shared/platform/bus"
	"tailor/shared/platform/bus/eventbridge"
)

// controls are read from the query string of an HTTP event or from the top
// level of a direct invocation's event.
type controls struct {
	Sleep string `json:"sleep"`
	Crash string `json:"crash"`
	Error string `json:"error"`
	Panic string `json:"panic"`
	Mode  string `json:"mode"`
	Code  string `json:"code"`
	// Publish puts an event with this id on EVENT_BUS_NAME through the
	// endpoint the runner gave the process.
	Publish string `json:"publish"`
}

var invocations int

func handle(ctx context.Context, event json.RawMessage) (any, error) {
	invocations++
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	fmt.Printf("echo handled %s\n", lc.AwsRequestID)
	fmt.Fprintf(os.Stderr, "echo stderr %s\n", lc.AwsRequestID)

	var probe struct {
		Version     string            `json:"version"`
		QueryParams map[string]string `json:"queryStringParameters"`
	}
	_ = json.Unmarshal(event, &probe)
	var c controls
	if probe.Version == "2.0" {
		b, _ := json.Marshal(probe.QueryParams)
		_ = json.Unmarshal(b, &c)
	} else {
		_ = json.Unmarshal(event, &c)
	}

	if c.Sleep != "" {
		ms, _ := strconv.Atoi(c.Sleep)
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if c.Crash != "" {
		code, _ := strconv.Atoi(c.Crash)
		os.Exit(code)
	}
	if c.Panic != "" {
		panic("echo was asked to panic")
	}
	if c.Error != "" {
		return nil, errors.New(c.Error)
	}
	if c.Publish != "" {
		if err := publish(ctx, c.Publish); err != nil {
			return nil, err
		}
	}

	facts := map[string]any{
		"event": event,
		"lambda": map[string]any{
			"requestId":   lc.AwsRequestID,
			"functionArn": lc.InvokedFunctionArn,
			"deadlineMs":  deadline.UnixMilli(),
			"pid":         os.Getpid(),
			"invocations": invocations,
		},
		"env": env(),
	}
	switch c.Mode {
	case "raw":
		return facts, nil
	case "string":
		return "plain", nil
	case "binary":
		return map[string]any{
			"statusCode":      200,
			"headers":         map[string]string{"content-type": "application/octet-stream"},
			"body":            base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
			"isBase64Encoded": true,
		}, nil
	case "multi":
		return map[string]any{
			"statusCode":        200,
			"multiValueHeaders": map[string][]string{"X-Multi": {"a", "b"}},
			"body":              "multi",
		}, nil
	case "bad":
		return map[string]any{"statusCode": "two hundred"}, nil
	}
	body, _ := json.Marshal(facts)
	code := 200
	if c.Code != "" {
		code, _ = strconv.Atoi(c.Code)
	}
	return map[string]any{
		"statusCode": code,
		"headers":    map[string]string{"content-type": "application/json", "x-echo": "yes"},
		"cookies":    []string{"a=1; Path=/", "b=2; HttpOnly"},
		"body":       string(body),
	}, nil
}

func env() map[string]string {
	out := map[string]string{}
	for _, k := range []string{
		"STAGE", "THINGS_TABLE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_LAMBDA_RUNTIME_API", "HOME",
		"AWS_LAMBDA_LOG_LEVEL", "EXTRA", "AWS_ENDPOINT_URL_EVENTS", "EVENT_BUS_NAME",
	} {
		if v, ok := os.LookupEnv(k); ok {
			out[k] = v
		}
	}
	return out
}

// publish puts one echo.published event with the given id, through the
// same adapter and environment a Tailor function uses.
func publish(ctx context.Context, eventID string) error {
	p, err := eventbridge.New(ctx, os.Getenv("EVENT_BUS_NAME"))
	if err != nil {
		return err
	}
	lc, _ := lambdacontext.FromContext(ctx)
	return p.Publish(ctx, bus.Event{ID: eventID, Source: "tailor.echo", DetailType: "echo.published",
		Detail: map[string]string{"request_id": lc.AwsRequestID}, Time: time.Now()})
}

func main() {
	if os.Getenv("ECHO_FAIL_INIT") != "" {
		fmt.Fprintln(os.Stderr, "echo: failing init on purpose")
		os.Exit(4)
	}
	lambda.Start(handle)
}
