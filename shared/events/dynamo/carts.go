package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
)

// cartAttempts bounds how often UpdateCart reads again after losing a
// race with another writer of the same cart.
const cartAttempts = 5

// Carts is customers' pending carts in the customers table, and the
// consents the abandoned-cart job checks on the customer record:
//
//	a customer's pending cart     Customers  pk=CART#<shard> sk=<customer_id>: items (item id ->
//	                                         first add, Unix seconds), started (Unix seconds), ver
//	carts started by a time       Customers  Query per shard pk=CART#<0..7>, filter started <= t
//	a customer's consents         Customers  GetItem pk=C#<id> sk=PROFILE, projecting consent
//	                                         and erased_at
//
// Every write is conditional on the version read, so concurrent ingest
// workers and the job never lose each other's changes.
type Carts struct {
	DB ddb.DB
	// Table is the customers table.
	Table string
}

type cartItem struct {
	PK      string           `dynamodbav:"pk"`
	SK      string           `dynamodbav:"sk"`
	Items   map[string]int64 `dynamodbav:"items"`
	Started int64            `dynamodbav:"started"`
	Version int64            `dynamodbav:"ver"`
}

func (it cartItem) cart() events.Cart {
	c := events.Cart{CustomerID: it.SK, Items: map[string]time.Time{}, Version: it.Version}
	if it.Started != 0 {
		c.Started = time.Unix(it.Started, 0).UTC()
	}
	for id, at := range it.Items {
		c.Items[id] = time.Unix(at, 0).UTC()
	}
	return c
}

// versionIs is the condition that the stored cart is still version v (no
// cart at all for version 0).
func versionIs(v int64) expression.ConditionBuilder {
	if v == 0 {
		return expression.AttributeNotExists(expression.Name(ddb.AttrPK))
	}
	return expression.Name("ver").Equal(expression.Value(v))
}

// UpdateCart reads the cart, applies update and writes the result
// conditionally on the version read, reading again when another writer
// got there first.
func (s *Carts) UpdateCart(ctx context.Context, customerID string, update func(c *events.Cart) bool) error {
	op := "update cart of customer " + customerID
	key := schema.CartKey(customerID)
	for range cartAttempts {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return ddb.Classify(op, err)
		}
		it := cartItem{SK: customerID}
		if out.Item != nil {
			if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
				return fmt.Errorf("%s: decode: %w", op, err)
			}
		}
		c := it.cart()
		read := c.Version
		if !update(&c) {
			return nil
		}
		cond, err := expression.NewBuilder().WithCondition(versionIs(read)).Build()
		if err != nil {
			return fmt.Errorf("%s: build condition: %w", op, err)
		}
		if c.Empty() {
			if read == 0 {
				return nil
			}
			_, err = s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: key,
				ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()})
		} else {
			next := cartItem{PK: schema.CartPK(schema.CartShard(customerID)), SK: customerID, Items: map[string]int64{},
				Started: c.Started.Unix(), Version: read + 1}
			for id, at := range c.Items {
				next.Items[id] = at.Unix()
			}
			av, merr := attributevalue.MarshalMap(next)
			if merr != nil {
				return fmt.Errorf("%s: %w", op, merr)
			}
			_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av,
				ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()})
		}
		if ddb.ConditionFailed(err) {
			continue
		}
		return ddb.Classify(op, err)
	}
	return fmt.Errorf("%s: %w", op, ddb.ErrRetry)
}

// DueCarts queries every cart shard for carts started at or before
// startedBy.
func (s *Carts) DueCarts(ctx context.Context, startedBy time.Time) ([]events.Cart, error) {
	var out []events.Cart
	for shard := range schema.CartShards {
		op := fmt.Sprintf("query cart shard %d", shard)
		expr, err := expression.NewBuilder().
			WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(schema.CartPK(shard)))).
			WithFilter(expression.Name("started").LessThanEqual(expression.Value(startedBy.Unix()))).Build()
		if err != nil {
			return nil, fmt.Errorf("%s: build expression: %w", op, err)
		}
		p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
			FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, ddb.Classify(op, err)
			}
			for _, av := range page.Items {
				var it cartItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, fmt.Errorf("%s: decode: %w", op, err)
				}
				out = append(out, it.cart())
			}
		}
	}
	slices.SortFunc(out, func(a, b events.Cart) int { return a.Started.Compare(b.Started) })
	return out, nil
}

// DeleteCart deletes the cart if it is still the version read.
func (s *Carts) DeleteCart(ctx context.Context, c events.Cart) (bool, error) {
	cond, err := expression.NewBuilder().WithCondition(expression.Name("ver").Equal(expression.Value(c.Version))).Build()
	if err != nil {
		return false, fmt.Errorf("build condition: %w", err)
	}
	_, err = s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: schema.CartKey(c.CustomerID),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, ddb.Classify("delete cart of customer "+c.CustomerID, err)
	}
	return true, nil
}

// MarketingChannels reads the customer's consents: email and sms, when
// granted. A missing record or an erased customer's tombstone is not
// found.
func (s *Carts) MarketingChannels(ctx context.Context, customerID string) ([]string, bool, error) {
	op := "read consents of customer " + customerID
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name("consent"),
		expression.Name(schema.AttrErasedAt))).Build()
	if err != nil {
		return nil, false, fmt.Errorf("%s: build projection: %w", op, err)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: schema.CustomerKey(customerID),
		ProjectionExpression: proj.Projection(), ExpressionAttributeNames: proj.Names(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, ddb.Classify(op, err)
	}
	if out.Item == nil {
		return nil, false, nil
	}
	if _, erased := out.Item[schema.AttrErasedAt]; erased {
		return nil, false, nil
	}
	var rec struct {
		Consent map[string]customers.ConsentState `dynamodbav:"consent"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil {
		return nil, false, fmt.Errorf("%s: decode: %w", op, err)
	}
	channels := []string{}
	for _, p := range []string{customers.ConsentEmail, customers.ConsentSMS} {
		if rec.Consent[p].Granted {
			channels = append(channels, p)
		}
	}
	return channels, true, nil
}
