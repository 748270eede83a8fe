// Command segments is the Lambda function behind /v1/segments.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/edge"
	"tailor/shared/segments/service"
)

func main() {
	d := boot.Start()
	query := &service.Query{
		Runs:    &segmentsdb.SegmentRuns{DB: d.DB, Table: d.Env.Required("MODELS_TABLE")},
		Members: &segmentsdb.CustomerScores{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")},
	}
	lambda.Start(d.HTTP((&edge.API{Query: query}).Register))
}
