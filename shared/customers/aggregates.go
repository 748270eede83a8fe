package customers

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"tailor/shared/events"
	"tailor/shared/platform/money"
)

// Bounds of the aggregates, so a customer record stays far below
// DynamoDB's 400 KB item limit.
const (
	// MaxRecent is the length of the recent-interactions list.
	MaxRecent = 50
	// AffinityMonths is the window of category affinity: months from
	// last_seen's month back to AffinityMonths-1 months earlier.
	AffinityMonths = 12
	// EventDaysKept is the window of EventDays: the newest day with an
	// event and the EventDaysKept-1 days before it.
	EventDaysKept = 120
)

// Affinity weights per event type: how strongly an event says "this
// customer likes this category". Integers keep aggregation exact.
var affinityWeight = map[events.Type]int64{
	events.View:      1,
	events.AddToCart: 3,
	events.Purchase:  5,
}

// Amounts is money per ISO 4217 currency in minor units. Currencies are
// never converted or added to each other.
type Amounts map[string]int64

// MarshalJSON writes each amount as an exact decimal string.
func (a Amounts) MarshalJSON() ([]byte, error) {
	out := make(map[string]string, len(a))
	for cur, minor := range a {
		out[cur] = money.Format(minor, cur)
	}
	return json.Marshal(out)
}

// Interaction is one entry of the recent-interactions list the
// recommender reads.
type Interaction struct {
	EventID  string      `json:"event_id" dynamodbav:"e"`
	Type     events.Type `json:"type" dynamodbav:"t"`
	ItemID   string      `json:"item_id" dynamodbav:"i"`
	Category string      `json:"category,omitempty" dynamodbav:"c,omitempty"`
	Time     time.Time   `json:"timestamp" dynamodbav:"ts"`
}

// after orders interactions newest first, ties broken by event id, so the
// list is the same whatever order events arrived in.
func after(a, b Interaction) int {
	if c := b.Time.Compare(a.Time); c != 0 {
		return c
	}
	return strings.Compare(b.EventID, a.EventID)
}

