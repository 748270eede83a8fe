package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"tailor/shared/platform/schema"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// alias is the stored link from an anonymous id to a customer
// (customers table, pk=A#<anonymous_id>, sk=ALIAS). It never expires.
// Moved is set once the anonymous history has been moved under the
// customer; until then any ingestion that meets the alias finishes the move.
type alias struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	CustomerID string    `dynamodbav:"customer_id"`
	Moved      bool      `dynamodbav:"moved"`
	LinkedAt   time.Time `dynamodbav:"linked_at"`
}

// linkItem records, under the customer, that an anonymous id was linked to
// it (customers table, pk=L#<customer_id>, sk=<anonymous_id>).
type linkItem struct {
	PK       string    `dynamodbav:"pk"`
	SK       string    `dynamodbav:"sk"`
	LinkedAt time.Time `dynamodbav:"linked_at"`
}

// Categories returns the top category of each known item; unknown and
// deleted items (tombstones) are absent from the result. With
// CategoryTTL set, a category read is used again for that long, so a
// change in the catalog reaches events at most CategoryTTL later; items
// without one are read every time, so a new item counts at once.
func (s *Events) Categories(ctx context.Context, itemIDs []string) (map[string]string, error) {
	now := s.now()
	out := make(map[string]string, len(itemIDs))
	keys := make([]map[string]types.AttributeValue, 0, len(itemIDs))
	s.catMu.Lock()
	for _, id := range itemIDs {
		if c, ok := s.catCache[id]; ok && now.Before(c.until) {
			out[id] = c.category
			continue
		}
		keys = append(keys, schema.ItemKey(id))
	}
	s.catMu.Unlock()
	if len(keys) == 0 {
		return out, nil
	}
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name("item_id"), expression.Name("category"),
		expression.Name(schema.AttrDeleted))).Build()
	if err != nil {
		return nil, fmt.Errorf("build projection: %w", err)
	}
	items, err := s.retry().BatchGet(ctx, s.DB, ddb.Get{Table: s.Items, Keys: keys, Projection: &proj})
	if err != nil {
		return nil, err
	}
	read := make(map[string]string, len(items))
	for _, it := range items {
		var v struct {
			ItemID   string   `dynamodbav:"item_id"`
			Category []string `dynamodbav:"category"`
			Deleted  bool     `dynamodbav:"deleted"`
		}
		if err := attributevalue.UnmarshalMap(it, &v); err != nil {
			return nil, fmt.Errorf("decode item: %w", err)
		}
		if len(v.Category) > 0 && !v.Deleted {
			read[v.ItemID] = v.Category[0]
		}
	}
	maps.Copy(out, read)
	if s.CategoryTTL > 0 {
		s.catMu.Lock()
		defer s.catMu.Unlock()
		if s.catCache == nil || len(s.catCache) >= maxCachedCategories {
			s.catCache = make(map[string]cachedCategory, len(read))
		}
		for id, c := range read {
			s.catCache[id] = cachedCategory{category: c, until: now.Add(s.CategoryTTL)}
		}
	}
	return out, nil
}

// cachedCategory is an item's category as read, and until when it is used
// without reading again.
type cachedCategory struct {
	category string
	until    time.Time
}

// maxCachedCategories bounds the category cache; a full cache starts over.
const maxCachedCategories = 100_000

