//go:build dynamodb

package training_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/recommendations/service"
	"tailor/shared/recommendations/service/servicetest"
	"tailor/shared/recommendations/training"
)

// BenchmarkTrainJobOnlineRetail runs the train job on the whole Online
// Retail history against DynamoDB Local: the customer records as
// ingestion leaves them (4,372 customers) and the catalogue (3,665
// items), read by parallel Scan, the model trained, the snapshot stored.
// It reports the snapshot's size and the model's memory estimate.
//
// Run: make db-up DDB_PORT=8041; AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8041 \
// go test -tags dynamodb ./shared/recommendations/training -run '^$' -bench OnlineRetail -benchtime 3x -benchmem
func BenchmarkTrainJobOnlineRetail(b *testing.B) {
	shop, job := retailShop(b)
	for b.Loop() {
		r, err := job.Run(context.Background(), servicetest.RetailAsOf)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Snapshot.Bytes), "snapshot-bytes")
		b.ReportMetric(float64(r.ModelBytes)/(1<<20), "model-MiB")
		b.ReportMetric(float64(r.Customers), "customers")
		b.ReportMetric(float64(r.Items), "items")
	}
	_ = shop
}

// BenchmarkLoadSnapshotOnlineRetail loads what the job stored for Online
// Retail as the recommend function does at cold start: the reference, the
// chunks, decoding and indexing.
func BenchmarkLoadSnapshotOnlineRetail(b *testing.B) {
	shop, job := retailShop(b)
	if _, err := job.Run(context.Background(), servicetest.RetailAsOf); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		svc := &service.Service{Store: shop.Recommendations(nil), Now: time.Now, Log: job.Log}
		if err := svc.Warm(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// retailShop seeds fresh tables with Online Retail and returns the job
// over them.
func retailShop(b *testing.B) (*servicetest.Shop, *training.Job) {
	env := ddbtest.New(b)
	servicetest.SeedRetail(b, env, servicetest.LoadRetail(b))
	shop := &servicetest.Shop{Env: env}
	return shop, &training.Job{Store: shop.Training(), Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now,
		MaxModelBytes: 512 << 20}
}
