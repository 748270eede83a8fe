//go:build dynamodb

package tables_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/local/tables"
	"tailor/shared/platform/ddb/ddbtest"
)

// ddbtest.New has created the tables once with CreateTables; the second
// run must leave them as they are, TTL included.
func TestCreateTablesRunsAgainAndTurnsTTLOn(t *testing.T) {
	env := ddbtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tables.CreateTables(ctx, env.DB, env.Template.Tables, env.Prefix); err != nil {
		t.Fatalf("second run: %v", err)
	}
	withTTL := 0
	for _, tb := range env.Template.Tables {
		name := env.Table(tb.LogicalID)
		d, err := env.DB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
		if err != nil {
			t.Fatal(err)
		}
		ttl := d.TimeToLiveDescription
		if tb.TTLAttribute == "" {
			if ttl != nil && ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
				t.Errorf("%s: TTL on without a TTL attribute in the template", name)
			}
			continue
		}
		withTTL++
		if ttl == nil || ttl.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.AttributeName) != tb.TTLAttribute {
			t.Errorf("%s: TTL %+v, want enabled on %s", name, ttl, tb.TTLAttribute)
		}
	}
	if withTTL == 0 {
		t.Fatal("the template has no table with TTL: the test proves nothing")
	}
}
