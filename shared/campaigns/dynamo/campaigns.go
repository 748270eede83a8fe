// Package dynamo is the DynamoDB adapter of the campaigns feature: it
// implements the campaigns service's ports on CampaignsTable (Table:
// campaigns, audience snapshots, members, reports) and reads the
// customers table (Customers: audiences and purchases). It imports only
// the campaigns and customers domains and the platform; the customer
// record's keys are package schema's.
//
// Access patterns and keys of CampaignsTable:
//
//	campaign by id                  pk=CAMPAIGN#<id> sk=CAMPAIGN                GetItem (consistent), PutItem on version
//	a campaign's explicit ids       pk=CAMPAIGN#<id> sk=IDS#<nnnn>              Query; written with the campaign in one transaction
//	list campaigns, newest first    index list-index: list_pk=CAMPAIGNS,        Query, descending
//	                                list_sk=<created_at>#<id>
//	a launch's audience snapshot    pk=CAMPAIGN#<id> sk=SNAP#<snapshot id>#<nnnn> BatchWriteItem, Query; deleted after the launch
//	a campaign's latest report      pk=CAMPAIGN#<id> sk=REPORT                  PutItem, GetItem
//	members of a campaign's arm     pk=MEMBER#<id>#<arm> sk=<customer_id>       BatchWriteItem (puts), Query by page
//	a customer's memberships        index customer-index: cust=<customer_id>,   Query (erasure, export; type
//	                                cmp=<campaign_id>; keys only                Memberships, used by the customers
//	                                                                            function), then BatchGetItem of the
//	                                                                            campaigns (export) or BatchWriteItem
//	                                                                            deletes of the members (erasure)
//
// Customers table, read only:
//
//	every customer record           Scan by parallel segments, pk begins_with C#, projecting consent,
//	                                tags, profile.country, scores, agg.days and erased_at (launches only)
//	named customer records          BatchGetItem of pk=C#<id> sk=PROFILE with the same projection,
//	                                or agg.days (reports), or pii (contact details, pii:read only)
//
// One arm's members share a partition: a launch writes them at the rate
// DynamoDB takes for one partition key (1,000 writes per second before
// adaptive capacity splits it), retried with backoff.
package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/campaigns"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
)

// Index names and key parts of CampaignsTable.
const (
	ListIndex     = "list-index"
	CustomerIndex = "customer-index"

	pfxCampaign = "CAMPAIGN#"
	pfxMember   = "MEMBER#"
	skCampaign  = "CAMPAIGN"
	skReport    = "REPORT"
	pfxIDs      = "IDS#"
	pfxSnap     = "SNAP#"
	listPK      = "CAMPAIGNS"

	attrListPK = "list_pk"
	attrListSK = "list_sk"
	attrVer    = "version"

	// chunkBytes keeps each id list and snapshot chunk well below
	// DynamoDB's 400 KB item limit.
	chunkBytes = 300 << 10
	// updateAttempts bounds the read-modify-write retries of Update.
	updateAttempts = 8
	// writers bounds concurrent BatchWriteItem calls of one Put.
	writers = 8
)

// Table is CampaignsTable: the Campaigns, Members and Reports ports of
// package service.
type Table struct {
	DB    ddb.DB
	Table string
}

func campaignPK(campaignID string) string { return pfxCampaign + campaignID }

func memberPK(campaignID string, arm campaigns.Arm) string {
	return pfxMember + campaignID + "#" + string(arm)
}

// campaignItem is the stored shape of a campaign, without its id list.
type campaignItem struct {
	PK              string             `dynamodbav:"pk"`
	SK              string             `dynamodbav:"sk"`
	ListPK          string             `dynamodbav:"list_pk"`
	ListSK          string             `dynamodbav:"list_sk"`
	ID              string             `dynamodbav:"campaign_id"`
	Name            string             `dynamodbav:"name"`
	Channel         string             `dynamodbav:"channel"`
	Audience        campaigns.Audience `dynamodbav:"audience"`
	Holdout         float64            `dynamodbav:"holdout"`
	AttributionDays int                `dynamodbav:"attribution_days"`
	Currency        string             `dynamodbav:"currency"`
	CostMinor       *int64             `dynamodbav:"cost_minor,omitempty"`
	Goal            string             `dynamodbav:"goal"`
	Status          string             `dynamodbav:"status"`
	Version         int64              `dynamodbav:"version"`
	CreatedAt       string             `dynamodbav:"created_at"`
	UpdatedAt       string             `dynamodbav:"updated_at"`
	Launch          *campaigns.Launch  `dynamodbav:"launch,omitempty"`
	StoppedAt       *string            `dynamodbav:"stopped_at,omitempty"`
	CompletedAt     *string            `dynamodbav:"completed_at,omitempty"`
	// IDChunks counts the IDS# items holding the explicit id list.
	IDChunks int `dynamodbav:"id_chunks"`
}

