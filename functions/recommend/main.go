// Command recommend is the Lambda function behind the recommendation
// routes: personalized lists, similar items and popular items, served
// from the snapshot the train job wrote, held in memory per execution
// environment (see package service).
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/recommendations"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/edge"
	"tailor/shared/recommendations/service"
)

func main() {
	start := time.Now()
	d := boot.Start()
	s := &recodb.Recommendations{DB: d.DB, Customers: d.Env.Required("CUSTOMERS_TABLE"),
		Items: d.Env.Required("ITEMS_TABLE"), Models: d.Env.Required("MODELS_TABLE")}
	svc := &service.Service{Store: s, Scorer: recommendations.DefaultScorer(), Now: time.Now, Log: d.Log,
		CheckEvery:   d.Env.Duration("MODEL_CHECK_INTERVAL", service.DefaultCheckEvery),
		RefreshEvery: d.Env.Duration("CATALOG_REFRESH_INTERVAL", service.DefaultRefreshEvery)}
	api := &edge.API{Service: svc}
	handler := d.HTTP(api.Register)
	// Load the model during init, where Lambda gives the function full CPU
	// and the first request does not wait for it. A failure is not fatal:
	// the first request tries again and answers 503 if it fails too.
	if err := svc.Warm(context.Background()); err != nil {
		d.Log.Warn("model not loaded at cold start", "error", err.Error())
	}
	d.Log.Info("cold start", "initMs", time.Since(start).Milliseconds(), "snapshotAsOf", svc.Snapshot().AsOf)
	lambda.Start(handler)
}
