// Package edge is the edge of the ingest function: POST /v1/events (a
// batch of up to events.MaxBatch events in one JSON body) and the SQS
// trigger (one event per message). Both decode, call the ingest service,
// and encode the per-event outcomes; neither holds business rules.
package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"tailor/shared/events"
	"tailor/shared/events/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/obs"
)

// API holds the handlers' dependencies.
type API struct {
	Service *service.Service
	Log     *slog.Logger
	// Metrics receives CloudWatch Embedded Metric Format lines; nil
	// discards them.
	Metrics io.Writer
	// Storage, when set, returns the storage calls made since it was last
	// called (ddb.Calls.Take): the log line of each batch carries them.
	Storage func() any
}

// Request is the body of POST /v1/events.
type Request struct {
	Events []json.RawMessage `json:"events"`
}

// Response reports every event of the batch by index, so a client
// resends exactly the failed ones.
type Response struct {
	Accepted  int               `json:"accepted"`
	Duplicate int               `json:"duplicate"`
	Rejected  int               `json:"rejected"`
	Failed    int               `json:"failed"`
	Results   []service.Outcome `json:"results"`
}

// Register adds the HTTP route to r.
func (a *API) Register(r *apigw.Router) {
	r.Handle("POST /v1/events", a.post)
}

// post answers 200 with an outcome per event whenever the batch itself is
// well formed: invalid events are rejected one by one and never stop the
// valid ones. Only an unreadable or oversized batch fails as a whole
// (400, 413, 415).
func (a *API) post(ctx context.Context, r *apigw.Request) (*apigw.Response, error) {
	var req Request
	if err := r.DecodeJSON(&req, events.MaxBatchBytes); err != nil {
		return nil, err
	}
	switch {
	case req.Events == nil:
		var v errs.Validator
		v.Add("events", "is required: an array of 1 to %d events", events.MaxBatch)
		return nil, v.Err()
	case len(req.Events) == 0:
		var v errs.Validator
		v.Add("events", "must hold 1 to %d events", events.MaxBatch)
		return nil, v.Err()
	case len(req.Events) > events.MaxBatch:
		return nil, errs.E(errs.TooLarge, fmt.Sprintf("a batch holds at most %d events; got %d; split it", events.MaxBatch, len(req.Events)))
	}
	ctx, cancel := reserve(ctx)
	defer cancel()
	out := a.Service.Ingest(ctx, req.Events, batchPrefix)
	c := service.Counts(out)
	a.report(ctx, "http", len(out), c)
	return apigw.JSON(http.StatusOK, Response{Accepted: c[events.Accepted], Duplicate: c[events.Duplicate],
		Rejected: c[events.Rejected], Failed: c[events.Failed], Results: out}), nil
}

// batchPrefix names the event at index i of a batch in field errors, as
// the request spells it: "events[3].".
func batchPrefix(i int) string { return "events[" + strconv.Itoa(i) + "]." }

// SQS handles a batch of SQS messages, each holding one event as JSON. It
// returns exactly the messages whose event failed for a reason retrying
// can fix (storage unavailable, deadline): SQS delivers those again and
// moves them to the dead-letter queue after maxReceiveCount deliveries.
// An invalid or conflicting event is never retried: it is logged with the
// names of its bad fields (as the event spells them: a message holds one
// event) but never its content, counted, and its message is deleted,
// because no number of deliveries would make it valid. Duplicates are
// deleted silently.
func (a *API) SQS(ctx context.Context, ev lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error) {
	raws := make([]json.RawMessage, len(ev.Records))
	for i, m := range ev.Records {
		raws[i] = json.RawMessage(m.Body)
	}
	ctx, cancel := reserve(ctx)
	defer cancel()
	out := a.Service.Ingest(ctx, raws, nil)
	resp := lambdaevents.SQSEventResponse{BatchItemFailures: []lambdaevents.SQSBatchItemFailure{}}
	for i, o := range out {
		switch o.Status {
		case events.Failed:
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		case events.Rejected:
			fields := make([]string, len(o.Errors))
			for k, f := range o.Errors {
				fields[k] = f.Field
			}
			a.Log.WarnContext(ctx, "event rejected", "messageId", ev.Records[i].MessageId, "reason", o.Reason,
				"fields", fields)
		}
	}
	a.report(ctx, "sqs", len(out), service.Counts(out))
	return resp, nil
}

// answerTime is kept back from the invocation's deadline so that a slow
// batch still answers with per-event outcomes (the unfinished events as
// failed) instead of being cut off by the timeout.
const answerTime = 2 * time.Second

func reserve(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*answerTime {
		return context.WithDeadline(ctx, d.Add(-answerTime))
	}
	return context.WithCancel(ctx)
}

// report logs the counts of a batch of n events and emits them as metrics.
func (a *API) report(ctx context.Context, source string, n int, c map[events.Status]int) {
	attrs := []any{"source", source, "events", n,
		"accepted", c[events.Accepted], "duplicate", c[events.Duplicate], "rejected", c[events.Rejected], "failed", c[events.Failed]}
	if a.Storage != nil {
		attrs = append(attrs, "storage", a.Storage())
	}
	a.Log.InfoContext(ctx, "events ingested", attrs...)
	if a.Metrics == nil {
		return
	}
	_ = obs.EmitMetrics(a.Metrics, time.Now(), map[string]string{"Function": "ingest", "Source": source},
		obs.Metric{Name: "EventsAccepted", Unit: "Count", Value: float64(c[events.Accepted])},
		obs.Metric{Name: "EventsDuplicate", Unit: "Count", Value: float64(c[events.Duplicate])},
		obs.Metric{Name: "EventsRejected", Unit: "Count", Value: float64(c[events.Rejected])},
		obs.Metric{Name: "EventsFailed", Unit: "Count", Value: float64(c[events.Failed])})
}

// Invoker routes one Lambda payload to the HTTP or the SQS handler: the
// ingest function has both triggers.
type Invoker struct {
	HTTP func(context.Context, apigw.Event) (apigw.Result, error)
	SQS  func(context.Context, lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error)
}

// Invoke is the Lambda handler.
func (v *Invoker) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("decode invocation payload: %w", err)
	}
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" {
		var ev lambdaevents.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode SQS event: %w", err)
		}
		return v.SQS(ctx, ev)
	}
	var ev apigw.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode HTTP API event: %w", err)
	}
	return v.HTTP(ctx, ev)
}
