package ddb

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// CallStats is what one kind of call to one table added up to: how many
// calls, how many items they carried (keys asked for, items written or
// returned) and their wall time in milliseconds, retries and failures
// included.
type CallStats struct {
	Calls  int     `json:"calls"`
	Items  int     `json:"items"`
	Millis float64 `json:"ms"`
}

// Calls wraps a DB and adds up its calls per operation and table, so that
// a request's log line can say where its storage time went. A Lambda
// process serves one invocation at a time, so what Take returns at the
// end of a request is that request's. Safe for concurrent use.
type Calls struct {
	DB

	mu  sync.Mutex
	ops map[string]CallStats
}

// Take returns the sums since the last Take, keyed "<operation> <table>",
// and starts new ones. Nil when there was no call.
func (c *Calls) Take() map[string]CallStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return ops
}

func (c *Calls) add(op, table string, items int, start time.Time) {
	ms := float64(time.Since(start).Microseconds()) / 1000
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = map[string]CallStats{}
	}
	k := op + " " + table
	s := c.ops[k]
	s.Calls++
	s.Items += items
	s.Millis += ms
	c.ops[k] = s
}

// GetItem implements DB.
func (c *Calls) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer c.add("GetItem", aws.ToString(in.TableName), 1, time.Now())
	return c.DB.GetItem(ctx, in, o...)
}

// PutItem implements DB.
func (c *Calls) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	defer c.add("PutItem", aws.ToString(in.TableName), 1, time.Now())
	return c.DB.PutItem(ctx, in, o...)
}

// UpdateItem implements DB.
func (c *Calls) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer c.add("UpdateItem", aws.ToString(in.TableName), 1, time.Now())
	return c.DB.UpdateItem(ctx, in, o...)
}

// DeleteItem implements DB.
func (c *Calls) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	defer c.add("DeleteItem", aws.ToString(in.TableName), 1, time.Now())
	return c.DB.DeleteItem(ctx, in, o...)
}

// Query implements DB; its items are the items returned.
func (c *Calls) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	start := time.Now()
	out, err := c.DB.Query(ctx, in, o...)
	n := 0
	if out != nil {
		n = len(out.Items)
	}
	c.add("Query", aws.ToString(in.TableName), n, start)
	return out, err
}

// BatchGetItem implements DB; its items are the keys asked for.
func (c *Calls) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	start := time.Now()
	out, err := c.DB.BatchGetItem(ctx, in, o...)
	for table, ka := range in.RequestItems {
		c.add("BatchGetItem", table, len(ka.Keys), start)
	}
	return out, err
}

// BatchWriteItem implements DB; its items are the puts and deletes asked
// for.
func (c *Calls) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	start := time.Now()
	out, err := c.DB.BatchWriteItem(ctx, in, o...)
	for table, reqs := range in.RequestItems {
		c.add("BatchWriteItem", table, len(reqs), start)
	}
	return out, err
}

// TransactWriteItems implements DB; its items are the transaction's
// actions, counted under the first action's table.
func (c *Calls) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	defer c.add("TransactWriteItems", transactTable(in), len(in.TransactItems), time.Now())
	return c.DB.TransactWriteItems(ctx, in, o...)
}

func transactTable(in *dynamodb.TransactWriteItemsInput) string {
	if len(in.TransactItems) == 0 {
		return ""
	}
	switch it := in.TransactItems[0]; {
	case it.Put != nil:
		return aws.ToString(it.Put.TableName)
	case it.Update != nil:
		return aws.ToString(it.Update.TableName)
	case it.Delete != nil:
		return aws.ToString(it.Delete.TableName)
	case it.ConditionCheck != nil:
		return aws.ToString(it.ConditionCheck.TableName)
	}
	return ""
}
