// Package dynamo stores catalog items on DynamoDB, implementing the Items
// port of package service. It imports only the catalog domain and platform
// packages. Access pattern:
//
//	item by id (catalog API)  pk=I#<item_id>  sk=ITEM  GetItem, UpdateItem, DeleteItem
package dynamo

import (
	"context"
	"fmt"

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
	if len(out.Item) == 0 {
		return catalog.Item{}, &errs.Error{Op: "get item " + itemID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("item %s does not exist", itemID)}
	}
	var it catalog.Item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return catalog.Item{}, fmt.Errorf("decode item %s: %w", itemID, err)
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	return it, nil
}

// Put creates or replaces the item's attributes, keeping the CreatedAt of an
// existing item, and returns the stored item and whether it was new. It
// writes with UpdateItem rather than PutItem so attributes written by other
// jobs on the same record survive.
func (s *Items) Put(ctx context.Context, it catalog.Item) (catalog.Item, bool, error) {
	op := "put item " + it.ID
	update := expression.Set(expression.Name("item_id"), expression.Value(it.ID)).
		Set(expression.Name("title"), expression.Value(it.Title)).
		Set(expression.Name("category"), expression.Value(it.Category)).
		Set(expression.Name("price_minor"), expression.Value(it.PriceMinor)).
		Set(expression.Name("currency"), expression.Value(it.Currency)).
		Set(expression.Name("tags"), expression.Value(it.Tags)).
		Set(expression.Name("in_stock"), expression.Value(it.InStock)).
		Set(expression.Name("updated_at"), expression.Value(it.UpdatedAt)).
		Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(it.CreatedAt)))
	if it.Brand != "" {
		update = update.Set(expression.Name("brand"), expression.Value(it.Brand))
	} else {
		update = update.Remove(expression.Name("brand"))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).Build()
	if err != nil {
		return it, false, fmt.Errorf("%s: build expression: %w", op, err)
	}
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: schema.ItemKey(it.ID), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return it, false, ddb.Classify(op, err)
	}
	if len(out.Attributes) == 0 {
		return it, true, nil
	}
	var old catalog.Item
	if err := attributevalue.UnmarshalMap(out.Attributes, &old); err == nil && !old.CreatedAt.IsZero() {
		it.CreatedAt = old.CreatedAt
	}
	return it, false, nil
}

// Delete removes the item; a missing item is a NotFound error.
func (s *Items) Delete(ctx context.Context, itemID string) error {
	out, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.Table, Key: schema.ItemKey(itemID), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return ddb.Classify("delete item "+itemID, err)
	}
	if len(out.Attributes) == 0 {
		return &errs.Error{Op: "delete item " + itemID, Kind: errs.NotFound, Detail: fmt.Sprintf("item %s does not exist", itemID)}
	}
	return nil
}
