//go:build dynamodb

package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/customers"
	"tailor/shared/events"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newEvents(t *testing.T) (*eventsdb.Events, *ddbtest.Env, *eventsdb.History) {
	t.Helper()
	env := ddbtest.New(t)
	now := func() time.Time { return t0 }
	s := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable"), Now: now, Backoff: time.Millisecond}
	return s, env, &eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: now}
}

func purchase(id, cust, order string, minutes int, qty, price int64) events.Event {
	return events.Event{ID: id, Type: events.Purchase, CustomerID: cust, ItemID: "sku-" + id, Quantity: qty,
		PriceMinor: price, Currency: "GBP", OrderID: order, Time: t0.Add(time.Duration(minutes) * time.Minute), Category: "Home"}
}

// failing makes one kind of call fail once, as a process dying right
// before it would.
type failing struct {
	ddb.DB
	updates int
}

func (f *failing) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.updates > 0 {
		f.updates--
		return nil, errors.New("crashed before marking the alias moved")
	}
	return f.DB.UpdateItem(ctx, in, o...)
}

func TestLinkMergesOnceAndFinishesAnInterruptedMove(t *testing.T) {
	s, env, hist := newEvents(t)
	ctx := context.Background()
	visitor := events.Owner{AnonymousID: "a-1"}
	var anon []events.Event
	for i := range 3 {
		e := purchase(fmt.Sprintf("v%d", i), "", fmt.Sprintf("o-v%d", i), i, 1, 100)
		e.CustomerID, e.AnonymousID = "", "a-1"
		anon = append(anon, e)
	}
	if _, err := s.Append(ctx, visitor, anon); err != nil {
		t.Fatal(err)
	}
	mine := []events.Event{purchase("m0", "c-1", "o-m0", 10, 1, 500)}
	if _, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, mine); err != nil {
		t.Fatal(err)
	}

	// The merge commits, the history moves, then the process dies before
	// the alias is marked moved.
	crash := &failing{DB: s.DB, updates: 1}
	broken := &eventsdb.Events{DB: crash, Events: s.Events, Customers: s.Customers, Items: s.Items, Now: s.Now, Backoff: s.Backoff}
	if _, err := broken.Link(ctx, "a-1", "c-1"); err == nil {
		t.Fatal("the injected crash did not surface")
	}
	// Any later event of the visitor finishes the move.
	owners, err := s.Resolve(ctx, []string{"a-1"})
	if err != nil || owners["a-1"] != "c-1" {
		t.Fatalf("resolve: %v %v", owners, err)
	}
	// A second login changes nothing; another customer cannot take the visitor.
	if got, err := s.Link(ctx, "a-1", "c-1"); err != nil || got != "c-1" {
		t.Fatalf("second link: %s %v", got, err)
	}
	if got, err := s.Link(ctx, "a-1", "c-2"); err != nil || got != "c-1" {
		t.Fatalf("link to another customer: %s %v", got, err)
	}

	c := aggregatesOf(t, env, s, events.Owner{CustomerID: "c-1"})
	want := customers.Fold(append(slices.Clone(anon), mine...))
	if c == nil || c.Events != 4 || c.Orders != 4 || c.Revenue["GBP"] != want.Revenue["GBP"] ||
		!c.FirstSeen.Equal(want.FirstSeen) || len(c.Recent) != 4 {
		t.Fatalf("aggregates %+v, want %+v", c, want)
	}
	page, err := hist.List(ctx, "c-1", events.HistoryQuery{Limit: 10})
	if err != nil || len(page.Events) != 4 || page.Events[0].ID != "m0" {
		t.Fatalf("history %+v %v", page, err)
	}
	// The visitor's record is gone: later visitor events must go to c-1.
	if _, err := s.Append(ctx, visitor, []events.Event{{ID: "late", Type: events.View, AnonymousID: "a-1", ItemID: "x", Quantity: 1, Time: t0}}); !errors.Is(err, events.ErrOwnerChanged) {
		t.Fatalf("a write to the linked visitor: %v", err)
	}
}

