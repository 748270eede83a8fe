// Command recommend is the Lambda function behind the recommendation
// routes: personalized lists, similar items and popular items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/platform/boot"
	"tailor/shared/recommendations"
	recodb "tailor/shared/recommendations/dynamo"
	"tailor/shared/recommendations/edge"
	"tailor/shared/recommendations/service"
)

func main() {
	d := boot.Start()
	s := &recodb.Recommendations{DB: d.DB, Customers: d.Env.Required("CUSTOMERS_TABLE"),
		Items: d.Env.Required("ITEMS_TABLE"), Models: d.Env.Required("MODELS_TABLE")}
	svc := &service.Service{Store: s, Scorer: recommendations.DefaultScorer(), Now: time.Now,
		PopularTTL: d.Env.Duration("POPULAR_CACHE_TTL", 5*time.Minute)}
	api := &edge.API{Service: svc}
	lambda.Start(d.HTTP(api.Register))
}