// idsItem is one chunk of an explicit id list, or of a snapshot.
type chunkItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Data string `dynamodbav:"data"`
	// Chunks is how many chunks the whole holds.
	Chunks int `dynamodbav:"chunks"`
}

func chunkSK(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// chunks splits lines into strings of at most chunkBytes, whole lines
// each, one line per element joined by "\n".
func chunks(lines []string) []string {
	var out []string
	var b strings.Builder
	for _, l := range lines {
		if b.Len() > 0 && b.Len()+len(l)+1 > chunkBytes {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func toItem(c *campaigns.Campaign, idChunks int) campaignItem {
	it := campaignItem{PK: campaignPK(c.ID), SK: skCampaign, ListPK: listPK, ListSK: campaigns.ListKey(c), ID: c.ID,
		Name: c.Name, Channel: string(c.Channel), Audience: c.Audience, Holdout: c.Holdout, AttributionDays: c.AttributionDays,
		Currency: c.Currency, CostMinor: c.CostMinor, Goal: string(c.Goal), Status: string(c.Status), Version: c.Version,
		CreatedAt: stamp(c.CreatedAt), UpdatedAt: stamp(c.UpdatedAt), Launch: c.Launch, IDChunks: idChunks}
	if c.StoppedAt != nil {
		s := stamp(*c.StoppedAt)
		it.StoppedAt = &s
	}
	if c.CompletedAt != nil {
		s := stamp(*c.CompletedAt)
		it.CompletedAt = &s
	}
	it.Audience.CustomerIDs = nil
	return it
}

func (it campaignItem) campaign() (*campaigns.Campaign, error) {
	c := &campaigns.Campaign{ID: it.ID, Name: it.Name, Channel: campaigns.Channel(it.Channel), Audience: it.Audience,
		Holdout: it.Holdout, AttributionDays: it.AttributionDays, Currency: it.Currency, CostMinor: it.CostMinor,
		Goal: campaigns.Goal(it.Goal), Status: campaigns.Status(it.Status), Version: it.Version, Launch: it.Launch}
	var err error
	if c.CreatedAt, err = parseStamp(it.CreatedAt); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = parseStamp(it.UpdatedAt); err != nil {
		return nil, err
	}
	if c.StoppedAt, err = parseStampPtr(it.StoppedAt); err != nil {
		return nil, err
	}
	if c.CompletedAt, err = parseStampPtr(it.CompletedAt); err != nil {
		return nil, err
	}
	return c, nil
}

// Create stores a new campaign and its id list in one transaction; an
// existing id is a Conflict error.
func (s *Table) Create(ctx context.Context, c *campaigns.Campaign) error {
	op := "create campaign " + c.ID
	cond := expression.Name(ddb.AttrPK).AttributeNotExists()
	writes, err := s.campaignWrites(c, 0, cond)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err = s.write(ctx, writes)
	if conflicted(err) {
		return &errs.Error{Op: op, Kind: errs.Conflict, Detail: fmt.Sprintf("campaign %s already exists", c.ID)}
	}
	return ddb.Classify(op, err)
}

// campaignWrites are the writes that store c: its item on condition cond,
// its id list chunks, and deletes of chunks an earlier, longer list of
// oldChunks left beyond the new one.
func (s *Table) campaignWrites(c *campaigns.Campaign, oldChunks int, cond expression.ConditionBuilder) ([]types.TransactWriteItem, error) {
	parts := chunks(c.Audience.CustomerIDs)
	item, err := attributevalue.MarshalMap(toItem(c, len(parts)))
	if err != nil {
		return nil, err
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build expression: %w", err)
	}
	writes := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.Table, Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}}
	for i, p := range parts {
		ci, err := attributevalue.MarshalMap(chunkItem{PK: campaignPK(c.ID), SK: chunkSK(pfxIDs, i), Data: p, Chunks: len(parts)})
		if err != nil {
			return nil, err
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.Table, Item: ci}})
	}
	for i := len(parts); i < oldChunks; i++ {
		writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table,
			Key: ddb.Key(campaignPK(c.ID), chunkSK(pfxIDs, i))}})
	}
	return writes, nil
}

