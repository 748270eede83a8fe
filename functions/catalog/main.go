// Command catalog is the Lambda function behind /v1/items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/catalog/edge"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/dynamo"
)

func main() {
	d := boot.Start()
	api := &edge.API{Store: &dynamo.Items{DB: d.DB, Table: d.Env.Required("ITEMS_TABLE")}, Now: time.Now}
	lambda.Start(d.HTTP(api.Register))
}
