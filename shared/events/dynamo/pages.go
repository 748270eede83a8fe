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

	"tailor/shared/events"
	"tailor/shared/platform/blob"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/schema"
)

// A history page holds the events of one owner that one transaction
// stored (events table, pk=H#<owner>, sk=<time of its newest event>#<id
// of its first event>): a compressed list, so that history costs a
// fraction of a write unit per event instead of one item each. The events
// of one page lie at most PageSpan apart, which bounds how far past a
// page's key a history query has to look.
const (
	// PageSpan is the longest time between the oldest and the newest
	// event of one history page.
	PageSpan = 24 * time.Hour
	// pageEvents bounds the events of one page.
	pageEvents = 100
)

// Entry is one event of a history page as stored: the event (its free text
// sealed when keys are configured), its content hash and when it arrived.
type Entry struct {
	Event      events.Event `json:"e"`
	Hash       string       `json:"h"`
	Sealed     []byte       `json:"s,omitempty"`
	ReceivedAt time.Time    `json:"r"`
}

// page is the stored form of a history page. IDs and AnonymousIDs repeat,
// uncompressed, what erasure needs to find.
type page struct {
	PK           string   `dynamodbav:"pk"`
	SK           string   `dynamodbav:"sk"`
	Owner        string   `dynamodbav:"owner"`
	IDs          []string `dynamodbav:"ids,stringset"`
	AnonymousIDs []string `dynamodbav:"anonymous_ids,stringset,omitempty"`
	Events       []byte   `dynamodbav:"events"`
	ExpiresAt    int64    `dynamodbav:"expires_at"`
}

