package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/campaigns"
	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
)

// Memberships is the Memberships port of the customers service on
// CampaignsTable: a customer's member items found by Query on
// customer-index, listed for an export (with the campaign's name, channel
// and launch start by BatchGetItem) and deleted by erasure
// (BatchWriteItem). The index is eventually consistent: a member written
// within the last second may be missed, so an erasure racing a launch
// that still adds the customer is repeated by the caller, not here (a
// launch skips erased customers when it materialises its audience).
type Memberships struct {
	DB    ddb.DB
	Table string
}

// membershipKey is one member item as customer-index projects it.
type membershipKey struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	Cmp string `dynamodbav:"cmp"`
}

// arm is the arm a member item's key names: pk=MEMBER#<campaign>#<arm>.
func (k membershipKey) arm() campaigns.Arm {
	return campaigns.Arm(strings.TrimPrefix(k.PK, pfxMember+k.Cmp+"#"))
}

// keys returns the customer's member items, in campaign id order.
func (m *Memberships) keys(ctx context.Context, op, customerID string) ([]membershipKey, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key("cust").Equal(expression.Value(customerID))).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &m.Table, IndexName: aws.String(CustomerIndex), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	var out []membershipKey
	for p := dynamodb.NewQueryPaginator(m.DB, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, ddb.Classify(op, err)
		}
		for _, raw := range page.Items {
			var k membershipKey
			if err := attributevalue.UnmarshalMap(raw, &k); err != nil {
				return nil, fmt.Errorf("%s: decode: %w", op, err)
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// List returns the customer's memberships in campaign id order, each with
// its campaign's name, channel and launch start when the campaign item is
// there.
func (m *Memberships) List(ctx context.Context, customerID string) ([]customers.CampaignMembership, error) {
	op := "list campaign memberships of customer " + customerID
	ks, err := m.keys(ctx, op, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]customers.CampaignMembership, 0, len(ks))
	if len(ks) == 0 {
		return out, nil
	}
	gets := make([]map[string]types.AttributeValue, len(ks))
	for i, k := range ks {
		gets[i] = ddb.Key(campaignPK(k.Cmp), skCampaign)
	}
	proj, err := expression.NewBuilder().WithProjection(expression.NamesList(expression.Name("campaign_id"),
		expression.Name("name"), expression.Name("channel"), expression.Name("launch.started_at"))).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	raws, err := ddb.Retry{}.BatchGet(ctx, m.DB, ddb.Get{Table: m.Table, Keys: gets, Projection: &proj})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	found := map[string]*campaigns.Campaign{}
	for _, raw := range raws {
		var it struct {
			ID      string `dynamodbav:"campaign_id"`
			Name    string `dynamodbav:"name"`
			Channel string `dynamodbav:"channel"`
			Launch  *struct {
				StartedAt string `dynamodbav:"started_at"`
			} `dynamodbav:"launch"`
		}
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", op, err)
		}
		c := &campaigns.Campaign{ID: it.ID, Name: it.Name, Channel: campaigns.Channel(it.Channel)}
		if it.Launch != nil && it.Launch.StartedAt != "" {
			at, err := parseStamp(it.Launch.StartedAt)
			if err != nil {
				return nil, fmt.Errorf("%s: decode: %w", op, err)
			}
			c.Launch = &campaigns.Launch{StartedAt: at}
		}
		found[it.ID] = c
	}
	for _, k := range ks {
		c := found[k.Cmp]
		out = append(out, customers.CampaignMembership{CampaignID: k.Cmp, Arm: string(k.arm())})
		if c != nil {
			last := &out[len(out)-1]
			last.Name, last.Channel = c.Name, string(c.Channel)
			if c.Launch != nil {
				at := c.Launch.StartedAt.UTC()
				last.AssignedAt = &at
			}
		}
	}
	slices.SortStableFunc(out, func(a, b customers.CampaignMembership) int { return strings.Compare(a.CampaignID, b.CampaignID) })
	return out, nil
}

// Erase deletes the customer's member items and returns how many it
// found; deleting one already gone changes nothing, so a retry is safe.
func (m *Memberships) Erase(ctx context.Context, customerID string) (int, error) {
	op := "erase campaign memberships of customer " + customerID
	ks, err := m.keys(ctx, op, customerID)
	if err != nil || len(ks) == 0 {
		return 0, err
	}
	reqs := make([]types.WriteRequest, len(ks))
	for i, k := range ks {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: ddb.Key(k.PK, k.SK)}}
	}
	if err := (ddb.Retry{}).BatchWrite(ctx, m.DB, m.Table, reqs, 1); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return len(ks), nil
}
