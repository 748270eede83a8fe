// Command catalog is the Lambda function behind /v1/items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/boot"
	"tailor/shared/catalogapi"
	"tailor/shared/store"
)

func main() {
	d := boot.Start()
	api := &catalogapi.API{Store: &store.Items{DB: d.DB, Table: d.Env.Required("ITEMS_TABLE")}, Now: time.Now}
	lambda.Start(d.HTTP(api.Register))
}
