package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/campaigns"
	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/pii"
	"tailor/shared/platform/schema"
)

// Customers reads the customers table for audiences, reports and contact
// details: the Customers port of package service. It never writes.
type Customers struct {
	DB    ddb.DB
	Table string
	// PII opens the sealed personal fields of a record, for contact
	// details; nil reads only records written without encryption.
	PII *pii.Sealer
	// Segments is the number of parallel scan segments; 8 when 0.
	Segments int
}

// candidateItem is what an audience reads of a customer record.
type candidateItem struct {
	PK      string                            `dynamodbav:"pk"`
	Consent map[string]customers.ConsentState `dynamodbav:"consent"`
	Tags    []string                          `dynamodbav:"tags"`
	Profile struct {
		Country string `dynamodbav:"country"`
		Email   string `dynamodbav:"email"`
		Phone   string `dynamodbav:"phone"`
	} `dynamodbav:"profile"`
	Scores *customers.Scores `dynamodbav:"scores"`
	Agg    struct {
		Days map[string]customers.Amounts `dynamodbav:"days"`
		// Camps holds at most the one campaign a report projects.
		Camps map[string]customers.CampaignEngagement `dynamodbav:"camps"`
	} `dynamodbav:"agg"`
	ErasedAt any    `dynamodbav:"erased_at"`
	PII      []byte `dynamodbav:"pii"`
}

func (it candidateItem) customerID() string { return strings.TrimPrefix(it.PK, schema.PfxCustomer) }

func (it candidateItem) candidate() campaigns.Candidate {
	return campaigns.Candidate{CustomerID: it.customerID(), Erased: it.ErasedAt != nil, Consent: it.Consent, Tags: it.Tags,
		Country: it.Profile.Country, Scores: it.Scores, PurchaseDays: it.Agg.Days}
}

// The projections of each read: an audience's rules, a report's
// purchases (and the campaign's engagement, see outcomeNames), contact
// details.
var (
	audienceAttrs = []string{ddb.AttrPK, "consent", "tags", "profile.country", "scores", "agg.days", schema.AttrErasedAt}
	purchaseAttrs = []string{ddb.AttrPK, "agg.days", schema.AttrErasedAt}
	presentAttrs  = []string{ddb.AttrPK, schema.AttrErasedAt}
	contactAttrs  = []string{ddb.AttrPK, schema.AttrErasedAt, "pii", "profile.email", "profile.phone"}
)

func names(attrs []string) []expression.NameBuilder {
	out := make([]expression.NameBuilder, len(attrs))
	for i, a := range attrs {
		out[i] = expression.Name(a)
	}
	return out
}

func projection(attrs []string) expression.ProjectionBuilder {
	n := names(attrs)
	return expression.NamesList(n[0], n[1:]...)
}

// outcomeNames projects a report's read: the purchases and only the
// entry of the campaign in agg.camps (a campaign id may hold dots, so it
// is one name, not a path).
func outcomeNames(campaignID string) expression.ProjectionBuilder {
	n := names(purchaseAttrs)
	n = append(n, expression.Name("agg.camps").AppendName(expression.NameNoDotSplit(campaignID)))
	return expression.NamesList(n[0], n[1:]...)
}

// Scan reads every customer record by parallel Scan, projecting what
// audiences read, and hands each page to fn (concurrently for different
// segments).
func (s *Customers) Scan(ctx context.Context, fn func([]campaigns.Candidate) error) error {
	sc, ok := s.DB.(ddb.Scanner)
	if !ok {
		return fmt.Errorf("scan customers: the database client cannot Scan")
	}
	expr, err := expression.NewBuilder().
		WithFilter(expression.Name(ddb.AttrPK).BeginsWith(schema.PfxCustomer).And(expression.Name(ddb.AttrSK).Equal(expression.Value(schema.SkProfile)))).
		WithProjection(projection(audienceAttrs)).Build()
	if err != nil {
		return fmt.Errorf("scan customers: build expression: %w", err)
	}
	segments := s.Segments
	if segments <= 0 {
		segments = 8
	}
	in := &dynamodb.ScanInput{TableName: &s.Table, FilterExpression: expr.Filter(), ProjectionExpression: expr.Projection(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}
	return ddb.ParallelScan(ctx, sc, in, segments, func(_ int, items []map[string]types.AttributeValue) error {
		page := make([]campaigns.Candidate, 0, len(items))
		for _, raw := range items {
			var it candidateItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return fmt.Errorf("scan customers: decode: %w", err)
			}
			page = append(page, it.candidate())
		}
		return fn(page)
	})
}