// Aggregates are the running totals ingestion keeps on a customer record.
// Every field is a commutative, idempotent-under-dedup function of the set
// of distinct events (min/max of times, integer sums, a set union, a top-N
// by (time, event id), sums per month, latest answers by (time, event id),
// latest times per campaign under a floor that only rises),
// so the result does not depend on the order events arrive in.
type Aggregates struct {
	// FirstSeen and LastSeen are the earliest and latest time of an event
	// the shopper made (events.Type.ByShopper): a delivered message is not
	// the customer being seen. Zero when there is none.
	FirstSeen      time.Time `json:"first_seen,omitzero" dynamodbav:"first_seen"`
	LastSeen       time.Time `json:"last_seen,omitzero" dynamodbav:"last_seen"`
	LastPurchaseAt time.Time `json:"last_purchase_at,omitzero" dynamodbav:"last_purchase_at,omitempty"`
	// Events counts distinct events of every type.
	Events int64 `json:"events" dynamodbav:"events"`
	// Orders is the number of distinct order ids of purchases.
	Orders int64 `json:"orders" dynamodbav:"orders"`
	// OrderIDs holds distinct order ids, sorted: Apply counts an order id
	// in Orders only when it is not already here. Folded in memory it
	// holds every order id; a store that keeps a customer's order ids
	// apart from the record (they are unbounded) loads only those it needs
	// before folding (see Orders), so on a stored record it may hold a
	// subset (a String Set when stored).
	OrderIDs []string `json:"-" dynamodbav:"order_ids,stringset,omitempty"`
	// Units is the number of units purchased; RefundedUnits of units refunded.
	Units         int64 `json:"units" dynamodbav:"units"`
	RefundedUnits int64 `json:"refunded_units" dynamodbav:"refunded_units"`
	// Revenue sums price x quantity of purchases; Refunds of refunds. Both
	// per currency, exact.
	Revenue     Amounts `json:"revenue" dynamodbav:"revenue"`
	Refunds     Amounts `json:"refunds" dynamodbav:"refunds"`
	Views       int64   `json:"views" dynamodbav:"views"`
	CartAdds    int64   `json:"cart_adds" dynamodbav:"cart_adds"`
	CartRemoves int64   `json:"cart_removes" dynamodbav:"cart_removes"`
	Searches    int64   `json:"searches" dynamodbav:"searches"`
	// Affinity holds weighted event counts per month (yyyy-mm) and top
	// category, for the AffinityMonths months ending at LastSeen's month.
	Affinity map[string]map[string]int64 `json:"category_affinity" dynamodbav:"affinity"`
	// Recent is the MaxRecent newest item interactions, newest first.
	Recent []Interaction `json:"recent_interactions" dynamodbav:"recent"`
	// Purchased counts purchase events and the latest purchase time per
	// item, for "buy again" and for excluding what was bought. It grows
	// with the distinct items a customer buys (about 50 bytes each).
	Purchased map[string]ItemPurchases `json:"-" dynamodbav:"purchased"`
	// PurchaseDays sums purchases per UTC day (yyyy-mm-dd) and currency:
	// what the nightly models need (repeat transactions are purchase days,
	// as in the BG/NBD and Gamma-Gamma papers).
	PurchaseDays map[string]Amounts `json:"-" dynamodbav:"days"`
	// EventDays counts the customer's events per UTC day (yyyy-mm-dd),
	// over the EventDaysKept days ending on the newest: the shop's events
	// per day are their sum over all records.
	EventDays map[string]int64 `json:"-" dynamodbav:"evdays,omitempty"`
	// Feedback sums the customer's feedback events; nil before the first.
	Feedback *Feedback `json:"feedback,omitempty" dynamodbav:"feedback,omitempty"`
	// Campaigns is the customer's engagement per campaign id: the message
	// events and the campaign's feedback, for campaign reports. At most
	// MaxCampaigns campaigns, the most recent by latest event time; what
	// is at or before CampaignFloor has been forgotten to keep that bound
	// (see trimCampaigns). About 150 bytes per campaign.
	Campaigns     map[string]CampaignEngagement `json:"-" dynamodbav:"camps"`
	CampaignFloor time.Time                     `json:"-" dynamodbav:"camps_floor,omitempty"`
}

// ItemPurchases is one item's purchase history for a customer.
type ItemPurchases struct {
	Count int64     `json:"count" dynamodbav:"n"`
	Last  time.Time `json:"last" dynamodbav:"l"`
}

// NewAggregates returns empty aggregates.
func NewAggregates() *Aggregates {
	return &Aggregates{Revenue: Amounts{}, Refunds: Amounts{}, Affinity: map[string]map[string]int64{},
		Recent: []Interaction{}, Purchased: map[string]ItemPurchases{}, PurchaseDays: map[string]Amounts{},
		Campaigns: map[string]CampaignEngagement{}}
}

// Clone returns a deep copy of a.
func (a *Aggregates) Clone() *Aggregates {
	c := *a
	c.OrderIDs = slices.Clone(a.OrderIDs)
	c.Revenue = maps.Clone(a.Revenue)
	c.Refunds = maps.Clone(a.Refunds)
	c.Affinity = make(map[string]map[string]int64, len(a.Affinity))
	for m, cats := range a.Affinity {
		c.Affinity[m] = maps.Clone(cats)
	}
	c.Recent = slices.Clone(a.Recent)
	c.Purchased = maps.Clone(a.Purchased)
	c.PurchaseDays = make(map[string]Amounts, len(a.PurchaseDays))
	for d, am := range a.PurchaseDays {
		c.PurchaseDays[d] = maps.Clone(am)
	}
	c.EventDays = maps.Clone(a.EventDays)
	c.Feedback = a.Feedback.clone()
	c.Campaigns = make(map[string]CampaignEngagement, len(a.Campaigns))
	for id, ce := range a.Campaigns {
		c.Campaigns[id] = ce.clone()
	}
	c.normalise()
	return &c
}