// write runs one conditional write: a PutItem when it is alone, a
// transaction otherwise.
func (s *Table) write(ctx context.Context, writes []types.TransactWriteItem) error {
	if len(writes) == 1 && writes[0].Put != nil {
		p := writes[0].Put
		_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
			ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
			ExpressionAttributeValues: p.ExpressionAttributeValues})
		return err
	}
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	return err
}

// conflicted reports a failed condition of a single write or of a
// transaction's conditional item.
func conflicted(err error) bool {
	if ddb.ConditionFailed(err) {
		return true
	}
	reasons, ok := ddb.CancellationReasons(err)
	return ok && slices.ContainsFunc(reasons, ddb.ReasonConditionFailed)
}

// Get returns the campaign with its id list, or a NotFound error.
func (s *Table) Get(ctx context.Context, campaignID string) (*campaigns.Campaign, error) {
	c, _, err := s.get(ctx, campaignID)
	return c, err
}

// get also returns the number of id list chunks stored.
func (s *Table) get(ctx context.Context, campaignID string) (*campaigns.Campaign, int, error) {
	op := "get campaign " + campaignID
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), skCampaign),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, 0, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return nil, 0, campaigns.NotFound(campaignID)
	}
	var it campaignItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, 0, fmt.Errorf("%s: decode: %w", op, err)
	}
	c, err := it.campaign()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: decode: %w", op, err)
	}
	if it.IDChunks > 0 {
		data, err := s.readChunks(ctx, op, campaignID, pfxIDs, it.IDChunks)
		if err != nil {
			return nil, 0, err
		}
		c.Audience.CustomerIDs = strings.Split(data, "\n")
	}
	return c, it.IDChunks, nil
}

// readChunks reads the n chunks of a whole under prefix and joins them.
func (s *Table) readChunks(ctx context.Context, op, campaignID, prefix string, n int) (string, error) {
	kc := expression.Key(ddb.AttrPK).Equal(expression.Value(campaignPK(campaignID))).
		And(expression.Key(ddb.AttrSK).BeginsWith(prefix))
	items, err := s.query(ctx, op, kc, true)
	if err != nil {
		return "", err
	}
	if len(items) < n {
		return "", fmt.Errorf("%s: %d of %d chunks of %s", op, len(items), n, prefix)
	}
	parts := make([]string, n)
	for i, raw := range items[:n] {
		var ci chunkItem
		if err := attributevalue.UnmarshalMap(raw, &ci); err != nil {
			return "", fmt.Errorf("%s: decode: %w", op, err)
		}
		if ci.SK != chunkSK(prefix, i) {
			return "", fmt.Errorf("%s: chunk %d of %s is missing", op, i, prefix)
		}
		parts[i] = ci.Data
	}
	return strings.Join(parts, "\n"), nil
}

// query reads every item matching kc.
func (s *Table) query(ctx context.Context, op string, kc expression.KeyConditionBuilder, consistent bool) ([]map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(consistent)}
	var items []map[string]types.AttributeValue
	err = s.pages(ctx, op, in, func(page []map[string]types.AttributeValue) error {
		items = append(items, page...)
		return nil
	})
	return items, err
}

// pages runs a Query to its end, handing each page's items to fn.
func (s *Table) pages(ctx context.Context, op string, in *dynamodb.QueryInput, fn func([]map[string]types.AttributeValue) error) error {
	for p := dynamodb.NewQueryPaginator(s.DB, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return ddb.Classify(op, err)
		}
		if err := fn(out.Items); err != nil {
			return err
		}
	}
	return nil
}

// List returns a page of campaigns, newest first, by Query on list-index.
// Listed campaigns carry no customer ids.
func (s *Table) List(ctx context.Context, limit int, cursor string) (campaigns.Page, error) {
	op := "list campaigns"
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrListPK).Equal(expression.Value(listPK))).Build()
	if err != nil {
		return campaigns.Page{}, fmt.Errorf("%s: build expression: %w", op, err)
	}
	in := &dynamodb.QueryInput{TableName: &s.Table, IndexName: aws.String(ListIndex), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		var c campaigns.ListCursor
		if !ddb.OpenCursor(cursor, &c) || !c.Valid() {
			return campaigns.Page{}, campaigns.ErrCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrListPK: &types.AttributeValueMemberS{Value: listPK}, attrListSK: &types.AttributeValueMemberS{Value: c.Key},
			ddb.AttrPK: &types.AttributeValueMemberS{Value: campaignPK(c.ID())}, ddb.AttrSK: &types.AttributeValueMemberS{Value: skCampaign}}
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return campaigns.Page{}, ddb.Classify(op, err)
	}
	page := campaigns.Page{Campaigns: make([]*campaigns.Campaign, 0, len(out.Items))}
	for _, raw := range out.Items {
		var it campaignItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return campaigns.Page{}, fmt.Errorf("%s: decode: %w", op, err)
		}
		c, err := it.campaign()
		if err != nil {
			return campaigns.Page{}, fmt.Errorf("%s: decode: %w", op, err)
		}
		page.Campaigns = append(page.Campaigns, c)
	}
	if lek, ok := out.LastEvaluatedKey[attrListSK].(*types.AttributeValueMemberS); ok {
		page.Next = ddb.SealCursor(campaigns.ListCursor{Key: lek.Value})
	}
	return page, nil
}

