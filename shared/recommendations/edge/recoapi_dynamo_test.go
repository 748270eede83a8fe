//go:build dynamodb

package edge_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/platform/ddb"
	"tailor/shared/recommendations/service/servicetest"
)

// counter counts the DynamoDB calls of the request side by operation.
type counter struct {
	ddb.DB
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	return n
}

func (c *counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.add("GetItem")
	return c.DB.GetItem(ctx, in, o...)
}

func (c *counter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.add("BatchGetItem")
	return c.DB.BatchGetItem(ctx, in, o...)
}

func (c *counter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.add("Query")
	return c.DB.Query(ctx, in, o...)
}

// TestReadsPerRequest counts the DynamoDB calls of each route over the
// seeded tables once the model is loaded: the customer record for a
// personalized list, nothing for similar and popular items.
func TestReadsPerRequest(t *testing.T) {
	shop := servicetest.Seed(t)
	train(t, shop.Training(), servicetest.Now)
	calls := &counter{DB: shop.Env.DB}
	h := &harness{t: t, router: serve(shop.Recommendations(calls), servicetest.Now)}
	mixed := func() { h.recs(map[string]string{"mode": "mixed", "limit": "10"}) }
	similar := func() { h.do(sample(t, "similar.json", "", map[string]string{"limit": "5"})) }
	popular := func() { h.do(sample(t, "popular.json", "", map[string]string{"window": "30d", "limit": "5"})) }
	// The first request loads the model: the snapshot's reference and
	// chunks, and the catalogue's change feed.
	mixed()
	if got := calls.reset(); got["GetItem"] != 2 || got["Query"] != 5 || len(got) != 2 {
		t.Fatalf("the first request made %v; want the customer and the reference (2 GetItem), the chunks and 4 feed shards (5 Query)", got)
	}
	mixed()
	want := map[string]int{"GetItem": 1}
	if got := calls.reset(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("personalized request made %v; want %v", got, want)
	}
	similar()
	popular()
	if got := calls.reset(); len(got) != 0 {
		t.Fatalf("similar and popular made %v; want no call", got)
	}
}