// normalise replaces nil maps and slices, as decoding may leave them.
func (a *Aggregates) normalise() {
	if a.Revenue == nil {
		a.Revenue = Amounts{}
	}
	if a.Refunds == nil {
		a.Refunds = Amounts{}
	}
	if a.Affinity == nil {
		a.Affinity = map[string]map[string]int64{}
	}
	if a.Recent == nil {
		a.Recent = []Interaction{}
	}
	if a.Purchased == nil {
		a.Purchased = map[string]ItemPurchases{}
	}
	if a.PurchaseDays == nil {
		a.PurchaseDays = map[string]Amounts{}
	}
	if a.Campaigns == nil {
		a.Campaigns = map[string]CampaignEngagement{}
	}
	if a.EventDays == nil {
		a.EventDays = map[string]int64{}
	}
	if a.Feedback != nil && a.Feedback.ByTopic == nil {
		a.Feedback.ByTopic = map[events.Topic]int64{}
	}
}

// Apply folds one event into a. The caller guarantees each event is
// applied once (ingestion de-duplicates by event id before this).
func (a *Aggregates) Apply(e events.Event) {
	a.normalise()
	a.Events++
	a.EventDays[e.Time.UTC().Format(time.DateOnly)]++
	if e.Type.ByShopper() {
		if a.FirstSeen.IsZero() || e.Time.Before(a.FirstSeen) {
			a.FirstSeen = e.Time
		}
		if e.Time.After(a.LastSeen) {
			a.LastSeen = e.Time
		}
	}
	switch e.Type {
	case events.View:
		a.Views++
	case events.AddToCart:
		a.CartAdds++
	case events.RemoveFromCart:
		a.CartRemoves++
	case events.Search:
		a.Searches++
	case events.Purchase:
		if e.Time.After(a.LastPurchaseAt) {
			a.LastPurchaseAt = e.Time
		}
		a.Units += e.Quantity
		a.Revenue[e.Currency] += e.Amount()
		if i, found := slices.BinarySearch(a.OrderIDs, e.OrderID); !found {
			a.OrderIDs = slices.Insert(a.OrderIDs, i, e.OrderID)
			a.Orders++
		}
		a.addPurchased(e.ItemID, ItemPurchases{Count: 1, Last: e.Time})
		a.addDay(e.Time.UTC().Format(time.DateOnly), Amounts{e.Currency: e.Amount()})
	case events.Refund:
		a.RefundedUnits += e.Quantity
		a.Refunds[e.Currency] += e.Amount()
	case events.Feedback:
		if a.Feedback == nil {
			a.Feedback = &Feedback{ByTopic: map[events.Topic]int64{}}
		}
		a.Feedback.apply(e)
	}
	if ce, ok := engagementOf(e); ok {
		a.addCampaign(e.CampaignID, ce)
	}
	if w := affinityWeight[e.Type]; w > 0 && e.Category != "" {
		m := events.Month(e.Time)
		if a.Affinity[m] == nil {
			a.Affinity[m] = map[string]int64{}
		}
		a.Affinity[m][e.Category] += w
	}
	if e.HasItem() && (e.Type == events.View || e.Type == events.AddToCart || e.Type == events.RemoveFromCart || e.Type == events.Purchase) {
		a.Recent = append(a.Recent, Interaction{EventID: e.ID, Type: e.Type, ItemID: e.ItemID, Category: e.Category, Time: e.Time})
	}
	a.trim()
}

