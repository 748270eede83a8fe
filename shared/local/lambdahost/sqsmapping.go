package lambdahost

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/local/samtemplate"
	"tailor/shared/local/sqsemu"
)

// An event source mapping as Lambda runs one for an SQS event: it long-polls
// the queue, gathers a batch of up to BatchSize messages within
// MaximumBatchingWindowInSeconds, invokes the function with an
// events.SQSEvent, and deletes what succeeded. With
// ReportBatchItemFailures the function's batchItemFailures stay on the
// queue; without it, or when the invocation fails (error, timeout, crash),
// the whole batch does. What stays becomes visible again after the
// queue's visibility timeout, and the queue's redrive policy moves a
// message to its dead-letter queue after maxReceiveCount receives.

// Event source mapping defaults and limits as Lambda applies them.
const (
	// defaultPollers is how many batches of one mapping run at once when
	// ScalingConfig sets no MaximumConcurrency (Lambda starts with five).
	defaultPollers = 5
	// pollWait is the long-poll wait of each receive.
	pollWait = 20 * time.Second
	// recordOverhead is what a record adds to the payload besides its body
	// and attributes, to keep a batch under the invoke payload limit.
	recordOverhead = 1 << 10
	// reportBatchItemFailures is the FunctionResponseTypes value.
	reportBatchItemFailures = "ReportBatchItemFailures"
)

// mapping is one function's SQS event.
type mapping struct {
	fn             *function
	event          string
	queue          string // the queue's name
	arn            string
	batchSize      int
	window         time.Duration
	reportFailures bool
	pollers        int
}

func (s *Server) newMapping(fn *function, e samtemplate.Event) (*mapping, error) {
	if !e.SQS.Enabled {
		return nil, nil
	}
	arn, err := s.resolver.Resolve(e.SQS.Queue)
	if err != nil {
		return nil, fmt.Errorf("Queue: %w", err)
	}
	name, ok := s.queues.QueueByARN(arn)
	if !ok {
		return nil, fmt.Errorf("Queue %s is not a queue of the template", arn)
	}
	m := &mapping{fn: fn, event: e.Name, queue: name, arn: arn, batchSize: e.SQS.BatchSize,
		window: seconds(e.SQS.MaximumBatchingWindowInSeconds), pollers: e.SQS.MaximumConcurrency}
	for _, t := range e.SQS.FunctionResponseTypes {
		if t == reportBatchItemFailures {
			m.reportFailures = true
		}
	}
	if m.pollers <= 0 {
		m.pollers = defaultPollers
	}
	// More batches at once than runtimes would only hold messages in
	// flight while they wait for one.
	m.pollers = min(m.pollers, s.cfg.MaxConcurrency)
	// Lambda refuses a mapping whose queue hides a message for less than
	// the function may run; locally only a shortened timeout
	// (Config.QueueVisibilityTimeout) can do that, so warn.
	for _, q := range s.Queues() {
		if q.Name == name && q.VisibilityTimeout < fn.timeout+m.window {
			s.log.Warn("queue visibility timeout is shorter than the function timeout plus the batching window; a slow batch is delivered again while it runs",
				"queue", name, "function", fn.def.LogicalID, "visibilityTimeout", q.VisibilityTimeout.String(),
				"functionTimeout", fn.timeout.String(), "batchingWindow", m.window.String())
		}
	}
	return m, nil
}

// startMappings starts every mapping's poller; they stop when the server
// closes. s.mu must be held, so that Close's Wait comes after the Adds.
func (s *Server) startMappings(ctx context.Context) {
	for _, m := range s.mappings {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.poll(ctx, m)
		}()
		s.log.Info("event source mapping started", "function", m.fn.def.LogicalID, "queue", m.queue,
			"batchSize", m.batchSize, "window", m.window.String(), "reportBatchItemFailures", m.reportFailures)
	}
}

// poll receives batches and hands each to an invocation, at most
// m.pollers at once. A batch is received only when an invocation slot is
// free, so no message waits in flight for a runtime.
func (s *Server) poll(ctx context.Context, m *mapping) {
	slots := make(chan struct{}, m.pollers)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch := s.gather(ctx, m)
		if len(batch) == 0 {
			<-slots
			if ctx.Err() != nil {
				return
			}
			continue
		}
		// This goroutine is itself counted in s.bg, so the count cannot be
		// zero here and Close's Wait sees this Add.
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			defer func() { <-slots }()
			s.deliver(ctx, m, batch)
		}()
	}
}

