// Command carts is the abandoned-cart job: on its schedule it publishes
// cart.abandoned on EVENT_BUS_NAME for every customer's cart whose items
// were not bought within CART_ABANDON_DELAY_MINUTES (240) of its first
// add, when the customer has a marketing consent, and deletes the cart.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/service"
	"tailor/shared/platform/boot"
	"tailor/shared/platform/bus/eventbridge"
)

func main() {
	d := boot.Start()
	busName := d.Env.Required("EVENT_BUS_NAME")
	carts := &eventsdb.Carts{DB: d.DB, Table: d.Env.Required("CUSTOMERS_TABLE")}
	delay := time.Duration(d.Env.Int("CART_ABANDON_DELAY_MINUTES", 240)) * time.Minute
	d.Ready()
	publisher, err := eventbridge.New(context.Background(), busName)
	if err != nil {
		d.Log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	job := &service.Abandoner{Carts: carts, Reach: carts, Bus: publisher, Delay: delay, Now: time.Now, Log: d.Log}
	lambda.Start(job.Handle)
}
