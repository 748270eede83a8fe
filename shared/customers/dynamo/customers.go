// Package dynamo stores customer records on DynamoDB and erases
// customers: the customers service's Records and Privacy ports. It
// imports only the customers domain and platform packages; the key layout
// it shares with ingestion and erasure is package schema's.
//
// Access patterns:
//
//	a customer record by id            Customers pk=C#<id> sk=PROFILE       GetItem (consistent), UpdateItem
//	customers by email look-up hash    Customers index email-index          Query, then GetItem each
//	anonymous ids linked to a customer Customers pk=L#<id>                  Query (consistent)
//	a customer's history on erasure    Events    pk=H#C#<id>, H#N#<anon>    Query (consistent)
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customers"
	"tailor/shared/platform/ddb"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/pii"
	"tailor/shared/platform/schema"
)

// Customers is the customers table.
//
// Personal fields (name, email, phone, birth year, city) are stored only
// as one envelope, attribute pii, sealed by PII with the record's key as
// associated data; the email is also stored as its keyed hash, attribute
// email_idx, which index email-index serves. See docs/security.md.
type Customers struct {
	DB    ddb.DB
	Table string
	// PII seals and opens personal fields. Every function wires it; nil
	// keeps them in plaintext, for tests that do not look at encryption
	// (the end-to-end test scans every table for plaintext).
	PII *pii.Sealer
	// Index makes the email look-up hash; nil writes no hash.
	Index *pii.Index
}

// EmailIndex is the customers table's index of email look-up hashes.
const EmailIndex = "email-index"

const (
	attrPII      = "pii"
	attrEmailIdx = "email_idx"
)

// personal is the sealed part of a profile.
type personal struct {
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	BirthYear int    `json:"birth_year,omitempty"`
	City      string `json:"city,omitempty"`
}

func (p personal) empty() bool { return p == personal{} }

func splitProfile(p customers.Profile) (customers.Profile, personal) {
	pp := personal{Name: p.Name, Email: p.Email, Phone: p.Phone, BirthYear: p.BirthYear, City: p.City}
	p.Name, p.Email, p.Phone, p.BirthYear, p.City = "", "", "", 0, ""
	return p, pp
}

// customerAAD binds a customer's envelope to the customer's id, so an
// envelope copied onto another record does not open.
func customerAAD(customerID string) []byte { return []byte("customer/" + customerID) }

// customerItem is the stored shape of a customer record.
type customerItem struct {
	CustomerID string                            `dynamodbav:"customer_id"`
	Profile    customers.Profile                 `dynamodbav:"profile"`
	Consent    map[string]customers.ConsentState `dynamodbav:"consent"`
	Tags       []string                          `dynamodbav:"tags"`
	Version    int64                             `dynamodbav:"version"`
	CreatedAt  time.Time                         `dynamodbav:"created_at"`
	UpdatedAt  time.Time                         `dynamodbav:"updated_at"`
	// Agg is written only by event ingestion.
	Agg *customers.Aggregates `dynamodbav:"agg"`
	// Scores are written only by the segment job.
	Scores *customers.Scores `dynamodbav:"scores"`
	// PII is the sealed personal fields; ErasedAt marks a tombstone.
	PII      []byte     `dynamodbav:"pii"`
	ErasedAt *time.Time `dynamodbav:"erased_at"`
}

