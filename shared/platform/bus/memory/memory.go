// Package memory is the in-memory twin of the event bus: it checks events
// as the EventBridge adapter does and keeps every accepted entry in order,
// which the contract suite in package contract proves. Service and edge
// tests read what an emitter published from it, and can make a call fail
// to test how an emitter retries. No function links it.
package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"tailor/shared/platform/bus"
)

// Bus is an event bus in memory; its zero value is ready. It is safe for
// concurrent use.
type Bus struct {
	mu      sync.Mutex
	entries []bus.Entry
	fail    []failure
}

// failure is one planned failure of Publish.
type failure struct {
	err       error
	delivered bool
}

// Publish checks every event and keeps them all, or none when one is
// invalid.
func (b *Bus) Publish(ctx context.Context, events ...bus.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	entries, err := bus.EncodeAll(events)
	if err != nil {
		return fmt.Errorf("publish events: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.fail) > 0 {
		f := b.fail[0]
		b.fail = b.fail[1:]
		if f.delivered {
			b.entries = append(b.entries, entries...)
		}
		return fmt.Errorf("publish events: %w", f.err)
	}
	b.entries = append(b.entries, entries...)
	return nil
}

// FailNext makes the next Publish call that passes validation return err.
// With delivered set it keeps the events first, as when the bus accepted
// them and the answer was lost (a timeout): the case that makes
// subscribers drop repeats by event id. Calls queue: each plans one
// failure.
func (b *Bus) FailNext(err error, delivered bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = append(b.fail, failure{err: err, delivered: delivered})
}

// Entries returns every entry published so far, oldest first.
func (b *Bus) Entries() []bus.Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.entries)
}

// OfType returns the entries of one detail type, oldest first.
func (b *Bus) OfType(detailType string) []bus.Entry {
	var out []bus.Entry
	for _, e := range b.Entries() {
		if e.DetailType == detailType {
			out = append(out, e)
		}
	}
	return out
}
