package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
)

// Privacy erases customers and lists what links to them. Everything
// stored about a customer lives under keys derived from the customer id,
// so erasure is a set of Queries and deletes, never a Scan:
//
//	the record (profile, consent, tags, aggregates, scores;    Customers pk=C#<id> sk=PROFILE
//	  segment-index and email-index entries go with it)
//	links to merged anonymous ids                               Customers pk=L#<id> sk=<anonymous_id>
//	aliases of those anonymous ids                              Customers pk=A#<anonymous_id> sk=ALIAS
//	history, and history not yet moved from an anonymous id     Events    pk=H#C#<id>, pk=H#N#<anonymous_id>
//	claims of that history's events, where earlier versions     Events    pk=E#<event_id> sk=EVENT
//	  wrote them (de-duplication now reads the history itself)
//	the pending cart (items not bought yet)                     Customers pk=CART#<shard> sk=<id>
//	the customer's order ids                                    Customers pk=O#<id> sk=<order_id>
//
// Popularity counters, neighbour lists and popularity lists count items,
// never customers; audit entries name the customer id only and stay
// until their TTL (docs/security.md).
type Privacy struct {
	DB        ddb.DB
	Customers string // CustomersTable
	Events    string // EventsTable
	// TombstoneTTL is how long an erased customer's tombstone refuses
	// events and re-creation; 400 days when 0 (as long as event records
	// live, so no replayed event can be older than the tombstone).
	TombstoneTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ClearTombstone removes an erased customer's tombstone, so the customer
// can be created again; it does nothing to a record that is not one.
func (p *Privacy) ClearTombstone(ctx context.Context, customerID string) error {
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name(schema.AttrErasedAt))).Build()
	if err != nil {
		return fmt.Errorf("build condition: %w", err)
	}
	_, err = p.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &p.Customers, Key: schema.CustomerKey(customerID),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names()})
	if ddb.ConditionFailed(err) {
		return nil
	}
	return ddb.Classify("clear tombstone of customer "+customerID, err)
}

