// Command authorizer is the HTTP API Lambda authorizer: it checks the
// request's API key and tells the functions who is calling.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/apigw"
	keysdb "tailor/shared/platform/auth/dynamo"
	"tailor/shared/platform/boot"
)

func main() {
	d := boot.Start()
	a := &apigw.Authorizer{Keys: &keysdb.Keys{DB: d.DB, Table: d.Env.Required("KEYS_TABLE")}, Log: d.Log}
	d.Ready()
	lambda.Start(a.Handle)
}
