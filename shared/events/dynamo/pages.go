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
// owner with key pk, as history pages, each only if no page has its key.
func (s *Events) pagePuts(ctx context.Context, pk string, fresh []events.Event, now time.Time) ([]types.TransactWriteItem, error) {
	notExists, err := expression.NewBuilder().WithCondition(expression.Name(ddb.AttrPK).AttributeNotExists()).Build()
	if err != nil {
		return nil, fmt.Errorf("build condition: %w", err)
	}
	var items []types.TransactWriteItem
	for _, evs := range splitPages(fresh) {
		p := page{PK: schema.PfxHistory + pk, SK: pageKey(evs), Owner: pk, ExpiresAt: s.expiresAt(now)}
		es := make([]Entry, 0, len(evs))
		for _, e := range evs {
			stored, sealed, err := s.seal(ctx, e)
			if err != nil {
				return nil, err
			}
			es = append(es, Entry{Event: stored, Hash: e.Hash(), Sealed: sealed, ReceivedAt: now})
			p.IDs = append(p.IDs, e.ID)
			if e.AnonymousID != "" && !slices.Contains(p.AnonymousIDs, e.AnonymousID) {
				p.AnonymousIDs = append(p.AnonymousIDs, e.AnonymousID)
			}
		}
		if p.Events, err = blob.Encode(es); err != nil {
			return nil, fmt.Errorf("encode history page: %w", err)
		}
		av, err := attributevalue.MarshalMap(p)
		if err != nil {
			return nil, fmt.Errorf("encode history page: %w", err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.Events, Item: av,
			ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names()}})
	}
	return items, nil
}

// windows returns the ranges of page sort keys that can hold evs: a
// page holding an event at time t is keyed by its newest event's time,
// which lies between t and t+PageSpan. Overlapping ranges are merged.
func windows(evs []events.Event) [][2]string {
	times := make([]time.Time, 0, len(evs))
	for _, e := range evs {
		times = append(times, e.Time)
	}
	slices.SortFunc(times, time.Time.Compare)
	var out [][2]time.Time
	for _, t := range times {
		if n := len(out); n > 0 && !t.After(out[n-1][1]) {
			out[n-1][1] = t.Add(PageSpan)
			continue
		}
		out = append(out, [2]time.Time{t, t.Add(PageSpan)})
	}
	keys := make([][2]string, 0, len(out))
	for _, w := range out {
		keys = append(keys, [2]string{events.SortKeyTime(w[0]), afterAll(events.SortKeyTime(w[1]))})
	}
	return keys
}

// stored returns the content hash of each of evs that is on one of the
// owner's history pages (or history items written before pages existed):
// the owner's de-duplication record. It reads with strong consistency,
// after the owner's aggregates record, as it feeds a write conditioned on
// that record's version: a page committed with a later version makes the
// write fail and be tried again, and this read then finds it.
func (s *Events) stored(ctx context.Context, pk string, evs []events.Event) (map[string]string, error) {
	want := make(map[string]bool, len(evs))
	for _, e := range evs {
		want[e.ID] = true
	}
	found := map[string]string{}
	for _, w := range windows(evs) {
		key := expression.Key(ddb.AttrPK).Equal(expression.Value(schema.PfxHistory + pk)).
			And(expression.Key(ddb.AttrSK).Between(expression.Value(w[0]), expression.Value(w[1])))
		expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
		if err != nil {
			return nil, fmt.Errorf("build key condition: %w", err)
		}
		p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Events, KeyConditionExpression: expr.KeyCondition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, ddb.Classify("read history pages of "+pk, err)
			}
			for _, it := range out.Items {
				_, es, err := DecodePage(it)
				if err != nil {
					return nil, err
				}
				for _, e := range es {
					if want[e.Event.ID] {
						found[e.Event.ID] = e.Hash
					}
				}
			}
		}
	}
	return found, nil
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
