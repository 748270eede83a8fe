package samtemplate

import (
	"encoding/json"
	"fmt"
)

// Table is one DynamoDB table as declared, in the shape CreateTable needs.
type Table struct {
	// LogicalID is the table's name in the template; the local physical
	// name is a prefix followed by it.
	LogicalID string
	// TableName is the TableName property, usually absent; the local
	// convention names tables by logical id instead (see Resolver.TableName).
	TableName Value
	// BillingMode is "PAY_PER_REQUEST" or "PROVISIONED".
	BillingMode            string
	AttributeDefinitions   []AttributeDefinition
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []SecondaryIndex
	LocalSecondaryIndexes  []SecondaryIndex
	// ProvisionedThroughput is set for PROVISIONED tables only.
	ProvisionedThroughput *Throughput
	// TTLAttribute names the time-to-live attribute, "" when TTL is off.
	TTLAttribute string
	// StreamViewType is StreamSpecification.StreamViewType, "" without a
	// stream.
	StreamViewType string
	// PointInTimeRecovery, SSEEnabled and DeletionProtection are the
	// table's protection switches, for checks that every table has them.
	PointInTimeRecovery bool
	SSEEnabled          bool
	DeletionProtection  bool
}

// AttributeDefinition is one key attribute and its type ("S", "N" or "B").
type AttributeDefinition struct {
	AttributeName string
	AttributeType string
}

// KeyElement is one part of a key: KeyType is "HASH" or "RANGE".
type KeyElement struct {
	AttributeName string
	KeyType       string
}

// SecondaryIndex is a global or local secondary index.
type SecondaryIndex struct {
	// IndexName and KeySchema identify the index and its keys.
	IndexName string
	KeySchema []KeyElement
	// ProjectionType is "ALL", "KEYS_ONLY" or "INCLUDE".
	ProjectionType string
	// NonKeyAttributes lists the projected attributes for INCLUDE.
	NonKeyAttributes []string
	// ProvisionedThroughput is set on PROVISIONED tables' GSIs only.
	ProvisionedThroughput *Throughput
}

// Throughput is a provisioned capacity.
type Throughput struct {
	// ReadCapacityUnits and WriteCapacityUnits are per second.
	ReadCapacityUnits  int64
	WriteCapacityUnits int64
}

// HashKey returns the partition key attribute of a key schema.
func HashKey(keys []KeyElement) string { return keyOf(keys, "HASH") }

// RangeKey returns the sort key attribute of a key schema, "" when none.
func RangeKey(keys []KeyElement) string { return keyOf(keys, "RANGE") }

func keyOf(keys []KeyElement, kind string) string {
	for _, k := range keys {
		if k.KeyType == kind {
			return k.AttributeName
		}
	}
	return ""
}

type rawIndex struct {
	IndexName  string       `json:"IndexName"`
	KeySchema  []KeyElement `json:"KeySchema"`
	Projection struct {
		ProjectionType   string   `json:"ProjectionType"`
		NonKeyAttributes []string `json:"NonKeyAttributes"`
	} `json:"Projection"`
	ProvisionedThroughput *rawThroughput `json:"ProvisionedThroughput"`
}

type rawThroughput struct {
	ReadCapacityUnits  Value `json:"ReadCapacityUnits"`
	WriteCapacityUnits Value `json:"WriteCapacityUnits"`
}

func (r *rawThroughput) read() (*Throughput, error) {
	if r == nil {
		return nil, nil
	}
	rcu, err := intValue(r.ReadCapacityUnits, nil, "ReadCapacityUnits")
	if err != nil {
		return nil, err
	}
	wcu, err := intValue(r.WriteCapacityUnits, nil, "WriteCapacityUnits")
	if err != nil {
		return nil, err
	}
	return &Throughput{ReadCapacityUnits: int64(rcu), WriteCapacityUnits: int64(wcu)}, nil
}

func readIndexes(raw []rawIndex) ([]SecondaryIndex, error) {
	var out []SecondaryIndex
	for _, r := range raw {
		tp, err := r.ProvisionedThroughput.read()
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", r.IndexName, err)
		}
		out = append(out, SecondaryIndex{
			IndexName:             r.IndexName,
			KeySchema:             r.KeySchema,
			ProjectionType:        r.Projection.ProjectionType,
			NonKeyAttributes:      r.Projection.NonKeyAttributes,
			ProvisionedThroughput: tp,
		})
	}
	return out, nil
}

