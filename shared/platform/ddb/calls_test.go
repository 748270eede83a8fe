package ddb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/platform/ddb"
)

// answering is a DB whose few implemented calls answer at once; the
// others panic through the nil embedded interface.
type answering struct{ ddb.DB }

func (answering) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (answering) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{Items: make([]map[string]types.AttributeValue, 3)}, nil
}

func (answering) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errors.New("throttled")
}

func (answering) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func TestCallsAddUpPerOperationAndTable(t *testing.T) {
	ctx := context.Background()
	c := &ddb.Calls{DB: answering{}}
	if got := c.Take(); got != nil {
		t.Fatalf("before any call: %v", got)
	}
	for range 2 {
		_, _ = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("A")})
	}
	_, _ = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("B")})
	put := types.WriteRequest{PutRequest: &types.PutRequest{}}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"A": {put, put, put}, "B": {put}}}); err == nil {
		t.Fatal("the wrapped error was lost")
	}
	_, _ = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("B")}}, {Put: &types.Put{TableName: aws.String("A")}}}})

	got := c.Take()
	want := map[string][2]int{ // calls, items
		"GetItem A": {2, 2}, "Query B": {1, 3}, "BatchWriteItem A": {1, 3}, "BatchWriteItem B": {1, 1},
		"TransactWriteItems B": {1, 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want keys of %v", got, want)
	}
	for k, w := range want {
		if s := got[k]; s.Calls != w[0] || s.Items != w[1] || s.Millis < 0 {
			t.Errorf("%s: %+v, want %d calls and %d items", k, s, w[0], w[1])
		}
	}
	if again := c.Take(); again != nil {
		t.Fatalf("Take did not start new sums: %v", again)
	}
}
