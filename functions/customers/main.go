// Command customers is the Lambda function behind /v1/customers/{id}.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/boot"
	"tailor/shared/customerapi"
	"tailor/shared/store"
)

func main() {
	d := boot.Start()
	api := &customerapi.API{Store: &store.Customers{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")}, Now: time.Now,
		History: &store.History{DB: d.DB, Table: d.Env.Required("EVENTS_TABLE")}}
	lambda.Start(d.HTTP(api.Register))
}
