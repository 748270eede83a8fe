package segments

import (
	"tailor/shared/customers"
	"tailor/shared/platform/errs"
)

// CustomerDays is what the nightly run reads of a customer record: the id,
// the per-UTC-day purchase amounts per currency of the aggregates, and the
// latest rating and NPS answer of its feedback (nil when none).
type CustomerDays struct {
	CustomerID string
	Days       map[string]customers.Amounts
	// EventDays counts the customer's events per day (the aggregates'
	// recent window).
	EventDays  map[string]int64
	LastRating *customers.Answer
	LastNPS    *customers.Answer
	// Previous is the scores the record holds from an earlier run, nil
	// when it holds none: what the run's change events compare against.
	Previous *customers.Scores
}

// CustomerScores is one customer's scores, ready to write back.
type CustomerScores struct {
	CustomerID string
	Scores     customers.Scores
}

// Member is one customer of a segment: the id and the scores, nothing
// else (no profile attribute is ever listed).
type Member struct {
	CustomerID string           `json:"customer_id"`
	Scores     customers.Scores `json:"scores"`
}

// MemberPage is one page of a segment's members, in customer id order.
type MemberPage struct {
	Members []Member
	// Next is the cursor of the following page, "" on the last.
	Next string
}

// SegmentKey names segment slug of run runID: the members of a run's
// segment are the customers whose scores carry this key, so a customer
// scored by an earlier run and skipped by a later one is never listed as
// a member of the later run.
func SegmentKey(runID, slug string) string { return runID + "#" + slug }

// MemberCursor is the position after a page of members, sealed into an
// opaque next_cursor by the storage adapter.
type MemberCursor struct {
	// Key is the SegmentKey the cursor belongs to.
	Key string `json:"k"`
	// ID is the last customer id of the page.
	ID string `json:"c"`
}

// Valid reports whether the cursor belongs to segment key segKey and
// names a well-formed customer id.
func (c MemberCursor) Valid(segKey string) bool {
	return c.Key == segKey && customers.ValidateID(c.ID) == nil
}

// ErrCursor is the Invalid error for a members cursor that is not one the
// same segment's listing handed out.
var ErrCursor = errs.E(errs.Invalid, "cursor is not valid; use next_cursor of a previous page of the same segment")
