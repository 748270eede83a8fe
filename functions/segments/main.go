// Command segments is the Lambda function behind /v1/segments.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/edge"
)

func main() {
	d := boot.Start()
	api := &edge.API{
		Runs:    &segmentsdb.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Members: &segmentsdb.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")},
	}
	lambda.Start(d.HTTP(api.Register))
}