// Update reads the campaign, applies change and writes the result on the
// condition that the stored version is the one read, reading again and
// retrying when another writer got there first. The id list is rewritten
// only when change altered it.
func (s *Table) Update(ctx context.Context, campaignID string, change func(*campaigns.Campaign) error) (*campaigns.Campaign, error) {
	op := "update campaign " + campaignID
	for attempt := 1; ; attempt++ {
		cur, idChunks, err := s.get(ctx, campaignID)
		if err != nil {
			return nil, err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return nil, err
		}
		if next.Version == cur.Version {
			return next, nil
		}
		cond := expression.Name(attrVer).Equal(expression.Value(cur.Version))
		var writes []types.TransactWriteItem
		if slices.Equal(next.Audience.CustomerIDs, cur.Audience.CustomerIDs) {
			item, err := attributevalue.MarshalMap(toItem(next, idChunks))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			expr, err := expression.NewBuilder().WithCondition(cond).Build()
			if err != nil {
				return nil, fmt.Errorf("%s: build expression: %w", op, err)
			}
			writes = []types.TransactWriteItem{{Put: &types.Put{TableName: &s.Table, Item: item, ConditionExpression: expr.Condition(),
				ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}}
		} else if writes, err = s.campaignWrites(next, idChunks, cond); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		err = s.write(ctx, writes)
		if err == nil {
			return next, nil
		}
		if !conflicted(err) {
			return nil, ddb.Classify(op, err)
		}
		if attempt == updateAttempts {
			return nil, fmt.Errorf("%s: gave up after %d attempts: %w", op, attempt, ddb.ErrRetry)
		}
	}
}

// Delete removes a campaign still at version, with its id list, in one
// transaction, then its report; members and snapshots exist only for
// launched campaigns, which are never deleted.
func (s *Table) Delete(ctx context.Context, campaignID string, version int64) error {
	op := "delete campaign " + campaignID
	_, idChunks, err := s.get(ctx, campaignID)
	if err != nil {
		return err
	}
	expr, err := expression.NewBuilder().WithCondition(expression.Name(attrVer).Equal(expression.Value(version))).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	writes := []types.TransactWriteItem{{Delete: &types.Delete{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), skCampaign),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}}
	for i := range idChunks {
		writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), chunkSK(pfxIDs, i))}})
	}
	writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), skReport)}})
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if conflicted(err) {
		return &errs.Error{Op: op, Kind: errs.Conflict, Detail: fmt.Sprintf("campaign %s changed since version %d", campaignID, version)}
	}
	return ddb.Classify(op, err)
}

// reportItem holds a report as JSON, so every number survives exactly.
type reportItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	AsOf   string `dynamodbav:"as_of"`
	Report string `dynamodbav:"report"`
}

// SaveReport replaces the campaign's latest report.
func (s *Table) SaveReport(ctx context.Context, r campaigns.Report) error {
	op := "save report of campaign " + r.CampaignID
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	item, err := attributevalue.MarshalMap(reportItem{PK: campaignPK(r.CampaignID), SK: skReport, AsOf: stamp(r.AsOf), Report: string(b)})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: item})
	return ddb.Classify(op, err)
}

// Report returns the latest report, or NotFound before the first.
func (s *Table) Report(ctx context.Context, campaignID string) (campaigns.Report, error) {
	op := "get report of campaign " + campaignID
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.Table, Key: ddb.Key(campaignPK(campaignID), skReport),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return campaigns.Report{}, ddb.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return campaigns.Report{}, &errs.Error{Op: op, Kind: errs.NotFound,
			Detail: fmt.Sprintf("campaign %s has no report yet; POST to /v1/campaigns/%s/report computes one", campaignID, campaignID)}
	}
	var it reportItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return campaigns.Report{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	var r campaigns.Report
	if err := json.Unmarshal([]byte(it.Report), &r); err != nil {
		return campaigns.Report{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	return r, nil
}