// Resolve returns the customer each linked anonymous id belongs to;
// unlinked ids are absent. It finishes any history move a crash left
// undone, so that after Resolve every linked id's history is in place.
func (s *Events) Resolve(ctx context.Context, anonIDs []string) (map[string]string, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(anonIDs))
	for _, a := range anonIDs {
		keys = append(keys, ddb.Key(schema.PfxAlias+a, schema.SkAlias))
	}
	items, err := s.retry().BatchGet(ctx, s.DB, ddb.Get{Table: s.Customers, Keys: keys, Consistent: true})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		var a alias
		if err := attributevalue.UnmarshalMap(it, &a); err != nil {
			return nil, fmt.Errorf("decode alias: %w", err)
		}
		anon := a.PK[len(schema.PfxAlias):]
		out[anon] = a.CustomerID
		if !a.Moved {
			if err := s.moveHistory(ctx, anon, a.CustomerID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Link merges the anonymous visitor anonID into customerID exactly once:
// one transaction writes the alias (only if none exists), adds the
// visitor's aggregates to the customer's (conditioned on both versions)
// and deletes the visitor's aggregates; then the visitor's history moves
// under the customer, idempotently. A visitor already linked to another
// customer stays with the first one: Link then returns that customer's id
// and changes nothing.
func (s *Events) Link(ctx context.Context, anonID, customerID string) (string, error) {
	op := fmt.Sprintf("link anonymous id to customer %s", customerID)
	for attempt := 1; ; attempt++ {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Customers, Key: ddb.Key(schema.PfxAlias+anonID, schema.SkAlias),
			ConsistentRead: aws.Bool(true)})
		if err = ddb.Classify(op, err); err == nil {
			var a alias
			if len(out.Item) > 0 {
				if err := attributevalue.UnmarshalMap(out.Item, &a); err != nil {
					return "", fmt.Errorf("%s: decode alias: %w", op, err)
				}
				if !a.Moved {
					return a.CustomerID, s.moveHistory(ctx, anonID, a.CustomerID)
				}
				return a.CustomerID, nil
			}
			err = s.tryLink(ctx, anonID, customerID)
			if err == nil {
				return customerID, s.moveHistory(ctx, anonID, customerID)
			}
		}
		if !errors.Is(err, ddb.ErrRetry) && !ddb.Retriable(ctx, err) {
			return "", err
		}
		if s.retry().Exhausted(attempt) {
			return "", fmt.Errorf("%s: gave up after %d attempts: %w", op, attempt, err)
		}
		if err := s.retry().Wait(ctx, attempt); err != nil {
			return "", err
		}
	}
}

// maxMergedOrders bounds the order ids a visitor brings to a customer at
// login: they are recorded in the login's transaction, next to the alias,
// the link, the customer's aggregates and the visitor's record.
const maxMergedOrders = ddb.MaxTxItems - 4

func (s *Events) tryLink(ctx context.Context, anonID, customerID string) error {
	anonPK, custPK := schema.PfxAnon+anonID, schema.PfxCustomer+customerID
	anon, err := s.readAggregates(ctx, anonPK)
	if err != nil {
		return err
	}
	cust, err := s.readAggregates(ctx, custPK)
	if err != nil {
		return err
	}
	if cust.erased {
		return erasedError(custPK)
	}
	// The visitor's pages move under the customer, so the customer's
	// newest stored event is the newer of the two.
	anonNewest, err := s.newestStored(ctx, anonPK, anon)
	if err != nil {
		return err
	}
	custNewest, err := s.newestStored(ctx, custPK, cust)
	if err != nil {
		return err
	}
	// The visitor's order ids (on its record) count for the customer only
	// where the customer does not count them already; the new ones become
	// the customer's order items in the same transaction.
	legacy := cust.agg.OrderIDs
	known, err := s.knownOrders(ctx, customerID, legacy, anon.agg.OrderIDs)
	if err != nil {
		return err
	}
	merged := cust.agg.Clone()
	merged.OrderIDs = known
	merged.Merge(anon.agg)
	newOrders := merged.NewOrders(known)
	merged.OrderIDs = legacy
	if len(newOrders) > maxMergedOrders {
		return &errs.Error{Op: "link anonymous id to customer " + customerID, Kind: errs.Invalid,
			Detail: fmt.Sprintf("the visitor brings %d orders new to the customer; at most %d merge at login", len(newOrders), maxMergedOrders)}
	}
	orders, err := s.orderPuts(customerID, newOrders)
	if err != nil {
		return err
	}
	upd, err := s.aggUpdate(events.Owner{CustomerID: customerID}, custPK, cust, merged, max(anonNewest, custNewest))
	if err != nil {
		return err
	}
	av, err := attributevalue.MarshalMap(alias{PK: schema.PfxAlias + anonID, SK: schema.SkAlias, CustomerID: customerID, LinkedAt: s.now()})
	if err != nil {
		return fmt.Errorf("encode alias: %w", err)
	}
	notExists, err := expression.NewBuilder().WithCondition(expression.Name(ddb.AttrPK).AttributeNotExists()).Build()
	if err != nil {
		return fmt.Errorf("build condition: %w", err)
	}
	// The link record under the customer lets erasure find every alias
	// that points at the customer without a scan.
	link, err := attributevalue.MarshalMap(linkItem{PK: schema.PfxLink + customerID, SK: anonID, LinkedAt: s.now()})
	if err != nil {
		return fmt.Errorf("encode link: %w", err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.Customers, Item: av, ConditionExpression: notExists.Condition(),
			ExpressionAttributeNames: notExists.Names()}},
		{Update: upd},
		{Put: &types.Put{TableName: &s.Customers, Item: link}},
	}
	items = append(items, orders...)
	anonVersion, err := expression.NewBuilder().WithCondition(versionCondition(anon.version)).Build()
	if err != nil {
		return fmt.Errorf("build condition: %w", err)
	}
	if anon.version > 0 {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Customers, Key: ddb.Key(anonPK, schema.SkProfile),
			ConditionExpression: anonVersion.Condition(), ExpressionAttributeNames: anonVersion.Names(),
			ExpressionAttributeValues: anonVersion.Values()}})
	} else {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.Customers,
			Key: ddb.Key(anonPK, schema.SkProfile), ConditionExpression: anonVersion.Condition(), ExpressionAttributeNames: anonVersion.Names()}})
	}
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if _, cancelled := ddb.CancellationReasons(err); cancelled {
		// The alias appeared, or either side's aggregates moved on: read
		// everything again.
		return ddb.ErrRetry
	}
	return ddb.Classify("link anonymous id to customer "+customerID, err)
}

