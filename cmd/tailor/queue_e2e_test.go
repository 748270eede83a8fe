//go:build dynamodb && linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/auth"
	keysdb "tailor/shared/platform/auth/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/kmskey"
	"tailor/shared/platform/obs/obstest"
	"tailor/shared/platform/schema"
)

// The queue tests send events through IngestQueue with the SDK's sqs
// client, as a back-office system would, and watch tailor serve's event
// source mapping feed them to IngestFunction. They need
// Config.QueueVisibilityTimeout, so they start the stack with queueStack
// rather than startStack; the timeout exceeds IngestQueue's batching
// window (2s) plus a batch's work, as AWS requires of a real queue.
const queueVisibility = 4 * time.Second

// queueStack is a running local Tailor with a shortened visibility
// timeout, an admin key and an SQS client pointed at it.
type queueStack struct {
	t      *testing.T
	srv    *lambdahost.Server
	env    *ddbtest.Env
	bin    string
	key    string
	client *sqs.Client
}

func startQueueStack(t *testing.T) *queueStack {
	t.Helper()
	env := ddbtest.New(t)
	root, _ := ddbtest.ModuleRoot()
	keyFile, err := kmskey.EnsureFile(filepath.Join(t.TempDir(), "pii.key"))
	if err != nil {
		t.Fatal(err)
	}
	logs, records := &obstest.Buffer{}, &obstest.Buffer{}
	bin := bootstraps(t)
	srv, err := lambdahost.New(lambdahost.Config{
		Env:                    map[string]string{"PII_KEY_FILE": keyFile},
		Template:               filepath.Join(root, "template.yaml"),
		BinDir:                 bin,
		TablePrefix:            env.Prefix,
		Logs:                   logs,
		Logger:                 slog.New(slog.NewJSONHandler(records, nil)),
		QueueVisibilityTimeout: queueVisibility,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("function logs:\n%s\nserver records:\n%s", logs.String(), records.String())
		}
	})
	rec, key, err := auth.NewKey(rand.Reader, "queue e2e admin", []auth.Scope{auth.Admin}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := (&keysdb.Keys{DB: env.DB, Table: env.Table("KeysTable")}).Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	return &queueStack{t: t, srv: srv, env: env, bin: bin, key: key, client: client}
}

// call sends one API request with the admin key and decodes the JSON
// answer.
func (q *queueStack) call(method, path string, body any) (int, map[string]any) {
	q.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, q.srv.URL()+path, rd)
	if err != nil {
		q.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+q.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		q.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (q *queueStack) queueURL(logicalID string) *string {
	q.t.Helper()
	out, err := q.client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(q.env.Prefix + logicalID)})
	if err != nil {
		q.t.Fatalf("GetQueueUrl %s: %v", logicalID, err)
	}
	return out.QueueUrl
}

// send puts one message per body on IngestQueue, ten to a call.
func (q *queueStack) send(bodies []string) {
	q.t.Helper()
	url := q.queueURL("IngestQueue")
	for start := 0; start < len(bodies); start += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies[start:min(start+10, len(bodies))] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
		}
		out, err := q.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: url, Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			q.t.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
	}
}

// depth reads a queue's visible and in-flight counts through the API.
func (q *queueStack) depth(logicalID string) (visible, inFlight int) {
	q.t.Helper()
	out, err := q.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: q.queueURL(logicalID),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		q.t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

// aggregates returns a customer's aggregates through the API.
func (q *queueStack) aggregates(customerID string) map[string]any {
	q.t.Helper()
	status, body := q.call("GET", "/v1/customers/"+customerID, nil)
	if status != http.StatusOK {
		q.t.Fatalf("GET customer %s: %d %v", customerID, status, body)
	}
	agg, _ := body["aggregates"].(map[string]any)
	return agg
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func queuedPurchase(eventID, customerID string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"event_id": eventID, "type": "purchase", "customer_id": customerID,
		"item_id": "sku-42", "quantity": 1, "price": "12.50", "currency": "GBP", "order_id": "o-" + eventID,
		"timestamp": at.UTC().Format(time.RFC3339), "channel": "store"})
	return string(b)
}

func (q *queueStack) putCustomers(prefix string, n int) []string {
	q.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%03d", prefix, i)
		if status, body := q.call("PUT", "/v1/customers/"+ids[i], map[string]any{"profile": map[string]any{"country": "GB"}}); status != http.StatusCreated {
			q.t.Fatalf("PUT customer: %d %v", status, body)
		}
	}
	return ids
}

// TestQueueEventsAreApplied: events sent to IngestQueue reach the
// customers' aggregates; an invalid one is dropped, not retried.
func TestQueueEventsAreApplied(t *testing.T) {
	q := startQueueStack(t)
	ids := q.putCustomers("c-q", 3)
	at := time.Now().Add(-time.Hour)
	var bodies []string
	for i := 0; i < 30; i++ {
		bodies = append(bodies, queuedPurchase(fmt.Sprintf("01JQUEUE%017d", i), ids[i%3], at))
	}
	bodies = append(bodies, "{not json")
	q.send(bodies)
	waitUntil(t, time.Minute, "the queue to drain", func() bool {
		v, f := q.depth("IngestQueue")
		return v == 0 && f == 0
	})
	for _, id := range ids {
		if agg := q.aggregates(id); fmt.Sprint(agg["events"]) != "10" || fmt.Sprint(agg["orders"]) != "10" {
			t.Errorf("%s aggregates %v, want 10 events and orders", id, agg)
		}
	}
	if v, f := q.depth("IngestDeadLetterQueue"); v+f != 0 {
		t.Errorf("dead-letter queue holds %d: an invalid event is logged and deleted, never retried", v+f)
	}
}

