// Package contract is the one test suite of event bus publishers. It runs
// against the in-memory twin (package memory) and the EventBridge adapter
// talking to tailor serve's PutEvents endpoint (package eventbridge), so
// what service tests read from the twin is what a subscriber gets.
package contract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
)

// Bus is one fresh, empty bus.
type Bus struct {
	Publisher bus.Publisher
	// Published returns every entry the bus has accepted so far, oldest
	// first, as a subscriber receives them.
	Published func(t *testing.T) []bus.Entry
}

// t0 has whole seconds: EventBridge keeps event times to the second, and
// so does every adapter.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// launched is a detail shaped like an emitter's: a struct with tags.
type launched struct {
	CampaignID string `json:"campaign_id"`
	Channel    string `json:"channel"`
	Treatment  int    `json:"treatment"`
}

func event(n int) bus.Event {
	return bus.Event{
		ID:         fmt.Sprintf("test.happened:%03d", n),
		Source:     "tailor.test",
		DetailType: "test.happened",
		Detail:     map[string]int{"n": n},
		Time:       t0.Add(time.Duration(n) * time.Second),
	}
}

// Run runs the suite; open returns a fresh, empty bus for each test.
func Run(t *testing.T, open func(t *testing.T) Bus) {
	tests := []struct {
		name string
		run  func(t *testing.T, b Bus)
	}{
		{"PublishesInOrder", publishesInOrder},
		{"MoreThanOneBatch", moreThanOneBatch},
		{"LargeEventsSplitByBytes", largeEvents},
		{"InvalidPublishesNothing", invalidPublishesNothing},
		{"DetailCarryingItsID", detailCarryingItsID},
		{"NothingToPublish", nothingToPublish},
		{"CanceledContext", canceledContext},
		{"ConcurrentPublishers", concurrentPublishers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

func publish(t *testing.T, b Bus, events ...bus.Event) {
	t.Helper()
	if err := b.Publisher.Publish(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
}

func publishesInOrder(t *testing.T, b Bus) {
	publish(t, b,
		bus.Event{ID: "campaign.launched:c-1", Source: "tailor.campaigns", DetailType: "campaign.launched",
			Detail: launched{CampaignID: "c-1", Channel: "email", Treatment: 900}, Time: t0.Add(999 * time.Millisecond)},
		bus.Event{ID: "campaign.completed:c-1", Source: "tailor.campaigns", DetailType: "campaign.completed",
			Detail: map[string]any{}, Time: t0.Add(time.Hour).In(time.FixedZone("CET", 3600))},
		event(3),
	)
	want := []bus.Entry{
		{Source: "tailor.campaigns", DetailType: "campaign.launched", Time: t0,
			Detail: []byte(`{"event_id":"campaign.launched:c-1","campaign_id":"c-1","channel":"email","treatment":900}`)},
		{Source: "tailor.campaigns", DetailType: "campaign.completed", Time: t0.Add(time.Hour),
			Detail: []byte(`{"event_id":"campaign.completed:c-1"}`)},
		{Source: "tailor.test", DetailType: "test.happened", Time: t0.Add(3 * time.Second),
			Detail: []byte(`{"event_id":"test.happened:003","n":3}`)},
	}
	sameEntries(t, b.Published(t), want)
}

func moreThanOneBatch(t *testing.T, b Bus) {
	var events []bus.Event
	var want []bus.Entry
	for i := range 2*bus.MaxBatch + 3 {
		events = append(events, event(i))
		want = append(want, bus.Entry{Source: "tailor.test", DetailType: "test.happened", Time: t0.Add(time.Duration(i) * time.Second),
			Detail: []byte(fmt.Sprintf(`{"event_id":"test.happened:%03d","n":%d}`, i, i))})
	}
	publish(t, b, events...)
	sameEntries(t, b.Published(t), want)
}

func largeEvents(t *testing.T, b Bus) {
	// Five entries of about 100 KB: ten would fit one call by count, not
	// by bytes.
	pad := strings.Repeat("x", 100<<10)
	var events []bus.Event
	for i := range 5 {
		e := event(i)
		e.Detail = map[string]string{"pad": pad}
		events = append(events, e)
	}
	publish(t, b, events...)
	got := b.Published(t)
	if len(got) != len(events) {
		t.Fatalf("published %d entries, want %d", len(got), len(events))
	}
	for i, g := range got {
		if want := fmt.Sprintf(`{"event_id":"test.happened:%03d","pad":"%s"}`, i, pad); string(g.Detail) != want {
			t.Errorf("entry %d: detail of %d bytes is not what was published", i, len(g.Detail))
		}
	}
}

func invalidPublishesNothing(t *testing.T, b Bus) {
	with := func(change func(*bus.Event)) bus.Event {
		e := event(1)
		change(&e)
		return e
	}
	tests := []struct {
		name  string
		event bus.Event
		kind  errs.Kind
	}{
		{"no id", with(func(e *bus.Event) { e.ID = "" }), errs.Invalid},
		{"id with a space", with(func(e *bus.Event) { e.ID = "test happened" }), errs.Invalid},
		{"id with an empty part", with(func(e *bus.Event) { e.ID = "test.happened::1" }), errs.Invalid},
		{"id too long", with(func(e *bus.Event) { e.ID = strings.Repeat("a", bus.MaxIDLen+1) }), errs.Invalid},
		{"no source", with(func(e *bus.Event) { e.Source = "" }), errs.Invalid},
		{"AWS source", with(func(e *bus.Event) { e.Source = "aws.events" }), errs.Invalid},
		{"no detail type", with(func(e *bus.Event) { e.DetailType = "" }), errs.Invalid},
		{"no time", with(func(e *bus.Event) { e.Time = time.Time{} }), errs.Invalid},
		{"nil detail", with(func(e *bus.Event) { e.Detail = nil }), errs.Invalid},
		{"list detail", with(func(e *bus.Event) { e.Detail = []int{1, 2} }), errs.Invalid},
		{"string detail", with(func(e *bus.Event) { e.Detail = `{"n":1}` }), errs.Invalid},
		{"detail that does not encode", with(func(e *bus.Event) { e.Detail = map[string]any{"f": func() {}} }), errs.Invalid},
		{"detail with another id", with(func(e *bus.Event) { e.Detail = map[string]string{bus.DetailIDKey: "other"} }), errs.Invalid},
		{"too large", with(func(e *bus.Event) { e.Detail = map[string]string{"pad": strings.Repeat("x", bus.MaxSize)} }), errs.TooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A valid event first: a call with one invalid event sends none.
			err := b.Publisher.Publish(context.Background(), event(0), tc.event)
			if !errs.Is(err, tc.kind) {
				t.Errorf("got %v, want a %s error", err, tc.kind)
			}
		})
	}
	if got := b.Published(t); len(got) != 0 {
		t.Errorf("invalid calls published %d entries, the first %s", len(got), got[0].Detail)
	}
}

func detailCarryingItsID(t *testing.T, b Bus) {
	e := event(7)
	e.Detail = map[string]any{"n": 7, bus.DetailIDKey: e.ID}
	publish(t, b, e)
	sameEntries(t, b.Published(t), []bus.Entry{{Source: e.Source, DetailType: e.DetailType, Time: e.Time,
		Detail: []byte(`{"event_id":"test.happened:007","n":7}`)}})
}

func nothingToPublish(t *testing.T, b Bus) {
	publish(t, b)
	if got := b.Published(t); len(got) != 0 {
		t.Errorf("published %d entries for no events", len(got))
	}
}

func canceledContext(t *testing.T, b Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Publisher.Publish(ctx, event(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if got := b.Published(t); len(got) != 0 {
		t.Errorf("a canceled call published %d entries", len(got))
	}
}

func concurrentPublishers(t *testing.T, b Bus) {
	const writers, each = 6, 5
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var events []bus.Event
			for i := range each {
				events = append(events, event(w*each+i))
			}
			errc <- b.Publisher.Publish(context.Background(), events...)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, e := range b.Published(t) {
		seen[string(e.Detail)]++
	}
	for i := range writers * each {
		if d := fmt.Sprintf(`{"event_id":"test.happened:%03d","n":%d}`, i, i); seen[d] != 1 {
			t.Errorf("event %d published %d times", i, seen[d])
		}
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), writers*each)
	}
}

func sameEntries(t *testing.T, got, want []bus.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("published %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Source != w.Source || g.DetailType != w.DetailType || !g.Time.Equal(w.Time) || g.Time.Location() != time.UTC ||
			string(g.Detail) != string(w.Detail) {
			t.Errorf("entry %d:\n got %s %s %s %s\nwant %s %s %s %s", i,
				g.Source, g.DetailType, g.Time, g.Detail, w.Source, w.DetailType, w.Time, w.Detail)
		}
	}
}
