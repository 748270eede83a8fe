package sqsemu_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"tailor/shared/local/sqsemu"
)

// The tests drive the emulator with the SDK's own sqs client, so they
// check the wire protocol (targets, member names, MD5 checks, error
// shapes) as well as the queue semantics.

const (
	account = "123456789012"
	region  = "eu-west-1"
)

// clock is a settable clock for the tests of retention; the others run on
// real time with one-second timeouts.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type fixture struct {
	svc    *sqsemu.Service
	client *sqs.Client
	clock  *clock
	url    func(name string) string
}

// newFixture serves a work queue that redrives to a dead-letter queue
// after two receives, with a one second visibility timeout, and a plain
// queue with the same timeout and no redrive.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{}
	svc, err := sqsemu.New(sqsemu.Options{Region: region, Account: account, Now: c.now},
		sqsemu.QueueConfig{Name: "work", VisibilityTimeout: time.Second, RetentionPeriod: time.Hour,
			DeadLetterTargetARN: "arn:aws:sqs:eu-west-1:123456789012:dead", MaxReceiveCount: 2},
		sqsemu.QueueConfig{Name: "dead"},
		sqsemu.QueueConfig{Name: "plain", VisibilityTimeout: time.Second},
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
	return &fixture{svc: svc, client: client, clock: c, url: func(name string) string { return svc.URL(srv.URL, name) }}
}

func (f *fixture) send(t *testing.T, queue, body string) string {
	t.Helper()
	out, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.url(queue)), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

func (f *fixture) receive(t *testing.T, queue string, in sqs.ReceiveMessageInput) []types.Message {
	t.Helper()
	in.QueueUrl = aws.String(f.url(queue))
	if in.MaxNumberOfMessages == 0 {
		in.MaxNumberOfMessages = 10
	}
	out, err := f.client.ReceiveMessage(context.Background(), &in)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (f *fixture) depth(t *testing.T, queue string) sqsemu.Depth {
	t.Helper()
	d, err := f.svc.Depth(queue)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// release makes a received message visible again at once, as a consumer
// that gives up on it does.
func (f *fixture) release(t *testing.T, queue string, m types.Message) {
	t.Helper()
	if _, err := f.client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(f.url(queue)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
}

func bodies(msgs []types.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = aws.ToString(m.Body)
	}
	return out
}

func TestSendReceiveDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.send(t, "work", `{"event_id":"e-1"}`)
	msgs := f.receive(t, "work", sqs.ReceiveMessageInput{
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if len(msgs) != 1 || aws.ToString(msgs[0].MessageId) != id || aws.ToString(msgs[0].Body) != `{"event_id":"e-1"}` {
		t.Fatalf("received %+v", msgs)
	}
	m := msgs[0]
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SenderId"] != account || m.Attributes["SentTimestamp"] == "" {
		t.Errorf("system attributes %v", m.Attributes)
	}
	if d := f.depth(t, "work"); d != (sqsemu.Depth{InFlight: 1}) {
		t.Errorf("after receive: %+v, want one in flight", d)
	}
	if _, err := f.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.url("work")), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if d := f.depth(t, "work"); d != (sqsemu.Depth{}) {
		t.Errorf("after delete: %+v, want empty", d)
	}
	// Deleting again succeeds, as in SQS.
	if _, err := f.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.url("work")), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Errorf("second DeleteMessage: %v", err)
	}
}

