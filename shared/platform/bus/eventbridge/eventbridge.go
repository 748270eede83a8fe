// Package eventbridge is the event bus on Amazon EventBridge: a
// bus.Publisher that sends PutEvents calls of at most ten entries and
// 256 KB, and sends again only the entries EventBridge failed with a
// retryable code. Its client is built from the environment by package
// awsenv, not the SDK's config module, so a function stays small;
// AWS_ENDPOINT_URL_EVENTS points it at tailor serve's PutEvents endpoint
// locally.
package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"

	"tailor/shared/platform/awsenv"
	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
)

// API is the part of the EventBridge client the publisher calls.
type API interface {
	PutEvents(ctx context.Context, in *sdk.PutEventsInput, optFns ...func(*sdk.Options)) (*sdk.PutEventsOutput, error)
}

// Defaults of Publisher's retries.
const (
	// DefaultAttempts is how many times an entry is sent at most.
	DefaultAttempts = 5
	// DefaultBackoff is the wait before the first resend; it doubles,
	// with jitter, up to maxBackoff.
	DefaultBackoff = 100 * time.Millisecond
	maxBackoff     = 5 * time.Second
)

// Publisher publishes to one EventBridge bus. It is safe for concurrent
// use once configured.
type Publisher struct {
	// API is the EventBridge client.
	API API
	// Bus is the bus's name or ARN; "" is the account's default bus.
	Bus string
	// Attempts bounds how many times an entry is sent, counting the first;
	// DefaultAttempts when 0. The client's own retryer also retries whole
	// calls that fail with throttling or a server error.
	Attempts int
	// Backoff is the wait before the first resend of failed entries;
	// DefaultBackoff when 0.
	Backoff time.Duration
}

// New returns a publisher on the named bus with a client configured from
// the environment: region and credentials as Lambda sets them, and the
// endpoint from AWS_ENDPOINT_URL_EVENTS or AWS_ENDPOINT_URL when set.
func New(ctx context.Context, busName string) (*Publisher, error) {
	cfg, err := awsenv.Config(ctx, 3)
	if err != nil {
		return nil, fmt.Errorf("event bus %s: %w", busName, err)
	}
	client := sdk.NewFromConfig(cfg, func(o *sdk.Options) { o.BaseEndpoint = awsenv.Endpoint("EVENTS") })
	return &Publisher{API: client, Bus: busName}, nil
}

// Publish checks every event, then sends them in order in calls that
// EventBridge accepts. Entries that fail with a retryable code
// (InternalFailure, ThrottlingException) are sent again with backoff; an
// entry still failing after Attempts makes the call fail with
// errs.Transient, one failing with another code with errs.Other. Entries
// accepted before a failure stay published.
func (p *Publisher) Publish(ctx context.Context, events ...bus.Event) error {
	entries, err := bus.EncodeAll(events)
	if err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	for _, batch := range bus.Batches(entries) {
		if err := p.send(ctx, batch); err != nil {
			return fmt.Errorf("publish events to bus %q: %w", p.Bus, err)
		}
	}
	return nil
}

// send puts one batch, resending the entries that failed retryably.
func (p *Publisher) send(ctx context.Context, batch []bus.Entry) error {
	attempts := p.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	wait := p.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	pending := batch
	for attempt := 1; ; attempt++ {
		out, err := p.API.PutEvents(ctx, p.input(pending))
		if err != nil {
			return callError(ctx, err)
		}
		if len(out.Entries) != len(pending) {
			return &errs.Error{Kind: errs.Other, Detail: fmt.Sprintf("EventBridge answered %d results for %d entries", len(out.Entries), len(pending))}
		}
		var retry []bus.Entry
		var last types.PutEventsResultEntry
		for i, r := range out.Entries {
			code := aws.ToString(r.ErrorCode)
			switch code {
			case "":
				continue
			case "InternalFailure", "ThrottlingException":
				retry = append(retry, pending[i])
				last = r
			default:
				// Encode checked what EventBridge checks; what is left
				// (permissions, a missing bus) is configuration.
				return &errs.Error{Kind: errs.Other, Detail: fmt.Sprintf("EventBridge refused a %s entry: %s: %s",
					pending[i].DetailType, code, aws.ToString(r.ErrorMessage))}
			}
		}
		if len(retry) == 0 {
			return nil
		}
		if attempt >= attempts {
			return &errs.Error{Kind: errs.Transient, Detail: fmt.Sprintf("%d of %d entries not accepted after %d attempts: %s: %s",
				len(retry), len(batch), attempt, aws.ToString(last.ErrorCode), aws.ToString(last.ErrorMessage))}
		}
		if err := smithytime.SleepWithContext(ctx, jitter(wait)); err != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
		pending = retry
	}
}

func (p *Publisher) input(entries []bus.Entry) *sdk.PutEventsInput {
	in := &sdk.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = types.PutEventsRequestEntry{
			Source:     aws.String(e.Source),
			DetailType: aws.String(e.DetailType),
			Detail:     aws.String(string(e.Detail)),
			Time:       aws.Time(e.Time),
		}
		if p.Bus != "" {
			in.Entries[i].EventBusName = aws.String(p.Bus)
		}
	}
	return in
}

// callError gives a failed call a kind. The client has already retried
// throttling and server errors, so what remains is either the caller's
// context, a request EventBridge refuses, or an outage worth retrying
// later.
func callError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err // wraps the context's error
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ValidationException":
			return &errs.Error{Kind: errs.Invalid, Detail: "EventBridge refused the call", Err: err}
		case "AccessDeniedException", "NotAuthorizedForSourceException", "NotAuthorizedForDetailTypeException":
			return &errs.Error{Kind: errs.Forbidden, Detail: "EventBridge refused the call", Err: err}
		}
	}
	return &errs.Error{Kind: errs.Transient, Detail: "EventBridge call failed", Err: err}
}

// jitter returns a wait in [d/2, d], so publishers that failed together
// do not resend together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
