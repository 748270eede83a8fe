package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"tailor/shared/platform/schema"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/events"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/pii"
)

// History reads a customer's event history (events table,
// pk=H#C#<customer_id>, sk=<fixed-width time>#<event_id>).
type History struct {
	DB    ddb.DB
	Table string
	// Now is the clock that decides what has expired; time.Now when nil.
	Now func() time.Time
	// PII opens events' sealed free text (see Events.PII).
	PII *pii.Sealer
}

// maxHistoryCalls bounds the Query calls of one page when filters (type,
// time, expiry) leave few events per call; historyPagesPerCall is how many
// history pages one call reads.
const (
	maxHistoryCalls     = 10
	historyPagesPerCall = 25
)

// cursor is the decoded form of a page cursor: the history key every
// event of the next page sorts before.
type cursor struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

// validBound reports whether k can bound a page: a sort-key time, "#", and
// an event id or the end of that time's ids.
func validBound(k string) bool {
	ts, rest, ok := strings.Cut(k, "#")
	_, err := events.ParseSortKeyTime(ts)
	return ok && err == nil && rest != ""
}

// afterAll sorts after every history key of time ts.
func afterAll(ts string) string { return ts + "#\U0010FFFF" }

// decodeCursor checks that s is a cursor this query could have produced:
// of the same customer and with a well-formed bound.
func decodeCursor(s, pk string) (string, error) {
	bad := errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same customer")
	var c cursor
	if !ddb.OpenCursor(s, &c) || c.PK != pk || !validBound(c.SK) {
		return "", bad
	}
	return c.SK, nil
}

// keyed is an event and its history key.
type keyed struct {
	key string
	e   events.Event
}

// List returns one page of the customer's history, newest first. Events
// whose TTL has passed are never returned, even before DynamoDB deletes
// them.
//
// History is stored in pages (see PageSpan) keyed by their newest event's
// time: reading pages in descending key order, every event newer than the
// last page read is complete, and a page can hold events up to PageSpan
// older than its key, which is how far past a bound the query starts.
func (s *History) List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error) {
	op := "list history of customer " + customerID
	pk := schema.PfxHistory + schema.PfxCustomer + customerID
	bound := ""
	if q.Cursor != "" {
		b, err := decodeCursor(q.Cursor, pk)
		if err != nil {
			return events.HistoryPage{}, err
		}
		bound = b
	}
	var hiTime time.Time
	if !q.To.IsZero() {
		hiTime = q.To.Add(PageSpan)
	}
	if bound != "" {
		ts, _, _ := strings.Cut(bound, "#")
		t, _ := events.ParseSortKeyTime(ts)
		if t = t.Add(PageSpan + time.Nanosecond); hiTime.IsZero() || t.Before(hiTime) {
			hiTime = t
		}
	}
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(pk))
	lo, hi := "", ""
	if !q.From.IsZero() {
		lo = events.SortKeyTime(q.From)
	}
	if !hiTime.IsZero() {
		// "<time>" sorts before every "<time>#<id>": pages newer than
		// hiTime minus a nanosecond are left out.
		hi = events.SortKeyTime(hiTime)
	}
	switch {
	case lo != "" && hi != "":
		if lo >= hi {
			return events.HistoryPage{Events: []events.Event{}}, nil
		}
		kc = kc.And(expression.Key(ddb.AttrSK).Between(expression.Value(lo), expression.Value(hi)))
	case lo != "":
		kc = kc.And(expression.Key(ddb.AttrSK).GreaterThanEqual(expression.Value(lo)))
	case hi != "":
		kc = kc.And(expression.Key(ddb.AttrSK).LessThan(expression.Value(hi)))
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	filter := expression.Name("expires_at").GreaterThan(expression.Value(now.Unix()))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return events.HistoryPage{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(historyPagesPerCall)}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	out := events.HistoryPage{Events: []events.Event{}}
	var buf []keyed
	last := "" // the last key emitted
	// emit moves the buffered events that sort after newer (all of them
	// when newer is "") into the page, newest first, until it is full.
	emit := func(newer string) bool {
		slices.SortFunc(buf, func(a, b keyed) int { return strings.Compare(b.key, a.key) })
		n := 0
		for n < len(buf) && len(out.Events) < q.Limit && (newer == "" || buf[n].key > newer) {
			out.Events = append(out.Events, buf[n].e)
			last = buf[n].key
			n++
		}
		buf = buf[n:]
		return len(out.Events) == q.Limit && (len(buf) > 0 || newer != "")
	}
	frontier := ""
	for calls := 0; ; calls++ {
		if calls == maxHistoryCalls {
			// Stop reading: what is final is on the page, and the next
			// page goes on from the last history page read.
			if !emit(afterAll(frontier)) {
				last = ""
				if frontier != "" {
					last = afterAll(frontier)
				}
			}
			return s.finish(out, pk, last)
		}
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return events.HistoryPage{}, ddb.Classify(op, err)
		}
		for _, it := range res.Items {
			sk, _ := it[ddb.AttrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			ts, _, _ := strings.Cut(sk.Value, "#")
			frontier = ts
			if emit(afterAll(ts)) {
				return s.finish(out, pk, last)
			}
			_, es, err := DecodePage(it)
			if err != nil {
				return events.HistoryPage{}, fmt.Errorf("%s: %w", op, err)
			}
			for _, en := range es {
				e, err := openEvent(ctx, s.PII, en.Event, en.Sealed)
				if err != nil {
					return events.HistoryPage{}, fmt.Errorf("%s: %w", op, err)
				}
				k := events.HistoryKey(e)
				switch {
				case bound != "" && k >= bound:
				case q.Type != "" && e.Type != q.Type:
				case !q.From.IsZero() && e.Time.Before(q.From):
				case !q.To.IsZero() && !e.Time.Before(q.To):
				default:
					buf = append(buf, keyed{k, e})
				}
			}
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
	}
	if emit("") {
		return s.finish(out, pk, last)
	}
	return out, nil
}

// finish adds to a full page the cursor of the page after it: events
// sorting before last.
func (s *History) finish(out events.HistoryPage, pk, last string) (events.HistoryPage, error) {
	if last != "" {
		out.Next = ddb.SealCursor(cursor{PK: pk, SK: last})
	}
	return out, nil
}
