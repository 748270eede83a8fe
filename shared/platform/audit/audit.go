// Package audit defines the audit trail: who (an API key, or an operator
// with AWS credentials) did what to whom, when, in which request. Entries
// are append-only. The package does no I/O.
package audit

import (
	"time"
)

// Action names what was done.
type Action string

// The audited actions.
const (
	// PIIRead: a response carried decrypted personal data.
	PIIRead Action = "pii.read"
	// CustomerLookup: customers were searched by email.
	CustomerLookup Action = "customer.lookup"
	// CustomerExport: everything about a customer was exported.
	CustomerExport Action = "customer.export"
	// CustomerErase: a customer was erased (or an erasure re-run).
	CustomerErase Action = "customer.erase"
	// CustomerRecreate: an admin created a customer again after erasure.
	CustomerRecreate Action = "customer.recreate"
	// KeyCreate and KeyRevoke: API key changes made with tailor keys.
	KeyCreate Action = "key.create"
	KeyRevoke Action = "key.revoke"
)

// Operator is the actor of changes made outside the API (tailor keys, with
// the operator's own AWS credentials), in place of a key id.
const Operator = "operator"

// Entry is one audit record.
type Entry struct {
	At time.Time `json:"at"`
	// KeyID is the API key that acted, or Operator.
	KeyID  string `json:"key_id"`
	Action Action `json:"action"`
	// Target is what was acted on: CustomerTarget or KeyTarget.
	Target string `json:"target"`
	// RequestID is API Gateway's request id, or a random id for tools.
	RequestID string `json:"request_id"`
}

// CustomerTarget names a customer as an audit target.
func CustomerTarget(customerID string) string { return "customer/" + customerID }

// KeyTarget names an API key as an audit target.
func KeyTarget(keyID string) string { return "key/" + keyID }

// Query selects entries: by Target, or by the acting KeyID (exactly one),
// in [From, To), newest first.
type Query struct {
	Target   string
	KeyID    string
	From, To time.Time
	Limit    int
	Cursor   string
}

// Page is one page of entries; Next is the cursor of the next page, ""
// at the end.
type Page struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next_cursor,omitempty"`
}
