// Command authorizer is the HTTP API Lambda authorizer: it checks the
// request's API key and tells the functions who is calling.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/dynamo"
)

func main() {
	d := boot.Start()
	a := &apigw.Authorizer{Keys: &dynamo.Keys{DB: d.DB, Table: d.Env.Required("KEYS_TABLE")}, Log: d.Log}
	d.Ready()
	lambda.Start(a.Handle)
}
