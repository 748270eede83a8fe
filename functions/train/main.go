// Command train is the nightly (and on demand) training of the
// recommender: the linear item-to-item model, neighbour lists and
// popularity lists from the customer records, stored as one snapshot
// that the recommend function serves from memory.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/platform/ddb"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/training"
)

func main() {
	d := boot.Start()
	db, ok := d.DB.(ddb.Scanner)
	if !ok {
		d.Log.Error("cold start failed", "error", "the DynamoDB client cannot Scan")
		os.Exit(1)
	}
	s := &recodb.Training{DB: db, Customers: d.Env.Required("CUSTOMERS_TABLE"), Items: d.Env.Required("ITEMS_TABLE"),
		Models: d.Env.Required("MODELS_TABLE"), Segments: d.Env.Int("SCAN_SEGMENTS", 8)}
	// The model may take half of the recommend function's memory; the
	// rest is the runtime, the request and the next snapshot while it
	// loads.
	maxModel := int64(d.Env.Int("RECOMMEND_MEMORY_MB", 1024)) << 20 / 2
	evalDays := d.Env.Int("EVALUATION_HOLDOUT_DAYS", 28)
	d.Ready()
	job := &training.Job{Store: s, Log: d.Log, Now: time.Now, Metrics: os.Stdout, MaxModelBytes: maxModel, EvaluationDays: evalDays}
	lambda.Start(job.Handle)
}
