// Package ddb is the DynamoDB core every feature's adapter uses: the
// client, the DB interface tests wrap to inject faults, error
// classification into errs kinds, BatchGetItem and BatchWriteItem with
// unprocessed keys and items retried with backoff, parallel Scan, the
// opaque-cursor codec, transaction helpers and per-operation call sums for
// log lines (Calls).
//
// It knows no feature: no table, key prefix or domain type. Each feature's
// dynamo package lists its own access patterns and keys.
package ddb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"tailor/shared/platform/awsenv"
	"tailor/shared/platform/errs"
)

// NewClient loads the AWS configuration once (call it at cold start, not
// per request) and returns a DynamoDB client. AWS_ENDPOINT_URL_DYNAMODB
// points it at DynamoDB Local with no code branch.
func NewClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := awsenv.Config(ctx, 5)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	cfg.BaseEndpoint = awsenv.Endpoint("DYNAMODB")
	return NewClientFromConfig(cfg), nil
}

// NewClientFromConfig returns a DynamoDB client of cfg that checks response
// checksums only where DynamoDB sends them (see verifyCRC32WhenSent). The
// CLI uses it with the SDK's full configuration chain.
func NewClientFromConfig(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, verifyCRC32WhenSent)
}

// DB is the part of the DynamoDB client that request paths use; tests wrap
// it to inject faults.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Scanner is a DB that can also Scan. Only batch jobs are given one, so
// request handlers cannot scan by construction.
type Scanner interface {
	DB
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Key attribute names shared by every table.
const (
	AttrPK = "pk"
	AttrSK = "sk"
)

// DynamoDB's request limits.
const (
	// BatchGetLimit is the most keys one BatchGetItem takes.
	BatchGetLimit = 100
	// BatchWriteLimit is the most requests one BatchWriteItem takes.
	BatchWriteLimit = 25
	// MaxTxItems is the most items one transaction takes.
	MaxTxItems = 100
)

// Key is the primary key pk, sk.
func Key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// ConditionFailed reports whether err is a failed condition of a single
// write.
func ConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// ErrRetry marks a lost optimistic race or a batch that still had
// unprocessed work after every attempt: read again and retry.
var ErrRetry = &errs.Error{Kind: errs.Transient, Detail: "concurrent update; retry"}

// Classify turns SDK errors that the caller can act on into errs kinds and
// wraps everything with op.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var (
		throttle *types.ProvisionedThroughputExceededException
		limit    *types.RequestLimitExceeded
		inProg   *types.TransactionInProgressException
		api      smithy.APIError
	)
	switch {
	case errors.As(err, &throttle), errors.As(err, &limit), errors.As(err, &inProg):
		return &errs.Error{Op: op, Kind: errs.Transient, Detail: "the database is busy; retry", Err: err}
	case errors.As(err, &api) && api.ErrorCode() == "ThrottlingException":
		return &errs.Error{Op: op, Kind: errs.Transient, Detail: "the database is busy; retry", Err: err}
	case unavailable(err):
		return &errs.Error{Op: op, Kind: errs.Transient, Detail: "the database is unavailable; retry", Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable reports a server error (5xx), a conflicting transaction, or
// an attempt that timed out without the caller's deadline having passed:
// the request may or may not have been applied, and conditional writes
// make retrying it safe.
func unavailable(err error) bool {
	var (
		ise      *types.InternalServerError
		conflict *types.TransactionConflictException
		resp     *smithyhttp.ResponseError
		canceled *aws.RequestCanceledError
	)
	switch {
	case errors.As(err, &ise), errors.As(err, &conflict):
		return true
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return true
	case errors.As(err, &canceled) && errors.Is(canceled.Err, context.DeadlineExceeded):
		// An attempt timeout; the caller's own deadline is checked by the
		// retry loops before they retry.
		return true
	}
	return false
}

// Retriable reports whether a failed call may succeed when repeated.
func Retriable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errs.Is(err, errs.Transient)
}

// CancellationReasons returns the per-item reasons of a cancelled
// transaction, and false when err is not a cancelled transaction.
func CancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	return tce.CancellationReasons, true
}

// ReasonConditionFailed reports whether a cancellation reason is a failed
// condition.
func ReasonConditionFailed(r types.CancellationReason) bool {
	return r.Code != nil && *r.Code == "ConditionalCheckFailed"
}
