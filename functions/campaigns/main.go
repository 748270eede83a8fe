// Command campaigns is the Lambda function behind /v1/campaigns (drafts,
// launches, audiences, reports) and the hourly refresh of open campaigns'
// reports; it publishes campaign events on the bus.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	campaignsdb "tailor/shared/campaigns/dynamo"
	"tailor/shared/campaigns/edge"
	"tailor/shared/campaigns/service"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/bus/eventbridge"
	"tailor/shared/platform/kmskey"
	segmentsdb "tailor/shared/segments/dynamo"
)

func main() {
	d := boot.Start()
	ctx := context.Background()
	keys := kmskey.MustOpen(ctx, d)
	publisher, err := eventbridge.New(ctx, d.Env.Required("EVENT_BUS_NAME"))
	if err != nil {
		d.Log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	table := &campaignsdb.Table{DB: d.DB, Table: d.Env.Required("CAMPAIGNS_TABLE")}
	svc := &service.Service{Now: time.Now, Campaigns: table, Members: table, Reports: table, Bus: publisher,
		Customers: &campaignsdb.Customers{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE"), PII: keys.Sealer,
			Segments: d.Env.Int("SCAN_SEGMENTS", 8)},
		Runs: &segmentsdb.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Audit: &auditdb.Audit{DB: d.DB, Table: d.Env.Required("AUDIT_TABLE"),
			Retention: time.Duration(d.Env.Int("AUDIT_RETENTION_DAYS", 400)) * 24 * time.Hour}}
	api := &edge.API{Service: svc}
	lambda.Start(api.Handler(d.HTTP(api.Register), d.Log))
}