// gather long-polls for a first message, then keeps receiving until the
// batch is full, the batching window has passed or the payload would
// exceed Lambda's limit.
func (s *Server) gather(ctx context.Context, m *mapping) []sqsemu.Message {
	batch, err := s.queues.Receive(ctx, m.queue, sqsemu.ReceiveInput{Max: m.batchSize, Wait: pollWait})
	if err != nil || len(batch) == 0 {
		if err != nil && ctx.Err() == nil {
			s.log.Error("event source mapping could not receive", "function", m.fn.def.LogicalID, "queue", m.queue, "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
		return nil
	}
	size := 0
	for _, msg := range batch {
		size += recordSize(msg)
	}
	deadline := time.Now().Add(m.window)
	for len(batch) < m.batchSize && size < maxRequestBytes {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		more, err := s.queues.Receive(ctx, m.queue, sqsemu.ReceiveInput{Max: m.batchSize - len(batch), Wait: wait})
		if err != nil {
			break
		}
		for _, msg := range more {
			if size+recordSize(msg) > maxRequestBytes {
				// Not in this batch: back on the queue at once.
				_ = s.queues.ChangeVisibility(m.queue, msg.ReceiptHandle, 0)
				continue
			}
			size += recordSize(msg)
			batch = append(batch, msg)
		}
	}
	return batch
}

func recordSize(m sqsemu.Message) int {
	n := len(m.Body) + recordOverhead
	for k, a := range m.MessageAttributes {
		n += len(k) + len(a.DataType) + len(a.BinaryValue)*4/3
		if a.StringValue != nil {
			n += len(*a.StringValue)
		}
	}
	return n
}

// sqsEvent builds the event Lambda passes: one record per message with
// every system and message attribute.
func (s *Server) sqsEvent(m *mapping, batch []sqsemu.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, msg := range batch {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, a := range msg.MessageAttributes {
			// Lambda sends the list values as empty arrays, never null.
			attrs[k] = events.SQSMessageAttribute{StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: append([]string{}, a.StringListValues...), BinaryListValues: append([][]byte{}, a.BinaryListValues...),
				DataType: a.DataType}
		}
		ev.Records[i] = events.SQSMessage{
			MessageId:              msg.ID,
			ReceiptHandle:          msg.ReceiptHandle,
			Body:                   msg.Body,
			Md5OfBody:              msg.MD5OfBody,
			Md5OfMessageAttributes: msg.MD5OfMessageAttributes,
			Attributes:             msg.Attributes,
			MessageAttributes:      attrs,
			EventSourceARN:         m.arn,
			EventSource:            "aws:sqs",
			AWSRegion:              s.cfg.Region,
		}
	}
	return ev
}

// deliver invokes the function with one batch and deletes the messages
// that succeeded.
func (s *Server) deliver(ctx context.Context, m *mapping, batch []sqsemu.Message) {
	payload, err := json.Marshal(s.sqsEvent(m, batch))
	if err != nil {
		s.log.Error("event source mapping could not encode a batch", "function", m.fn.def.LogicalID, "err", err)
		return
	}
	start := time.Now()
	res, err := m.fn.pool.invoke(ctx, payload)
	if err != nil {
		// Nothing ran (the server is closing): the batch stays in flight.
		return
	}
	attrs := []any{"function", m.fn.def.LogicalID, "queue", m.queue, "requestId", res.RequestID,
		"messages", len(batch), "durationMs", float64(time.Since(start).Microseconds()) / 1000}
	if res.Outcome != Success {
		s.log.Warn("queue batch failed; its messages return after the visibility timeout",
			append(append(attrs, "outcome", res.Outcome.String()), s.host.logAttr(m.fn.def.LogicalID)...)...)
		return
	}
	failed := map[string]bool{}
	if m.reportFailures {
		var ok bool
		if failed, ok = batchFailures(res.Payload, batch); !ok {
			s.log.Warn("queue batch answered an invalid batchItemFailures; the whole batch returns after the visibility timeout",
				append(attrs, s.host.logAttr(m.fn.def.LogicalID)...)...)
			return
		}
	}
	for _, msg := range batch {
		if failed[msg.ID] {
			continue
		}
		if err := s.queues.Delete(m.queue, msg.ReceiptHandle); err != nil {
			s.log.Error("event source mapping could not delete a message", "queue", m.queue, "messageId", msg.ID, "err", err)
		}
	}
	level := "queue batch processed"
	if len(failed) > 0 {
		level = "queue batch processed with failures; they return after the visibility timeout"
	}
	s.log.Info(level, append(attrs, "failed", len(failed))...)
}

// batchFailures reads a ReportBatchItemFailures answer as Lambda does: no
// answer, null, {} or an empty list mean every message succeeded; each
// listed itemIdentifier failed; an answer that is not that shape, or
// names a message that is not in the batch or none, fails the whole
// batch (ok false).
func batchFailures(payload []byte, batch []sqsemu.Message) (map[string]bool, bool) {
	failed := map[string]bool{}
	if len(payload) == 0 || string(payload) == "null" {
		return failed, true
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, false
	}
	inBatch := map[string]bool{}
	for _, m := range batch {
		inBatch[m.ID] = true
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || !inBatch[*f.ItemIdentifier] {
			return nil, false
		}
		failed[*f.ItemIdentifier] = true
	}
	return failed, true
}
