package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"tailor/shared/platform/schema"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/pii"
)

// Events keeps ingested events exactly once: the history pages (events
// table), and the aggregates, order ids and anonymous-id aliases
// (customers table). See docs/ingestion.md.
//
// An owner's new events are written by one TransactWriteItems together
// with the aggregates that include them, as history pages, so they are
// either fully applied or not at all. The aggregates record's version
// orders the owner's writes, and the owner's history pages are its
// de-duplication record: a second copy of an event is found on them and
// changes nothing.
type Events struct {
	DB        ddb.DB
	Events    string // EventsTable
	Customers string // CustomersTable
	Items     string // ItemsTable
	// Retention is how long event records and history stay (TTL).
	Retention time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Backoff is the base delay between retries of one write; 20ms when 0.
	Backoff time.Duration
	// Attempts bounds the tries of one transaction; 8 when 0.
	Attempts int
	// CategoryTTL is how long an item's category, once read, is used
	// without reading it again (see Categories); 0 reads every time.
	CategoryTTL time.Duration
	// PII seals events' free text (properties, query and a feedback
	// comment), which may hold personal data, with the event id as
	// associated data. Every function wires it; nil stores the free text
	// as sent (tests).
	PII *pii.Sealer

	catMu    sync.Mutex
	catCache map[string]cachedCategory
}

// Attributes of the owner's aggregates record that only ingestion
// writes. attrNewest is the history key time (events.SortKeyTime) of the
// newest event stored for the owner: events newer than that cannot be
// on its pages, so a write of only such events reads no page. attrPending
// named, in earlier versions, pages whose claims were still to be
// written; writes remove it.
const (
	attrNewest  = "newest_event"
	attrPending = "pending"
)

// ownerKey is the partition key of an owner's aggregates record. Anonymous
// visitors use N#, which no customer id can collide with.
func ownerKey(o events.Owner) string {
	if o.Anonymous() {
		return schema.PfxAnon + o.AnonymousID
	}
	return schema.PfxCustomer + o.CustomerID
}

// legacyRecord is a history item written before history pages existed:
// one event per item (pk=H#<owner>, sk=<time>#<event_id>). Readers take
// it as a page of one event until its TTL removes it.
type legacyRecord struct {
	events.Event
	Owner string `dynamodbav:"owner"`
	Hash  string `dynamodbav:"hash"`
	// Sealed is the envelope of the free text (see freeText) when Events.PII
	// is set; Properties, Query and Comment are then empty.
	Sealed     []byte    `dynamodbav:"pii,omitempty"`
	ReceivedAt time.Time `dynamodbav:"received_at"`
}

func (s *Events) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// retry paces and bounds the retries of one write.
func (s *Events) retry() ddb.Retry { return ddb.Retry{Attempts: s.Attempts, Base: s.Backoff} }

func (s *Events) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return schema.Retention
}

// expiresAt is the TTL of what is written now. Retention counts from
// receipt, not from the event's time, so that replaying old data keeps its
// de-duplication records for the whole retention.
func (s *Events) expiresAt(now time.Time) int64 { return now.Add(s.retention()).Unix() }

// aggState is an owner's aggregates and their version; erased marks a
// customer's tombstone.
type aggState struct {
	agg     *customers.Aggregates
	version int64
	erased  bool
	// newest is attrNewest; "" when not known (no event stored, or a
	// record of an earlier version).
	newest string
}

type aggItem struct {
	Agg      *customers.Aggregates `dynamodbav:"agg"`
	Version  int64                 `dynamodbav:"agg_version"`
	ErasedAt *time.Time            `dynamodbav:"erased_at"`
	Newest   string                `dynamodbav:"newest_event"`
}

// freeText is the sealed part of an event. Envelopes sealed before
// comments existed have no "c" and open with an empty one.
type freeText struct {
	Properties string `json:"p,omitempty"`
	Query      string `json:"q,omitempty"`
	Comment    string `json:"c,omitempty"`
}

func eventAAD(eventID string) []byte { return []byte("event/" + eventID) }