func (p *Privacy) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// Erase removes every item about the customer and leaves a tombstone in
// place of the record. Each step deletes what is there and nothing else,
// so running it again after a crash finishes the work, and running it on
// an erased customer deletes nothing more. The tombstone goes first: from
// then on no event of the customer can be stored (ingestion's transaction
// is conditioned on its absence), so the history that the later steps read
// is complete.
func (p *Privacy) Erase(ctx context.Context, customerID string) (customers.Erasure, error) {
	var n customers.Erasure
	op := "erase customer " + customerID
	now := p.now()
	ttl := p.TombstoneTTL
	if ttl <= 0 {
		ttl = schema.Retention
	}
	tomb, err := attributevalue.MarshalMap(struct {
		PK        string    `dynamodbav:"pk"`
		SK        string    `dynamodbav:"sk"`
		ErasedAt  time.Time `dynamodbav:"erased_at"`
		ExpiresAt int64     `dynamodbav:"expires_at"`
	}{schema.PfxCustomer + customerID, schema.SkProfile, now, now.Add(ttl).Unix()})
	if err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	if _, err := p.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &p.Customers, Item: tomb}); err != nil {
		return n, ddb.Classify(op+": tombstone", err)
	}

	linked, err := p.Aliases(ctx, customerID)
	if err != nil {
		return n, err
	}
	anons := slices.Clone(linked)
	// Anonymous ids met in the history also cover aliases that have no
	// link record.
	hist, err := p.queryKeys(ctx, p.Events, schema.PfxHistory+schema.PfxCustomer+customerID, historyAttrs...)
	if err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	for _, h := range hist {
		anons = append(anons, h.anonymousIDs()...)
	}
	slices.Sort(anons)
	anons = slices.Compact(anons)

	for _, a := range anons {
		deleted, err := p.deleteAlias(ctx, a, customerID)
		if err != nil {
			return n, fmt.Errorf("%s: %w", op, err)
		}
		if deleted {
			n.Aliases++
		}
		// History that a crash left under the anonymous id.
		left, err := p.queryKeys(ctx, p.Events, schema.PfxHistory+schema.PfxAnon+a, historyAttrs...)
		if err != nil {
			return n, fmt.Errorf("%s: %w", op, err)
		}
		if deleted || slices.Contains(linked, a) {
			hist = append(hist, left...)
		}
	}

	// A move interrupted by a crash leaves a page under both owners: each
	// key is deleted once (BatchWriteItem refuses duplicates), and each
	// event counted once. The claims go first: until the pages that list
	// them are gone, a re-run after a crash finds them again.
	var claims, pages []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, h := range hist {
		pages = append(pages, ddb.Key(h.pk, h.sk))
		for _, id := range h.eventIDs() {
			if !seen[id] {
				seen[id] = true
				claims = append(claims, ddb.Key(schema.PfxEvent+id, schema.SkEvent))
				n.HistoryItems++
				n.EventRecords++
			}
		}
	}
	for _, keys := range [][]map[string]types.AttributeValue{claims, pages} {
		if err := p.deleteAll(ctx, p.Events, keys); err != nil {
			return n, fmt.Errorf("%s: %w", op, err)
		}
	}
	orders, err := p.queryKeys(ctx, p.Customers, schema.PfxOrder+customerID)
	if err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	orderKeys := make([]map[string]types.AttributeValue, 0, len(orders))
	for _, o := range orders {
		orderKeys = append(orderKeys, ddb.Key(o.pk, o.sk))
	}
	if err := p.deleteAll(ctx, p.Customers, orderKeys); err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	// Link records last: until they are gone a re-run can still find the
	// aliases. The pending cart goes with them: no abandoned-cart event
	// may name the customer once it is erased.
	links := []map[string]types.AttributeValue{schema.CartKey(customerID)}
	for _, a := range anons {
		links = append(links, ddb.Key(schema.PfxLink+customerID, a))
	}
	if err := p.deleteAll(ctx, p.Customers, links); err != nil {
		return n, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// Aliases returns the anonymous ids linked to the customer.
func (p *Privacy) Aliases(ctx context.Context, customerID string) ([]string, error) {
	items, err := p.queryKeys(ctx, p.Customers, schema.PfxLink+customerID)
	if err != nil {
		return nil, fmt.Errorf("aliases of customer %s: %w", customerID, err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.sk)
	}
	return out, nil
}

// deleteAlias deletes the alias of anonID if it points at customerID.
func (p *Privacy) deleteAlias(ctx context.Context, anonID, customerID string) (bool, error) {
	cond, err := expression.NewBuilder().WithCondition(expression.Name("customer_id").Equal(expression.Value(customerID))).Build()
	if err != nil {
		return false, fmt.Errorf("build condition: %w", err)
	}
	_, err = p.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &p.Customers, Key: ddb.Key(schema.PfxAlias+anonID, schema.SkAlias),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	return err == nil, ddb.Classify("delete alias", err)
}

type keyed struct {
	pk, sk string
	attrs  map[string]string
	sets   map[string][]string
}

// historyAttrs are what erasure reads of a history page: its event ids
// and the anonymous ids among them (a history item written before pages
// existed has event_id and anonymous_id instead).
var historyAttrs = []string{"ids", "anonymous_ids", "event_id", "anonymous_id"}

// eventIDs returns the event ids of a history page or item.
func (k keyed) eventIDs() []string {
	if id := k.attrs["event_id"]; id != "" {
		return []string{id}
	}
	return k.sets["ids"]
}

// anonymousIDs returns the anonymous ids of a history page or item.
func (k keyed) anonymousIDs() []string {
	if a := k.attrs["anonymous_id"]; a != "" {
		return []string{a}
	}
	return k.sets["anonymous_ids"]
}

// queryKeys reads every item of partition pk (all pages, consistent),
// projecting the keys and the named string attributes.
func (p *Privacy) queryKeys(ctx context.Context, table, pk string, attrs ...string) ([]keyed, error) {
	names := []expression.NameBuilder{expression.Name(ddb.AttrPK), expression.Name(ddb.AttrSK)}
	for _, a := range attrs {
		names = append(names, expression.Name(a))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pk))).
		WithProjection(expression.NamesList(names[0], names[1:]...)).Build()
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	pg := dynamodb.NewQueryPaginator(p.DB, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
	var out []keyed
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify("query "+strings.SplitN(pk, "#", 2)[0]+"# items", err)
		}
		for _, it := range page.Items {
			k := keyed{attrs: map[string]string{}, sets: map[string][]string{}}
			for name, v := range it {
				if ss, ok := v.(*types.AttributeValueMemberSS); ok {
					k.sets[name] = ss.Value
					continue
				}
				s, ok := v.(*types.AttributeValueMemberS)
				if !ok {
					continue
				}
				switch name {
				case ddb.AttrPK:
					k.pk = s.Value
				case ddb.AttrSK:
					k.sk = s.Value
				default:
					k.attrs[name] = s.Value
				}
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// deleteAll deletes keys from table in batches, one batch at a time so
// that a crash leaves a prefix of the work done.
func (p *Privacy) deleteAll(ctx context.Context, table string, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	return ddb.Retry{}.BatchWrite(ctx, p.DB, table, reqs, 1)
}
