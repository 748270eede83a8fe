// Command segments is the Lambda function behind /v1/segments.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/boot"
	"tailor/shared/segmentsapi"
	"tailor/shared/store"
)

func main() {
	d := boot.Start()
	api := &segmentsapi.API{
		Runs:    &store.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Members: &store.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")},
	}
	lambda.Start(d.HTTP(api.Register))
}
