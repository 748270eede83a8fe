package lambdahost

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"tailor/shared/local/sqsemu"
	"tailor/shared/platform/obs/obstest"
)

// The queue and schedule tests run testdata/sqsworker as WorkerFunction
// under testdata/queues.yaml: it records what it handles in files, so the
// tests see what the event source mapping and the scheduler delivered.

var (
	workerOnce sync.Once
	workerBin  []byte
	workerErr  error
)

// queueServer is a server of testdata/queues.yaml and the directory the
// worker writes to.
type queueServer struct {
	*Server
	out    string
	client *sqs.Client
}

// workerBinDir builds the worker once per test binary and lays it out in
// a directory of the test's own as WorkerFunction's bootstrap.
func workerBinDir(t *testing.T) string {
	t.Helper()
	workerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sqsworker-")
		if err != nil {
			workerErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), "./testdata/sqsworker")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			workerErr = errors.New("build sqsworker: " + err.Error() + "\n" + string(b))
			return
		}
		workerBin, workerErr = os.ReadFile(filepath.Join(dir, "bootstrap"))
	})
	if workerErr != nil {
		t.Fatal(workerErr)
	}
	bin := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bin, "worker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "worker", "bootstrap"), workerBin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// newQueueServer returns a server of the queues template, not yet
// started.
func newQueueServer(t *testing.T, adjust func(*Config)) *queueServer {
	t.Helper()
	out := t.TempDir()
	cfg := Config{
		Template:    "testdata/queues.yaml",
		BinDir:      workerBinDir(t),
		TablePrefix: "tq-",
		Region:      "eu-west-1",
		Env:         map[string]string{"OUT_DIR": out},
		Logs:        &obstest.Buffer{},
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &queueServer{Server: srv, out: out}
}

func (qs *queueServer) start(t *testing.T) {
	t.Helper()
	if err := qs.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	qs.client = sqs.New(sqs.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(qs.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 1,
	})
}

func (qs *queueServer) queueURL(t *testing.T, name string) *string {
	t.Helper()
	out, err := qs.client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetQueueUrl %s: %v", name, err)
	}
	return out.QueueUrl
}

func (qs *queueServer) send(t *testing.T, bodies ...string) {
	t.Helper()
	var entries []types.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(b)})
	}
	out, err := qs.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: qs.queueURL(t, "tq-WorkQueue"), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("SendMessageBatch: %+v, %v", out, err)
	}
}

