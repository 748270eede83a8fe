//go:build dynamodb

package servicetest

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/customers"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/service"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
	recodb "tailor/shared/recommendations/dynamo"
)

// Shop is the seeded tables.
type Shop struct {
	Env    *ddbtest.Env
	Items  *catalogdb.Items
	Ingest *service.Service
}

// Seed creates fresh tables and loads the catalogue and the events through
// the catalogue store and the ingest service, as the API would.
func Seed(t testing.TB) *Shop {
	t.Helper()
	env := ddbtest.New(t)
	s := &Shop{Env: env, Items: &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}}
	es := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable")}
	s.Ingest = &service.Service{Store: es, Now: func() time.Time { return Now }}
	for _, in := range Items() {
		s.PutItem(t, in)
	}
	s.Send(t, Events()...)
	return s
}

// PutItem creates or replaces one catalogue item.
func (s *Shop) PutItem(t testing.TB, in catalog.BatchInput) {
	t.Helper()
	it, err := catalog.New(in.ItemID, in.Input, Now, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Items.Put(context.Background(), it); err != nil {
		t.Fatal(err)
	}
}

// Send ingests events and fails the test unless each is accepted or a
// duplicate.
func (s *Shop) Send(t testing.TB, evs ...map[string]any) {
	t.Helper()
	raws := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		raws[i] = b
	}
	for _, o := range s.Ingest.Ingest(context.Background(), raws, nil) {
		if o.Status != events.Accepted && o.Status != events.Duplicate {
			t.Fatalf("event %d not ingested: %+v", o.Index, o)
		}
	}
}

// Training is the training store over the shop's tables.
func (s *Shop) Training() *recodb.Training {
	return &recodb.Training{DB: s.Env.DB, Customers: s.Env.Table("CustomersTable"), Items: s.Env.Table("ItemsTable"),
		Models: s.Env.Table("ModelsTable"), Segments: 3}
}

// Recommendations is the request-side store over the shop's tables.
func (s *Shop) Recommendations(db ddb.DB) *recodb.Recommendations {
	if db == nil {
		db = s.Env.DB
	}
	return &recodb.Recommendations{DB: db, Customers: s.Env.Table("CustomersTable"), Items: s.Env.Table("ItemsTable"),
		Models: s.Env.Table("ModelsTable")}
}

// SeedRetail writes the Online Retail customer records (their aggregates,
// as ingestion leaves them) and catalogue rows (through the catalogue
// store) into env's tables.
func SeedRetail(t testing.TB, env *ddbtest.Env, r *Retail) {
	t.Helper()
	ctx := context.Background()
	reqs := make([]types.WriteRequest, 0, len(r.Aggregates))
	for _, id := range slices.Sorted(maps.Keys(r.Aggregates)) {
		av, err := attributevalue.MarshalMap(struct {
			PK         string                `dynamodbav:"pk"`
			SK         string                `dynamodbav:"sk"`
			CustomerID string                `dynamodbav:"customer_id"`
			Version    int64                 `dynamodbav:"version"`
			Agg        *customers.Aggregates `dynamodbav:"agg"`
		}{schema.PfxCustomer + id, schema.SkProfile, id, 1, r.Aggregates[id]})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	if err := (ddb.Retry{}).BatchWrite(ctx, env.DB, env.Table("CustomersTable"), reqs, 8); err != nil {
		t.Fatal(err)
	}
	items := &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(r.Items); i += 8 {
				if _, _, err := items.Put(ctx, r.Items[i]); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
