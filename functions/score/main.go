// Command score is the nightly score job: it scores the whole customer
// base (RFM segments, behavioural clusters, churn and CLV) in one currency,
// SEGMENT_CURRENCY, or with "auto" (the default) in the currency most
// customers bought in, and publishes each customer's segment and churn-band
// changes on EVENT_BUS_NAME. Invoked by the schedule (as of yesterday) or
// directly ({"as_of": "2011-12-09"}: purchases up to the end of that day)
// it runs the whole job; invoked by ScoreStateMachine with a phase it runs
// one step.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/platform/bus/eventbridge"
	"tailor/shared/segments"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

func main() {
	d := boot.Start()
	cfg := segments.Config{Currency: d.Env.Optional("SEGMENT_CURRENCY"), Segments: d.Env.Int("SEGMENT_SCAN_SEGMENTS", 8),
		PurchaseModel: d.Env.Optional("SEGMENT_PURCHASE_MODEL"), ChurnHorizonDays: d.Env.Int("SEGMENT_CHURN_HORIZON_DAYS", 90)}
	job := &service.Job{
		Customers: &segmentsdb.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE"), Writers: d.Env.Int("SEGMENT_WRITERS", 8)},
		Runs:      &segmentsdb.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Config:    cfg,
		Log:       d.Log,
		Now:       time.Now,
	}
	busName := d.Env.Required("EVENT_BUS_NAME")
	d.Ready()
	publisher, err := eventbridge.New(context.Background(), busName)
	if err != nil {
		d.Log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	job.Bus = publisher
	lambda.Start(job.Handle)
}
