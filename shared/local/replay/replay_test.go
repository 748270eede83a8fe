//go:build dynamodb

package replay_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	catalogdb "tailor/shared/catalog/dynamo"
	catalogedge "tailor/shared/catalog/edge"
	catalogservice "tailor/shared/catalog/service"
	customersdb "tailor/shared/customers/dynamo"
	eventsdb "tailor/shared/events/dynamo"
	"tailor/shared/events/edge"
	"tailor/shared/events/service"
	"tailor/shared/local/dataset"
	"tailor/shared/local/replay"
	"tailor/shared/platform/apigw"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/schema"
)

// inProcess sends requests straight to the handlers, as the local gateway
// would after the authorizer let a key with these scopes through.
type inProcess struct {
	routers map[string]*apigw.Router
}

func (p *inProcess) Post(ctx context.Context, path string, body []byte) (int, []byte, error) {
	r, ok := p.routers[path]
	if !ok {
		return 404, nil, nil
	}
	ev := apigw.Event{RouteKey: "POST " + path, RawPath: path, Body: string(body),
		Headers: map[string]string{"content-type": "application/json"}}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		Lambda: map[string]any{"keyId": "replaytestkeyaaa", "scopes": "events:write catalog:write", "valid": "true"}}
	out, err := r.Serve(ctx, ev)
	return out.StatusCode, []byte(out.Body), err
}

type setup struct {
	env       *ddbtest.Env
	customers *customersdb.Customers
	loader    *replay.Loader
}

func newSetup(t *testing.T) *setup {
	env := ddbtest.New(t)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	es := &eventsdb.Events{DB: env.DB, Events: env.Table("EventsTable"), Customers: env.Table("CustomersTable"),
		Items: env.Table("ItemsTable")}
	svc := &service.Service{Store: es, Now: time.Now}
	ing := apigw.NewRouter(log)
	(&edge.API{Service: svc, Log: log}).Register(ing)
	cat := apigw.NewRouter(log)
	(&catalogedge.API{Service: &catalogservice.Service{Items: &catalogdb.Items{DB: env.DB, Table: env.Table("ItemsTable")}, Now: time.Now}}).Register(cat)
	send := &inProcess{routers: map[string]*apigw.Router{"/v1/events": ing, "/v1/items:batch": cat}}
	return &setup{env: env, customers: &customersdb.Customers{DB: env.DB, Table: env.Table("CustomersTable")},
		loader: &replay.Loader{Send: send, Batch: 500, Senders: 4}}
}

func retailFile(t *testing.T) func() (io.ReadCloser, error) {
	root, err := ddbtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "..", "shared", "data", "online_retail.csv.gz")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Online Retail file is needed: %v", err)
	}
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

// expected is what a customer's record must say, computed from the CSV
// with plain sums under the reader's cleaning rules, sharing no code with
// ingestion.
type expected struct {
	orders       map[string]bool
	revenue      int64
	refunds      int64
	lastPurchase time.Time
}