// seal returns the event as stored: with its free text sealed when keys
// are configured.
func (s *Events) seal(ctx context.Context, e events.Event) (events.Event, []byte, error) {
	if s.PII == nil || !e.HasFreeText() {
		return e, nil, nil
	}
	plain, err := json.Marshal(freeText{Properties: e.Properties, Query: e.Query, Comment: e.Comment})
	if err != nil {
		return e, nil, err
	}
	env, err := s.PII.Seal(ctx, plain, eventAAD(e.ID))
	if err != nil {
		return e, nil, fmt.Errorf("seal event %s: %w", e.ID, err)
	}
	return e.WithoutFreeText(), env, nil
}

// openEvent restores the free text of a stored event.
func openEvent(ctx context.Context, sealer *pii.Sealer, e events.Event, sealed []byte) (events.Event, error) {
	if len(sealed) == 0 {
		return e, nil
	}
	if sealer == nil {
		return e, fmt.Errorf("event %s: its free text is encrypted and no keys are configured", e.ID)
	}
	plain, err := sealer.Open(ctx, sealed, eventAAD(e.ID))
	if err != nil {
		return e, fmt.Errorf("event %s: %w", e.ID, err)
	}
	var ft freeText
	if err := json.Unmarshal(plain, &ft); err != nil {
		return e, fmt.Errorf("event %s: free text: %w", e.ID, err)
	}
	e.Properties, e.Query, e.Comment = ft.Properties, ft.Query, ft.Comment
	return e, nil
}

// erasedError is what writing to an erased customer fails with.
func erasedError(pk string) error {
	return &errs.Error{Op: "write events of " + pk, Kind: errs.Conflict, Err: customers.ErrErased,
		Detail: "the customer was erased; events for it are refused"}
}

// readAggregates reads an owner's aggregates with a strongly consistent
// read, as they feed a conditional write.
func (s *Events) readAggregates(ctx context.Context, pk string) (aggState, error) {
	proj := expression.NamesList(expression.Name("agg"), expression.Name("agg_version"), expression.Name(schema.AttrErasedAt),
		expression.Name(attrNewest))
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return aggState{}, fmt.Errorf("build projection: %w", err)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Customers, Key: ddb.Key(pk, schema.SkProfile),
		ConsistentRead: aws.Bool(true), ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names()})
	if err != nil {
		return aggState{}, ddb.Classify("read aggregates "+pk, err)
	}
	var it aggItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return aggState{}, fmt.Errorf("decode aggregates %s: %w", pk, err)
	}
	if it.Agg == nil {
		it.Agg = customers.NewAggregates()
	}
	return aggState{agg: it.Agg.Clone(), version: it.Version, erased: it.ErasedAt != nil, newest: it.Newest}, nil
}

// newestStored returns the history key time of the newest event stored
// for the owner whose record is cur, "" when it has none. A record written
// before the attribute existed does not say: the owner's last history
// page (keyed by its newest event's time) does.
func (s *Events) newestStored(ctx context.Context, pk string, cur aggState) (string, error) {
	if cur.newest != "" || cur.version == 0 {
		return cur.newest, nil
	}
	key, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(schema.PfxHistory + pk))).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return "", fmt.Errorf("build key condition: %w", err)
	}
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Events, KeyConditionExpression: key.KeyCondition(),
		ProjectionExpression: key.Projection(), ExpressionAttributeNames: key.Names(), ExpressionAttributeValues: key.Values(),
		ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(1)})
	if err != nil {
		return "", ddb.Classify("read last history page of "+pk, err)
	}
	if len(out.Items) == 0 {
		return "", nil
	}
	var k struct {
		SK string `dynamodbav:"sk"`
	}
	if err := attributevalue.UnmarshalMap(out.Items[0], &k); err != nil {
		return "", fmt.Errorf("decode history key: %w", err)
	}
	ts, _, _ := strings.Cut(k.SK, "#")
	return ts, nil
}

// errOrdersKnown says a transaction was cancelled because order items it
// would have created exist: their ids are now known, and the write is
// tried again at once.
var errOrdersKnown = errors.New("order ids recorded by another write")

