// Package bus is how Tailor tells other systems what happened: domain
// events such as campaign.launched, published to Tailor's event bus, where
// other teams subscribe with rules (docs/events.md). It holds the Publisher
// port every emitter calls, the Event it fills in, and the one encoding and
// set of limits that every adapter applies: package eventbridge publishes
// on Amazon EventBridge (and on tailor serve's PutEvents endpoint locally),
// package memory is the twin for service and edge tests, and package
// contract is the suite both pass.
//
// It knows no feature: each emitter declares its own detail types.
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
)

// Publisher publishes events to the bus.
//
// Publish checks every event before it sends any, so an invalid event
// (errs.Invalid, errs.TooLarge) publishes nothing. It returns nil once the
// bus has accepted every event. On any other error some events may have
// been accepted, and a bus may deliver an event more than once in any case:
// a caller retries the whole call with the same events, and subscribers
// drop repeats by the event id in the detail (DetailIDKey).
// Implementations must be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, events ...Event) error
}

// Event is one fact to publish.
type Event struct {
	// ID is the event's stable id: the same fact always gets the same id,
	// made of the ids that identify it joined by ":" (for example
	// "campaign.launched:" and the campaign id), so a retried emission
	// carries the id of the first. It travels in the detail as
	// DetailIDKey: the bus assigns its own envelope id to every delivery.
	ID string
	// Source names the emitter: "tailor." and the feature, e.g.
	// "tailor.campaigns".
	Source string
	// DetailType is the event's type, e.g. "campaign.launched".
	DetailType string
	// Detail is the event's body: a value that encodes as a JSON object (a
	// struct or a map), with no personal data.
	Detail any
	// Time is when the fact happened; a retried emission carries the same
	// time. The bus keeps it to the second.
	Time time.Time
}

// DetailIDKey is the detail field that carries Event.ID.
const DetailIDKey = "event_id"

// Limits of one PutEvents call, which every adapter keeps to.
const (
	// MaxBatch is the most entries one call carries.
	MaxBatch = 10
	// MaxSize is the most bytes the entries of one call may add up to,
	// counted as Entry.Size counts them; one entry may not exceed it either.
	MaxSize = 256 << 10
	// MaxIDLen is the longest Event.ID accepted, in bytes.
	MaxIDLen = 256
)

// Entry is an event encoded for the bus: what a subscriber's rule matches
// and its target receives, apart from the envelope fields the bus adds.
type Entry struct {
	Source     string
	DetailType string
	// Time is the event's, in UTC, to the second as EventBridge keeps it.
	Time time.Time
	// Detail is a compact JSON object holding the event id as DetailIDKey:
	// its first field, unless the emitter's detail already carried it.
	Detail json.RawMessage
}

// Size is the entry's size as EventBridge counts it against MaxSize: 14
// bytes for the time and the UTF-8 bytes of the source, detail type and
// detail.
func (e Entry) Size() int { return 14 + len(e.Source) + len(e.DetailType) + len(e.Detail) }

// Encode checks an event and returns the entry it becomes: the detail
// encoded as JSON with the event's id as its first field. It fails with
// errs.Invalid for a missing field, an id that is not ids joined by ":"
// (package id's rule for each) or longer than MaxIDLen, a reserved
// "aws." source, a detail that is not a JSON object or that holds another
// event id, and errs.TooLarge for an entry over MaxSize.
func Encode(e Event) (Entry, error) {
	var v errs.Validator
	v.Check(validID(e.ID), "id", "must be ids joined by \":\", each %s, at most %d bytes in all", id.Rule, MaxIDLen)
	v.Check(e.Source != "", "source", "is required")
	v.Check(!strings.HasPrefix(e.Source, "aws."), "source", "must not start with \"aws.\", which AWS reserves for its services")
	v.Check(e.DetailType != "", "detail_type", "is required")
	v.Check(!e.Time.IsZero(), "time", "is required: when the fact happened")
	detail, err := encodeDetail(e.ID, e.Detail)
	if err != nil {
		v.Add("detail", "%s", err.Error())
	}
	if err := v.Err(); err != nil {
		return Entry{}, err
	}
	ent := Entry{Source: e.Source, DetailType: e.DetailType, Time: e.Time.UTC().Truncate(time.Second), Detail: detail}
	if n := ent.Size(); n > MaxSize {
		return Entry{}, errs.E(errs.TooLarge, fmt.Sprintf("event %s is %d bytes; the bus takes at most %d", e.ID, n, MaxSize))
	}
	return ent, nil
}

// EncodeAll encodes events in order, failing on the first that Encode
// refuses, so that an adapter checks a whole call before sending any of it.
func EncodeAll(events []Event) ([]Entry, error) {
	out := make([]Entry, len(events))
	for i, e := range events {
		ent, err := Encode(e)
		if err != nil {
			return nil, fmt.Errorf("event %d (%s %s): %w", i, e.DetailType, e.ID, err)
		}
		out[i] = ent
	}
	return out, nil
}

// Batches splits entries, in order, into groups that one PutEvents call
// accepts: at most MaxBatch entries adding up to at most MaxSize bytes.
// Every entry must already be within MaxSize (Encode sees to it).
func Batches(entries []Entry) [][]Entry {
	var out [][]Entry
	start, size := 0, 0
	for i, e := range entries {
		if i > start && (i-start == MaxBatch || size+e.Size() > MaxSize) {
			out = append(out, entries[start:i:i])
			start, size = i, 0
		}
		size += e.Size()
	}
	if start < len(entries) {
		out = append(out, entries[start:])
	}
	return out
}

// validID holds event ids to the one id rule (package id): ids joined by
// ":", which keeps them safe in logs, keys and rule patterns.
func validID(s string) bool {
	if len(s) > MaxIDLen {
		return false
	}
	for part := range strings.SplitSeq(s, ":") {
		if !id.Valid(part) {
			return false
		}
	}
	return true
}

// encodeDetail encodes the detail and puts the event id first in it. The
// emitter's own field order is kept, so documented examples read as sent.
func encodeDetail(eventID string, detail any) (json.RawMessage, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return nil, fmt.Errorf("does not encode as JSON: %w", err)
	}
	// json.Marshal output is compact: an object starts with '{' and has
	// no space before its first key.
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("must encode as a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("must encode as a JSON object")
	}
	idJSON, _ := json.Marshal(eventID)
	if have, ok := fields[DetailIDKey]; ok {
		var s string
		if json.Unmarshal(have, &s) != nil || s != eventID {
			return nil, fmt.Errorf("holds %s %s, which is not the event's id", DetailIDKey, have)
		}
		return b, nil
	}
	out := make([]byte, 0, len(b)+len(DetailIDKey)+len(idJSON)+4)
	out = append(out, `{"`+DetailIDKey+`":`...)
	out = append(out, idJSON...)
	if string(b) != "{}" {
		out = append(out, ',')
		out = append(out, b[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}