func (it customerItem) customer() *customers.Customer {
	c := &customers.Customer{ID: it.CustomerID, Profile: it.Profile, Consent: it.Consent, Tags: it.Tags,
		Version: it.Version, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Scores: it.Scores}
	if it.Agg != nil {
		c.Aggregates = it.Agg.Clone()
	}
	if c.Consent == nil {
		c.Consent = map[string]customers.ConsentState{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	return c
}

// Get returns the customer record, or a NotFound error. Reads are strongly
// consistent because they feed conditional writes and read-after-write
// clients.
func (s *Customers) Get(ctx context.Context, customerID string) (*customers.Customer, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table, Key: schema.CustomerKey(customerID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, ddb.Classify("get customer "+customerID, err)
	}
	if len(out.Item) == 0 {
		return nil, &errs.Error{Op: "get customer " + customerID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	return s.decode(ctx, customerID, out.Item)
}

func (s *Customers) decode(ctx context.Context, customerID string, item map[string]types.AttributeValue) (*customers.Customer, error) {
	var it customerItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil, fmt.Errorf("decode customer %s: %w", customerID, err)
	}
	if it.ErasedAt != nil {
		return nil, &errs.Error{Op: "get customer " + customerID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("customer %s was erased", customerID), Err: customers.ErrErased}
	}
	// A record created by event ingestion alone carries its id as well.
	it.CustomerID = customerID
	if len(it.PII) > 0 {
		if s.PII == nil {
			return nil, fmt.Errorf("decode customer %s: personal fields are encrypted and no keys are configured", customerID)
		}
		plain, err := s.PII.Open(ctx, it.PII, customerAAD(customerID))
		if err != nil {
			return nil, fmt.Errorf("decode customer %s: %w", customerID, err)
		}
		var p personal
		if err := json.Unmarshal(plain, &p); err != nil {
			return nil, fmt.Errorf("decode customer %s: personal fields: %w", customerID, err)
		}
		it.Profile.Name, it.Profile.Email, it.Profile.Phone, it.Profile.BirthYear, it.Profile.City =
			p.Name, p.Email, p.Phone, p.BirthYear, p.City
	}
	return it.customer(), nil
}

// Save writes the profile, consent and tags of c if the stored version is
// still expected (0: no profile was ever written). It leaves every other
// attribute of the record (aggregates, scores) as it is, so API writes and
// event ingestion never overwrite each other. A version mismatch is a
// Precondition error.
//
// A customer erased less than the tombstone's lifetime ago cannot be
// saved: the error is a Conflict wrapping customers.ErrErased (see
// Privacy.ClearTombstone).
func (s *Customers) Save(ctx context.Context, c *customers.Customer, expected int64) error {
	op := "save customer " + c.ID
	plainProfile, sealed := c.Profile, personal{}
	if s.PII != nil {
		plainProfile, sealed = splitProfile(c.Profile)
	}
	profile, err := attributevalue.Marshal(plainProfile)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	consent, err := attributevalue.Marshal(c.Consent)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	update := expression.Set(expression.Name("customer_id"), expression.Value(c.ID)).
		Set(expression.Name("profile"), expression.Value(profile)).
		Set(expression.Name("consent"), expression.Value(consent)).
		Set(expression.Name("tags"), expression.Value(c.Tags)).
		Set(expression.Name("version"), expression.Value(c.Version)).
		Set(expression.Name("updated_at"), expression.Value(c.UpdatedAt)).
		Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(c.CreatedAt)))
	if sealed.empty() {
		update = update.Remove(expression.Name(attrPII))
	} else {
		plain, err := json.Marshal(sealed)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		env, err := s.PII.Seal(ctx, plain, customerAAD(c.ID))
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		update = update.Set(expression.Name(attrPII), expression.Value(env))
	}
	if s.Index != nil && c.Profile.Email != "" {
		h, err := s.Index.Email(ctx, c.Profile.Email)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		update = update.Set(expression.Name(attrEmailIdx), expression.Value(h))
	} else {
		update = update.Remove(expression.Name(attrEmailIdx))
	}
	cond := expression.Name("version").AttributeNotExists()
	if expected > 0 {
		cond = expression.Name("version").Equal(expression.Value(expected))
	}
	cond = cond.And(expression.Name(schema.AttrErasedAt).AttributeNotExists())
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: schema.CustomerKey(c.ID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if _, erased := ccf.Item[schema.AttrErasedAt]; erased {
			return &errs.Error{Op: op, Kind: errs.Conflict, Err: customers.ErrErased,
				Detail: fmt.Sprintf("customer %s was erased; only an admin key can create it again", c.ID)}
		}
		return &errs.Error{Op: op, Kind: errs.Precondition,
			Detail: fmt.Sprintf("customer %s has changed since version %d", c.ID, expected)}
	}
	return ddb.Classify(op, err)
}

// FindByEmail returns the customers whose email is email (compared in
// normal form), through the keyed-hash index: the table is never searched
// by the address itself. The index is eventually consistent, so each hit
// is read back and checked.
func (s *Customers) FindByEmail(ctx context.Context, email string) ([]*customers.Customer, error) {
	if s.Index == nil {
		return nil, errors.New("find customers by email: no index key is configured")
	}
	h, err := s.Index.Email(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("find customers by email: %w", err)
	}
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrEmailIdx).Equal(expression.Value(h))).Build()
	if err != nil {
		return nil, fmt.Errorf("find customers by email: build expression: %w", err)
	}
	out, err := s.DB.Query(ctx, &dynamodb.QueryInput{TableName: &s.Table, IndexName: aws.String(EmailIndex),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
		ExpressionAttributeValues: expr.Values(), Limit: aws.Int32(20)})
	if err != nil {
		return nil, ddb.Classify("find customers by email", err)
	}
	found := []*customers.Customer{}
	for _, it := range out.Items {
		pk, _ := it[ddb.AttrPK].(*types.AttributeValueMemberS)
		if pk == nil || !strings.HasPrefix(pk.Value, schema.PfxCustomer) {
			continue
		}
		c, err := s.Get(ctx, strings.TrimPrefix(pk.Value, schema.PfxCustomer))
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if pii.NormalEmail(c.Profile.Email) == pii.NormalEmail(email) {
			found = append(found, c)
		}
	}
	return found, nil
}