// claim is an event's de-duplication record (pk=E#<event_id>, sk=EVENT):
// which content its id stands for. It holds no personal data.
type claim struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	EventID   string `dynamodbav:"event_id"`
	Hash      string `dynamodbav:"hash"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// splitPages groups evs, sorted by history key, into pages of at most
// pageEvents events no more than PageSpan apart.
func splitPages(evs []events.Event) [][]events.Event {
	sorted := slices.Clone(evs)
	slices.SortFunc(sorted, func(a, b events.Event) int {
		return strings.Compare(events.HistoryKey(a), events.HistoryKey(b))
	})
	var out [][]events.Event
	start := 0
	for i := range sorted {
		if i-start == pageEvents || sorted[i].Time.Sub(sorted[start].Time) > PageSpan {
			out = append(out, sorted[start:i])
			start = i
		}
	}
	if start < len(sorted) {
		out = append(out, sorted[start:])
	}
	return out
}

// pageKey is the sort key of a page of evs (sorted by history key).
func pageKey(evs []events.Event) string {
	return events.SortKeyTime(evs[len(evs)-1].Time) + "#" + evs[0].ID
}

// DecodePage returns the owner and entries of a stored history page (or
// of a history item of one event, as stored before pages existed).
func DecodePage(item map[string]types.AttributeValue) (owner string, es []Entry, err error) {
	if _, ok := item["events"]; !ok {
		var r legacyRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return "", nil, fmt.Errorf("decode history item: %w", err)
		}
		return r.Owner, []Entry{{Event: r.Event, Hash: r.Hash, Sealed: r.Sealed, ReceivedAt: r.ReceivedAt}}, nil
	}
	var p page
	if err := attributevalue.UnmarshalMap(item, &p); err != nil {
		return "", nil, fmt.Errorf("decode history page: %w", err)
	}
	if err := blob.Decode(p.Events, &es); err != nil {
		return "", nil, fmt.Errorf("history page %s %s: %w", p.PK, p.SK, err)
	}
	return p.Owner, es, nil
}

// pagePuts returns the transaction items that store fresh, events of the
// owner with key pk, as history pages, each only if no page has its key,
// and the pages' keys.
func (s *Events) pagePuts(ctx context.Context, pk string, fresh []events.Event, now time.Time) ([]types.TransactWriteItem, []string, error) {
	notExists, err := expression.NewBuilder().WithCondition(expression.Name(ddb.AttrPK).AttributeNotExists()).Build()
	if err != nil {
		return nil, nil, fmt.Errorf("build condition: %w", err)
	}
	var items []types.TransactWriteItem
	var keys []string
	for _, evs := range splitPages(fresh) {
		p := page{PK: schema.PfxHistory + pk, SK: pageKey(evs), Owner: pk, ExpiresAt: s.expiresAt(now)}
		es := make([]Entry, 0, len(evs))
		for _, e := range evs {
			stored, sealed, err := s.seal(ctx, e)
			if err != nil {
				return nil, nil, err
			}
			es = append(es, Entry{Event: stored, Hash: e.Hash(), Sealed: sealed, ReceivedAt: now})
			p.IDs = append(p.IDs, e.ID)
			if e.AnonymousID != "" && !slices.Contains(p.AnonymousIDs, e.AnonymousID) {
				p.AnonymousIDs = append(p.AnonymousIDs, e.AnonymousID)
			}
		}
		if p.Events, err = blob.Encode(es); err != nil {
			return nil, nil, fmt.Errorf("encode history page: %w", err)
		}
		av, err := attributevalue.MarshalMap(p)
		if err != nil {
			return nil, nil, fmt.Errorf("encode history page: %w", err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.Events, Item: av,
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}})
		keys = append(keys, p.SK)
	}
	return items, keys, nil
}

// putClaims writes the claims of events stored in a committed transaction.
// They are whole-item puts of what the id stands for, so repeating one
// is harmless.
func (s *Events) putClaims(ctx context.Context, ids, hashes []string, now time.Time) error {
	reqs := make([]types.WriteRequest, 0, len(ids))
	for i, id := range ids {
		av, err := attributevalue.MarshalMap(claim{PK: schema.PfxEvent + id, SK: schema.SkEvent, EventID: id, Hash: hashes[i],
			ExpiresAt: s.expiresAt(now)})
		if err != nil {
			return fmt.Errorf("encode claim %s: %w", id, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	return s.retry().BatchWrite(ctx, s.DB, s.Events, reqs, 1)
}

// settle makes sure the claims of the owner's pending pages (the pages
// of its last committed transaction) exist, writing those missing, and
// returns the content hash of each of their events. The owner's next
// transaction replaces the pending pages only after this, so every
// stored event always has its claim or is on a pending page.
func (s *Events) settle(ctx context.Context, pk string, pending []string) (map[string]string, error) {
	hashes, _, err := s.settleAndCheck(ctx, pk, pending, nil)
	return hashes, err
}

// settleAndCheck settles the owner's pending pages (see settle) and, in
// the same read of claims, returns the claimed hash of each of ids that
// is neither on a pending page nor unclaimed.
func (s *Events) settleAndCheck(ctx context.Context, pk string, pending, ids []string) (onPages, claimed map[string]string, err error) {
	onPages = map[string]string{}
	for _, sk := range pending {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Events, Key: ddb.Key(schema.PfxHistory+pk, sk),
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, nil, ddb.Classify("read pending history page of "+pk, err)
		}
		if len(out.Item) == 0 {
			// Moved to the customer the visitor logged in as, or removed
			// by erasure: its claims were settled before either.
			continue
		}
		_, es, err := DecodePage(out.Item)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range es {
			onPages[e.Event.ID] = e.Hash
		}
	}
	read := make([]string, 0, len(onPages)+len(ids))
	for id := range onPages {
		read = append(read, id)
	}
	for _, id := range ids {
		if _, ok := onPages[id]; !ok {
			read = append(read, id)
		}
	}
	if len(read) == 0 {
		return onPages, map[string]string{}, nil
	}
	slices.Sort(read)
	have, err := s.claims(ctx, slices.Compact(read), true)
	if err != nil {
		return nil, nil, err
	}
	var missing, missingHashes []string
	for id, h := range onPages {
		if _, ok := have[id]; !ok {
			missing = append(missing, id)
			missingHashes = append(missingHashes, h)
		}
	}
	if len(missing) > 0 {
		if err := s.putClaims(ctx, missing, missingHashes, s.now()); err != nil {
			return nil, nil, err
		}
	}
	claimed = make(map[string]string, len(ids))
	for _, id := range ids {
		if _, ok := onPages[id]; ok {
			continue
		}
		if h, ok := have[id]; ok {
			claimed[id] = h
		}
	}
	return onPages, claimed, nil
}

// Readable returns a stored item as plain values, with a history page's
// compressed events replaced by its entries, so that whoever inspects
// the tables (tests looking for personal data) sees what a page holds.
func Readable(item map[string]types.AttributeValue) (map[string]any, error) {
	var m map[string]any
	if err := attributevalue.UnmarshalMap(item, &m); err != nil {
		return nil, fmt.Errorf("decode item: %w", err)
	}
	if _, ok := item["events"]; ok {
		_, es, err := DecodePage(item)
		if err != nil {
			return nil, err
		}
		m["events"] = es
	}
	return m, nil
}
