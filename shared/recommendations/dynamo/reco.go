// Package dynamo stores the recommender's data in DynamoDB. Access
// patterns:
//
//	an item and its neighbour list       Items   pk=I#<item_id>  sk=ITEM / sk=NEIGHBOURS (one BatchGetItem)
//	popular items of a window            Models  pk=POPULAR#<days>d  sk=ALL
//	popular items of a window, category  Models  pk=POPULAR#<days>d  sk=C#<top-level category>
//	training runs by as_of               Models  pk=RUN#train  sk=<as_of RFC 3339>
//
// Requests read these by key only. The nightly training reads its input by
// parallel Scan (history items of the events table, the catalogue) and
// writes with BatchWriteItem.
package dynamo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
)

// Key parts of the recommender's items.
const (
	skNeighbours = "NEIGHBOURS"
	pfxPopularL  = "POPULAR#"
	skPopularAll = "ALL"
	pfxCategory  = "C#"
	pkTrainRuns  = "RUN#train"
)

// attrEntry is one item of a stored list: its id and score, and the
// attributes it had when the list was trained (category path, brand,
// price), so that a request can rank and filter the list before it reads
// the live catalogue rows of the few items it will answer with.
type attrEntry struct {
	ID    string  `dynamodbav:"i"`
	Score float64 `dynamodbav:"s"`
	Cat   string  `dynamodbav:"c,omitempty"`
	Brand string  `dynamodbav:"b,omitempty"`
	Price int64   `dynamodbav:"p,omitempty"`
}

func newEntry(id string, score float64, attrs map[string]recommendations.Item) attrEntry {
	a := attrs[id]
	return attrEntry{ID: id, Score: recommendations.Round6(score), Cat: a.Category, Brand: a.Brand, Price: a.PriceMinor}
}

// item is the entry's training-time attributes. InStock is true: stock is
// only known from the live row, which the request reads afterwards.
func (e attrEntry) item() recommendations.Item {
	return recommendations.Item{ItemID: e.ID, Category: e.Cat, Brand: e.Brand, PriceMinor: e.Price, InStock: true}
}

// neighboursItem is the stored form of an item's trained model.
type neighboursItem struct {
	PK         string      `dynamodbav:"pk"`
	SK         string      `dynamodbav:"sk"`
	ItemID     string      `dynamodbav:"item_id"`
	AsOf       time.Time   `dynamodbav:"as_of"`
	RepeatRate float64     `dynamodbav:"repeat_rate"`
	Customers  int         `dynamodbav:"customers"`
	Self       attrEntry   `dynamodbav:"self"`
	Neighbours []attrEntry `dynamodbav:"nb"`
}

// popularItem is the stored form of one popularity list.
type popularItem struct {
	PK         string      `dynamodbav:"pk"`
	SK         string      `dynamodbav:"sk"`
	WindowDays int         `dynamodbav:"window_days"`
	Category   string      `dynamodbav:"category,omitempty"`
	AsOf       time.Time   `dynamodbav:"as_of"`
	Items      []attrEntry `dynamodbav:"items"`
}

// popularPK is the partition key of a window's popularity lists.
func popularPK(windowDays int) string { return fmt.Sprintf("%s%dd", pfxPopularL, windowDays) }

// popularSK is the sort key of a category's list ("" for the whole
// catalogue).
func popularSK(category string) string {
	if category == "" {
		return skPopularAll
	}
	return pfxCategory + category
}

// runItem is the stored form of a training run record.
type runItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	AsOf         time.Time `dynamodbav:"as_of"`
	StartedAt    time.Time `dynamodbav:"started_at"`
	DurationMS   int64     `dynamodbav:"duration_ms"`
	Interactions int       `dynamodbav:"interactions"`
	Catalog      int       `dynamodbav:"catalog_items"`
	Items        int       `dynamodbav:"items"`
	Pairs        int       `dynamodbav:"pairs"`
	PopularLists int       `dynamodbav:"popular_lists"`
	Removed      int       `dynamodbav:"stale_removed"`
}

// Training is the storage side of the nightly training job: it scans the
// history and the catalogue and writes neighbour lists, popularity lists
// and run records. Safe for concurrent use.
type Training struct {
	DB     ddb.Scanner
	Events string // EventsTable
	Items  string // ItemsTable
	Models string // ModelsTable
	// Segments is the number of parallel Scan segments; 8 when 0.
	Segments int
	// Writers bounds concurrent BatchWriteItem calls; 8 when 0.
	Writers int
}

func (s *Training) segments() int {
	if s.Segments > 0 {
		return s.Segments
	}
	return 8
}

