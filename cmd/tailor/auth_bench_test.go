//go:build dynamodb

package main

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb/ddbtest"
)

// BenchmarkAuthorizerLatency measures what the API key authorizer adds to a
// request through tailor serve and the real bootstraps, on
// GET /v1/items/{id}:
//
//   - direct: the catalog function invoked with the sample event, skipping
//     the gateway and the authorizer: the floor;
//   - cached: through the gateway with a key whose authorizer answer is
//     cached, as for every request but the first in 300 s;
//   - uncached: through the gateway with a key never used before, so the
//     authorizer function runs (parse, one consistent GetItem, SHA-256).
//
// Run: AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8011 go test ./cmd/tailor -run '^$' -bench AuthorizerLatency -count 5
func BenchmarkAuthorizerLatency(b *testing.B) {
	s := startStack(b)
	root, _ := ddbtest.ModuleRoot()
	sample, err := os.ReadFile(filepath.Join(root, "events", "catalog", "get.json"))
	if err != nil {
		b.Fatal(err)
	}
	if status, _, body := s.call("PUT", "/v1/items/sku-42", `{"title":"Mug","category":["Home"],"price":"12.50","currency":"GBP"}`); status != 201 {
		b.Fatalf("create the item: %d %v", status, body)
	}
	get := func(b *testing.B, c *stack) {
		if status, _, body := c.call("GET", "/v1/items/sku-42", nil); status != 200 {
			b.Fatalf("GET: %d %v", status, body)
		}
	}
	b.Run("direct", func(b *testing.B) {
		c := s.as("")
		for b.Loop() {
			if status, _, body := c.call("POST", "/2015-03-31/functions/CatalogFunction/invocations", string(sample)); status != 200 || body["statusCode"] != float64(200) {
				b.Fatalf("direct invoke: %d %v", status, body)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := s.as(s.AdminKey)
		get(b, c) // fills the cache
		for b.Loop() {
			get(b, c)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		keys := make([]string, b.N)
		for i := range keys {
			rec, key, err := auth.NewKey(rand.Reader, "bench", []auth.Scope{auth.CatalogRead}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if err := s.keys().Create(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
			keys[i] = key
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			get(b, s.as(keys[i]))
		}
	})
}
