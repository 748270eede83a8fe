// Command catalog is the Lambda function behind /v1/items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/catalog/edge"
	"tailor/shared/platform/boot"
)

func main() {
	d := boot.Start()
	api := &edge.API{Store: &catalogdb.Items{DB: d.DB, Table: d.Env.Required("ITEMS_TABLE")}, Now: time.Now}
	lambda.Start(d.HTTP(api.Register))
}