func (s *Training) writers() int {
	if s.Writers > 0 {
		return s.Writers
	}
	return 8
}

// historyRow is the part of a history item training reads.
type historyRow struct {
	PK       string    `dynamodbav:"pk"`
	Type     string    `dynamodbav:"type"`
	ItemID   string    `dynamodbav:"item_id"`
	Quantity int64     `dynamodbav:"quantity"`
	Time     time.Time `dynamodbav:"ts"`
}

// Interactions reads every history item (pk=H#<owner>) of the events
// table by parallel Scan and returns them as training interactions. The
// owner key (C#<customer> or N#<anonymous visitor>) is the interaction's
// customer, so anonymous sessions add co-occurrences too. Event records
// (E#) and popularity counters (P#) share the table; the filter drops them
// after they are read, so the Scan pays for them (docs/benchmarks.md).
func (s *Training) Interactions(ctx context.Context) ([]recommendations.Interaction, error) {
	expr, err := expression.NewBuilder().
		WithFilter(expression.Name(ddb.AttrPK).BeginsWith(schema.PfxHistory)).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrPK), expression.Name("type"), expression.Name("item_id"),
			expression.Name("quantity"), expression.Name("ts"))).Build()
	if err != nil {
		return nil, fmt.Errorf("scan history: build expression: %w", err)
	}
	parts := make([][]recommendations.Interaction, s.segments())
	err = ddb.ParallelScan(ctx, s.DB, &dynamodb.ScanInput{TableName: &s.Events, FilterExpression: expr.Filter(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()},
		s.segments(), func(seg int, items []map[string]types.AttributeValue) error {
			for _, it := range items {
				var r historyRow
				if err := attributevalue.UnmarshalMap(it, &r); err != nil {
					return fmt.Errorf("decode history item: %w", err)
				}
				if r.ItemID == "" {
					continue
				}
				parts[seg] = append(parts[seg], recommendations.Interaction{CustomerID: strings.TrimPrefix(r.PK, schema.PfxHistory),
					ItemID: r.ItemID, Type: recommendations.EventType(r.Type), Time: r.Time, Quantity: r.Quantity})
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	return slices.Concat(parts...), nil
}

// catalogRow is the part of an items-table row the catalogue scan reads.
type catalogRow struct {
	PK         string   `dynamodbav:"pk"`
	SK         string   `dynamodbav:"sk"`
	ItemID     string   `dynamodbav:"item_id"`
	Category   []string `dynamodbav:"category"`
	Brand      string   `dynamodbav:"brand"`
	PriceMinor int64    `dynamodbav:"price_minor"`
	InStock    bool     `dynamodbav:"in_stock"`
}

// Catalog reads the items table by parallel Scan: the attributes of every
// catalogue item, and the ids of the items that have a neighbour list now
// (so a run can remove the lists of items that dropped out of the model).
func (s *Training) Catalog(ctx context.Context) (map[string]recommendations.Item, []string, error) {
	proj := expression.NamesList(expression.Name(ddb.AttrPK), expression.Name(ddb.AttrSK), expression.Name("item_id"),
		expression.Name("category"), expression.Name("brand"), expression.Name("price_minor"), expression.Name("in_stock"))
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return nil, nil, fmt.Errorf("scan catalogue: build expression: %w", err)
	}
	type part struct {
		items  []recommendations.Item
		listed []string
	}
	parts := make([]part, s.segments())
	err = ddb.ParallelScan(ctx, s.DB, &dynamodb.ScanInput{TableName: &s.Items, ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names()}, s.segments(), func(seg int, items []map[string]types.AttributeValue) error {
		for _, it := range items {
			var r catalogRow
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return fmt.Errorf("decode catalogue row: %w", err)
			}
			id := strings.TrimPrefix(r.PK, "I#")
			switch r.SK {
			case schema.SkItem:
				parts[seg].items = append(parts[seg].items, recommendations.CatalogItem(catalog.Item{ID: id,
					Category: r.Category, Brand: r.Brand, PriceMinor: r.PriceMinor, InStock: r.InStock}))
			case skNeighbours:
				parts[seg].listed = append(parts[seg].listed, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	attrs := map[string]recommendations.Item{}
	var listed []string
	for _, p := range parts {
		for _, it := range p.items {
			attrs[it.ItemID] = it
		}
		listed = append(listed, p.listed...)
	}
	slices.Sort(listed)
	return attrs, listed, nil
}

// WriteNeighbours writes the neighbour list of every item of the model
// (overwriting the previous run's) and deletes the lists of the items in
// stale. attrs supplies the training-time attributes stored with each
// entry. It returns the number of neighbour pairs written.
func (s *Training) WriteNeighbours(ctx context.Context, m *recommendations.Model, attrs map[string]recommendations.Item, stale []string) (int, error) {
	reqs := make([]types.WriteRequest, 0, len(m.Items)+len(stale))
	pairs := 0
	for _, id := range slices.Sorted(maps.Keys(m.Items)) {
		im := m.Items[id]
		row := neighboursItem{PK: "I#" + id, SK: skNeighbours, ItemID: id, AsOf: m.AsOf.UTC(),
			RepeatRate: recommendations.Round6(im.RepeatRate), Customers: im.Customers, Self: newEntry(id, 0, attrs),
			Neighbours: make([]attrEntry, 0, len(im.Neighbours))}
		for _, nb := range im.Neighbours {
			row.Neighbours = append(row.Neighbours, newEntry(nb.ItemID, nb.Score, attrs))
		}
		pairs += len(im.Neighbours)
		av, err := attributevalue.MarshalMap(row)
		if err != nil {
			return 0, fmt.Errorf("encode neighbours of %s: %w", id, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	for _, id := range stale {
		if _, kept := m.Items[id]; !kept {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: ddb.Key("I#"+id, skNeighbours)}})
		}
	}
	return pairs, ddb.Retry{}.BatchWrite(ctx, s.DB, s.Items, reqs, s.writers())
}

// WritePopular replaces the popularity lists: it writes every list of
// lists and deletes the stored lists of the same windows that the run no
// longer has (a category that sold nothing in the window).
func (s *Training) WritePopular(ctx context.Context, lists []recommendations.PopularList, attrs map[string]recommendations.Item, asOf time.Time) error {
	var reqs []types.WriteRequest
	written := map[string]bool{}
	windows := map[int]bool{}
	for _, l := range lists {
		row := popularItem{PK: popularPK(l.WindowDays), SK: popularSK(l.Category), WindowDays: l.WindowDays, Category: l.Category, AsOf: asOf.UTC(), Items: make([]attrEntry, 0, len(l.Items))}
		for _, it := range l.Items {
			row.Items = append(row.Items, newEntry(it.ItemID, it.Score, attrs))
		}
		av, err := attributevalue.MarshalMap(row)
		if err != nil {
			return fmt.Errorf("encode popular list: %w", err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		written[row.PK+"|"+row.SK] = true
		windows[l.WindowDays] = true
	}
	for _, w := range slices.Sorted(maps.Keys(windows)) {
		pk := popularPK(w)
		sks, err := s.listKeys(ctx, pk)
		if err != nil {
			return err
		}
		for _, sk := range sks {
			if !written[pk+"|"+sk] {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: ddb.Key(pk, sk)}})
			}
		}
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Models, reqs, s.writers())
}

// listKeys returns the sort keys stored under pk in the models table.
func (s *Training) listKeys(ctx context.Context, pk string) ([]string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pk))).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return nil, fmt.Errorf("list %s: build expression: %w", pk, err)
	}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Models, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify("list "+pk, err)
		}
		for _, it := range page.Items {
			if sk, ok := it[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
				out = append(out, sk.Value)
			}
		}
	}
	return out, nil
}

