//go:build dynamodb

package service_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/segments"
	segmentsdb "tailor/shared/segments/dynamo"
	"tailor/shared/segments/service"
)

// split reads through one store and writes through another, so the
// write-back can be metered (the meter does not Scan).
type split struct {
	read, write *segmentsdb.CustomerScores
}

func (s split) ScanSegment(ctx context.Context, seg, total int, fn func([]segments.CustomerDays) error) error {
	return s.read.ScanSegment(ctx, seg, total, fn)
}

func (s split) WriteScores(ctx context.Context, scores []segments.CustomerScores) (int64, int64, error) {
	return s.write.WriteScores(ctx, scores)
}

// BenchmarkJobDynamoDB100k seeds 100,000 synthetic customers' aggregates
// into DynamoDB Local with BatchWriteItem and runs the whole job as the
// score function does (8 scan segments, 8 writers each), reporting
// customers/s, the write-back's share of the time and the write capacity
// it consumed (SEGMENT_BENCH_CUSTOMERS changes the size). Run with -benchtime=1x: each iteration is a first run that
// writes every customer.
func BenchmarkJobDynamoDB100k(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SEGMENT_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v // a smaller base for a quick look at the phase split
	}
	ctx := context.Background()
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	recs := service.Synthetic(n, 2026, asOf)
	for b.Loop() {
		b.StopTimer()
		env := ddbtest.New(b)
		raw := &segmentsdb.CustomerScores{DB: env.DB, Table: env.Table("CustomersTable"), Writers: 8}
		seedStart := time.Now()
		if err := raw.SeedAggregates(ctx, recs, 8); err != nil {
			b.Fatal(err)
		}
		seed := time.Since(seedStart)
		meter := &ddbtest.Meter{DB: env.DB}
		customers := split{read: raw, write: &segmentsdb.CustomerScores{DB: meter, Table: env.Table("CustomersTable"), Writers: 8}}
		job := &service.Job{Customers: customers, Runs: &segmentsdb.SegmentRuns{DB: env.DB, Table: env.Table("ModelsTable")},
			Config: segments.Config{Segments: 8}}
		b.StartTimer()
		start := time.Now()
		rec, err := job.Run(ctx, asOf)
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		b.StopTimer()
		_, wcu := meter.Capacity()
		b.ReportMetric(float64(n)/total.Seconds(), "customers/s")
		b.ReportMetric(seed.Seconds(), "seed-s")
		b.ReportMetric(total.Seconds(), "job-s")
		b.ReportMetric(wcu, "writeback-WCU")
		b.ReportMetric(float64(rec.Written), "written")
		b.StartTimer()
	}
}