// versionCondition holds when the stored aggregates are still at version v.
func versionCondition(v int64) expression.ConditionBuilder {
	if v == 0 {
		return expression.Name("agg_version").AttributeNotExists()
	}
	return expression.Name("agg_version").Equal(expression.Value(v))
}

// aggUpdate writes next at version cur.version+1 if the record is still at
// cur.version. It touches only agg, agg_version and the id attribute, never
// the profile or its version, so the customers API and ingestion never
// overwrite each other.
func (s *Events) aggUpdate(o events.Owner, pk string, cur aggState, next *customers.Aggregates, newest string) (*types.Update, error) {
	av, err := attributevalue.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode aggregates %s: %w", pk, err)
	}
	upd := expression.Set(expression.Name("agg"), expression.Value(av)).
		Set(expression.Name("agg_version"), expression.Value(cur.version+1)).
		Remove(expression.Name(attrPending))
	if newest != "" {
		upd = upd.Set(expression.Name(attrNewest), expression.Value(newest))
	}
	if o.Anonymous() {
		upd = upd.Set(expression.Name("anonymous_id"), expression.Value(o.AnonymousID))
	} else {
		upd = upd.Set(expression.Name("customer_id"), expression.Value(o.CustomerID))
	}
	// The tombstone of an erased customer stops every write, including
	// one whose read came just before the erasure.
	cond := versionCondition(cur.version).And(expression.Name(schema.AttrErasedAt).AttributeNotExists())
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build aggregates update: %w", err)
	}
	return &types.Update{TableName: &s.Customers, Key: ddb.Key(pk, schema.SkProfile), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}, nil
}

// nextChunk splits off the longest prefix of evs that fits one
// transaction next to the fixed items: at most one page and one order id
// per event (pages hold many events and an order that turns out to be
// known already takes none, so this may leave room unused).
func nextChunk(evs []events.Event, fixed int) []events.Event {
	orders := map[string]bool{}
	n := fixed
	for i, e := range evs {
		c := 1
		newOrder := e.Type == events.Purchase && !orders[e.OrderID]
		if newOrder {
			c++
		}
		if n+c > ddb.MaxTxItems {
			return evs[:i]
		}
		n += c
		if newOrder {
			orders[e.OrderID] = true
		}
	}
	return evs
}

// orderIDs returns the distinct order ids of chunk's purchases, sorted.
func orderIDs(chunk []events.Event) []string {
	var ids []string
	for _, e := range chunk {
		if e.Type == events.Purchase {
			ids = append(ids, e.OrderID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// knownOrders returns, sorted, the order ids the customer's aggregates
// already count among ids: those on the record (legacy, stored there
// before order items existed) and those with an order item. Read with
// strong consistency, as it feeds a conditional write.
func (s *Events) knownOrders(ctx context.Context, customerID string, legacy, ids []string) ([]string, error) {
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if _, found := slices.BinarySearch(legacy, id); !found {
			keys = append(keys, ddb.Key(schema.PfxOrder+customerID, id))
		}
	}
	known := slices.Clone(legacy)
	if len(keys) == 0 {
		return known, nil
	}
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return nil, fmt.Errorf("build projection: %w", err)
	}
	items, err := s.retry().BatchGet(ctx, s.DB, ddb.Get{Table: s.Customers, Keys: keys, Consistent: true, Projection: &proj})
	if err != nil {
		return nil, fmt.Errorf("read orders of customer %s: %w", customerID, err)
	}
	for _, it := range items {
		if sk, ok := it[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
			known = append(known, sk.Value)
		}
	}
	slices.Sort(known)
	return slices.Compact(known), nil
}

// orderPuts returns the transaction items that record new order ids of a
// customer, each only if no other write recorded it first (the
// transaction then fails and is tried again with it known).
func (s *Events) orderPuts(customerID string, ids []string) ([]types.TransactWriteItem, error) {
	notExists, err := expression.NewBuilder().WithCondition(expression.Name(ddb.AttrPK).AttributeNotExists()).Build()
	if err != nil {
		return nil, fmt.Errorf("build condition: %w", err)
	}
	out := make([]types.TransactWriteItem, 0, len(ids))
	for _, id := range ids {
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: &s.Customers, Item: ddb.Key(schema.PfxOrder+customerID, id),
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}})
	}
	return out, nil
}