// Merge folds b, the aggregates of a disjoint set of events (an anonymous
// visitor's history at login), into a.
func (a *Aggregates) Merge(b *Aggregates) {
	a.normalise()
	if b == nil || b.Events == 0 {
		return
	}
	a.Events += b.Events
	if a.FirstSeen.IsZero() || (!b.FirstSeen.IsZero() && b.FirstSeen.Before(a.FirstSeen)) {
		a.FirstSeen = b.FirstSeen
	}
	if b.LastSeen.After(a.LastSeen) {
		a.LastSeen = b.LastSeen
	}
	if b.LastPurchaseAt.After(a.LastPurchaseAt) {
		a.LastPurchaseAt = b.LastPurchaseAt
	}
	// b's orders are counted unless a holds their ids already: exact when
	// b.OrderIDs holds all of b's orders and a.OrderIDs all of a's among
	// them.
	a.Orders += b.Orders
	for _, id := range b.OrderIDs {
		if _, found := slices.BinarySearch(a.OrderIDs, id); found {
			a.Orders--
		}
	}
	a.OrderIDs = slices.Compact(slices.Sorted(slices.Values(slices.Concat(a.OrderIDs, b.OrderIDs))))
	a.Units += b.Units
	a.RefundedUnits += b.RefundedUnits
	for cur, v := range b.Revenue {
		a.Revenue[cur] += v
	}
	for cur, v := range b.Refunds {
		a.Refunds[cur] += v
	}
	a.Views += b.Views
	a.CartAdds += b.CartAdds
	a.CartRemoves += b.CartRemoves
	a.Searches += b.Searches
	for m, cats := range b.Affinity {
		if a.Affinity[m] == nil {
			a.Affinity[m] = map[string]int64{}
		}
		for c, w := range cats {
			a.Affinity[m][c] += w
		}
	}
	a.Recent = append(a.Recent, b.Recent...)
	for item, p := range b.Purchased {
		a.addPurchased(item, p)
	}
	for d, am := range b.PurchaseDays {
		a.addDay(d, am)
	}
	for d, n := range b.EventDays {
		a.EventDays[d] += n
	}
	switch {
	case b.Feedback == nil:
	case a.Feedback == nil:
		a.Feedback = b.Feedback.clone()
	default:
		a.Feedback.merge(b.Feedback)
	}
	a.mergeCampaigns(b)
	a.trim()
}

func (a *Aggregates) addPurchased(itemID string, p ItemPurchases) {
	cur := a.Purchased[itemID]
	cur.Count += p.Count
	if p.Last.After(cur.Last) {
		cur.Last = p.Last
	}
	a.Purchased[itemID] = cur
}

func (a *Aggregates) addDay(day string, am Amounts) {
	if a.PurchaseDays[day] == nil {
		a.PurchaseDays[day] = Amounts{}
	}
	for cur, v := range am {
		a.PurchaseDays[day][cur] += v
	}
}

// trim applies the bounds: the newest MaxRecent interactions, the
// affinity months inside the window ending at LastSeen and the
// MaxCampaigns most recent campaigns. All depend only on the set of events
// folded so far, never on their order.
func (a *Aggregates) trim() {
	a.trimCampaigns()
	slices.SortFunc(a.Recent, after)
	if len(a.Recent) > MaxRecent {
		a.Recent = slices.Clip(a.Recent[:MaxRecent])
	}
	oldest := events.Month(time.Date(a.LastSeen.Year(), a.LastSeen.Month()-AffinityMonths+1, 1, 0, 0, 0, 0, time.UTC))
	for m := range a.Affinity {
		if m < oldest {
			delete(a.Affinity, m)
		}
	}
	var newest string
	for d := range a.EventDays {
		newest = max(newest, d)
	}
	if last, err := time.Parse(time.DateOnly, newest); err == nil {
		first := last.AddDate(0, 0, -(EventDaysKept - 1)).Format(time.DateOnly)
		for d := range a.EventDays {
			if d < first {
				delete(a.EventDays, d)
			}
		}
	}
}

// NewOrders returns the order ids of a that are not in before (both
// sorted): what folding events into aggregates holding before added.
func (a *Aggregates) NewOrders(before []string) []string {
	var out []string
	for _, id := range a.OrderIDs {
		if _, found := slices.BinarySearch(before, id); !found {
			out = append(out, id)
		}
	}
	return out
}

// Fold returns the aggregates of events, the reference the incremental
// updates must always equal.
func Fold(events []events.Event) *Aggregates {
	a := NewAggregates()
	for _, e := range events {
		a.Apply(e)
	}
	return a
}

// TopCategories sums the affinity window per category.
func (a *Aggregates) TopCategories() map[string]int64 {
	out := map[string]int64{}
	for _, cats := range a.Affinity {
		for c, w := range cats {
			out[c] += w
		}
	}
	return out
}
