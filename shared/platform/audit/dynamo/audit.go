// Package dynamo stores the audit trail on DynamoDB. It imports only the
// audit domain and platform packages.
package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/platform/audit"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// Audit is the append-only audit table. Access patterns:
//
//	entries about a target by time   pk=T#<target>  sk=<time>#<action>#<request id>   Query
//	entries by acting key by time    index key-index: key_pk=K#<key id>, key_sk=sk    Query
//
// Entries are only ever put, on the condition that none exists under the
// same key; no role may update or delete them (template.yaml), and they
// expire by TTL (expires_at).
type Audit struct {
	DB    ddb.DB
	Table string
	// Retention is how long entries stay; 400 days when 0.
	Retention time.Duration
}

// AuditKeyIndex is the audit table's index by acting key.
const AuditKeyIndex = "key-index"

// Key prefixes of the audit table and its index.
const (
	pfxTarget = "T#"
	pfxKey    = "K#"
)

// sortKeyTime formats t with fixed width, so that string order is time
// order.
func sortKeyTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

type auditItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	KeyPK     string    `dynamodbav:"key_pk"`
	KeySK     string    `dynamodbav:"key_sk"`
	At        time.Time `dynamodbav:"at"`
	KeyID     string    `dynamodbav:"key_id"`
	Action    string    `dynamodbav:"action"`
	Target    string    `dynamodbav:"target"`
	RequestID string    `dynamodbav:"request_id"`
	ExpiresAt int64     `dynamodbav:"expires_at"`
}

// Record appends e. Recording the same entry twice (a retried request)
// keeps the first.
func (s *Audit) Record(ctx context.Context, e audit.Entry) error {
	ret := s.Retention
	if ret <= 0 {
		ret = 400 * 24 * time.Hour
	}
	sk := sortKeyTime(e.At) + "#" + string(e.Action) + "#" + e.RequestID
	it := auditItem{PK: pfxTarget + e.Target, SK: sk, KeyPK: pfxKey + e.KeyID, KeySK: sk, At: e.At.UTC(), KeyID: e.KeyID,
		Action: string(e.Action), Target: e.Target, RequestID: e.RequestID, ExpiresAt: e.At.Add(ret).Unix()}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(ddb.AttrPK))).Build()
	if err != nil {
		return fmt.Errorf("record audit entry: build expression: %w", err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names()})
	if ddb.ConditionFailed(err) {
		return nil
	}
	return ddb.Classify("record audit entry", err)
}

// auditCursor is the decoded form of an audit page cursor.
type auditCursor struct {
	PK    string `json:"pk" dynamodbav:"pk"`
	SK    string `json:"sk" dynamodbav:"sk"`
	KeyPK string `json:"kp,omitempty" dynamodbav:"key_pk"`
	KeySK string `json:"ks,omitempty" dynamodbav:"key_sk"`
}

// List returns one page of entries, newest first, by target or by key.
func (s *Audit) List(ctx context.Context, q audit.Query) (audit.Page, error) {
	pkName, skName, pk, index := ddb.AttrPK, ddb.AttrSK, pfxTarget+q.Target, ""
	if q.Target == "" {
		pkName, skName, pk, index = "key_pk", "key_sk", pfxKey+q.KeyID, AuditKeyIndex
	}
	kc := expression.Key(pkName).Equal(expression.Value(pk))
	lo, hi := "0", "~"
	if !q.From.IsZero() {
		lo = sortKeyTime(q.From)
	}
	if !q.To.IsZero() {
		hi = sortKeyTime(q.To)
	}
	kc = kc.And(expression.Key(skName).Between(expression.Value(lo), expression.Value(hi)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return audit.Page{}, fmt.Errorf("list audit entries: build expression: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit))}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	if q.Cursor != "" {
		if in.ExclusiveStartKey, err = decodeAuditCursor(q.Cursor, pkName, pk); err != nil {
			return audit.Page{}, err
		}
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return audit.Page{}, ddb.Classify("list audit entries", err)
	}
	page := audit.Page{Entries: []audit.Entry{}}
	for _, it := range out.Items {
		var a auditItem
		if err := attributevalue.UnmarshalMap(it, &a); err != nil {
			return audit.Page{}, fmt.Errorf("list audit entries: decode: %w", err)
		}
		page.Entries = append(page.Entries, audit.Entry{At: a.At, KeyID: a.KeyID, Action: audit.Action(a.Action),
			Target: a.Target, RequestID: a.RequestID})
	}
	if len(out.LastEvaluatedKey) > 0 {
		var c auditCursor
		if err := attributevalue.UnmarshalMap(out.LastEvaluatedKey, &c); err != nil {
			return audit.Page{}, fmt.Errorf("list audit entries: cursor: %w", err)
		}
		page.Next = ddb.SealCursor(c)
	}
	return page, nil
}

// decodeAuditCursor accepts only a cursor of the same query: same target
// or key, and keys of the shape Record writes.
func decodeAuditCursor(s, pkName, pk string) (map[string]types.AttributeValue, error) {
	bad := errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same query")
	var c auditCursor
	if !ddb.OpenCursor(s, &c) || !strings.HasPrefix(c.PK, pfxTarget) || c.SK == "" {
		return nil, bad
	}
	lek := map[string]types.AttributeValue{
		ddb.AttrPK: &types.AttributeValueMemberS{Value: c.PK},
		ddb.AttrSK: &types.AttributeValueMemberS{Value: c.SK},
	}
	if pkName == ddb.AttrPK {
		if c.PK != pk {
			return nil, bad
		}
		return lek, nil
	}
	if c.KeyPK != pk || c.KeySK == "" {
		return nil, bad
	}
	lek["key_pk"] = &types.AttributeValueMemberS{Value: c.KeyPK}
	lek["key_sk"] = &types.AttributeValueMemberS{Value: c.KeySK}
	return lek, nil
}
