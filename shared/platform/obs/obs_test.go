package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestLoggerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	log.InfoContext(ctx, "handled", "status", 200)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %q", buf.String())
	}
	if rec["requestId"] != "req-1" || rec["message"] != "handled" || rec["status"] != float64(200) {
		t.Fatalf("record %v", rec)
	}
}

func TestEmitMetricsIsEMF(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1700000000, 0)
	if err := EmitMetrics(&buf, now, map[string]string{"Function": "ingest"}, Metric{"Accepted", "Count", 3}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Function string
		Accepted float64
		AWS      struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.AWS.CloudWatchMetrics[0]
	if doc.Function != "ingest" || doc.Accepted != 3 || doc.AWS.Timestamp != now.UnixMilli() ||
		m.Namespace != "Tailor" || m.Dimensions[0][0] != "Function" || m.Metrics[0].Name != "Accepted" {
		t.Fatalf("doc %+v", doc)
	}
}