// OrderIDs returns every order id counted in the customer's aggregates,
// sorted: the order items and any ids kept on the record from before
// order items existed.
func (s *Events) OrderIDs(ctx context.Context, customerID string) ([]string, error) {
	op := "list orders of customer " + customerID
	cur, err := s.readAggregates(ctx, schema.PfxCustomer+customerID)
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(cur.agg.OrderIDs)
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(schema.PfxOrder + customerID))).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build query: %w", op, err)
	}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Customers, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify(op, err)
		}
		for _, it := range page.Items {
			if sk, ok := it[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
				ids = append(ids, sk.Value)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// Append stores evs, all belonging to owner, exactly once and folds the new
// ones into the owner's aggregates. It returns a status per event:
// Accepted, Duplicate (its event id was stored before: nothing changed) or
// Rejected (its event id was stored before with different content). On an
// error, events without a status were not applied. For an anonymous owner
// that got linked meanwhile the error wraps events.ErrOwnerChanged; for an
// erased customer it wraps customers.ErrErased.
func (s *Events) Append(ctx context.Context, owner events.Owner, evs []events.Event) ([]events.Status, error) {
	status := make([]events.Status, len(evs))
	index := make(map[string]int, len(evs))
	for i, e := range evs {
		index[e.ID] = i
	}
	pending := slices.Clone(evs)
	// Order ids found to have an order item already, learned from
	// cancelled transactions (see tryChunk).
	learned := map[string]bool{}
	fixed := 1
	if owner.Anonymous() {
		fixed = 2
	}
	for len(pending) > 0 {
		chunk := nextChunk(pending, fixed)
		pending = pending[len(chunk):]
		for attempt := 1; len(chunk) > 0; attempt++ {
			done, err := s.tryChunk(ctx, owner, chunk, learned)
			var kept []events.Event
			for _, e := range chunk {
				if st, ok := done[e.ID]; ok {
					status[index[e.ID]] = st
				} else {
					kept = append(kept, e)
				}
			}
			chunk = kept
			switch {
			case err == nil:
			case errors.Is(err, errOrdersKnown):
				// Progress, not contention: at least one more order id is
				// known, so try again at once and do not count the attempt.
				attempt--
			case errors.Is(err, ddb.ErrRetry) || ddb.Retriable(ctx, err):
				if s.retry().Exhausted(attempt) {
					return status, fmt.Errorf("append events of %s: gave up after %d attempts: %w", ownerKey(owner), attempt, err)
				}
				if err := s.retry().Wait(ctx, attempt); err != nil {
					return status, err
				}
			default:
				return status, fmt.Errorf("append events of %s: %w", ownerKey(owner), err)
			}
		}
	}
	return status, nil
}

// tryChunk runs one read-fold-write of chunk. It returns the statuses it
// settled (Accepted for the events it stored; Duplicate or Rejected for
// those stored before) and ddb.ErrRetry when the rest must be tried
// again.
//
// The owner's aggregates record is the commit point: one transaction
// folds the new events into the aggregates under their version and stores
// them as history pages, which are the owner's de-duplication record
// from then on (see stored).
//
// A customer's order items are not read first: the fold counts every
// order id of the chunk as new unless it is on the record (legacy) or in
// learned, and the transaction puts an order item for each only if none
// exists. If one does, the transaction is cancelled, the order id goes
// into learned, and tryChunk returns errOrdersKnown.
func (s *Events) tryChunk(ctx context.Context, owner events.Owner, chunk []events.Event, learned map[string]bool) (map[string]events.Status, error) {
	pk := ownerKey(owner)
	cur, err := s.readAggregates(ctx, pk)
	if err != nil {
		return nil, err
	}
	if cur.erased {
		return nil, erasedError(pk)
	}
	newest, err := s.newestStored(ctx, pk, cur)
	if err != nil {
		return nil, err
	}
	// Only events no newer than the newest stored one can be stored.
	var older []events.Event
	for _, e := range chunk {
		if events.SortKeyTime(e.Time) <= newest {
			older = append(older, e)
		}
	}
	have := map[string]string{}
	if len(older) > 0 {
		if have, err = s.stored(ctx, pk, older); err != nil {
			return nil, err
		}
	}
	done := make(map[string]events.Status, len(chunk))
	var fresh []events.Event
	for _, e := range chunk {
		h, ok := have[e.ID]
		switch {
		case !ok:
			fresh = append(fresh, e)
		case h == e.Hash():
			done[e.ID] = events.Duplicate
		default:
			done[e.ID] = events.Rejected
		}
	}
	if len(fresh) == 0 {
		return done, nil
	}
	next := cur.agg.Clone()
	// A customer's order ids live in order items, not on the record: the
	// fold sees those of the chunk's orders already known and counts only
	// the others, which the transaction then records.
	var newOrders []string
	if !owner.Anonymous() {
		legacy := cur.agg.OrderIDs
		known := slices.Clone(legacy)
		for _, id := range orderIDs(fresh) {
			if learned[id] {
				known = append(known, id)
			}
		}
		slices.Sort(known)
		known = slices.Compact(known)
		next.OrderIDs = known
		for _, e := range fresh {
			next.Apply(e)
		}
		newOrders = next.NewOrders(known)
		next.OrderIDs = legacy
	} else {
		for _, e := range fresh {
			next.Apply(e)
		}
	}
	now := s.now()
	pages, err := s.pagePuts(ctx, pk, fresh, now)
	if err != nil {
		return nil, err
	}
	for _, e := range fresh {
		newest = max(newest, events.SortKeyTime(e.Time))
	}
	upd, err := s.aggUpdate(owner, pk, cur, next, newest)
	if err != nil {
		return nil, err
	}
	items := make([]types.TransactWriteItem, 0, ddb.MaxTxItems)
	items = append(items, types.TransactWriteItem{Update: upd})
	if owner.Anonymous() {
		// An anonymous owner's events are written only while no alias
		// exists; a login that happens meanwhile makes this fail, and the
		// events go to the customer instead.
		check, err := s.aliasAbsent(owner.AnonymousID)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: check})
	}
	items = append(items, pages...)
	puts, err := s.orderPuts(owner.CustomerID, newOrders)
	if err != nil {
		return nil, err
	}
	items = append(items, puts...)
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		for _, e := range fresh {
			done[e.ID] = events.Accepted
		}
		return done, nil
	}
	reasons, cancelled := ddb.CancellationReasons(err)
	if !cancelled {
		return done, ddb.Classify("write events of "+pk, err)
	}
	if len(reasons) != len(items) {
		return done, ddb.ErrRetry
	}
	if owner.Anonymous() && ddb.ReasonConditionFailed(reasons[1]) {
		return done, fmt.Errorf("write events of %s: %w", pk, events.ErrOwnerChanged)
	}
	// The order puts come last, in newOrders' order.
	first := len(items) - len(puts)
	progress := false
	for i, id := range newOrders {
		if ddb.ReasonConditionFailed(reasons[first+i]) && !learned[id] {
			learned[id], progress = true, true
		}
	}
	if progress {
		return done, errOrdersKnown
	}
	for _, r := range reasons {
		switch aws.ToString(r.Code) {
		case "", "None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError",
			"ProvisionedThroughputExceeded", "RequestLimitExceeded":
		default:
			return done, fmt.Errorf("write events of %s: transaction cancelled: %s: %s", pk, aws.ToString(r.Code), aws.ToString(r.Message))
		}
	}
	return done, ddb.ErrRetry
}

func (s *Events) aliasAbsent(anonID string) (*types.ConditionCheck, error) {
	expr, err := expression.NewBuilder().WithCondition(expression.Name(ddb.AttrPK).AttributeNotExists()).Build()
	if err != nil {
		return nil, fmt.Errorf("build condition: %w", err)
	}
	return &types.ConditionCheck{TableName: &s.Customers, Key: ddb.Key(schema.PfxAlias+anonID, schema.SkAlias),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names()}, nil
}
