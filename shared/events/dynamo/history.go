package dynamo

import (
	"context"
	"fmt"
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

// maxHistoryPages bounds the Query calls of one page when filters (type,
// expiry) leave few items per call.
const maxHistoryPages = 10

// cursor is the decoded form of a page cursor: the last evaluated key.
type cursor struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

func encodeCursor(lek map[string]types.AttributeValue) (string, error) {
	var c cursor
	if err := attributevalue.UnmarshalMap(lek, &c); err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return ddb.SealCursor(c), nil
}

// decodeCursor checks that s is a cursor this query could have produced:
// of the same customer and with a well-formed sort key.
func decodeCursor(s, pk string) (map[string]types.AttributeValue, error) {
	bad := errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same customer")
	var c cursor
	if !ddb.OpenCursor(s, &c) || c.PK != pk || !events.ValidHistoryKey(c.SK) {
		return nil, bad
	}
	return ddb.Key(c.PK, c.SK), nil
}

// List returns one page of the customer's history, newest first. Items
// whose TTL has passed are never returned, even before DynamoDB deletes
// them.
func (s *History) List(ctx context.Context, customerID string, q events.HistoryQuery) (events.HistoryPage, error) {
	op := "list history of customer " + customerID
	pk := schema.PfxHistory + schema.PfxCustomer + customerID
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(pk))
	lo, hi := "", ""
	if !q.From.IsZero() {
		lo = events.SortKeyTime(q.From)
	}
	if !q.To.IsZero() {
		// "<to>" sorts before every "<to>#<id>", so this bound excludes To.
		hi = events.SortKeyTime(q.To)
	}
	switch {
	case lo != "" && hi != "":
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
	if q.Type != "" {
		filter = filter.And(expression.Name("type").Equal(expression.Value(string(q.Type))))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).Build()
	if err != nil {
		return events.HistoryPage{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false)}
	if q.Cursor != "" {
		if in.ExclusiveStartKey, err = decodeCursor(q.Cursor, pk); err != nil {
			return events.HistoryPage{}, err
		}
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	page := events.HistoryPage{Events: []events.Event{}}
	for calls := 0; calls < maxHistoryPages && len(page.Events) < q.Limit; calls++ {
		// Limit counts items read before the filter, so the last evaluated
		// key never lies beyond what this page returns.
		in.Limit = aws.Int32(int32(q.Limit - len(page.Events)))
		out, err := s.DB.Query(ctx, in)
		if err != nil {
			return events.HistoryPage{}, ddb.Classify(op, err)
		}
		for _, it := range out.Items {
			var r record
			if err := attributevalue.UnmarshalMap(it, &r); err != nil {
				return events.HistoryPage{}, fmt.Errorf("%s: decode: %w", op, err)
			}
			e, err := openEvent(ctx, s.PII, r)
			if err != nil {
				return events.HistoryPage{}, fmt.Errorf("%s: %w", op, err)
			}
			page.Events = append(page.Events, e)
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
	}
	if len(in.ExclusiveStartKey) > 0 {
		if page.Next, err = encodeCursor(in.ExclusiveStartKey); err != nil {
			return events.HistoryPage{}, err
		}
	}
	return page, nil
}
