// Package dynamo stores API key records on DynamoDB, an auth.KeyStore. It
// imports only the auth domain and platform packages.
package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// Keys is the API key table. Access patterns:
//
//	key by id (authorizer, every uncached request)  pk=K#<key_id>  sk=KEY   GetItem, consistent
//	all keys (tailor keys list, an operator tool)   Scan, paginated
//
// Only hashes are stored; see auth.Record.
type Keys struct {
	DB    ddb.DB
	Table string
}

const skKey = "KEY"

func keyKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		ddb.AttrPK: &types.AttributeValueMemberS{Value: "K#" + id},
		ddb.AttrSK: &types.AttributeValueMemberS{Value: skKey},
	}
}

// Get returns the key record, or a NotFound error. The read is strongly
// consistent: the authorizer caches its answer for minutes, so a stale
// "unknown" for a key created a moment ago would lock its owner out for the
// whole cache lifetime.
func (s *Keys) Get(ctx context.Context, keyID string) (auth.Record, error) {
	op := "get key " + keyID
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: keyKey(keyID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return auth.Record{}, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return auth.Record{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("key %s does not exist", keyID)}
	}
	var r auth.Record
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return auth.Record{}, fmt.Errorf("decode key %s: %w", keyID, err)
	}
	return r, nil
}

// Create stores a new key record; an existing id is a Conflict error.
func (s *Keys) Create(ctx context.Context, r auth.Record) error {
	op := "create key " + r.ID
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	for k, v := range keyKey(r.ID) {
		item[k] = v
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(ddb.AttrPK))).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item,
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names()})
	if ddb.ConditionFailed(err) {
		return &errs.Error{Op: op, Kind: errs.Conflict, Detail: fmt.Sprintf("key %s already exists", r.ID)}
	}
	return ddb.Classify(op, err)
}

// Revoke marks the key revoked at the given time and returns the record.
// Revoking an already revoked key keeps the first time; an unknown key is a
// NotFound error.
func (s *Keys) Revoke(ctx context.Context, keyID string, at time.Time) (auth.Record, error) {
	op := "revoke key " + keyID
	update := expression.Set(expression.Name("revoked_at"),
		expression.IfNotExists(expression.Name("revoked_at"), expression.Value(at.UTC())))
	expr, err := expression.NewBuilder().WithUpdate(update).
		WithCondition(expression.AttributeExists(expression.Name(ddb.AttrPK))).Build()
	if err != nil {
		return auth.Record{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: keyKey(keyID), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllNew,
	})
	if ddb.ConditionFailed(err) {
		return auth.Record{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("key %s does not exist", keyID)}
	}
	if err != nil {
		return auth.Record{}, ddb.Classify(op, err)
	}
	var r auth.Record
	if err := attributevalue.UnmarshalMap(out.Attributes, &r); err != nil {
		return auth.Record{}, fmt.Errorf("decode key %s: %w", keyID, err)
	}
	return r, nil
}

// List returns every key record, oldest first. It scans the table, which
// is fine for an operator's tool over a few hundred keys and never done in
// a request path. DB must also implement Scan (the SDK client does).
func (s *Keys) List(ctx context.Context) ([]auth.Record, error) {
	scanner, ok := s.DB.(dynamodb.ScanAPIClient)
	if !ok {
		return nil, fmt.Errorf("list keys: the DynamoDB client cannot scan")
	}
	var out []auth.Record
	p := dynamodb.NewScanPaginator(scanner, &dynamodb.ScanInput{TableName: &s.Table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify("list keys", err)
		}
		var recs []auth.Record
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &recs); err != nil {
			return nil, fmt.Errorf("list keys: decode: %w", err)
		}
		out = append(out, recs...)
	}
	slices.SortStableFunc(out, func(a, b auth.Record) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
