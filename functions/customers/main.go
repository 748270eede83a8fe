// Command customers is the Lambda function behind /v1/customers/...: records,
// history, look-up by email, erasure, export and the audit trail.
package main

import (
	"context"
	"tailor/shared/platform/kmskey"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/customers/edge"
	eventsdb "tailor/shared/events/dynamo"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/boot"
)

func main() {
	d := boot.Start()
	keys := kmskey.MustOpen(context.Background(), d)
	retention := time.Duration(d.Env.Int("EVENT_RETENTION_DAYS", 400)) * 24 * time.Hour
	people := &customersdb.Customers{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE"), PII: keys.Sealer, Index: keys.Index}
	api := &edge.API{Store: people, Now: time.Now,
		History: &eventsdb.History{DB: d.DB, Table: d.Env.Required("EVENTS_TABLE"), PII: keys.Sealer},
		Privacy: &customersdb.Privacy{DB: d.DB, Customers: people.Table, Events: d.Env.Required("EVENTS_TABLE"),
			TombstoneTTL: retention, People: people},
		Audit: &auditdb.Audit{DB: d.DB, Table: d.Env.Required("AUDIT_TABLE"),
			Retention: time.Duration(d.Env.Int("AUDIT_RETENTION_DAYS", 400)) * 24 * time.Hour}}
	lambda.Start(d.HTTP(api.Register))
}
