// Package tables creates and deletes the tables of template.yaml in
// DynamoDB Local, for `make run` and tests. No function links it.
package tables

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/local/samtemplate"
)

// CreateTables creates each table of the template under the name
// prefix+LogicalID, the local naming convention, and waits until they are
// active. Tables that already exist are left as they are, so it can run
// again. It exists for DynamoDB Local and tests; in AWS, CloudFormation
// creates the tables from the same template.
func CreateTables(ctx context.Context, db *dynamodb.Client, tables []samtemplate.Table, prefix string) error {
	for _, t := range tables {
		name := prefix + t.LogicalID
		in := createInput(name, t)
		_, err := db.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
		w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
		})
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, time.Minute); err != nil {
			return fmt.Errorf("wait for table %s: %w", name, err)
		}
		if t.TTLAttribute != "" {
			if err := enableTTL(ctx, db, name, t.TTLAttribute); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableTTL turns on time to live for attr unless the table has it on
// already. DynamoDB refuses to enable it twice with a ValidationException,
// a code it also gives for every malformed request, so the table's state
// is read first instead of guessing from the error.
func enableTTL(ctx context.Context, db *dynamodb.Client, table, attr string) error {
	d, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("read TTL of %s: %w", table, err)
	}
	if ttl := d.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == attr &&
		(ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: &attr, Enabled: aws.Bool(true)}})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", table, err)
	}
	return nil
}

// DeleteTables deletes prefix+LogicalID for each table; missing tables are
// ignored.
func DeleteTables(ctx context.Context, db *dynamodb.Client, tables []samtemplate.Table, prefix string) error {
	for _, t := range tables {
		name := prefix + t.LogicalID
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("delete table %s: %w", name, err)
		}
	}
	return nil
}

func createInput(name string, t samtemplate.Table) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: &name, BillingMode: types.BillingModePayPerRequest}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	in.KeySchema = keySchema(t.KeySchema)
	for _, ix := range t.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.IndexName), KeySchema: keySchema(ix.KeySchema), Projection: projection(ix)})
	}
	for _, ix := range t.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName: aws.String(ix.IndexName), KeySchema: keySchema(ix.KeySchema), Projection: projection(ix)})
	}
	if t.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true),
			StreamViewType: types.StreamViewType(t.StreamViewType)}
	}
	return in
}

func keySchema(keys []samtemplate.KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func projection(ix samtemplate.SecondaryIndex) *types.Projection {
	p := &types.Projection{ProjectionType: types.ProjectionType(ix.ProjectionType)}
	if len(ix.NonKeyAttributes) > 0 {
		p.NonKeyAttributes = ix.NonKeyAttributes
	}
	return p
}