// workerRecord is a line of the worker's records.jsonl.
type workerRecord struct {
	Body        string `json:"body"`
	MessageID   string `json:"messageId"`
	Receives    string `json:"receives"`
	EventSource string `json:"eventSource"`
	SourceARN   string `json:"eventSourceARN"`
	Batch       int    `json:"batch"`
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func (qs *queueServer) records(t *testing.T) []workerRecord {
	return readLines[workerRecord](t, filepath.Join(qs.out, "records.jsonl"))
}

func (qs *queueServer) depth(t *testing.T, name string) sqsemu.Depth {
	t.Helper()
	d, err := qs.queues.Depth(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testVisibility shortens the queues' visibility timeout for the tests. It
// must exceed the mapping's batching window (1s) plus a runtime's start
// and the batch's work, or a batch comes back while it still runs, as it
// would in SQS.
const testVisibility = 3 * time.Second

// eventually polls cond every 50ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFunctionSendsToItsQueue: a function's !Ref to a queue resolves to
// the queue's local URL and its SDK client reaches the server through
// AWS_ENDPOINT_URL_SQS; the mapping then delivers the message back to it.
func TestFunctionSendsToItsQueue(t *testing.T) {
	qs := newQueueServer(t, nil)
	qs.start(t)
	queues := qs.Queues()
	if len(queues) != 2 || queues[1].Name != "tq-WorkQueue" || queues[1].DeadLetterQueue != "DeadQueue" ||
		queues[1].MaxReceiveCount != 2 || len(queues[1].Consumers) != 1 || queues[1].VisibilityTimeout != 30*time.Second {
		t.Fatalf("Queues() = %+v", queues)
	}
	res, err := qs.Invoke(context.Background(), "WorkerFunction", []byte(`{"send":"from the function"}`))
	if err != nil || res.Outcome != Success {
		t.Fatalf("invoke: %+v, %v", res, err)
	}
	var got struct {
		QueueURL string `json:"queueUrl"`
	}
	_ = json.Unmarshal(res.Payload, &got)
	if want := qs.URL() + "/123456789012/tq-WorkQueue"; got.QueueURL != want {
		t.Errorf("QUEUE_URL = %q, want the local URL %q", got.QueueURL, want)
	}
	eventually(t, 10*time.Second, "the message to come back through the mapping", func() bool {
		recs := qs.records(t)
		return len(recs) == 1 && recs[0].Body == "from the function"
	})
	r := qs.records(t)[0]
	if r.EventSource != "aws:sqs" || r.SourceARN != "arn:aws:sqs:eu-west-1:123456789012:tq-WorkQueue" || r.Receives != "1" {
		t.Errorf("record = %+v", r)
	}
	eventually(t, 5*time.Second, "the message to be deleted", func() bool { return qs.depth(t, "tq-WorkQueue") == sqsemu.Depth{} })
}

// TestPartialBatchFailuresAndRedrive: reported failures stay on the queue
// and come back after the visibility timeout; after maxReceiveCount (2)
// receives they move to the dead-letter queue; the others are deleted
// after one delivery.
func TestPartialBatchFailuresAndRedrive(t *testing.T) {
	qs := newQueueServer(t, func(c *Config) { c.QueueVisibilityTimeout = testVisibility })
	qs.start(t)
	qs.send(t, "ok-1", "fail-1", "ok-2")
	eventually(t, 30*time.Second, "the failed message to reach the dead-letter queue", func() bool {
		return qs.depth(t, "tq-DeadQueue").Visible == 1 && qs.depth(t, "tq-WorkQueue") == sqsemu.Depth{}
	})
	count := map[string]int{}
	for _, r := range qs.records(t) {
		count[r.Body]++
	}
	if count["ok-1"] != 1 || count["ok-2"] != 1 || count["fail-1"] != 2 {
		t.Errorf("deliveries %v, want ok-1 and ok-2 once, fail-1 twice (maxReceiveCount)", count)
	}
	msgs, err := qs.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: qs.queueURL(t, "tq-DeadQueue")})
	if err != nil || len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != "fail-1" {
		t.Fatalf("dead-letter queue: %+v, %v", msgs, err)
	}
}

// TestCrashMidBatchLosesNothing: a runtime that dies during a batch fails
// the whole batch, which comes back after the visibility timeout and is
// delivered again in full.
func TestCrashMidBatchLosesNothing(t *testing.T) {
	qs := newQueueServer(t, func(c *Config) { c.QueueVisibilityTimeout = testVisibility })
	qs.start(t)
	qs.send(t, "a", "b", "crashonce", "c")
	eventually(t, 30*time.Second, "every message to be delivered and deleted", func() bool {
		seen := map[string]bool{}
		for _, r := range qs.records(t) {
			seen[r.Body] = true
		}
		return seen["a"] && seen["b"] && seen["c"] && seen["crashonce"] && qs.depth(t, "tq-WorkQueue") == sqsemu.Depth{}
	})
	if _, err := os.Stat(filepath.Join(qs.out, "crashed")); err != nil {
		t.Fatal("the worker never crashed")
	}
	if d := qs.depth(t, "tq-DeadQueue"); d != (sqsemu.Depth{}) {
		t.Errorf("dead-letter queue %+v, want empty: one crash is one receive", d)
	}
	for _, r := range qs.records(t) {
		if r.Body == "crashonce" && r.Receives != "2" {
			t.Errorf("the crashing message was handled on receive %s, want 2", r.Receives)
		}
	}
}

func TestBatchFailures(t *testing.T) {
	batch := []sqsemu.Message{{ID: "m1"}, {ID: "m2"}}
	tests := []struct {
		payload string
		failed  []string
		ok      bool
	}{
		{"", nil, true},
		{"null", nil, true},
		{"{}", nil, true},
		{`{"batchItemFailures":null}`, nil, true},
		{`{"batchItemFailures":[]}`, nil, true},
		{`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, []string{"m2"}, true},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, false},
		{`{"batchItemFailures":[{"itemIdentifier":"m3"}]}`, nil, false},
		{`{"batchItemFailures":[{"id":"m1"}]}`, nil, false},
		{`"done"`, nil, false},
	}
	for _, tc := range tests {
		failed, ok := batchFailures([]byte(tc.payload), batch)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.payload, ok, tc.ok)
			continue
		}
		if len(failed) != len(tc.failed) {
			t.Errorf("%s: failed = %v, want %v", tc.payload, failed, tc.failed)
		}
		for _, id := range tc.failed {
			if !failed[id] {
				t.Errorf("%s: %s not failed", tc.payload, id)
			}
		}
	}
}

func TestFIFOQueueIsRefused(t *testing.T) {
	tpl := filepath.Join(t.TempDir(), "fifo.yaml")
	src, err := os.ReadFile("testdata/queues.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fifo := strings.Replace(string(src), "      VisibilityTimeout: 30\n", "      VisibilityTimeout: 30\n      FifoQueue: true\n", 1)
	if err := os.WriteFile(tpl, []byte(fifo), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Template: tpl, BinDir: workerBinDir(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("New with a FIFO queue: %v", err)
	}
}
