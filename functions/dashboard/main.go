// Command dashboard is the Lambda function behind /dashboard/ and
// /openapi.json: the marketing dashboard's static files and the API's
// OpenAPI document. It reads no table; the pages call the API with the
// user's key.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/docs"
	"tailor/shared/dashboard"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/obs"
)

func main() {
	log := obs.NewLogger(os.Stdout)
	slog.SetDefault(log)
	spec, err := docs.OpenAPIJSON()
	if err == nil {
		var site *dashboard.Site
		if site, err = dashboard.New(spec); err == nil {
			r := apigw.NewRouter(log)
			site.Register(r)
			lambda.Start(r.Serve)
			return
		}
	}
	log.Error("cold start failed", "error", err.Error())
	os.Exit(1)
}
