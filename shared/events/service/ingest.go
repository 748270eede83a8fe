// Package service turns a batch of raw events into stored events exactly
// once: it validates and cleans each event, de-duplicates within the
// batch, looks up item categories, links anonymous visitors who log in,
// resolves owners, and hands each owner's events to storage, different
// owners concurrently. It reports one outcome per event so callers (the
// HTTP API, the SQS trigger) can ask for exactly the failed ones again.
// It holds no transport and imports no AWS package.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"tailor/shared/customers"
	"tailor/shared/events"
	"tailor/shared/platform/errs"
)

// EventStore keeps events exactly once.
type EventStore interface {
	// Append stores one owner's events exactly once and folds the new ones
	// into the owner's aggregates, returning a status per event: Accepted,
	// Duplicate (stored before with the same content) or Rejected (its id
	// was stored before with different content). On error, events without
	// a status were not applied; for an anonymous owner linked to a
	// customer meanwhile the error wraps events.ErrOwnerChanged, and for an
	// erased customer it wraps customers.ErrErased.
	Append(ctx context.Context, owner events.Owner, evs []events.Event) ([]events.Status, error)
}

// Identity links anonymous visitors to customers.
type Identity interface {
	// Link merges an anonymous visitor into a customer exactly once and
	// returns the customer the visitor belongs to (the first one it was
	// linked to).
	Link(ctx context.Context, anonID, customerID string) (string, error)
	// Resolve returns the customer of each linked anonymous id; unlinked
	// ids are absent.
	Resolve(ctx context.Context, anonIDs []string) (map[string]string, error)
}

// Categories looks up the items events are about.
type Categories interface {
	// Categories returns the top category of each known item; unknown
	// items are absent.
	Categories(ctx context.Context, itemIDs []string) (map[string]string, error)
}

// Store is all the storage ingestion needs. Implementations must be safe
// for concurrent use.
type Store interface {
	EventStore
	Identity
	Categories
}

// Reasons of rejected and failed outcomes; stable strings for clients and
// the load report.
const (
	ReasonInvalid     = "invalid_event"     // the event breaks a validation rule
	ReasonIDConflict  = "event_id_conflict" // the event id was used for a different event
	ReasonUnavailable = "unavailable"       // storage failed; retry the event
	ReasonErased      = "customer_erased"   // the customer was erased; its events are refused
)

// Outcome is what happened to one event of a batch.
type Outcome struct {
	Index   int               `json:"index"`
	EventID string            `json:"event_id,omitempty"`
	Status  events.Status     `json:"status"`
	Reason  string            `json:"reason,omitempty"`
	Detail  string            `json:"detail,omitempty"`
	Errors  []errs.FieldError `json:"errors,omitempty"`
}

// Service runs ingestion.
type Service struct {
	Store Store
	Now   func() time.Time
	// Workers bounds concurrent owners; 8 when 0.
	Workers int
	// Log receives one line per batch with failed events (how many, and
	// the first cause); nil discards it.
	Log *slog.Logger
}

// maxResolve bounds how often one owner's events are resolved again after
// a concurrent login.
const maxResolve = 3

