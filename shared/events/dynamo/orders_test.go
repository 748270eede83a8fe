//go:build dynamodb

package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/events/service"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
)

// TestTwoHundredThousandOrders gives one customer 200,000 orders: the
// first 190,000 are stored directly as the adapter lays them out (order
// items and a record counting them), the last 10,000 arrive as purchase
// events through the ingest service, two lines per order, together with
// lines of old orders and resent copies. Orders stay exact and the
// record stays small: the order ids are not on it.
func TestTwoHundredThousandOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200,000 order items: about four minutes on DynamoDB Local")
	}
	const seeded, ingested = 190_000, 10_000
	s, env, _ := newEvents(t)
	ctx := context.Background()
	start := time.Now()

	reqs := make([]types.WriteRequest, 0, seeded)
	for i := range seeded {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: ddb.Key(schema.PfxOrder+"c-big", orderID(i))}})
	}
	if err := (ddb.Retry{}).BatchWrite(ctx, env.DB, env.Table("CustomersTable"), reqs, 4); err != nil {
		t.Fatal(err)
	}
	agg := customers.NewAggregates()
	agg.Events, agg.Orders, agg.Units = seeded, seeded, seeded
	agg.Revenue["GBP"] = seeded * 100
	rec, err := attributevalue.MarshalMap(struct {
		PK      string                `dynamodbav:"pk"`
		SK      string                `dynamodbav:"sk"`
		ID      string                `dynamodbav:"customer_id"`
		Agg     *customers.Aggregates `dynamodbav:"agg"`
		Version int64                 `dynamodbav:"agg_version"`
	}{schema.PfxCustomer + "c-big", schema.SkProfile, "c-big", agg, 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table("CustomersTable")), Item: rec}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d orders in %s", seeded, time.Since(start).Round(time.Second))

	// Two lines per new order, one line of an old order per ten new ones,
	// shuffled across batches of 500 so an order's lines land in different
	// transactions; then every tenth event again.
	var raws []json.RawMessage
	add := func(id string, order int) {
		raws = append(raws, json.RawMessage(fmt.Sprintf(`{"event_id":%q,"type":"purchase","customer_id":"c-big","item_id":"sku-%d",`+
			`"quantity":1,"price":"1.00","currency":"GBP","order_id":%q,"timestamp":%q}`,
			id, order%500, orderID(order), t0.Add(-time.Duration(order)*time.Second).Format(time.RFC3339))))
	}
	for i := range ingested {
		add(fmt.Sprintf("big-%d-a", i), seeded+i)
		if i%10 == 0 {
			add(fmt.Sprintf("old-%d", i), i*7)
		}
	}
	for i := range ingested {
		add(fmt.Sprintf("big-%d-b", i), seeded+ingested-1-i)
	}
	for i := 0; i < len(raws); i += 10 {
		raws = append(raws, raws[i])
	}
	svc := &service.Service{Store: s, Now: func() time.Time { return t0 }}
	start = time.Now()
	counts := map[events.Status]int{}
	for i := 0; i < len(raws); i += 500 {
		for st, n := range service.Counts(svc.Ingest(ctx, raws[i:min(i+500, len(raws))], nil)) {
			counts[st] += n
		}
	}
	t.Logf("ingested %d events (%v) in %s", len(raws), counts, time.Since(start).Round(time.Second))
	distinct := 2*ingested + ingested/10
	if counts[events.Accepted] != distinct || counts[events.Duplicate] != len(raws)-distinct {
		t.Fatalf("outcomes %v, want %d accepted and %d duplicates", counts, distinct, len(raws)-distinct)
	}

	out, err := env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table("CustomersTable")),
		Key: schema.CustomerKey("c-big"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Agg *customers.Aggregates `dynamodbav:"agg"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &got); err != nil {
		t.Fatal(err)
	}
	a := got.Agg
	if a.Orders != seeded+ingested || a.Events != int64(seeded+distinct) || a.Units != int64(seeded+distinct) ||
		a.Revenue["GBP"] != int64(seeded+distinct)*100 || len(a.OrderIDs) != 0 {
		t.Fatalf("orders %d events %d units %d revenue %d ids on record %d", a.Orders, a.Events, a.Units, a.Revenue["GBP"], len(a.OrderIDs))
	}
	if size := len(fmt.Sprint(out.Item)); size > 40_000 {
		t.Errorf("the record is about %d bytes", size)
	}
	ids, err := s.OrderIDs(ctx, "c-big")
	if err != nil || len(ids) != seeded+ingested || ids[0] != orderID(0) || ids[len(ids)-1] != orderID(seeded+ingested-1) {
		t.Fatalf("%d order ids, %v", len(ids), err)
	}
}

func orderID(i int) string { return fmt.Sprintf("o-%06d", i) }
