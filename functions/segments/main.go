// Command segments is the Lambda function behind /v1/segments.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/platform/dynamo"
	"tailor/shared/segments/edge"
)

func main() {
	d := boot.Start()
	api := &edge.API{
		Runs:    &dynamo.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Members: &dynamo.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")},
	}
	lambda.Start(d.HTTP(api.Register))
}
