//go:build dynamodb

package servicetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"tailor/shared/catalog"
	catalogdb "tailor/shared/catalog/dynamo"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/service"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
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
	return &recodb.Training{DB: s.Env.DB, Events: s.Env.Table("EventsTable"), Items: s.Env.Table("ItemsTable"),
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
