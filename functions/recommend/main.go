// Command recommend is the Lambda function behind the recommendation
// routes: personalized lists, similar items and popular items.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tailor/shared/boot"
	"tailor/shared/reco"
	"tailor/shared/recoapi"
	"tailor/shared/recommend"
	"tailor/shared/store"
)

func main() {
	d := boot.Start()
	s := &store.Recommendations{DB: d.DB, Customers: d.Env.Required("CUSTOMERS_TABLE"),
		Items: d.Env.Required("ITEMS_TABLE"), Models: d.Env.Required("MODELS_TABLE")}
	svc := &recommend.Service{Store: s, Scorer: reco.DefaultScorer(), Now: time.Now,
		PopularTTL: d.Env.Duration("POPULAR_CACHE_TTL", 5*time.Minute)}
	api := &recoapi.API{Service: svc}
	lambda.Start(d.HTTP(api.Register))
}
