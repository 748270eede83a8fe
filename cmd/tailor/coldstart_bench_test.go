//go:build dynamodb

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/ddb/ddbtest"
)

// BenchmarkColdStart measures a real function's cold start under the local
// runner: from starting a fresh bootstrap process (runtime init, AWS config,
// DynamoDB client) to its answer to the first event, the sample
// GET /v1/customers/{id} (one GetItem). Each iteration uses a new server, so
// every invocation is a cold one.
//
// Run: AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8011 go test ./cmd/tailor -run '^$' -bench ColdStart -benchtime 20x
func BenchmarkColdStart(b *testing.B) {
	env := ddbtest.New(b)
	root, _ := ddbtest.ModuleRoot()
	sample, err := os.ReadFile(filepath.Join(root, "events", "customers", "get.json"))
	if err != nil {
		b.Fatal(err)
	}
	bins := bootstraps(b)
	for b.Loop() {
		b.StopTimer()
		srv, err := lambdahost.New(lambdahost.Config{
			Template: filepath.Join(root, "template.yaml"), BinDir: bins, TablePrefix: env.Prefix,
			Logs: io.Discard, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := srv.Invoke(context.Background(), "CustomersFunction", sample)
		b.StopTimer()
		if err != nil || res.Outcome != lambdahost.Success {
			b.Fatalf("invoke: %v %v %s", err, res.Outcome, res.Payload)
		}
		srv.Close()
		b.StartTimer()
	}
}