func TestMessageAttributes(t *testing.T) {
	f := newFixture(t)
	attrs := map[string]types.MessageAttributeValue{
		"source":  {DataType: aws.String("String"), StringValue: aws.String("pos")},
		"retries": {DataType: aws.String("Number"), StringValue: aws.String("3")},
		"raw":     {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
	}
	out, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.url("work")),
		MessageBody: aws.String("b"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MD5OfMessageAttributes) == "" {
		t.Error("no MD5OfMessageAttributes")
	}
	got := f.receive(t, "work", sqs.ReceiveMessageInput{MessageAttributeNames: []string{"All"}})
	if len(got) != 1 || len(got[0].MessageAttributes) != 3 {
		t.Fatalf("received %+v", got)
	}
	if aws.ToString(got[0].MD5OfMessageAttributes) != aws.ToString(out.MD5OfMessageAttributes) {
		t.Errorf("MD5OfMessageAttributes %s on receive, %s on send", aws.ToString(got[0].MD5OfMessageAttributes), aws.ToString(out.MD5OfMessageAttributes))
	}
	if v := got[0].MessageAttributes["raw"].BinaryValue; string(v) != "\x00\x01\x02" {
		t.Errorf("binary attribute %v", v)
	}

	// Only the attributes asked for come back.
	f.send(t, "work", "c")
	_, err = f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.url("work")),
		MessageBody: aws.String("d"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range f.receive(t, "work", sqs.ReceiveMessageInput{MessageAttributeNames: []string{"source"}}) {
		if aws.ToString(m.Body) == "d" && (len(m.MessageAttributes) != 1 || m.MessageAttributes["source"].StringValue == nil) {
			t.Errorf("asked for source only, got %v", m.MessageAttributes)
		}
	}

	_, err = f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.url("work")), MessageBody: aws.String("e"),
		MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("three")}}})
	if code := apiCode(err); code != "InvalidParameterValue" {
		t.Errorf("non-numeric Number attribute: %v", err)
	}
}

func TestVisibilityTimeout(t *testing.T) {
	f := newFixture(t)
	f.send(t, "plain", "a")
	first := f.receive(t, "plain", sqs.ReceiveMessageInput{})
	if len(first) != 1 {
		t.Fatalf("first receive %v", bodies(first))
	}
	if again := f.receive(t, "plain", sqs.ReceiveMessageInput{}); len(again) != 0 {
		t.Fatalf("in flight message received again at once: %v", bodies(again))
	}
	time.Sleep(1100 * time.Millisecond)
	second := f.receive(t, "plain", sqs.ReceiveMessageInput{
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the visibility timeout: %+v", second)
	}
	if aws.ToString(second[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle) {
		t.Error("a new receive kept the old receipt handle")
	}
	// The first receive's handle no longer deletes the message, and the
	// call still succeeds, as in SQS.
	ctx := context.Background()
	if _, err := f.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.url("plain")), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Fatalf("delete with a stale handle: %v", err)
	}
	if d := f.depth(t, "plain"); d.InFlight != 1 {
		t.Fatalf("a stale handle deleted the message: %+v", d)
	}

	// ChangeMessageVisibility 0 makes it visible at once; on a visible
	// message it fails with MessageNotInflight.
	f.release(t, "plain", second[0])
	_, err := f.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(f.url("plain")),
		ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 10})
	var notInflight *types.MessageNotInflight
	if !errors.As(err, &notInflight) {
		t.Errorf("ChangeMessageVisibility on a visible message: %v, want MessageNotInflight", err)
	}
	third := f.receive(t, "plain", sqs.ReceiveMessageInput{})
	if len(third) != 1 {
		t.Fatalf("visible again after ChangeMessageVisibility 0: %v", bodies(third))
	}
	// A receive's own VisibilityTimeout overrides the queue's.
	f.release(t, "plain", third[0])
	f.receive(t, "plain", sqs.ReceiveMessageInput{VisibilityTimeout: 5})
	time.Sleep(1100 * time.Millisecond)
	if got := f.receive(t, "plain", sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Errorf("received again before the receive's own visibility timeout of 5s")
	}
}

func TestLongPolling(t *testing.T) {
	f := newFixture(t)
	start := time.Now()
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{WaitTimeSeconds: 1}); len(got) != 0 {
		t.Fatalf("empty queue answered %v", bodies(got))
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("long poll on an empty queue returned after %s, want about 1s", waited)
	}

	go func() {
		time.Sleep(300 * time.Millisecond)
		f.send(t, "work", "late")
	}()
	start = time.Now()
	got := f.receive(t, "work", sqs.ReceiveMessageInput{WaitTimeSeconds: 10})
	if len(got) != 1 || aws.ToString(got[0].Body) != "late" {
		t.Fatalf("long poll got %v", bodies(got))
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("long poll returned %s after the send, want at once", waited)
	}

	// A message coming back from flight wakes a waiting receiver too.
	start = time.Now()
	got = f.receive(t, "work", sqs.ReceiveMessageInput{WaitTimeSeconds: 5})
	if len(got) != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("long poll across a visibility timeout got %v after %s", bodies(got), time.Since(start))
	}
}

