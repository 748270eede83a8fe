// Command train is the nightly (and on demand) training of the
// recommender: neighbour lists and popularity lists from the history.
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
	s := &recodb.Training{DB: db, Events: d.Env.Required("EVENTS_TABLE"), Items: d.Env.Required("ITEMS_TABLE"),
		Models: d.Env.Required("MODELS_TABLE"), Segments: d.Env.Int("SCAN_SEGMENTS", 8)}
	d.Ready()
	job := &training.Job{Store: s, Log: d.Log, Now: time.Now, Metrics: os.Stdout}
	lambda.Start(job.Handle)
}
