// Command customers is the Lambda function behind /v1/customers/...: records,
// history, look-up by email, erasure (campaign memberships included), export
// and the audit trail.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	campaignsdb "tailor/shared/campaigns/dynamo"
	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/customers/edge"
	"tailor/shared/customers/service"
	eventsdb "tailor/shared/events/dynamo"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/kmskey"
)

func main() {
	d := boot.Start()
	keys := kmskey.MustOpen(context.Background(), d)
	retention := time.Duration(d.Env.Int("EVENT_RETENTION_DAYS", 400)) * 24 * time.Hour
	customersTable, eventsTable := d.Env.Required("CUSTOMERS_TABLE"), d.Env.Required("EVENTS_TABLE")
	svc := &service.Service{Now: time.Now,
		Records: &customersdb.Customers{DB: d.DB, Table: customersTable, PII: keys.Sealer, Index: keys.Index},
		Privacy: &customersdb.Privacy{DB: d.DB, Customers: customersTable, Events: eventsTable, TombstoneTTL: retention},
		History: &eventsdb.History{DB: d.DB, Table: eventsTable, PII: keys.Sealer},
		// Erasure and export reach the customer's campaign memberships.
		Memberships: &campaignsdb.Memberships{DB: d.DB, Table: d.Env.Required("CAMPAIGNS_TABLE")},
		Audit: &auditdb.Audit{DB: d.DB, Table: d.Env.Required("AUDIT_TABLE"),
			Retention: time.Duration(d.Env.Int("AUDIT_RETENTION_DAYS", 400)) * 24 * time.Hour}}
	lambda.Start(d.HTTP((&edge.API{Service: svc}).Register))
}