// TestPoisonMessageEndsInDeadLetterQueue: a message whose event fails on
// every delivery (its customer's record cannot be decoded, so storing the
// event fails) is reported back to the queue each time, and after
// maxReceiveCount (5) receives moves to IngestDeadLetterQueue; the
// message next to it in the batch is applied once.
func TestPoisonMessageEndsInDeadLetterQueue(t *testing.T) {
	q := startQueueStack(t)
	ids := q.putCustomers("c-p", 2)
	bad, good := ids[0], ids[1]
	// Corrupt bad's aggregates: a string where a map is stored.
	expr, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("agg"), expression.Value("not aggregates"))).Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.env.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(q.env.Table("CustomersTable")),
		Key: schema.CustomerKey(bad), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	poison := queuedPurchase("01JPOISON0000000000000001", bad, at)
	q.send([]string{poison, queuedPurchase("01JPOISON0000000000000002", good, at)})

	waitUntil(t, 3*time.Minute, "the poison message in the dead-letter queue", func() bool {
		v, _ := q.depth("IngestDeadLetterQueue")
		return v == 1
	})
	msgs, err := q.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: q.queueURL("IngestDeadLetterQueue"),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("ReceiveMessage from the dead-letter queue: %+v, %v", msgs, err)
	}
	m := msgs.Messages[0]
	if aws.ToString(m.Body) != poison || !strings.HasSuffix(m.Attributes["DeadLetterQueueSourceArn"], ":"+q.env.Prefix+"IngestQueue") {
		t.Errorf("dead letter %q, attributes %v", aws.ToString(m.Body), m.Attributes)
	}
	if n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"]); n < 5 {
		t.Errorf("moved after %d receives, want maxReceiveCount 5", n)
	}
	if v, f := q.depth("IngestQueue"); v+f != 0 {
		t.Errorf("IngestQueue still holds %d messages", v+f)
	}
	if agg := q.aggregates(good); fmt.Sprint(agg["events"]) != "1" {
		t.Errorf("the good message's customer: %v, want its one event applied once", agg)
	}
}

// TestIngestCrashMidBatchLosesNothing kills every ingest runtime while a
// batch is half applied. The batch comes back after the visibility
// timeout and is delivered again; the events applied before the crash are
// recognised as duplicates, so every event counts exactly once.
func TestIngestCrashMidBatchLosesNothing(t *testing.T) {
	q := startQueueStack(t)
	const n = 120
	at := time.Now().Add(-time.Hour)
	var ids []string
	crashed := false
	for round := 0; round < 3 && !crashed; round++ {
		ids = q.putCustomers(fmt.Sprintf("c-x%d", round), n)
		bodies := make([]string, n)
		for i, id := range ids {
			bodies[i] = queuedPurchase(fmt.Sprintf("01JCRASH%d%016d", round, i), id, at)
		}
		q.send(bodies)
		// Kill while some but not all of the round's events are stored.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			applied := q.applied(fmt.Sprintf("01JCRASH%d", round))
			if applied > 0 && applied < n {
				if killed := q.killRuntimes("ingest"); killed > 0 {
					t.Logf("round %d: killed %d ingest runtimes with %d of %d events stored", round, killed, applied, n)
					crashed = true
				}
				break
			}
			if applied == n {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		waitUntil(t, 2*time.Minute, "the queue to drain", func() bool {
			v, f := q.depth("IngestQueue")
			return v == 0 && f == 0
		})
	}
	if !crashed {
		t.Fatal("never caught a batch half applied in three rounds")
	}
	if dv, df := q.depth("IngestDeadLetterQueue"); dv+df != 0 {
		t.Errorf("dead-letter queue holds %d messages after one crash", dv+df)
	}
	if got := q.applied("01JCRASH"); got < n {
		t.Errorf("%d events stored in the crashed round and before, want at least %d", got, n)
	}
	for _, id := range ids {
		if agg := q.aggregates(id); fmt.Sprint(agg["events"]) != "1" || fmt.Sprint(agg["units"]) != "1" {
			t.Fatalf("%s aggregates %v, want exactly one event and unit", id, agg)
		}
	}
}

// applied counts the stored events whose id starts with prefix: the ids
// on the history pages, which are the events' de-duplication record.
func (q *queueStack) applied(prefix string) int {
	q.t.Helper()
	expr, err := expression.NewBuilder().WithFilter(expression.Name("pk").BeginsWith(schema.PfxHistory)).
		WithProjection(expression.NamesList(expression.Name("ids"))).Build()
	if err != nil {
		q.t.Fatal(err)
	}
	total := 0
	p := dynamodb.NewScanPaginator(q.env.DB, &dynamodb.ScanInput{TableName: aws.String(q.env.Table("EventsTable")),
		FilterExpression: expr.Filter(), ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values()})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			q.t.Fatal(err)
		}
		for _, it := range page.Items {
			var v struct {
				IDs []string `dynamodbav:"ids,stringset"`
			}
			if err := attributevalue.UnmarshalMap(it, &v); err != nil {
				q.t.Fatal(err)
			}
			for _, id := range v.IDs {
				if strings.HasPrefix(id, prefix) {
					total++
				}
			}
		}
	}
	return total
}

// killRuntimes kills, by pid, every runtime process of the named function
// that this test process started, and returns how many it killed.
func (q *queueStack) killRuntimes(name string) int {
	q.t.Helper()
	want := filepath.Join(q.bin, name, "bootstrap")
	entries, _ := os.ReadDir("/proc")
	killed := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != want {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Field 4 of /proc/<pid>/stat, after the parenthesised name.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	return killed
}
