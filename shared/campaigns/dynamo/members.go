package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/campaigns"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// memberItem is one member. cust and cmp feed customer-index, the
// memberships of a customer.
type memberItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Cust string `dynamodbav:"cust"`
	Cmp  string `dynamodbav:"cmp"`
	Arm  string `dynamodbav:"arm"`
}

// Snapshot lines are "<customer id> <t|h>": ids never hold spaces.
func snapshotLine(m campaigns.Member) string {
	if m.Arm == campaigns.Holdout {
		return m.CustomerID + " h"
	}
	return m.CustomerID + " t"
}

// snapPrefix is the sort key prefix of one snapshot's chunks.
func snapPrefix(snapshotID string) string { return pfxSnap + snapshotID + "#" }

// SaveSnapshot stores a materialised audience in chunks under its id
// (each chunk says how many make the whole).
func (s *Table) SaveSnapshot(ctx context.Context, campaignID, snapshotID string, members []campaigns.Member) error {
	op := "save audience snapshot of campaign " + campaignID
	lines := make([]string, len(members))
	for i, m := range members {
		lines[i] = snapshotLine(m)
	}
	parts := chunks(lines)
	if len(parts) == 0 {
		parts = []string{""}
	}
	reqs := make([]types.WriteRequest, len(parts))
	for i, p := range parts {
		item, err := attributevalue.MarshalMap(chunkItem{PK: campaignPK(campaignID), SK: chunkSK(snapPrefix(snapshotID), i), Data: p, Chunks: len(parts)})
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, reqs, 1)
}

// Snapshot returns the first n members of a stored snapshot, or NotFound
// when it is missing or does not hold n.
func (s *Table) Snapshot(ctx context.Context, campaignID, snapshotID string, n int) ([]campaigns.Member, error) {
	op := "read audience snapshot of campaign " + campaignID
	missing := &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("the audience snapshot of campaign %s is missing", campaignID)}
	first, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), chunkSK(snapPrefix(snapshotID), 0)),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, ddb.Classify(op, err)
	}
	if len(first.Item) == 0 {
		return nil, missing
	}
	var head chunkItem
	if err := attributevalue.UnmarshalMap(first.Item, &head); err != nil {
		return nil, fmt.Errorf("%s: decode: %w", op, err)
	}
	data, err := s.readChunks(ctx, op, campaignID, snapPrefix(snapshotID), head.Chunks)
	if err != nil {
		return nil, err
	}
	out := make([]campaigns.Member, 0, n)
	if data != "" {
		for line := range strings.SplitSeq(data, "\n") {
			id, arm, ok := strings.Cut(line, " ")
			if !ok {
				return nil, fmt.Errorf("%s: malformed line", op)
			}
			m := campaigns.Member{CustomerID: id, Arm: campaigns.Treatment}
			if arm == "h" {
				m.Arm = campaigns.Holdout
			}
			out = append(out, m)
		}
	}
	if len(out) < n {
		return nil, missing
	}
	return out[:n], nil
}

// DropSnapshot deletes the chunks of every snapshot of the campaign.
func (s *Table) DropSnapshot(ctx context.Context, campaignID string) error {
	op := "delete audience snapshot of campaign " + campaignID
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(campaignPK(campaignID))).
		And(expression.Key(ddb.AttrSK).BeginsWith(pfxSnap))
	items, err := s.query(ctx, op, kc, true)
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
			ddb.AttrPK: it[ddb.AttrPK], ddb.AttrSK: it[ddb.AttrSK]}}}
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, reqs, 1)
}

// Put stores members with BatchWriteItem, a few calls at a time; each is
// a whole-item put, so storing a member again changes nothing.
func (s *Table) Put(ctx context.Context, campaignID string, members []campaigns.Member) error {
	reqs := make([]types.WriteRequest, len(members))
	for i, m := range members {
		item, err := attributevalue.MarshalMap(memberItem{PK: memberPK(campaignID, m.Arm), SK: m.CustomerID,
			Cust: m.CustomerID, Cmp: campaignID, Arm: string(m.Arm)})
		if err != nil {
			return fmt.Errorf("store members of campaign %s: %w", campaignID, err)
		}
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return ddb.Retry{}.BatchWrite(ctx, s.DB, s.Table, reqs, writers)
}

// Arm lists a page of an arm's members in customer id order by Query.
func (s *Table) Arm(ctx context.Context, campaignID string, arm campaigns.Arm, limit int, cursor string) (campaigns.MemberPage, error) {
	op := fmt.Sprintf("list %s members of campaign %s", arm, campaignID)
	pk := memberPK(campaignID, arm)
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(pk))).
		WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
	if err != nil {
		return campaigns.MemberPage{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		Limit: aws.Int32(int32(limit)), ConsistentRead: aws.Bool(true)}
	if cursor != "" {
		var c campaigns.MemberCursor
		if !ddb.OpenCursor(cursor, &c) || !c.Valid(campaignID, arm) {
			return campaigns.MemberPage{}, campaigns.ErrCursor
		}
		in.ExclusiveStartKey = ddb.Key(pk, c.CustomerID)
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return campaigns.MemberPage{}, ddb.Classify(op, err)
	}
	page := campaigns.MemberPage{Members: make([]campaigns.Member, 0, len(out.Items))}
	for _, it := range out.Items {
		sk, _ := it[ddb.AttrSK].(*types.AttributeValueMemberS)
		if sk == nil {
			return campaigns.MemberPage{}, fmt.Errorf("%s: a member without a customer id", op)
		}
		page.Members = append(page.Members, campaigns.Member{CustomerID: sk.Value, Arm: arm})
	}
	if lek, ok := out.LastEvaluatedKey[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
		page.Next = ddb.SealCursor(campaigns.MemberCursor{CampaignID: campaignID, Arm: arm, CustomerID: lek.Value})
	}
	return page, nil
}

// All hands every member of both arms to fn, a Query page at a time.
func (s *Table) All(ctx context.Context, campaignID string, fn func([]campaigns.Member) error) error {
	for _, arm := range campaigns.Arms {
		op := fmt.Sprintf("read %s members of campaign %s", arm, campaignID)
		expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(ddb.AttrPK).Equal(expression.Value(memberPK(campaignID, arm)))).
			WithProjection(expression.NamesList(expression.Name(ddb.AttrSK))).Build()
		if err != nil {
			return fmt.Errorf("%s: build expression: %w", op, err)
		}
		in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
			ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
		if err := s.pages(ctx, op, in, func(items []map[string]types.AttributeValue) error {
			page := make([]campaigns.Member, 0, len(items))
			for _, it := range items {
				if sk, ok := it[ddb.AttrSK].(*types.AttributeValueMemberS); ok {
					page = append(page, campaigns.Member{CustomerID: sk.Value, Arm: arm})
				}
			}
			return fn(page)
		}); err != nil {
			return err
		}
	}
	return nil
}

// stamp renders a time the way every campaign attribute stores one.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseStamp(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func parseStampPtr(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := parseStamp(*s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