// moveHistory copies the anonymous visitor's history items under the
// customer and deletes the originals, then marks the alias as moved. Every
// step is idempotent (a copy overwrites itself, a delete of nothing is a
// no-op), so a crash part way is finished by whichever call comes next.
func (s *Events) moveHistory(ctx context.Context, anonID, customerID string) error {
	from := schema.PfxHistory + schema.PfxAnon + anonID
	to := schema.PfxHistory + schema.PfxCustomer + customerID
	cond := expression.Key(ddb.AttrPK).Equal(expression.Value(from))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("build key condition: %w", err)
	}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Events, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ddb.Classify("read anonymous history", err)
		}
		// All copies of a page are written before any original is deleted:
		// a crash in between leaves an item twice (the next call finishes
		// the move), never nowhere.
		var puts, dels []types.WriteRequest
		for _, it := range page.Items {
			moved := make(map[string]types.AttributeValue, len(it))
			for k, v := range it {
				moved[k] = v
			}
			moved[ddb.AttrPK] = &types.AttributeValueMemberS{Value: to}
			moved["owner"] = &types.AttributeValueMemberS{Value: schema.PfxCustomer + customerID}
			puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: moved}})
			dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
				Key: map[string]types.AttributeValue{ddb.AttrPK: it[ddb.AttrPK], ddb.AttrSK: it[ddb.AttrSK]}}})
		}
		for _, reqs := range [][]types.WriteRequest{puts, dels} {
			for chunk := range slices.Chunk(reqs, ddb.BatchWriteLimit) {
				if err := s.retry().BatchWrite(ctx, s.DB, s.Events, chunk, 1); err != nil {
					return err
				}
			}
		}
	}
	upd, err := expression.NewBuilder().WithUpdate(expression.Set(expression.Name("moved"), expression.Value(true))).
		WithCondition(expression.Name(ddb.AttrPK).AttributeExists()).Build()
	if err != nil {
		return fmt.Errorf("build update: %w", err)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Customers, Key: ddb.Key(schema.PfxAlias+anonID, schema.SkAlias),
		UpdateExpression: upd.Update(), ConditionExpression: upd.Condition(), ExpressionAttributeNames: upd.Names(),
		ExpressionAttributeValues: upd.Values()})
	return ddb.Classify("mark alias moved", err)
}
