// Command ingest is the Lambda function behind POST /v1/events and the
// ingest SQS queue.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/edge"
	"tailor/shared/events/service"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/kmskey"
)

func main() {
	d := boot.Start()
	keys := kmskey.MustOpen(context.Background(), d)
	// Each batch's log line says which storage calls it made and how long
	// they took.
	db := &ddb.Calls{DB: d.DB}
	s := &eventsdb.Events{DB: db, Events: d.Env.Required("EVENTS_TABLE"), Customers: d.Env.Required("CUSTOMERS_TABLE"),
		Items: d.Env.Required("ITEMS_TABLE"), Retention: time.Duration(d.Env.Int("EVENT_RETENTION_DAYS", 400)) * 24 * time.Hour,
		PII: keys.Sealer, CategoryTTL: time.Minute}
	// Customers' cart events also keep their pending carts, which the
	// carts function announces when abandoned.
	carts := &service.CartWatch{Store: s, Carts: &eventsdb.Carts{DB: db, Table: s.Customers}, Log: d.Log}
	svc := &service.Service{Store: carts, Now: time.Now, Log: d.Log}
	api := &edge.API{Service: svc, Log: d.Log, Metrics: os.Stdout, Storage: func() any { return db.Take() }}
	inv := &edge.Invoker{HTTP: d.HTTP(func(r *apigw.Router) { api.Register(r) }), SQS: api.SQS}
	lambda.Start(inv.Invoke)
}
