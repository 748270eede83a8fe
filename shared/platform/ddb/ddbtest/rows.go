package ddbtest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// RowKey is the primary key of a row of any Tailor table.
type RowKey struct{ PK, SK string }

// ScanAll reads a whole (test) table and returns each row as canonical
// JSON keyed by its primary key, so tests can compare table contents.
func ScanAll(ctx context.Context, db *dynamodb.Client, table string) (map[RowKey]string, error) {
	out := map[RowKey]string{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, err
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			pk, _ := m["pk"].(string)
			sk, _ := m["sk"].(string)
			out[RowKey{pk, sk}] = string(b)
		}
	}
	return out, nil
}

// PutRaw writes one row as given (a map with pk and sk), bypassing the
// stores, to set up states such as leftovers of an earlier run.
func PutRaw(ctx context.Context, db *dynamodb.Client, table string, row map[string]any) error {
	av, err := attributevalue.MarshalMap(row)
	if err != nil {
		return err
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: av})
	return err
}