func readTable(id string, props json.RawMessage) (Table, error) {
	var p struct {
		TableName              Value                 `json:"TableName"`
		BillingMode            string                `json:"BillingMode"`
		AttributeDefinitions   []AttributeDefinition `json:"AttributeDefinitions"`
		KeySchema              []KeyElement          `json:"KeySchema"`
		GlobalSecondaryIndexes []rawIndex            `json:"GlobalSecondaryIndexes"`
		LocalSecondaryIndexes  []rawIndex            `json:"LocalSecondaryIndexes"`
		ProvisionedThroughput  *rawThroughput        `json:"ProvisionedThroughput"`
		TimeToLive             *struct {
			AttributeName string `json:"AttributeName"`
			Enabled       bool   `json:"Enabled"`
		} `json:"TimeToLiveSpecification"`
		StreamSpecification *struct {
			StreamViewType string `json:"StreamViewType"`
		} `json:"StreamSpecification"`
		PointInTimeRecovery *struct {
			Enabled bool `json:"PointInTimeRecoveryEnabled"`
		} `json:"PointInTimeRecoverySpecification"`
		SSE *struct {
			Enabled bool `json:"SSEEnabled"`
		} `json:"SSESpecification"`
		DeletionProtectionEnabled bool `json:"DeletionProtectionEnabled"`
	}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &p); err != nil {
			return Table{}, fmt.Errorf("read properties: %w", err)
		}
	}
	t := Table{
		LogicalID:            id,
		TableName:            p.TableName,
		BillingMode:          p.BillingMode,
		AttributeDefinitions: p.AttributeDefinitions,
		KeySchema:            p.KeySchema,
		DeletionProtection:   p.DeletionProtectionEnabled,
	}
	if t.BillingMode == "" {
		// CloudFormation's default.
		t.BillingMode = "PROVISIONED"
	}
	var err error
	if t.GlobalSecondaryIndexes, err = readIndexes(p.GlobalSecondaryIndexes); err != nil {
		return Table{}, err
	}
	if t.LocalSecondaryIndexes, err = readIndexes(p.LocalSecondaryIndexes); err != nil {
		return Table{}, err
	}
	if t.ProvisionedThroughput, err = p.ProvisionedThroughput.read(); err != nil {
		return Table{}, err
	}
	if p.TimeToLive != nil && p.TimeToLive.Enabled {
		t.TTLAttribute = p.TimeToLive.AttributeName
	}
	if p.StreamSpecification != nil {
		t.StreamViewType = p.StreamSpecification.StreamViewType
	}
	t.PointInTimeRecovery = p.PointInTimeRecovery != nil && p.PointInTimeRecovery.Enabled
	t.SSEEnabled = p.SSE != nil && p.SSE.Enabled
	if len(t.KeySchema) == 0 {
		return Table{}, fmt.Errorf("no KeySchema")
	}
	return t, nil
}

// readSimpleTable expands AWS::Serverless::SimpleTable the way SAM does: a
// single hash key (default "id" of type String), on demand unless a
// throughput is given.
func readSimpleTable(id string, props json.RawMessage) (Table, error) {
	var p struct {
		TableName  Value `json:"TableName"`
		PrimaryKey *struct {
			Name string `json:"Name"`
			Type string `json:"Type"`
		} `json:"PrimaryKey"`
		ProvisionedThroughput *rawThroughput `json:"ProvisionedThroughput"`
		SSE                   *struct {
			Enabled bool `json:"SSEEnabled"`
		} `json:"SSESpecification"`
	}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &p); err != nil {
			return Table{}, fmt.Errorf("read properties: %w", err)
		}
	}
	name, typ := "id", "S"
	if p.PrimaryKey != nil {
		name = p.PrimaryKey.Name
		switch p.PrimaryKey.Type {
		case "String":
			typ = "S"
		case "Number":
			typ = "N"
		case "Binary":
			typ = "B"
		default:
			return Table{}, fmt.Errorf("PrimaryKey type %q", p.PrimaryKey.Type)
		}
	}
	t := Table{
		LogicalID:            id,
		TableName:            p.TableName,
		BillingMode:          "PAY_PER_REQUEST",
		AttributeDefinitions: []AttributeDefinition{{AttributeName: name, AttributeType: typ}},
		KeySchema:            []KeyElement{{AttributeName: name, KeyType: "HASH"}},
		SSEEnabled:           p.SSE != nil && p.SSE.Enabled,
	}
	tp, err := p.ProvisionedThroughput.read()
	if err != nil {
		return Table{}, err
	}
	if tp != nil {
		t.BillingMode, t.ProvisionedThroughput = "PROVISIONED", tp
	}
	return t, nil
}
