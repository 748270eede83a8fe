// Package store keeps Tailor's records in DynamoDB. It is the only package
// that imports the DynamoDB SDK; it turns SDK failures into errs kinds and
// domain values into items and back.
//
// Access patterns and keys (every table has a string partition key "pk" and
// sort key "sk"):
//
//	customer by id                 Customers  pk=C#<customer_id>  sk=PROFILE
//	item by id                     Items      pk=I#<item_id>      sk=ITEM
//	customer aggregates            Customers  pk=C#<customer_id>  sk=PROFILE (agg, agg_version)
//	anonymous visitor aggregates   Customers  pk=N#<anonymous_id> sk=PROFILE
//	anonymous id -> customer       Customers  pk=A#<anonymous_id> sk=ALIAS
//	event by id (de-duplication)   Events     pk=E#<event_id>     sk=EVENT
//	a customer's events by time    Events     pk=H#C#<customer_id> sk=<time>#<event_id>
//	popular items of a day         Events     pk=P#<yyyy-mm-dd>#<0..7> sk=<item_id>
//	an item's neighbour list       Items      pk=I#<item_id>      sk=NEIGHBOURS
//	popular items (nightly lists)  Models     pk=POPULAR#<days>d  sk=ALL | C#<top category>
//	training runs                  Models     pk=RUN#train        sk=<as_of>
//
// Ingestion's items and their invariants are described in docs/ingestion.md.
//
// Requests never Scan; batch jobs scan by parallel segments.
package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"tailor/shared/platform/errs"
)

// NewClient loads the AWS configuration once (call it at cold start, not
// per request) and returns a DynamoDB client. AWS_ENDPOINT_URL_DYNAMODB
// points it at DynamoDB Local with no code branch.
func NewClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		// Throttling and 5xx are retried with jittered backoff; the caller's
		// context deadline bounds the total.
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 })
	}))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// DB is the part of the DynamoDB client the stores use; tests wrap it to
// inject faults.
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

// Key attribute names shared by every table.
const (
	attrPK = "pk"
	attrSK = "sk"
)

// conditionFailed reports whether err is a failed condition of a single
// write.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// classify turns SDK errors that the caller can act on into errs kinds and
// wraps everything with op.
func classify(op string, err error) error {
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