// TestFreeTextIsSealed: properties, queries and feedback comments are
// stored sealed, never as plaintext, and open again with the keys; the
// rest of a feedback event (campaign, answers, topic) stays readable for
// the jobs that count it.
func TestFreeTextIsSealed(t *testing.T) {
	s, env, _ := newEvents(t)
	ctx := context.Background()
	seal := sealer(t)
	s.PII = seal
	four := 4
	evs := []events.Event{
		{ID: "f1", Type: events.Feedback, CustomerID: "c-1", Rating: 2, NPS: &four, Topic: events.Complaint,
			Comment: "Ring Ada on 07700 900123", CampaignID: "spring", Time: t0},
		{ID: "q1", Type: events.Search, CustomerID: "c-1", Query: "ada lovelace biography", Time: t0.Add(time.Second)},
		{ID: "p1", Type: events.MessageClicked, CustomerID: "c-1", CampaignID: "spring", Properties: `{"note":"ada's link"}`, Time: t0.Add(2 * time.Second)},
	}
	if _, err := s.Append(ctx, events.Owner{CustomerID: "c-1"}, evs); err != nil {
		t.Fatal(err)
	}
	// Every stored item, history pages decompressed.
	var stored []string
	var entries []eventsdb.Entry
	p := dynamodb.NewScanPaginator(env.DB, &dynamodb.ScanInput{TableName: aws.String(env.Table("EventsTable"))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if _, ok := it["events"]; ok {
				_, es, err := eventsdb.DecodePage(it)
				if err != nil {
					t.Fatal(err)
				}
				entries = append(entries, es...)
				for _, e := range es {
					stored = append(stored, fmt.Sprintf("%+v %s", e.Event, e.Sealed))
				}
				delete(it, "events")
			}
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, fmt.Sprint(m))
		}
	}
	all := strings.Join(stored, "\n")
	for _, plain := range []string{"07700", "lovelace", "ada's"} {
		if strings.Contains(all, plain) {
			t.Fatalf("%q stored as plaintext:\n%s", plain, all)
		}
	}
	if len(entries) != 3 {
		t.Fatalf("%d events in history pages, want 3", len(entries))
	}
	for _, e := range entries {
		if len(e.Sealed) == 0 || e.Event.HasFreeText() {
			t.Fatalf("event %s: free text not sealed: %+v", e.Event.ID, e)
		}
		if e.Event.ID == "f1" && (e.Event.CampaignID != "spring" || e.Event.Rating != 2 || e.Event.NPS == nil || *e.Event.NPS != 4 ||
			e.Event.Topic != events.Complaint) {
			t.Fatalf("feedback answers not kept readable: %+v", e.Event)
		}
	}
	page, err := (&eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: s.Now, PII: seal}).List(ctx, "c-1", events.HistoryQuery{})
	if err != nil || len(page.Events) != 3 || page.Events[2].Comment != evs[0].Comment || page.Events[1].Query != evs[1].Query ||
		page.Events[0].Properties != evs[2].Properties || page.Events[2].Hash() != evs[0].Hash() {
		t.Fatalf("history %+v %v", page, err)
	}
	if _, err := (&eventsdb.History{DB: env.DB, Table: env.Table("EventsTable"), Now: s.Now}).List(ctx, "c-1", events.HistoryQuery{}); err == nil {
		t.Fatal("sealed free text listed without keys")
	}
}

