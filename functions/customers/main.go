// Command customers is the Lambda function behind /v1/customers/...: records,
// history, look-up by email, erasure, export and the audit trail.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/customers/edge"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/dynamo"
)

func main() {
	d := boot.Start()
	keys := d.PIIKeys(context.Background())
	retention := time.Duration(d.Env.Int("EVENT_RETENTION_DAYS", 400)) * 24 * time.Hour
	people := &dynamo.Customers{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE"), PII: keys.Sealer, Index: keys.Index}
	api := &edge.API{Store: people, Now: time.Now,
		History: &dynamo.History{DB: d.DB, Table: d.Env.Required("EVENTS_TABLE"), PII: keys.Sealer},
		Privacy: &dynamo.Privacy{DB: d.DB, Customers: people.Table, Events: d.Env.Required("EVENTS_TABLE"),
			TombstoneTTL: retention, People: people},
		Audit: &dynamo.Audit{DB: d.DB, Table: d.Env.Required("AUDIT_TABLE"),
			Retention: time.Duration(d.Env.Int("AUDIT_RETENTION_DAYS", 400)) * 24 * time.Hour}}
	lambda.Start(d.HTTP(api.Register))
}
