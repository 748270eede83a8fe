package tables

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
			_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &name,
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: &t.TTLAttribute, Enabled: aws.Bool(true)}})
			if err != nil && !ttlAlreadyOn(err) {
				return fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
	}
	return nil
}

// ttlAlreadyOn reports the error DynamoDB gives when TTL is enabled twice.
func ttlAlreadyOn(err error) bool {
	var ve interface{ ErrorMessage() string }
	return errors.As(err, &ve) && strings.Contains(strings.ToLower(ve.ErrorMessage()), "already enabled")
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