// PutRun stores the run record; a run with the same as_of replaces it.
// DurationMS is stored as r.Duration in milliseconds.
func (s *Training) PutRun(ctx context.Context, r recommendations.Run) error {
	av, err := attributevalue.MarshalMap(runItem{PK: pkTrainRuns, SK: r.AsOf.UTC().Format(time.RFC3339), AsOf: r.AsOf,
		StartedAt: r.StartedAt, DurationMS: r.Duration.Milliseconds(), Interactions: r.Interactions, Catalog: r.Catalog,
		Items: r.Items, Pairs: r.Pairs, PopularLists: r.PopularLists, Removed: r.Removed})
	if err != nil {
		return fmt.Errorf("encode run: %w", err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Models, Item: av})
	return ddb.Classify("put training run", err)
}

// Recommendations is the request side of the recommender's data: one
// customer record read and BatchGetItem calls by key. It never scans.
type Recommendations struct {
	DB        ddb.DB
	Customers string // CustomersTable
	Items     string // ItemsTable
	Models    string // ModelsTable
}

// Shopper reads the customer's aggregates and consent with one strongly
// consistent GetItem (an event ingested a moment ago must count), projected
// so that no profile field is read. A customer without a record is a
// NotFound error.
func (s *Recommendations) Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error) {
	op := "read customer " + customerID
	proj := expression.NamesList(expression.Name("agg.recent"), expression.Name("agg.purchased"),
		expression.Name("agg.affinity"), expression.Name("consent"), expression.Name(ddb.AttrPK))
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return recommendations.Shopper{}, fmt.Errorf("%s: build projection: %w", op, err)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Customers, Key: schema.CustomerKey(customerID),
		ConsistentRead: aws.Bool(true), ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names()})
	if err != nil {
		return recommendations.Shopper{}, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return recommendations.Shopper{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	var v struct {
		Agg     *customers.Aggregates             `dynamodbav:"agg"`
		Consent map[string]customers.ConsentState `dynamodbav:"consent"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		return recommendations.Shopper{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	if v.Agg == nil {
		v.Agg = customers.NewAggregates()
	}
	return recommendations.Shopper{Aggregates: v.Agg.Clone(), Consent: v.Consent}, nil
}

// Lists reads, in BatchGetItem calls of at most 100 keys, the neighbour
// lists of the items in lists and the catalogue rows of the items in live.
// Reads are eventually consistent: both change rarely and a second's lag
// is harmless. Missing rows are absent from the result.
func (s *Recommendations) Lists(ctx context.Context, lists, live []string) (recommendations.Lists, error) {
	out := recommendations.NewLists()
	keys := make([]map[string]types.AttributeValue, 0, len(lists)+len(live))
	for _, id := range lists {
		keys = append(keys, ddb.Key("I#"+id, skNeighbours))
	}
	for _, id := range live {
		keys = append(keys, schema.ItemKey(id))
	}
	rows, err := ddb.Retry{}.BatchGet(ctx, s.DB, ddb.Get{Table: s.Items, Keys: keys})
	if err != nil {
		return out, err
	}
	for _, row := range rows {
		sk, _ := row[ddb.AttrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			continue
		}
		switch sk.Value {
		case skNeighbours:
			var n neighboursItem
			if err := attributevalue.UnmarshalMap(row, &n); err != nil {
				return out, fmt.Errorf("decode neighbours: %w", err)
			}
			im := recommendations.ItemModel{ItemID: n.ItemID, RepeatRate: n.RepeatRate, Customers: n.Customers,
				Neighbours: make([]recommendations.Neighbour, 0, len(n.Neighbours))}
			for _, e := range n.Neighbours {
				im.Neighbours = append(im.Neighbours, recommendations.Neighbour{ItemID: e.ID, Score: e.Score})
				if _, ok := out.Trained[e.ID]; !ok {
					out.Trained[e.ID] = e.item()
				}
			}
			out.Models[n.ItemID] = im
			self := n.Self
			self.ID = n.ItemID
			out.Trained[n.ItemID] = self.item()
		case schema.SkItem:
			var it catalog.Item
			if err := attributevalue.UnmarshalMap(row, &it); err != nil {
				return out, fmt.Errorf("decode item: %w", err)
			}
			out.Live[it.ID] = it
		}
	}
	return out, nil
}

// Live reads the catalogue rows of ids (BatchGetItem, 100 keys a call).
func (s *Recommendations) Live(ctx context.Context, ids []string) (map[string]catalog.Item, error) {
	l, err := s.Lists(ctx, nil, ids)
	return l.Live, err
}

// Popular reads the popularity lists named by keys with one BatchGetItem
// (eventually consistent). Lists that do not exist are absent.
func (s *Recommendations) Popular(ctx context.Context, keys []recommendations.PopularKey) (map[recommendations.PopularKey]recommendations.Popular, error) {
	out := make(map[recommendations.PopularKey]recommendations.Popular, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	ks := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		ks = append(ks, ddb.Key(popularPK(k.WindowDays), popularSK(k.Category)))
	}
	rows, err := ddb.Retry{}.BatchGet(ctx, s.DB, ddb.Get{Table: s.Models, Keys: ks})
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		var p popularItem
		if err := attributevalue.UnmarshalMap(row, &p); err != nil {
			return nil, fmt.Errorf("decode popular list: %w", err)
		}
		l := recommendations.Popular{AsOf: p.AsOf, Attrs: make(map[string]recommendations.Item, len(p.Items)), Items: make([]recommendations.ScoredItem, 0, len(p.Items))}
		for _, e := range p.Items {
			l.Items = append(l.Items, recommendations.ScoredItem{ItemID: e.ID, Score: e.Score})
			l.Attrs[e.ID] = e.item()
		}
		out[recommendations.PopularKey{WindowDays: p.WindowDays, Category: p.Category}] = l
	}
	return out, nil
}
