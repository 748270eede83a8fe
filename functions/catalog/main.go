// Command catalog is the Lambda function behind /v1/items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/catalog/edge"
	"tailor/shared/catalog/service"
	"tailor/shared/platform/boot"
)

func main() {
	d := boot.Start()
	items := &catalogdb.Items{DB: d.DB, Table: d.Env.Required("ITEMS_TABLE")}
	api := &edge.API{Service: &service.Service{Items: items, Now: time.Now}}
	lambda.Start(d.HTTP(api.Register))
}