func TestDelaySeconds(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.url("work")),
		MessageBody: aws.String("later"), DelaySeconds: 1}); err != nil {
		t.Fatal(err)
	}
	if d := f.depth(t, "work"); d.Delayed != 1 {
		t.Errorf("depth %+v, want one delayed", d)
	}
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Fatalf("delayed message received at once")
	}
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{WaitTimeSeconds: 3}); len(got) != 1 {
		t.Fatalf("delayed message not received after its delay")
	}
}

func TestBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	queue := aws.String(f.url("work"))
	sent, err := f.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: queue, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("bad \x01 char")},
		{Id: aws.String("c"), MessageBody: aws.String("three")},
	}})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(sent.Successful) != 2 || len(sent.Failed) != 1 || aws.ToString(sent.Failed[0].Id) != "b" ||
		aws.ToString(sent.Failed[0].Code) != "InvalidMessageContents" || !sent.Failed[0].SenderFault {
		t.Fatalf("batch result %+v", sent)
	}
	msgs := f.receive(t, "work", sqs.ReceiveMessageInput{})
	if len(msgs) != 2 {
		t.Fatalf("received %v", bodies(msgs))
	}
	del, err := f.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: queue, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("x"), ReceiptHandle: msgs[0].ReceiptHandle},
		{Id: aws.String("y"), ReceiptHandle: aws.String("not-a-handle")},
	}})
	if err != nil {
		t.Fatalf("DeleteMessageBatch: %v", err)
	}
	if len(del.Successful) != 1 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("delete batch result %+v", del)
	}
	vis, err := f.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: queue,
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("z"), ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 0}}})
	if err != nil || len(vis.Successful) != 1 {
		t.Fatalf("ChangeMessageVisibilityBatch: %+v, %v", vis, err)
	}
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{}); len(got) != 1 || aws.ToString(got[0].Body) != aws.ToString(msgs[1].Body) {
		t.Fatalf("after the batch calls: %v", bodies(got))
	}

	entries := func(ids ...string) []types.SendMessageBatchRequestEntry {
		var out []types.SendMessageBatchRequestEntry
		for _, id := range ids {
			out = append(out, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("m")})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		entries []types.SendMessageBatchRequestEntry
		target  any
	}{
		{"too many", entries("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"), new(*types.TooManyEntriesInBatchRequest)},
		{"repeated id", entries("1", "1"), new(*types.BatchEntryIdsNotDistinct)},
		{"bad id", entries("no spaces"), new(*types.InvalidBatchEntryId)},
	} {
		_, err := f.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: queue, Entries: tc.entries})
		if err == nil || !errors.As(err, tc.target) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	f := newFixture(t)
	id := f.send(t, "work", "poison")
	for i := 1; i <= 2; i++ {
		got := f.receive(t, "work", sqs.ReceiveMessageInput{})
		if len(got) != 1 {
			t.Fatalf("receive %d: %v", i, bodies(got))
		}
		f.release(t, "work", got[0])
	}
	// Received maxReceiveCount (2) times: the next receive moves it.
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Fatalf("third receive delivered %v, want a move to the dead-letter queue", bodies(got))
	}
	dead := f.receive(t, "dead", sqs.ReceiveMessageInput{
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if len(dead) != 1 || aws.ToString(dead[0].MessageId) != id || aws.ToString(dead[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %+v", dead)
	}
	if src := dead[0].Attributes["DeadLetterQueueSourceArn"]; src != "arn:aws:sqs:eu-west-1:123456789012:work" {
		t.Errorf("DeadLetterQueueSourceArn = %q", src)
	}
	attrs, err := f.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(f.url("work")),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if p := attrs.Attributes["RedrivePolicy"]; !strings.Contains(p, `"maxReceiveCount":2`) || !strings.Contains(p, ":dead") {
		t.Errorf("RedrivePolicy = %q", p)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["VisibilityTimeout"] != "1" {
		t.Errorf("attributes %v", attrs.Attributes)
	}
}

func TestRetention(t *testing.T) {
	f := newFixture(t)
	f.send(t, "work", "old")
	f.clock.advance(time.Hour)
	if got := f.receive(t, "work", sqs.ReceiveMessageInput{}); len(got) != 0 {
		t.Fatalf("message past the retention period received: %v", bodies(got))
	}
}

func TestQueueURLsAndErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	got, err := f.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("work")})
	if err != nil || aws.ToString(got.QueueUrl) != f.url("work") {
		t.Fatalf("GetQueueUrl = %v, %v", got, err)
	}
	list, err := f.client.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(list.QueueUrls) != 3 {
		t.Fatalf("ListQueues = %+v, %v", list, err)
	}
	page, err := f.client.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(page.QueueUrls) != 1 || page.NextToken == nil {
		t.Fatalf("ListQueues page = %+v, %v", page, err)
	}
	rest, err := f.client.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(5), NextToken: page.NextToken})
	if err != nil || len(rest.QueueUrls) != 2 || rest.QueueUrls[0] == page.QueueUrls[0] || rest.NextToken != nil {
		t.Fatalf("ListQueues next page = %+v, %v", rest, err)
	}

	// A deployed queue's URL shape reaches the same queue: only the path
	// names it.
	if _, err := f.client.SendMessage(ctx, &sqs.SendMessageInput{MessageBody: aws.String("x"),
		QueueUrl: aws.String("https://sqs.eu-west-1.amazonaws.com/123456789012/work")}); err != nil {
		t.Errorf("send through an AWS-shaped URL: %v", err)
	}

	_, err = f.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var noQueue *types.QueueDoesNotExist
	if !errors.As(err, &noQueue) || noQueue.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl of a missing queue: %v", err)
	}
	_, err = f.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.url("missing")), MessageBody: aws.String("x")})
	if !errors.As(err, &noQueue) {
		t.Errorf("SendMessage to a missing queue: %v", err)
	}
	_, err = f.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.url("work")), ReceiptHandle: aws.String("garbage")})
	var badReceipt *types.ReceiptHandleIsInvalid
	if !errors.As(err, &badReceipt) {
		t.Errorf("DeleteMessage with a bad handle: %v", err)
	}
	_, err = f.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.url("work")), MaxNumberOfMessages: 11})
	if code := apiCode(err); code != "InvalidParameterValue" {
		t.Errorf("MaxNumberOfMessages 11: %v", err)
	}
	_, err = f.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("new")})
	var unsupported *types.UnsupportedOperation
	if !errors.As(err, &unsupported) {
		t.Errorf("CreateQueue: %v, want UnsupportedOperation", err)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestNewChecksQueues(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  []sqsemu.QueueConfig
		want string
	}{
		{"unknown dead-letter target", []sqsemu.QueueConfig{{Name: "a", DeadLetterTargetARN: "arn:aws:sqs:eu-west-1:123456789012:b", MaxReceiveCount: 3}}, "not a queue"},
		{"half a redrive policy", []sqsemu.QueueConfig{{Name: "a", MaxReceiveCount: 3}}, "needs both"},
		{"fifo", []sqsemu.QueueConfig{{Name: "a.fifo"}}, "FIFO"},
		{"bad name", []sqsemu.QueueConfig{{Name: "a b"}}, "name"},
		{"visibility too long", []sqsemu.QueueConfig{{Name: "a", VisibilityTimeout: 13 * time.Hour}}, "VisibilityTimeout"},
		{"twice", []sqsemu.QueueConfig{{Name: "a"}, {Name: "a"}}, "twice"},
	} {
		_, err := sqsemu.New(sqsemu.Options{Region: region, Account: account}, tc.cfg...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

// TestGoAPIMatchesTheWire: the event source mapping receives and deletes
// through the Go methods; they share the queues with the API.
func TestGoAPIMatchesTheWire(t *testing.T) {
	f := newFixture(t)
	f.send(t, "work", "a")
	msgs, err := f.svc.Receive(context.Background(), "work", sqsemu.ReceiveInput{Max: 100, Wait: time.Second})
	if err != nil || len(msgs) != 1 || msgs[0].Body != "a" || msgs[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("Receive = %+v, %v", msgs, err)
	}
	if err := f.svc.Delete("work", msgs[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if d := f.depth(t, "work"); d != (sqsemu.Depth{}) {
		t.Errorf("depth after delete %+v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := f.svc.Receive(ctx, "work", sqsemu.ReceiveInput{Max: 1, Wait: 10 * time.Second}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive past its context: %v", err)
	}
}