func independent(t *testing.T, open func() (io.ReadCloser, error), keep func(dataset.RetailRecord) bool) map[string]*expected {
	f, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*expected{}
	err = dataset.ReadOnlineRetail(f, func(r dataset.RetailRecord) error {
		if !keep(r) || (r.Kind != dataset.RowPurchase && r.Kind != dataset.RowRefund) {
			return nil
		}
		e := out[r.CustomerID]
		if e == nil {
			e = &expected{orders: map[string]bool{}}
			out[r.CustomerID] = e
		}
		if r.Kind == dataset.RowRefund {
			e.refunds += -r.Quantity * r.UnitPriceMinor
			return nil
		}
		e.orders[r.InvoiceNo] = true
		e.revenue += r.Quantity * r.UnitPriceMinor
		if r.Time.After(e.lastPurchase) {
			e.lastPurchase = r.Time
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func customerRecords(t *testing.T, s *setup) map[string]map[string]types.AttributeValue {
	table := s.env.Table("CustomersTable")
	out := map[string]map[string]types.AttributeValue{}
	p := dynamodb.NewScanPaginator(s.env.DB, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			// Customer records only: the table also holds each
			// customer's order items (pk=O#...).
			if pk := it["pk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(pk, schema.PfxCustomer) {
				out[pk] = it
			}
		}
	}
	return out
}

// TestRetailLoadMatchesCSV loads Online Retail through the ingest handler
// (in process, against DynamoDB Local) and checks every customer's orders,
// revenue, refunds and last purchase against an independent computation
// from the CSV; then loads it again and checks that no customer record
// changed. By default it loads the customers whose number is a multiple of
// 8 (an eighth of them, every row of each: 48,963 events), because
// DynamoDB Local writes only about 2,000 items a second and the whole file
// takes about ten minutes; TAILOR_RETAIL_FULL=1 loads the whole file.
func TestRetailLoadMatchesCSV(t *testing.T) {
	open := retailFile(t)
	keep := func(r dataset.RetailRecord) bool {
		n, err := strconv.Atoi(r.CustomerID)
		return err == nil && n%8 == 0
	}
	if os.Getenv("TAILOR_RETAIL_FULL") == "1" {
		keep = func(dataset.RetailRecord) bool { return true }
	}
	s := newSetup(t)
	s.loader.Keep = keep
	ctx := context.Background()
	rep, err := s.loader.Retail(ctx, open)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first load:\n%s", rep)
	if rep.Failed != 0 || rep.Accepted != rep.Events || len(rep.Rejected) != 0 || rep.ItemsFailed != 0 {
		t.Fatalf("first load: %+v", rep)
	}

	want := independent(t, open, keep)
	var latest time.Time
	for _, w := range want {
		if w.lastPurchase.After(latest) {
			latest = w.lastPurchase
		}
	}
	// Refunds can be later than every purchase; Last is at least the latest purchase.
	if rep.Last.Before(latest) || rep.Last.After(latest.AddDate(0, 1, 0)) {
		t.Fatalf("report's last event %s, latest purchase %s", rep.Last, latest)
	}
	mismatches := 0
	for id, w := range want {
		c, err := s.customers.Get(ctx, id)
		if err != nil {
			t.Fatalf("customer %s: %v", id, err)
		}
		a := c.Aggregates
		if a == nil || a.Orders != int64(len(w.orders)) || a.Revenue["GBP"] != w.revenue || a.Refunds["GBP"] != w.refunds ||
			!a.LastPurchaseAt.Equal(w.lastPurchase) {
			if mismatches++; mismatches <= 5 {
				t.Errorf("customer %s: got orders %d revenue %d refunds %d last %s; want %d %d %d %s", id,
					a.Orders, a.Revenue["GBP"], a.Refunds["GBP"], a.LastPurchaseAt, len(w.orders), w.revenue, w.refunds, w.lastPurchase)
			}
		}
	}
	t.Logf("checked %d customers against the CSV: %d mismatches", len(want), mismatches)

	before := customerRecords(t, s)
	again, err := s.loader.Retail(ctx, open)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second load:\n%s", again)
	if again.Accepted != 0 || again.Duplicate != rep.Events || again.Failed != 0 {
		t.Fatalf("second load: %+v", again)
	}
	after := customerRecords(t, s)
	if len(after) != len(before) || len(before) != len(want) {
		t.Fatalf("%d records before, %d after, %d customers", len(before), len(after), len(want))
	}
	for pk, b := range before {
		if !reflect.DeepEqual(after[pk], b) {
			t.Fatalf("record %s changed on the second load", pk)
		}
	}
}

func TestRetailEventIDsAreStable(t *testing.T) {
	rec := dataset.RetailRecord{Line: 42, Kind: dataset.RowRefund, InvoiceNo: "C536379", StockCode: "D", Quantity: -3,
		UnitPriceMinor: 2750, CustomerID: "14527", Time: time.Date(2010, 12, 1, 9, 41, 0, 0, time.UTC), Country: "United Kingdom"}
	in, ok := replay.RetailEvent(rec)
	if !ok || in.EventID != "or-C536379-42" || in.Type != "refund" || *in.Quantity != 3 || in.Price != "27.50" ||
		in.OrderID != "C536379" || in.Timestamp != "2010-12-01T09:41:00Z" || string(in.Properties) != `{"country":"United Kingdom"}` {
		t.Fatalf("%+v", in)
	}
	if _, ok := replay.RetailEvent(dataset.RetailRecord{Kind: dataset.RowSkipped, Reason: dataset.SkipGuest}); ok {
		t.Fatal("a skipped row gave an event")
	}
	for desc, want := range map[string]string{"WHITE HANGING HEART T-LIGHT HOLDER": "Lighting", "JUMBO BAG RED RETROSPOT": "Bags",
		"SET OF 3 CAKE TINS PANTRY DESIGN": "Kitchen", "PAPER CHAIN KIT 50'S CHRISTMAS": "Christmas", "ASSORTED COLOUR BIRD ORNAMENT": "Garden",
		"": "Gifts"} {
		if got := replay.DeriveCategory(desc); got != want {
			t.Errorf("%q: %s, want %s", desc, got, want)
		}
	}
}