// Ingest processes raw JSON events. prefix gives what goes before the
// field names in the errors of the event at index i ("events[3]." in the
// HTTP batch); nil puts nothing there. It never fails as a whole: every
// event gets an outcome, and storage failures are Failed outcomes.
func (s *Service) Ingest(ctx context.Context, raws []json.RawMessage, prefix func(i int) string) []Outcome {
	now := s.Now().UTC()
	out := make([]Outcome, len(raws))
	evs := make([]events.Event, len(raws))
	ok := make([]bool, len(raws))
	first := map[string]int{}
	for i, raw := range raws {
		o := &out[i]
		o.Index = i
		p := ""
		if prefix != nil {
			p = prefix(i)
		}
		in, err := events.Decode(raw, p)
		o.EventID = in.EventID
		if err == nil {
			evs[i], err = events.Validate(in, now, p)
		}
		if err != nil {
			o.Status, o.Reason = events.Rejected, ReasonInvalid
			o.Detail, o.Errors = describe(err)
			continue
		}
		if j, dup := first[in.EventID]; dup {
			if evs[j].Hash() == evs[i].Hash() {
				o.Status, o.Detail = events.Duplicate, fmt.Sprintf("same event as index %d", j)
			} else {
				o.Status, o.Reason = events.Rejected, ReasonIDConflict
				o.Detail = fmt.Sprintf("event_id is used by a different event at index %d", j)
			}
			continue
		}
		first[in.EventID] = i
		ok[i] = true
	}
	var (
		failMu   sync.Mutex
		failures int
		firstErr error
	)
	defer func() {
		if failures > 0 && s.Log != nil {
			s.Log.WarnContext(ctx, "events not stored", "failed", failures, "error", firstErr.Error())
		}
	}()
	fail := func(i int, err error) {
		if out[i].Status == "" && errors.Is(err, customers.ErrErased) {
			out[i].Status, out[i].Reason = events.Rejected, ReasonErased
			out[i].Detail = "the customer was erased; events for it are refused"
			return
		}
		if out[i].Status == "" {
			failMu.Lock()
			failures++
			if firstErr == nil {
				firstErr = err
			}
			failMu.Unlock()
			out[i].Status, out[i].Reason = events.Failed, ReasonUnavailable
			out[i].Detail = "not stored; retry this event"
			if errors.Is(err, context.DeadlineExceeded) {
				out[i].Detail = "not stored in time; retry this event"
			}
		}
	}
	valid := func() []int {
		var idx []int
		for i := range raws {
			if ok[i] && out[i].Status == "" {
				idx = append(idx, i)
			}
		}
		return idx
	}

	// Categories are looked up once per batch and stored with the event, so
	// aggregates depend only on stored events.
	var items []string
	for _, i := range valid() {
		if evs[i].HasItem() {
			items = append(items, evs[i].ItemID)
		}
	}
	if items = distinct(items); len(items) > 0 {
		cats, err := s.Store.Categories(ctx, items)
		if err != nil {
			for _, i := range valid() {
				fail(i, err)
			}
			return out
		}
		for _, i := range valid() {
			evs[i].Category = cats[evs[i].ItemID]
		}
	}

	// A login (both ids) merges the visitor before its event is applied; if
	// the merge fails the event fails too, so its retry merges again.
	type pair struct{ anon, cust string }
	links := map[pair][]int{}
	for _, i := range valid() {
		if e := evs[i]; e.CustomerID != "" && e.AnonymousID != "" {
			p := pair{e.AnonymousID, e.CustomerID}
			links[p] = append(links[p], i)
		}
	}
	for p, idx := range links {
		if _, err := s.Store.Link(ctx, p.anon, p.cust); err != nil {
			for _, i := range idx {
				fail(i, err)
			}
		}
	}

	groups := map[events.Owner][]int{}
	var anons []string
	for _, i := range valid() {
		o := events.OwnerOf(evs[i])
		if o.Anonymous() {
			anons = append(anons, o.AnonymousID)
		}
		groups[o] = append(groups[o], i)
	}
	if anons = distinct(anons); len(anons) > 0 {
		linked, err := s.Store.Resolve(ctx, anons)
		if err != nil {
			for _, a := range anons {
				for _, i := range groups[events.Owner{AnonymousID: a}] {
					fail(i, err)
				}
				delete(groups, events.Owner{AnonymousID: a})
			}
		}
		for anon, cust := range linked {
			from, to := events.Owner{AnonymousID: anon}, events.Owner{CustomerID: cust}
			groups[to] = append(groups[to], groups[from]...)
			delete(groups, from)
		}
	}

	owners := make([]events.Owner, 0, len(groups))
	for o := range groups {
		owners = append(owners, o)
	}
	jobs := make(chan events.Owner)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range min(s.workers(), len(owners)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				s.appendOwner(ctx, o, groups[o], evs, out, &mu, fail)
			}
		}()
	}
	for _, o := range owners {
		jobs <- o
	}
	close(jobs)
	wg.Wait()
	return out
}

// appendOwner writes one owner's events, following a concurrent login of
// an anonymous owner to its customer.
func (s *Service) appendOwner(ctx context.Context, o events.Owner, idx []int, evs []events.Event, out []Outcome,
	mu *sync.Mutex, fail func(int, error)) {
	slices.Sort(idx)
	for round := 1; ; round++ {
		batch := make([]events.Event, len(idx))
		for k, i := range idx {
			batch[k] = evs[i]
		}
		st, err := s.Store.Append(ctx, o, batch)
		mu.Lock()
		var rest []int
		for k, i := range idx {
			switch st[k] {
			case "":
				rest = append(rest, i)
			case events.Rejected:
				out[i].Status, out[i].Reason = events.Rejected, ReasonIDConflict
				out[i].Detail = "event_id was used before for a different event"
			default:
				out[i].Status = st[k]
			}
		}
		if err == nil || len(rest) == 0 {
			mu.Unlock()
			return
		}
		changed := errors.Is(err, events.ErrOwnerChanged) && o.Anonymous() && round < maxResolve
		if !changed {
			for _, i := range rest {
				fail(i, err)
			}
			mu.Unlock()
			return
		}
		mu.Unlock()
		linked, rerr := s.Store.Resolve(ctx, []string{o.AnonymousID})
		if rerr != nil {
			mu.Lock()
			for _, i := range rest {
				fail(i, rerr)
			}
			mu.Unlock()
			return
		}
		if cust, ok := linked[o.AnonymousID]; ok {
			o = events.Owner{CustomerID: cust}
		}
		idx = rest
	}
}

func (s *Service) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return 8
}

func distinct(xs []string) []string {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// describe gives the caller-safe message and field errors of err.
func describe(err error) (string, []errs.FieldError) {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Detail, e.Fields
	}
	return "invalid event", nil
}

// Counts sums outcomes by status.
func Counts(out []Outcome) map[events.Status]int {
	c := map[events.Status]int{}
	for _, o := range out {
		c[o.Status]++
	}
	return c
}
