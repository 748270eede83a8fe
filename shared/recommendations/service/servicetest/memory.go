package servicetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/recommendations"
	"tailor/shared/recommendations/memory"
)

// Memory is the shop in a memory store: catalogue rows, customer records
// as the catalogue API and ingestion leave them in DynamoDB.
type Memory struct {
	Store *memory.Store

	mu      sync.Mutex
	seen    map[string]bool
	agg     map[string]*customers.Aggregates
	consent map[string]map[string]customers.ConsentState
}

// NewMemory returns a memory store holding the shop's catalogue and
// events.
func NewMemory(t testing.TB) *Memory {
	t.Helper()
	m := &Memory{Store: memory.New(), seen: map[string]bool{}, agg: map[string]*customers.Aggregates{},
		consent: map[string]map[string]customers.ConsentState{}}
	for _, in := range Items() {
		m.PutItem(t, in)
	}
	m.Send(t, Events()...)
	return m
}

// PutItem creates or replaces one catalogue item at the shop's clock.
func (m *Memory) PutItem(t testing.TB, in catalog.BatchInput) { m.PutItemAt(t, in, Now) }

// PutItemAt creates or replaces one catalogue item at time at.
func (m *Memory) PutItemAt(t testing.TB, in catalog.BatchInput, at time.Time) {
	t.Helper()
	it, err := catalog.New(in.ItemID, in.Input, at, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store.PutItem(context.Background(), it); err != nil {
		t.Fatal(err)
	}
}

// Send ingests events (wire format) as the ingest service does for a
// customer's events: each distinct event id once, with the top-level
// category of its item, folded into the customer's aggregates. An invalid
// event fails the test.
func (m *Memory) Send(t testing.TB, evs ...map[string]any) {
	t.Helper()
	ctx := context.Background()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, raw := range evs {
		b, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		in, err := events.Decode(b, "")
		if err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		e, err := events.Validate(in, Now, "")
		if err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		if e.CustomerID == "" {
			t.Fatalf("event %s: the memory shop takes customers' events only", b)
		}
		if m.seen[e.ID] {
			continue
		}
		m.seen[e.ID] = true
		if e.HasItem() {
			live, err := m.Store.LiveCatalog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range live {
				if it.ID == e.ItemID {
					e.Category = it.TopCategory()
				}
			}
		}
		agg := m.agg[e.CustomerID]
		if agg == nil {
			agg = customers.NewAggregates()
			m.agg[e.CustomerID] = agg
		}
		agg.Apply(e)
		m.putShopper(t, e.CustomerID)
	}
}

// SetConsent replaces a customer's consent, as the customers API does.
func (m *Memory) SetConsent(t testing.TB, customerID string, consent map[string]customers.ConsentState) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consent[customerID] = consent
	m.putShopper(t, customerID)
}

func (m *Memory) putShopper(t testing.TB, customerID string) {
	t.Helper()
	err := m.Store.PutShopper(context.Background(), customerID,
		recommendations.Shopper{Aggregates: m.agg[customerID], Consent: m.consent[customerID]})
	if err != nil {
		t.Fatal(err)
	}
}
