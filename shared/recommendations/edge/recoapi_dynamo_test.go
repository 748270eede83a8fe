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
// seeded tables, once the popularity lists are cached.
func TestReadsPerRequest(t *testing.T) {
	shop := servicetest.Seed(t)
	train(t, shop.Training(), servicetest.Now)
	calls := &counter{DB: shop.Env.DB}
	h := &harness{t: t, router: serve(shop.Recommendations(calls), servicetest.Now)}
	mixed := func() { h.recs(map[string]string{"mode": "mixed", "limit": "10"}) }
	similar := func() { h.do(sample(t, "similar.json", "", map[string]string{"limit": "5"})) }
	popular := func() { h.do(sample(t, "popular.json", "", map[string]string{"window": "30d", "limit": "5"})) }
	// The first requests read the popularity lists into the cache.
	mixed()
	similar()
	popular()

	calls.reset()
	mixed()
	want := map[string]int{"GetItem": 1, "BatchGetItem": 2}
	if got := calls.reset(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("personalized request made %v; want %v", got, want)
	}
	similar()
	if got := calls.reset(); fmt.Sprint(got) != fmt.Sprint(map[string]int{"BatchGetItem": 2}) {
		t.Fatalf("similar made %v", got)
	}
	popular()
	if got := calls.reset(); fmt.Sprint(got) != fmt.Sprint(map[string]int{"BatchGetItem": 1}) {
		t.Fatalf("popular made %v", got)
	}
}
