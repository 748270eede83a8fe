package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"tailor/shared/events"
	"tailor/shared/platform/bus"
)

// Carts keeps customers' pending carts. Implementations must be safe for
// concurrent use.
type Carts interface {
	// UpdateCart reads the customer's cart (an empty one when there is
	// none) and lets update change it; when update reports a change the
	// cart is stored, or deleted once empty, unless another writer got
	// there first, in which case it reads and calls update again.
	UpdateCart(ctx context.Context, customerID string, update func(c *events.Cart) bool) error
	// DueCarts returns every cart started at or before the given time.
	DueCarts(ctx context.Context, startedBy time.Time) ([]events.Cart, error)
	// DeleteCart deletes the cart if it is still the version read and
	// reports whether it did; deleting what is gone is no error.
	DeleteCart(ctx context.Context, c events.Cart) (bool, error)
}

// Reach tells whom marketing may reach. Implementations must be safe for
// concurrent use.
type Reach interface {
	// MarketingChannels returns the channels (events' email and sms
	// consents) the customer has granted, and found false for a customer
	// who does not exist or was erased.
	MarketingChannels(ctx context.Context, customerID string) (channels []string, found bool, err error)
}

// CartWatch is the ingest store that also keeps customers' pending carts:
// after the wrapped store has appended a customer's events, the new ones
// (Accepted) that add an item to a cart, buy it or remove it update the
// customer's cart. Anonymous visitors have no consent and get no cart. A
// failed cart update is logged and does not fail the events: the events
// are stored, and only that cart's reminder is at stake.
type CartWatch struct {
	Store
	Carts Carts
	Log   *slog.Logger
}

// Append appends through the wrapped store and then updates the cart.
func (w *CartWatch) Append(ctx context.Context, owner events.Owner, evs []events.Event) ([]events.Status, error) {
	st, err := w.Store.Append(ctx, owner, evs)
	if owner.CustomerID == "" || owner.AnonymousID != "" {
		return st, err
	}
	var fresh []events.Event
	for k, e := range evs {
		if k < len(st) && st[k] == events.Accepted {
			fresh = append(fresh, e)
		}
	}
	if !events.CartEvents(fresh) {
		return st, err
	}
	if cerr := w.Carts.UpdateCart(ctx, owner.CustomerID, func(c *events.Cart) bool { return c.Apply(fresh) }); cerr != nil && w.Log != nil {
		w.Log.WarnContext(ctx, "cart not updated", "customerId", owner.CustomerID, "error", cerr.Error())
	}
	return st, err
}

// SourceEvents is the bus source of the events ingestion derives.
const SourceEvents = "tailor.events"

// TypeCartAbandoned is the detail type of an abandoned cart.
const TypeCartAbandoned = "cart.abandoned"

// CartAbandoned is the detail of cart.abandoned: ids and times only.
type CartAbandoned struct {
	CustomerID string `json:"customer_id"`
	// Items are the cart's items not bought since they were added, in id
	// order.
	Items []string `json:"items"`
	// StartedAt is the cart's first add_to_cart.
	StartedAt time.Time `json:"started_at"`
	// DelayMinutes is the delay after which the cart counted as abandoned.
	DelayMinutes int64 `json:"delay_minutes"`
	// Channels are the marketing channels the customer has consented to.
	Channels []string `json:"channels"`
}

// AbandonedEvent is the cart.abandoned event of a cart: its id is the
// cart's, so every emission of one cart is the same event, and its time is
// when the cart counted as abandoned.
func AbandonedEvent(c events.Cart, delay time.Duration, channels []string) bus.Event {
	return bus.Event{ID: TypeCartAbandoned + ":" + c.CartID(), Source: SourceEvents, DetailType: TypeCartAbandoned,
		Time: c.AbandonedAt(delay), Detail: CartAbandoned{CustomerID: c.CustomerID, Items: c.ItemIDs(),
			StartedAt: c.Started.UTC(), DelayMinutes: int64(delay / time.Minute), Channels: channels}}
}

// Abandoner is the scheduled job that announces abandoned carts.
type Abandoner struct {
	Carts Carts
	Reach Reach
	Bus   bus.Publisher
	// Delay is how long after its first add a cart with items not bought
	// counts as abandoned; events.DefaultAbandonDelay when 0.
	Delay time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// AbandonReport counts what one run of the job did.
type AbandonReport struct {
	Due       int `json:"due"`
	Published int `json:"published"`
	// NoConsent counts carts of customers without a marketing consent,
	// Gone those of customers erased or never created: dropped unsent.
	NoConsent int `json:"no_consent"`
	Gone      int `json:"gone"`
}

func (a *Abandoner) delay() time.Duration {
	if a.Delay > 0 {
		return a.Delay
	}
	return events.DefaultAbandonDelay
}

// Run announces every cart started at least the delay ago and deletes it.
// A cart goes out once: its event is published before its cart is
// deleted, so a crash in between publishes the same event (same id) on
// the next run, and a deleted cart is never announced again. A cart whose
// customer has no marketing consent, or was erased, is deleted unsent.
func (a *Abandoner) Run(ctx context.Context) (AbandonReport, error) {
	var rep AbandonReport
	delay := a.delay()
	due, err := a.Carts.DueCarts(ctx, a.Now().Add(-delay))
	if err != nil {
		return rep, fmt.Errorf("abandoned carts: %w", err)
	}
	rep.Due = len(due)
	for _, c := range due {
		channels, found, err := a.Reach.MarketingChannels(ctx, c.CustomerID)
		if err != nil {
			return rep, fmt.Errorf("abandoned cart of customer %s: %w", c.CustomerID, err)
		}
		switch {
		case !found:
			rep.Gone++
		case len(channels) == 0:
			rep.NoConsent++
		default:
			if err := a.Bus.Publish(ctx, AbandonedEvent(c, delay, channels)); err != nil {
				return rep, fmt.Errorf("abandoned cart of customer %s: %w", c.CustomerID, err)
			}
			rep.Published++
		}
		if _, err := a.Carts.DeleteCart(ctx, c); err != nil {
			return rep, fmt.Errorf("abandoned cart of customer %s: %w", c.CustomerID, err)
		}
	}
	if a.Log != nil {
		a.Log.InfoContext(ctx, "abandoned carts", "due", rep.Due, "published", rep.Published,
			"noConsent", rep.NoConsent, "gone", rep.Gone)
	}
	return rep, nil
}

// Handle serves the schedule's invocation; the event's content does not
// matter, the job runs as of now.
func (a *Abandoner) Handle(ctx context.Context, _ json.RawMessage) (AbandonReport, error) {
	return a.Run(ctx)
}
