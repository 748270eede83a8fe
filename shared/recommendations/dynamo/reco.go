// Package dynamo stores the recommender's data in DynamoDB. Access
// patterns:
//
//	a customer's record (request)      Customers  pk=C#<customer_id> sk=PROFILE  GetItem, strongly consistent
//	catalogue changes since a time     Items      index changes: chg=CHG#<0..3>, chg_at ≥ since  Query per shard
//	newest snapshot's reference        Models     pk=SNAPSHOT  sk=LATEST  GetItem
//	a snapshot's bytes                 Models     pk=SNAPSHOT#<as_of>#<sha256 prefix>  sk=<chunk>  Query
//	training runs by as_of             Models     pk=RUN#train  sk=<as_of RFC 3339>
//
// Requests read these by key only. The nightly training reads its input
// by parallel Scan (customer records projected to what the recommender
// uses, the catalogue) and writes the snapshot with BatchWriteItem.
package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/schema"
	"tailor/shared/recommendations"
)

const pkTrainRuns = "RUN#train"

// runItem is the stored form of a training run record.
type runItem struct {
	PK           string                      `dynamodbav:"pk"`
	SK           string                      `dynamodbav:"sk"`
	AsOf         time.Time                   `dynamodbav:"as_of"`
	StartedAt    time.Time                   `dynamodbav:"started_at"`
	DurationMS   int64                       `dynamodbav:"duration_ms"`
	Customers    int                         `dynamodbav:"customers"`
	Interactions int                         `dynamodbav:"interactions"`
	Catalog      int                         `dynamodbav:"catalog_items"`
	Items        int                         `dynamodbav:"items"`
	Head         int                         `dynamodbav:"head"`
	Lambda       float64                     `dynamodbav:"lambda"`
	Pairs        int                         `dynamodbav:"pairs"`
	PopularLists int                         `dynamodbav:"popular_lists"`
	Snapshot     recommendations.SnapshotRef `dynamodbav:"snapshot"`
	ModelBytes   int64                       `dynamodbav:"model_bytes"`
	Evaluation   *recommendations.Evaluation `dynamodbav:"evaluation,omitempty"`
}

func (r runItem) run() recommendations.Run {
	return recommendations.Run{AsOf: r.AsOf.UTC(), StartedAt: r.StartedAt.UTC(), DurationMS: r.DurationMS, Customers: r.Customers,
		Interactions: r.Interactions, Catalog: r.Catalog, Items: r.Items, Head: r.Head, Lambda: r.Lambda, Pairs: r.Pairs,
		PopularLists: r.PopularLists, Snapshot: r.Snapshot, ModelBytes: r.ModelBytes, Evaluation: r.Evaluation}
}

// Training is the storage side of the nightly training job: it scans the
// customer records and the catalogue and writes snapshots and run records.
// Safe for concurrent use.
type Training struct {
	DB        ddb.Scanner
	Customers string // CustomersTable
	Items     string // ItemsTable
	Models    string // ModelsTable
	// Segments is the number of parallel Scan segments; 8 when 0.
	Segments int
	// Writers bounds concurrent BatchWriteItem calls; 8 when 0.
	Writers int
}

func (s *Training) segments() int {
	if s.Segments > 0 {
		return s.Segments
	}
	return 8
}

func (s *Training) writers() int {
	if s.Writers > 0 {
		return s.Writers
	}
	return 8
}

// listKeys returns the sort keys stored under pk in the models table.
func (s *Training) listKeys(ctx context.Context, pk string) ([]string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pk))).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return nil, fmt.Errorf("list %s: build expression: %w", pk, err)
	}
	p := dynamodb.NewQueryPaginator(s.DB, &dynamodb.QueryInput{TableName: &s.Models, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify("list "+pk, err)
		}
		for _, it := range page.Items {
			if sk, ok := it[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
				out = append(out, sk.Value)
			}
		}
	}
	return out, nil
}

// PutRun stores the run record; a run with the same as_of replaces it.
// DurationMS is stored as r.Duration in milliseconds.
func (s *Training) PutRun(ctx context.Context, r recommendations.Run) error {
	av, err := attributevalue.MarshalMap(runItem{PK: pkTrainRuns, SK: r.AsOf.UTC().Format(time.RFC3339), AsOf: r.AsOf,
		StartedAt: r.StartedAt, DurationMS: r.Duration.Milliseconds(), Customers: r.Customers, Interactions: r.Interactions,
		Catalog: r.Catalog, Items: r.Items, Head: r.Head, Lambda: r.Lambda, Pairs: r.Pairs, PopularLists: r.PopularLists,
		Snapshot: r.Snapshot, ModelBytes: r.ModelBytes, Evaluation: r.Evaluation})
	if err != nil {
		return fmt.Errorf("encode run: %w", err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Models, Item: av})
	return ddb.Classify("put training run", err)
}

// Recommendations is the request side of the recommender's data: one
// customer record read per request, and the snapshot and change-feed
// reads that keep the in-memory model current. It never scans.
type Recommendations struct {
	DB        ddb.DB
	Customers string // CustomersTable
	Items     string // ItemsTable
	Models    string // ModelsTable
}

// TrainingRuns returns at most limit training run records, the latest
// as_of first: one Query of the run records' partition.
func (s *Recommendations) TrainingRuns(ctx context.Context, limit int) ([]recommendations.Run, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pkTrainRuns))).Build()
	if err != nil {
		return nil, fmt.Errorf("list training runs: build key condition: %w", err)
	}
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Models, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, ddb.Classify("list training runs", err)
	}
	var rows []runItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rows); err != nil {
		return nil, fmt.Errorf("list training runs: decode: %w", err)
	}
	runs := make([]recommendations.Run, 0, len(rows))
	for _, r := range rows {
		runs = append(runs, r.run())
	}
	return runs, nil
}

// Shopper reads the customer's aggregates and consent with one strongly
// consistent GetItem (an event ingested a moment ago must count), projected
// so that no profile field is read. A customer without a record is a
// NotFound error.
func (s *Recommendations) Shopper(ctx context.Context, customerID string) (recommendations.Shopper, error) {
	op := "read customer " + customerID
	proj := expression.NamesList(expression.Name("agg.recent"), expression.Name("agg.purchased"),
		expression.Name("agg.affinity"), expression.Name("consent"), expression.Name(ddb.AttrPK))
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return recommendations.Shopper{}, fmt.Errorf("%s: build projection: %w", op, err)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Customers, Key: schema.CustomerKey(customerID),
		ConsistentRead: aws.Bool(true), ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names()})
	if err != nil {
		return recommendations.Shopper{}, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return recommendations.Shopper{}, &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	var v struct {
		Agg     *customers.Aggregates             `dynamodbav:"agg"`
		Consent map[string]customers.ConsentState `dynamodbav:"consent"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &v); err != nil {
		return recommendations.Shopper{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	if v.Agg == nil {
		v.Agg = customers.NewAggregates()
	}
	return recommendations.Shopper{Aggregates: v.Agg.Clone(), Consent: v.Consent}, nil
}
