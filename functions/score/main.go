// Command score is the nightly score job: it scores the whole customer
// base (RFM segments, behavioural clusters, churn and CLV). Invoked by the
// schedule or directly ({"as_of": "2011-12-10T00:00:00Z"}) it runs the
// whole job; invoked by ScoreStateMachine with a phase it runs one step.
package main

import (
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/segments"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

func main() {
	d := boot.Start()
	cfg := segments.Config{Currency: os.Getenv("SEGMENT_CURRENCY"), Segments: d.Env.Int("SEGMENT_SCAN_SEGMENTS", 8)}
	job := &service.Job{
		Customers: &segmentsdb.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE"), Writers: d.Env.Int("SEGMENT_WRITERS", 8)},
		Runs:      &segmentsdb.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Config:    cfg,
		Log:       d.Log,
		Now:       time.Now,
	}
	d.Ready()
	lambda.Start(job.Handle)
}