// A category read is used again for CategoryTTL: a change in the catalog
// reaches events once that has passed, and an item without a category
// is read every time, so one added to the catalog counts at once.
func TestCategoriesAreReadAgainAfterTheirTTL(t *testing.T) {
	s, env, _ := newEvents(t)
	ctx := context.Background()
	now := t0
	s.Now = func() time.Time { return now }
	s.CategoryTTL = time.Minute
	setCategory := func(item, category string) {
		t.Helper()
		row := map[string]any{"pk": schema.PfxItem + item, "sk": schema.SkItem, "item_id": item, "category": []string{category}}
		if err := ddbtest.PutRaw(ctx, env.DB, env.Table("ItemsTable"), row); err != nil {
			t.Fatal(err)
		}
	}
	categories := func() map[string]string {
		t.Helper()
		got, err := s.Categories(ctx, []string{"sku-1", "sku-2"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	setCategory("sku-1", "Home")
	if got := categories(); got["sku-1"] != "Home" || len(got) != 1 {
		t.Fatalf("first read: %v", got)
	}
	setCategory("sku-1", "Garden")
	setCategory("sku-2", "Toys")
	if got := categories(); got["sku-1"] != "Home" || got["sku-2"] != "Toys" {
		t.Fatalf("within the TTL: %v, want the cached Home and the new item's Toys", got)
	}
	now = now.Add(time.Minute)
	if got := categories(); got["sku-1"] != "Garden" || got["sku-2"] != "Toys" {
		t.Fatalf("after the TTL: %v, want Garden", got)
	}
}

// An order recorded by an earlier write is not counted again, although
// the write does not read order items first: the transaction that would
// create its item again is cancelled, and the retry knows the order.
func TestKnownOrderLearnedFromTheCancelledWrite(t *testing.T) {
	s, env, _ := newEvents(t)
	ctx := context.Background()
	cust := events.Owner{CustomerID: "c-o"}
	first := []events.Event{purchase("l1", "c-o", "o-1", 1, 1, 100), purchase("l2", "c-o", "o-2", 2, 1, 100)}
	if _, err := s.Append(ctx, cust, first); err != nil {
		t.Fatal(err)
	}
	// The second write carries another line of each known order and a new one.
	second := []events.Event{purchase("l3", "c-o", "o-1", 3, 1, 100), purchase("l4", "c-o", "o-2", 4, 1, 100),
		purchase("l5", "c-o", "o-3", 5, 1, 100)}
	st, err := s.Append(ctx, cust, second)
	if err != nil || slices.ContainsFunc(st, func(x events.Status) bool { return x != events.Accepted }) {
		t.Fatalf("second write: %v %v", st, err)
	}
	want := customers.Fold(slices.Concat(first, second))
	got := aggregatesOf(t, env, s, cust)
	if got.Orders != 3 || got.Orders != want.Orders || got.Units != want.Units {
		t.Fatalf("aggregates: %d orders, %d units; want %d and %d", got.Orders, got.Units, want.Orders, want.Units)
	}
	ids, err := s.OrderIDs(ctx, "c-o")
	if err != nil || !slices.Equal(ids, []string{"o-1", "o-2", "o-3"}) {
		t.Fatalf("order ids %v %v", ids, err)
	}
}

// A record written before newest_event existed does not say how new its
// owner's events are: the owner's last history page does, so a resent
// old event is still a duplicate, and the next write stores the
// attribute.
func TestRecordWithoutNewestEventReadsTheLastPage(t *testing.T) {
	s, env, _ := newEvents(t)
	ctx := context.Background()
	cust := events.Owner{CustomerID: "c-up"}
	stored := []events.Event{purchase("u1", "c-up", "o-1", 1, 1, 100), purchase("u2", "c-up", "o-2", 50, 1, 100)}
	if _, err := s.Append(ctx, cust, stored); err != nil {
		t.Fatal(err)
	}
	table := env.Table("CustomersTable")
	key := ddb.Key(schema.PfxCustomer+"c-up", schema.SkProfile)
	if _, err := env.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
		UpdateExpression: aws.String("REMOVE newest_event")}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Append(ctx, cust, []events.Event{stored[0], purchase("u3", "c-up", "o-3", 100, 1, 100)})
	if err != nil || !slices.Equal(st, []events.Status{events.Duplicate, events.Accepted}) {
		t.Fatalf("after the attribute was removed: %v %v", st, err)
	}
	out, err := env.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Newest string `dynamodbav:"newest_event"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &rec); err != nil || rec.Newest != events.SortKeyTime(t0.Add(100*time.Minute)) {
		t.Fatalf("newest_event %q %v", rec.Newest, err)
	}
	if got := aggregatesOf(t, env, s, cust); got.Orders != 3 || got.Events != 3 {
		t.Fatalf("aggregates: %d orders, %d events", got.Orders, got.Events)
	}
}
