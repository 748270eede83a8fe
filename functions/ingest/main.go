// Command ingest is the Lambda function behind POST /v1/events and the
// ingest SQS queue.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/apigw"
	"tailor/shared/boot"
	"tailor/shared/ingest"
	"tailor/shared/ingestapi"
	"tailor/shared/store"
)

func main() {
	d := boot.Start()
	keys := d.PIIKeys(context.Background())
	s := &store.Events{DB: d.DB, Events: d.Env.Required("EVENTS_TABLE"), Customers: d.Env.Required("CUSTOMERS_TABLE"),
		Items: d.Env.Required("ITEMS_TABLE"), Retention: time.Duration(d.Env.Int("EVENT_RETENTION_DAYS", 400)) * 24 * time.Hour,
		PII: keys.Sealer}
	svc := &ingest.Service{Store: s, Now: time.Now, OwnerChanged: func(err error) bool { return errors.Is(err, store.ErrOwnerChanged) },
		Log: d.Log}
	api := &ingestapi.API{Service: svc, Log: d.Log, Metrics: os.Stdout}
	inv := &ingestapi.Invoker{HTTP: d.HTTP(func(r *apigw.Router) { api.Register(r) }), SQS: api.SQS}
	lambda.Start(inv.Invoke)
}
