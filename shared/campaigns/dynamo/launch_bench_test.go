//go:build dynamodb

package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/campaigns"
	campaignsdb "tailor/shared/campaigns/dynamo"
	"tailor/shared/campaigns/service"
	"tailor/shared/customers"
	auditmem "tailor/shared/platform/audit/memory"
	busmem "tailor/shared/platform/bus/memory"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
	segmentsmem "tailor/shared/segments/memory"
)

// BenchmarkLaunch100k launches a campaign on 100,000 customers with email
// consent in DynamoDB Local (a parallel Scan of the customers table, the
// snapshot, 100,000 member writes), the figure docs/campaigns.md quotes:
//
//	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8011 go test -tags dynamodb ./shared/campaigns/dynamo -run '^$' -bench Launch100k -benchtime 1x
func BenchmarkLaunch100k(b *testing.B) {
	const customersN = 100000
	env := ddbtest.New(b)
	ctx := context.Background()
	people := env.Table("CustomersTable")
	seedMany(b, env, people, customersN)
	table := &campaignsdb.Table{DB: env.DB, Table: env.Table("CampaignsTable")}
	svc := &service.Service{Campaigns: table, Members: table, Reports: table,
		Customers: &campaignsdb.Customers{DB: env.DB, Table: people, Segments: 8},
		Runs:      &segmentsmem.SegmentRuns{}, Audit: &auditmem.Audit{}, Bus: &busmem.Bus{}, Now: time.Now}
	b.ResetTimer()
	for i := range b.N {
		c, err := svc.Create(ctx, campaigns.Input{Name: fmt.Sprintf("Big %d", i), Channel: campaigns.Email, Currency: "GBP",
			Audience: campaigns.AudienceInput{LastPurchaseAfter: "2020-01-01"}})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		c, done, err := svc.Launch(ctx, c.ID, "")
		if err != nil || !done || c.Launch.Members != customersN {
			b.Fatalf("launch: %+v %v %v", c.Launch, done, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/launch")
	}
}

// seedMany writes n customer records with email consent and one purchase
// day, as ingestion would leave them.
func seedMany(b *testing.B, env *ddbtest.Env, table string, n int) {
	b.Helper()
	consent := map[string]customers.ConsentState{customers.ConsentEmail: {Granted: true, UpdatedAt: time.Now().UTC()}}
	reqs := make([]types.WriteRequest, n)
	for i := range n {
		id := fmt.Sprintf("c-%06d", i)
		item, err := attributevalue.MarshalMap(map[string]any{"pk": schema.PfxCustomer + id, "sk": schema.SkProfile,
			"customer_id": id, "consent": consent, "tags": []string{},
			"agg": map[string]any{"days": map[string]customers.Amounts{"2024-05-01": {"GBP": 1250}}}})
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	if err := (ddb.Retry{}).BatchWrite(context.Background(), env.DB, table, reqs, 16); err != nil {
		b.Fatal(err)
	}
}
