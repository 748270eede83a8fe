package ddbtest

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func sized(n int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: strings.Repeat("x", n-2)}}
}

func TestModelReadBillsByPublishedRules(t *testing.T) {
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	cases := []struct {
		name    string
		in, out any
		want    float64
	}{
		{"get of nothing, consistent", &dynamodb.GetItemInput{ConsistentRead: aws.Bool(true)}, &dynamodb.GetItemOutput{}, 1},
		{"get of nothing, eventual", &dynamodb.GetItemInput{}, &dynamodb.GetItemOutput{}, 0.5},
		{"get of 4 KiB + 1", &dynamodb.GetItemInput{ConsistentRead: aws.Bool(true)}, &dynamodb.GetItemOutput{Item: sized(4097)}, 2},
		{"query sums sizes first", &dynamodb.QueryInput{}, &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{sized(3000), sized(3000)}}, 1},
		{"batch: found, missing, unprocessed", &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"T": {Keys: []map[string]types.AttributeValue{key, key, key}, ConsistentRead: aws.Bool(true)}}},
			&dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"T": {sized(5000)}},
				UnprocessedKeys: map[string]types.KeysAndAttributes{"T": {Keys: []map[string]types.AttributeValue{key}}}}, 3},
	}
	for _, c := range cases {
		if got := modelRead(c.in, c.out); got != c.want {
			t.Errorf("%s: %v read units, want %v", c.name, got, c.want)
		}
	}
}
