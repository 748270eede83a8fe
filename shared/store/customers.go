package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"tailor/shared/customer"
	"tailor/shared/errs"
)

// Customers is the customers table.
type Customers struct {
	DB    DB
	Table string
}

const skProfile = "PROFILE"

func customerKey(customerID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "C#" + customerID},
		attrSK: &types.AttributeValueMemberS{Value: skProfile},
	}
}

// customerItem is the stored shape of a customer record.
type customerItem struct {
	CustomerID string                           `dynamodbav:"customer_id"`
	Profile    customer.Profile                 `dynamodbav:"profile"`
	Consent    map[string]customer.ConsentState `dynamodbav:"consent"`
	Tags       []string                         `dynamodbav:"tags"`
	Version    int64                            `dynamodbav:"version"`
	CreatedAt  time.Time                        `dynamodbav:"created_at"`
	UpdatedAt  time.Time                        `dynamodbav:"updated_at"`
	// Agg is written only by event ingestion (see Events).
	Agg *customer.Aggregates `dynamodbav:"agg"`
	// Scores are written only by the segment job (see segments.go).
	Scores *customer.Scores `dynamodbav:"scores"`
}

func (it customerItem) customer() *customer.Customer {
	c := &customer.Customer{ID: it.CustomerID, Profile: it.Profile, Consent: it.Consent, Tags: it.Tags,
		Version: it.Version, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Scores: it.Scores}
	if it.Agg != nil {
		c.Aggregates = it.Agg.Clone()
	}
	if c.Consent == nil {
		c.Consent = map[string]customer.ConsentState{}
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	return c
}

// Get returns the customer record, or a NotFound error. Reads are strongly
// consistent because they feed conditional writes and read-after-write
// clients.
func (s *Customers) Get(ctx context.Context, customerID string) (*customer.Customer, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table, Key: customerKey(customerID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify("get customer "+customerID, err)
	}
	if len(out.Item) == 0 {
		return nil, &errs.Error{Op: "get customer " + customerID, Kind: errs.NotFound,
			Detail: fmt.Sprintf("customer %s does not exist", customerID)}
	}
	var it customerItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode customer %s: %w", customerID, err)
	}
	// A record created by event ingestion alone carries its id as well.
	it.CustomerID = customerID
	return it.customer(), nil
}

// Save writes the profile, consent and tags of c if the stored version is
// still expected (0: no profile was ever written). It leaves every other
// attribute of the record (aggregates, scores) as it is, so API writes and
// event ingestion never overwrite each other. A version mismatch is a
// Precondition error.
func (s *Customers) Save(ctx context.Context, c *customer.Customer, expected int64) error {
	op := "save customer " + c.ID
	profile, err := attributevalue.Marshal(c.Profile)
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
	cond := expression.Name("version").AttributeNotExists()
	if expected > 0 {
		cond = expression.Name("version").Equal(expression.Value(expected))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.Table, Key: customerKey(c.ID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if conditionFailed(err) {
		return &errs.Error{Op: op, Kind: errs.Precondition,
			Detail: fmt.Sprintf("customer %s has changed since version %d", c.ID, expected)}
	}
	return classify(op, err)
}

// Delete removes the customer record. With checkVersion, it removes it only
// at version expected (Precondition error otherwise). A missing record is a
// NotFound error.
func (s *Customers) Delete(ctx context.Context, customerID string, expected int64, checkVersion bool) error {
	op := "delete customer " + customerID
	cond := expression.Name(attrPK).AttributeExists()
	if checkVersion {
		cond = cond.And(expression.Name("version").Equal(expression.Value(expected)))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("%s: build expression: %w", op, err)
	}
	_, err = s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.Table, Key: customerKey(customerID),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return &errs.Error{Op: op, Kind: errs.NotFound, Detail: fmt.Sprintf("customer %s does not exist", customerID)}
		}
		return &errs.Error{Op: op, Kind: errs.Precondition,
			Detail: fmt.Sprintf("customer %s has changed since version %d", customerID, expected)}
	}
	return classify(op, err)
}