// read gets the named customer records with BatchGetItem, projecting
// attrs.
func (s *Customers) read(ctx context.Context, op string, customerIDs []string, attrs []string) ([]candidateItem, error) {
	return s.readProjected(ctx, op, customerIDs, projection(attrs))
}

// readProjected gets the named customer records with BatchGetItem,
// projecting proj.
func (s *Customers) readProjected(ctx context.Context, op string, customerIDs []string, proj expression.ProjectionBuilder) ([]candidateItem, error) {
	if len(customerIDs) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, len(customerIDs))
	for i, id := range customerIDs {
		keys[i] = schema.CustomerKey(id)
	}
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return nil, fmt.Errorf("%s: build expression: %w", op, err)
	}
	raws, err := ddb.Retry{}.BatchGet(ctx, s.DB, ddb.Get{Table: s.Table, Keys: keys, Projection: &expr})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]candidateItem, len(raws))
	for i, raw := range raws {
		if err := attributevalue.UnmarshalMap(raw, &out[i]); err != nil {
			return nil, fmt.Errorf("%s: decode: %w", op, err)
		}
	}
	return out, nil
}

// Candidates returns the records of the named customers that exist.
func (s *Customers) Candidates(ctx context.Context, customerIDs []string) ([]campaigns.Candidate, error) {
	items, err := s.read(ctx, "read listed customers", customerIDs, audienceAttrs)
	if err != nil {
		return nil, err
	}
	out := make([]campaigns.Candidate, len(items))
	for i, it := range items {
		out[i] = it.candidate()
	}
	return out, nil
}

// Outcomes returns the per-day purchases and the engagement with the
// campaign of the named customers that exist and are not erased. It reads
// only the campaign's entry of the engagement map.
func (s *Customers) Outcomes(ctx context.Context, campaignID string, customerIDs []string) (map[string]campaigns.MemberRecord, error) {
	items, err := s.readProjected(ctx, "read members' purchases and engagement", customerIDs, outcomeNames(campaignID))
	if err != nil {
		return nil, err
	}
	out := make(map[string]campaigns.MemberRecord, len(items))
	for _, it := range items {
		if it.ErasedAt != nil {
			continue
		}
		m := campaigns.MemberRecord{PurchaseDays: it.Agg.Days}
		if m.PurchaseDays == nil {
			m.PurchaseDays = map[string]customers.Amounts{}
		}
		if e, ok := it.Agg.Camps[campaignID]; ok {
			m.Engagement = &e
		}
		out[it.customerID()] = m
	}
	return out, nil
}

// contact is the part of a record's sealed personal fields a campaign
// reaches a member by.
type contact struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// Contacts returns an entry for each named customer that exists and is
// not erased: with open, its email and phone, the sealed fields opened
// (records written before encryption are read as they are).
func (s *Customers) Contacts(ctx context.Context, customerIDs []string, open bool) (map[string]campaigns.Contact, error) {
	attrs := presentAttrs
	if open {
		attrs = contactAttrs
	}
	items, err := s.read(ctx, "read members' records", customerIDs, attrs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]campaigns.Contact, len(items))
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	for _, it := range items {
		if it.ErasedAt != nil {
			continue
		}
		id := it.customerID()
		if !open {
			out[id] = campaigns.Contact{}
			continue
		}
		wg.Go(func() {
			ct, err := s.open(ctx, id, it)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			out[id] = ct
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}

func (s *Customers) open(ctx context.Context, customerID string, it candidateItem) (campaigns.Contact, error) {
	ct := campaigns.Contact{Email: it.Profile.Email, Phone: it.Profile.Phone}
	if len(it.PII) == 0 {
		return ct, nil
	}
	if s.PII == nil {
		return ct, fmt.Errorf("read contact of customer %s: personal fields are encrypted and no keys are configured", customerID)
	}
	plain, err := s.PII.Open(ctx, it.PII, []byte("customer/"+customerID))
	if err != nil {
		return ct, fmt.Errorf("read contact of customer %s: %w", customerID, err)
	}
	var c contact
	if err := json.Unmarshal(plain, &c); err != nil {
		return ct, fmt.Errorf("read contact of customer %s: decode: %w", customerID, err)
	}
	return campaigns.Contact{Email: c.Email, Phone: c.Phone}, nil
}
