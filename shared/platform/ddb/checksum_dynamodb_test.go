//go:build dynamodb

package ddb_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"tailor/shared/platform/ddb/ddbtest"
)

// countWarnings returns a logger for the SDK that counts what it logs.
func countWarnings() (logging.Logger, *atomic.Int32) {
	var n atomic.Int32
	return logging.LoggerFunc(func(logging.Classification, string, ...any) { n.Add(1) }), &n
}

// A conditional write that finds its item is an error response, which
// DynamoDB Local sends without X-Amz-Crc32: the client of NewClient logs
// nothing, where the SDK's own check warned.
func TestConditionFailureLogsNoChecksumWarning(t *testing.T) {
	env := ddbtest.New(t)
	ctx := context.Background()
	put := &dynamodb.PutItemInput{
		TableName: aws.String(env.Table("KeysTable")),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "crc#1"},
			"sk": &types.AttributeValueMemberS{Value: "crc#1"},
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	if _, err := env.DB.PutItem(ctx, put); err != nil {
		t.Fatal(err)
	}
	var cond *types.ConditionalCheckFailedException

	ours, n := countWarnings()
	_, err := env.DB.PutItem(ctx, put, func(o *dynamodb.Options) { o.Logger = ours })
	if !errors.As(err, &cond) {
		t.Fatalf("second put: %v", err)
	}
	if got := n.Load(); got != 0 {
		t.Errorf("%d SDK warnings for a condition failure", got)
	}

	sdk, n := countWarnings()
	_, err = env.DB.PutItem(ctx, put, func(o *dynamodb.Options) {
		o.Logger = sdk
		o.DisableValidateResponseChecksum = false
	})
	if !errors.As(err, &cond) {
		t.Fatalf("third put: %v", err)
	}
	if n.Load() == 0 {
		t.Error("with the SDK's own check the condition failure logged no warning: DynamoDB Local sends X-Amz-Crc32 with errors, so verifyCRC32WhenSent may be unneeded")
	}
}
