// Package dynamo stores catalog items on DynamoDB, implementing the Items
// port of package service. It imports only the catalog domain and platform
// packages. Access pattern:
//
//	item by id (catalog API)  pk=I#<item_id>  sk=ITEM  GetItem, UpdateItem
//
// Every write also files the row in the change feed (schema.AttrChange,
// schema.AttrChangedAt), which the recommender polls. A delete therefore
// leaves a tombstone (schema.AttrDeleted) for the feed to report, which
// the table's TTL removes schema.TombstoneLifetime later; Get treats it as
// absent and Put recreates the item over it.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/catalog"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
)

// Items is the catalog table.
type Items struct {
	DB    ddb.DB
	Table string
}

// Get returns the item, or a NotFound error.
func (s *Items) Get(ctx context.Context, itemID string) (catalog.Item, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: schema.ItemKey(itemID)})
	if err != nil {
		return catalog.Item{}, ddb.Classify("get item "+itemID, err)
	}
	var it catalog.Item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return catalog.Item{}, fmt.Errorf("decode item %s: %w", itemID, err)
	}
	if len(out.Item) == 0 || it.Deleted {
		return catalog.Item{}, notFound("get item", itemID)
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	return it, nil
}

// putAttempts bounds how often Put starts over when deletes and
// recreations of the same item keep racing it.
const putAttempts = 3

// Put creates or replaces the item's attributes, keeping the CreatedAt of an
// existing item, and returns the stored item and whether it was new. It
// writes with UpdateItem rather than PutItem so attributes written by other
// jobs on the same record survive. Over a tombstone it creates the item
// afresh, with the CreatedAt of it.
func (s *Items) Put(ctx context.Context, it catalog.Item) (catalog.Item, bool, error) {
	op := "put item " + it.ID
	it.Deleted = false
	for range putAttempts {
		stored, created, err := s.put(ctx, it, false)
		if !ddb.ConditionFailed(err) {
			return stored, created, err
		}
		// The row is a tombstone; unless another writer recreated it
		// meanwhile, recreate it.
		stored, created, err = s.put(ctx, it, true)
		if !ddb.ConditionFailed(err) {
			return stored, created, err
		}
	}
	return it, false, fmt.Errorf("%s: %w", op, ddb.ErrRetry)
}

// attrContent holds an item's content hash (catalog.Item.ContentHash).
const attrContent = "content_hash"

// put writes it with one UpdateItem. Over a live row or none it keeps the
// stored created_at and fails its condition on a tombstone; over a
// tombstone (recreate) it replaces created_at, clears the tombstone and
// fails its condition on anything else.
func (s *Items) put(ctx context.Context, it catalog.Item, recreate bool) (catalog.Item, bool, error) {
	op := "put item " + it.ID
	update := expression.Set(expression.Name("item_id"), expression.Value(it.ID)).
		Set(expression.Name("title"), expression.Value(it.Title)).
		Set(expression.Name("category"), expression.Value(it.Category)).
		Set(expression.Name("price_minor"), expression.Value(it.PriceMinor)).
		Set(expression.Name("currency"), expression.Value(it.Currency)).
		Set(expression.Name("tags"), expression.Value(it.Tags)).
		Set(expression.Name("in_stock"), expression.Value(it.InStock)).
		Set(expression.Name("updated_at"), expression.Value(it.UpdatedAt)).
		Set(expression.Name(schema.AttrChange), expression.Value(schema.ChangePK(schema.ChangeShard(it.ID)))).
		Set(expression.Name(schema.AttrChangedAt), expression.Value(it.UpdatedAt.UnixMilli())).
		Set(expression.Name(attrContent), expression.Value(it.ContentHash()))
	if it.Brand != "" {
		update = update.Set(expression.Name("brand"), expression.Value(it.Brand))
	} else {
		update = update.Remove(expression.Name("brand"))
	}
	deleted := expression.Name(schema.AttrDeleted)
	content := expression.Name(attrContent)
	// Over a live row, only when the content differs: the same content
	// sent again changes nothing, not even updated_at or the change feed.
	cond := deleted.AttributeNotExists().And(content.AttributeNotExists().Or(content.NotEqual(expression.Value(it.ContentHash()))))
	if recreate {
		update = update.Set(expression.Name("created_at"), expression.Value(it.CreatedAt)).
			Remove(deleted).Remove(expression.Name(schema.AttrExpiresAt))
		cond = deleted.Equal(expression.Value(true))
	} else {
		update = update.Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(it.CreatedAt)))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return it, false, fmt.Errorf("%s: build expression: %w", op, err)
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: schema.ItemKey(it.ID), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !recreate && errors.As(err, &ccf) && len(ccf.Item) > 0 {
		var old catalog.Item
		if err := attributevalue.UnmarshalMap(ccf.Item, &old); err != nil {
			return it, false, fmt.Errorf("%s: decode stored item: %w", op, err)
		}
		if !old.Deleted {
			// Unchanged: the stored item, with its own updated_at.
			return old, false, nil
		}
	}
	if err != nil {
		return it, false, ddb.Classify(op, err)
	}
	if recreate || len(out.Attributes) == 0 {
		return it, true, nil
	}
	var old catalog.Item
	if err := attributevalue.UnmarshalMap(out.Attributes, &old); err == nil && !old.CreatedAt.IsZero() {
		it.CreatedAt = old.CreatedAt
	}
	return it, false, nil
}

// Delete turns the item into a tombstone deleted at at, which expires
// schema.TombstoneLifetime later; a missing or already deleted item is a
// NotFound error.
func (s *Items) Delete(ctx context.Context, itemID string, at time.Time) error {
	op := "delete item " + itemID
	update := expression.Set(expression.Name(schema.AttrDeleted), expression.Value(true)).
		Set(expression.Name(schema.AttrChange), expression.Value(schema.ChangePK(schema.ChangeShard(itemID)))).
		Set(expression.Name(schema.AttrChangedAt), expression.Value(at.UnixMilli())).
		Set(expression.Name(schema.AttrExpiresAt), expression.Value(at.Add(schema.TombstoneLifetime).Unix()))
	cond := expression.Name(ddb.AttrPK).AttributeExists().And(expression.Name(schema.AttrDeleted).AttributeNotExists())
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: schema.ItemKey(itemID), UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if ddb.ConditionFailed(err) {
		return notFound("delete item", itemID)
	}
	return ddb.Classify(op, err)
}

func notFound(op, itemID string) error {
	return &errs.Error{Op: op + " " + itemID, Kind: errs.NotFound, Detail: fmt.Sprintf("item %s does not exist", itemID)}
}
