// Package events defines the behavioural events Tailor ingests (views, carts,
// purchases, refunds, searches; campaign messages delivered, opened,
// clicked, unsubscribes; feedback): the wire format, the validation and
// cleaning rules, and the content hash that tells a retried event from a
// reused event id. It does no I/O.
package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
	"tailor/shared/platform/jsonerr"
	"tailor/shared/platform/money"
)

// Type is the kind of an event.
type Type string

// The event types.
const (
	View           Type = "view"
	AddToCart      Type = "add_to_cart"
	RemoveFromCart Type = "remove_from_cart"
	Purchase       Type = "purchase"
	Refund         Type = "refund"
	Search         Type = "search"
	// The engagement with a campaign's message: each names the campaign.
	MessageDelivered Type = "message_delivered"
	MessageOpened    Type = "message_opened"
	MessageClicked   Type = "message_clicked"
	Unsubscribed     Type = "unsubscribed"
	// Feedback carries a rating and/or an NPS answer, optionally a topic,
	// a comment and the campaign it answers.
	Feedback Type = "feedback"
)

// Types lists every event type in a stable order.
var Types = []Type{View, AddToCart, RemoveFromCart, Purchase, Refund, Search,
	MessageDelivered, MessageOpened, MessageClicked, Unsubscribed, Feedback}

// Messages lists the message engagement types in funnel order.
var Messages = []Type{MessageDelivered, MessageOpened, MessageClicked, Unsubscribed}

// ByShopper reports whether events of type t are something the shopper
// did. Every type is but message_delivered, which the sending system
// reports: it does not make a customer "seen".
func (t Type) ByShopper() bool { return t != MessageDelivered }

// Limits on one event and on a batch.
const (
	// MaxBatch is the largest number of events one request may carry.
	MaxBatch = 500
	// MaxBatchBytes is the largest request body of a batch (1 MiB).
	MaxBatchBytes = 1 << 20
	// MaxEventBytes is the largest encoded single event.
	MaxEventBytes = 8 << 10
	// MaxPropertiesBytes caps the compact JSON of properties.
	MaxPropertiesBytes = 2 << 10
	// MaxProperties caps the number of top-level property keys.
	MaxProperties = 20
	// MaxQueryLen caps a search query in characters.
	MaxQueryLen = 256
	// MaxQuantity caps the quantity of one event.
	MaxQuantity = 1_000_000
	// FutureSkew is how far ahead of the server clock a timestamp may be.
	FutureSkew = 24 * time.Hour
)

// earliest is the oldest timestamp accepted: older values are typos.
var earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Input is an event as a client sends it.
type Input struct {
	EventID     string          `json:"event_id"`
	Type        Type            `json:"type"`
	CustomerID  string          `json:"customer_id,omitempty"`
	AnonymousID string          `json:"anonymous_id,omitempty"`
	ItemID      string          `json:"item_id,omitempty"`
	Quantity    *int64          `json:"quantity,omitempty"`
	Price       string          `json:"price,omitempty"`
	Currency    string          `json:"currency,omitempty"`
	OrderID     string          `json:"order_id,omitempty"`
	Timestamp   string          `json:"timestamp"`
	Channel     string          `json:"channel,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Query       string          `json:"query,omitempty"`
	CampaignID  string          `json:"campaign_id,omitempty"`
	Rating      *int            `json:"rating,omitempty"`
	NPS         *int            `json:"nps,omitempty"`
	Topic       Topic           `json:"topic,omitempty"`
	Comment     string          `json:"comment,omitempty"`
}

// Event is a validated, cleaned event. Category is not part of the input:
// ingestion looks it up in the catalog and stores it with the event, so
// that aggregates are a function of stored events only.
type Event struct {
	ID          string    `dynamodbav:"event_id"`
	Type        Type      `dynamodbav:"type"`
	CustomerID  string    `dynamodbav:"customer_id,omitempty"`
	AnonymousID string    `dynamodbav:"anonymous_id,omitempty"`
	ItemID      string    `dynamodbav:"item_id,omitempty"`
	Category    string    `dynamodbav:"category,omitempty"`
	Quantity    int64     `dynamodbav:"quantity,omitempty"`
	PriceMinor  int64     `dynamodbav:"price_minor,omitempty"`
	Currency    string    `dynamodbav:"currency,omitempty"`
	OrderID     string    `dynamodbav:"order_id,omitempty"`
	Time        time.Time `dynamodbav:"ts"`
	Channel     string    `dynamodbav:"channel,omitempty"`
	// Properties is the compact JSON object the client sent, "" for none.
	Properties string `dynamodbav:"properties,omitempty"`
	Query      string `dynamodbav:"query,omitempty"`
	// CampaignID names the campaign of a message event (always) or of a
	// feedback event (when it answers one).
	CampaignID string `dynamodbav:"campaign_id,omitempty"`
	// Rating (MinRating to MaxRating; 0 for none), NPS (MinNPS to MaxNPS;
	// nil for none), Topic and Comment are a feedback event's answers.
	// Comment is free text, kept like Properties and Query.
	Rating  int    `dynamodbav:"rating,omitempty"`
	NPS     *int   `dynamodbav:"nps,omitempty"`
	Topic   Topic  `dynamodbav:"topic,omitempty"`
	Comment string `dynamodbav:"comment,omitempty"`
}

// HasFreeText reports whether e carries free text, which may hold personal
// data: properties, a search query or a feedback comment.
func (e Event) HasFreeText() bool { return e.Properties != "" || e.Query != "" || e.Comment != "" }

// WithoutFreeText returns e without its free text, as a reader not allowed
// personal data sees it.
func (e Event) WithoutFreeText() Event {
	e.Properties, e.Query, e.Comment = "", "", ""
	return e
}

// HasItem reports whether the event is about a catalog item.
func (e Event) HasItem() bool { return e.ItemID != "" }

// Amount is price times quantity in minor units of Currency.
func (e Event) Amount() int64 { return e.PriceMinor * e.Quantity }

// Hash is a digest of the event's content. Two deliveries of the same event
// have the same hash; an event id reused for different content does not.
// The category is left out: it comes from the catalog, not the client.
// The campaign and feedback fields are hashed only when present, so the
// hashes stored for events of the first six types never change.
func (e Event) Hash() string {
	h := sha256.New()
	fields := []string{e.ID, string(e.Type), e.CustomerID, e.AnonymousID, e.ItemID,
		strconv.FormatInt(e.Quantity, 10), strconv.FormatInt(e.PriceMinor, 10), e.Currency, e.OrderID,
		e.Time.UTC().Format(time.RFC3339Nano), e.Channel, e.Properties, e.Query}
	if e.CampaignID != "" || e.Rating != 0 || e.NPS != nil || e.Topic != "" || e.Comment != "" {
		nps := ""
		if e.NPS != nil {
			nps = strconv.Itoa(*e.NPS)
		}
		fields = append(fields, e.CampaignID, strconv.Itoa(e.Rating), nps, string(e.Topic), e.Comment)
	}
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Record is an event as the history API shows it.
type Record struct {
	EventID     string          `json:"event_id"`
	Type        Type            `json:"type"`
	CustomerID  string          `json:"customer_id,omitempty"`
	AnonymousID string          `json:"anonymous_id,omitempty"`
	ItemID      string          `json:"item_id,omitempty"`
	Category    string          `json:"category,omitempty"`
	Quantity    int64           `json:"quantity,omitempty"`
	Price       string          `json:"price,omitempty"`
	Currency    string          `json:"currency,omitempty"`
	OrderID     string          `json:"order_id,omitempty"`
	Timestamp   time.Time       `json:"timestamp"`
	Channel     string          `json:"channel,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Query       string          `json:"query,omitempty"`
	CampaignID  string          `json:"campaign_id,omitempty"`
	Rating      int             `json:"rating,omitempty"`
	NPS         *int            `json:"nps,omitempty"`
	Topic       Topic           `json:"topic,omitempty"`
	Comment     string          `json:"comment,omitempty"`
}

// ToRecord renders e for the API, with the price as a decimal string.
func (e Event) ToRecord() Record {
	v := Record{EventID: e.ID, Type: e.Type, CustomerID: e.CustomerID, AnonymousID: e.AnonymousID,
		ItemID: e.ItemID, Category: e.Category, Quantity: e.Quantity, Currency: e.Currency,
		OrderID: e.OrderID, Timestamp: e.Time, Channel: e.Channel, Query: e.Query,
		CampaignID: e.CampaignID, Rating: e.Rating, NPS: e.NPS, Topic: e.Topic, Comment: e.Comment}
	if e.Currency != "" {
		v.Price = money.Format(e.PriceMinor, e.Currency)
	}
	if e.Properties != "" {
		v.Properties = json.RawMessage(e.Properties)
	}
	return v
}

// needs lists what each type requires beyond the common fields. Shopping
// types (shop) may carry item, quantity, price, order and query; the
// others may carry a campaign id (required where campaign is set) and,
// for feedback, the answers.
type needs struct {
	shop                                bool
	item, quantity, price, order, query bool
	campaign, feedback                  bool
}

var required = map[Type]needs{
	View:             {shop: true, item: true},
	AddToCart:        {shop: true, item: true},
	RemoveFromCart:   {shop: true, item: true},
	Purchase:         {shop: true, item: true, quantity: true, price: true, order: true},
	Refund:           {shop: true, item: true, quantity: true, price: true, order: true},
	Search:           {shop: true, query: true},
	MessageDelivered: {campaign: true},
	MessageOpened:    {campaign: true},
	MessageClicked:   {campaign: true},
	Unsubscribed:     {campaign: true},
	Feedback:         {feedback: true},
}

// Validate checks in against the rules of its type and returns the cleaned
// event. now is the server clock; prefix is put before field names in
// errors (for example "events[3].").
//
// Rules: event_id, customer_id, anonymous_id, item_id and order_id follow
// the id rule; at least one of customer_id and anonymous_id is present;
// timestamp is RFC 3339, not before 1990 and at most FutureSkew ahead of
// now; quantity defaults to 1 where it is optional and lies in
// 1..MaxQuantity; price is an exact decimal of currency, never negative;
// properties is a JSON object of at most MaxProperties keys and
// MaxPropertiesBytes bytes. Message types require campaign_id (id rule);
// feedback requires rating (MinRating..MaxRating) or nps (MinNPS..MaxNPS)
// or both, and may carry topic (one of Topics), comment (printable text,
// line breaks allowed, at most MaxCommentLen characters, trimmed) and
// campaign_id. Fields a type does not use are dropped, so that a view with
// a stray order_id is not counted as an order and a feedback event never
// carries an item or a price.
func Validate(in Input, now time.Time, prefix string) (Event, error) {
	var v errs.Validator
	f := func(name string) string { return prefix + name }
	v.Check(id.Valid(in.EventID), f("event_id"), "is required: %s", id.Rule)
	need, known := required[in.Type]
	if !known {
		v.Add(f("type"), "must be one of %s", joined(Types))
	}
	if in.CustomerID == "" && in.AnonymousID == "" {
		v.Add(f("customer_id"), "customer_id or anonymous_id is required")
	}
	if in.CustomerID != "" {
		v.Check(id.Valid(in.CustomerID), f("customer_id"), "must be %s", id.Rule)
	}
	if in.AnonymousID != "" {
		v.Check(id.Valid(in.AnonymousID), f("anonymous_id"), "must be %s", id.Rule)
	}
	e := Event{ID: in.EventID, Type: in.Type, CustomerID: in.CustomerID, AnonymousID: in.AnonymousID}

	ts, err := time.Parse(time.RFC3339Nano, in.Timestamp)
	switch {
	case in.Timestamp == "":
		v.Add(f("timestamp"), "is required: RFC 3339 such as 2026-11-20T10:15:00Z")
	case err != nil:
		v.Add(f("timestamp"), "must be RFC 3339 such as 2026-11-20T10:15:00Z")
	case ts.After(now.Add(FutureSkew)):
		v.Add(f("timestamp"), "is more than %s in the future", FutureSkew)
	case ts.Before(earliest):
		v.Add(f("timestamp"), "is before %d", earliest.Year())
	default:
		e.Time = ts.UTC()
	}
	if in.Channel != "" {
		v.Check(channelRE.MatchString(in.Channel), f("channel"), "must be 1 to 32 characters from a-z 0-9 _ - starting with a letter")
		e.Channel = in.Channel
	}
	if len(in.Properties) > 0 && string(in.Properties) != "null" {
		props, msg := cleanProperties(in.Properties)
		if msg != "" {
			v.Add(f("properties"), "%s", msg)
		}
		e.Properties = props
	}

	if known && need.shop {
		switch {
		case need.item:
			v.Check(id.Valid(in.ItemID), f("item_id"), "is required for %s: %s", in.Type, id.Rule)
			e.ItemID = in.ItemID
		case in.ItemID != "":
			v.Check(id.Valid(in.ItemID), f("item_id"), "must be %s", id.Rule)
			e.ItemID = in.ItemID
		}
		switch {
		case in.Quantity != nil:
			v.Check(*in.Quantity >= 1 && *in.Quantity <= MaxQuantity, f("quantity"), "must be 1 to %d", MaxQuantity)
			e.Quantity = *in.Quantity
		case need.quantity:
			v.Add(f("quantity"), "is required for %s", in.Type)
		case need.item:
			e.Quantity = 1
		}
		if in.Type == Search {
			e.Quantity = 0
		}
		if need.price || in.Price != "" || in.Currency != "" {
			e.PriceMinor, e.Currency = checkPrice(&v, prefix, in)
		}
		if need.order {
			v.Check(id.Valid(in.OrderID), f("order_id"), "is required for %s: %s", in.Type, id.Rule)
			e.OrderID = in.OrderID
		}
		if need.query {
			q := strings.TrimSpace(in.Query)
			v.Check(q != "" && printable(q) && utf8.RuneCountInString(q) <= MaxQueryLen, f("query"),
				"is required for search: printable text of at most %d characters", MaxQueryLen)
			e.Query = q
		}
	}
	if known && !need.shop {
		e.CampaignID = checkCampaign(&v, prefix, in, need)
	}
	if known && need.feedback {
		checkFeedback(&v, prefix, in, &e)
	}
	if err := v.Err(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// checkCampaign validates the campaign id of a message or feedback event.
func checkCampaign(v *errs.Validator, prefix string, in Input, need needs) string {
	switch {
	case in.CampaignID != "":
		v.Check(id.Valid(in.CampaignID), prefix+"campaign_id", "must be %s", id.Rule)
	case need.campaign:
		v.Add(prefix+"campaign_id", "is required for %s: %s", in.Type, id.Rule)
	}
	return in.CampaignID
}

// checkFeedback validates and copies a feedback event's answers.
func checkFeedback(v *errs.Validator, prefix string, in Input, e *Event) {
	if in.Rating == nil && in.NPS == nil {
		v.Add(prefix+"rating", "rating (%d to %d) or nps (%d to %d) is required for feedback", MinRating, MaxRating, MinNPS, MaxNPS)
	}
	if in.Rating != nil {
		v.Check(*in.Rating >= MinRating && *in.Rating <= MaxRating, prefix+"rating", "must be a whole number from %d to %d", MinRating, MaxRating)
		e.Rating = *in.Rating
	}
	if in.NPS != nil {
		v.Check(*in.NPS >= MinNPS && *in.NPS <= MaxNPS, prefix+"nps", "must be a whole number from %d to %d", MinNPS, MaxNPS)
		n := *in.NPS
		e.NPS = &n
	}
	if in.Topic != "" {
		v.Check(IsTopic(in.Topic), prefix+"topic", "must be one of %s", joined(Topics))
		e.Topic = in.Topic
	}
	if in.Comment != "" {
		c, ok := cleanComment(in.Comment)
		v.Check(ok, prefix+"comment", "must be printable text of at most %d characters (line breaks allowed)", MaxCommentLen)
		e.Comment = c
	}
}

// joined lists names for a message: "a, b, c".
func joined[T ~string](names []T) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

func checkPrice(v *errs.Validator, prefix string, in Input) (int64, string) {
	if _, ok := money.Digits(in.Currency); !ok {
		v.Add(prefix+"currency", "is required with a price: an ISO 4217 code such as GBP")
		return 0, ""
	}
	minor, err := money.Parse(in.Price, in.Currency)
	switch {
	case in.Price == "":
		v.Add(prefix+"price", "is required for %s: a decimal string such as \"12.50\"", in.Type)
	case err != nil:
		v.Add(prefix+"price", "must be a decimal string such as \"12.50\": %v", err)
	case minor < 0:
		v.Add(prefix+"price", "must not be negative")
	case minor > (1<<53)/MaxQuantity:
		v.Add(prefix+"price", "is too large")
	}
	return minor, in.Currency
}

// cleanProperties returns the compact form of a properties object, or a
// message saying what is wrong with it.
func cleanProperties(raw json.RawMessage) (string, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", "must be a JSON object"
	}
	if len(obj) > MaxProperties {
		return "", fmt.Sprintf("at most %d keys", MaxProperties)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", "must be a JSON object"
	}
	if buf.Len() > MaxPropertiesBytes {
		return "", fmt.Sprintf("at most %d bytes of JSON", MaxPropertiesBytes)
	}
	return buf.String(), ""
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Decode parses one event from its JSON form, rejecting unknown fields and
// events larger than MaxEventBytes. prefix is put before the messages (for
// example "events[3].").
func Decode(raw []byte, prefix string) (Input, error) {
	var in Input
	invalid := func(msg string) *errs.Error {
		return errs.E(errs.Invalid, fmt.Sprintf("%sevent is not a valid event object: %s", prefix, msg))
	}
	if len(raw) > MaxEventBytes {
		return in, errs.E(errs.Invalid, fmt.Sprintf("%sevent is %d bytes; the limit is %d", prefix, len(raw), MaxEventBytes))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return in, invalid("invalid JSON")
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			// The field is named as well, so that a client (and the SQS
			// log) learns which one, as for a rule of Validate.
			e := invalid(fmt.Sprintf("field %q must be of type %s", typ.Field, typ.Type))
			e.Fields = []errs.FieldError{{Field: prefix + typ.Field, Message: typeMessage(typ.Type)}}
			return in, e
		}
		return in, invalid("invalid JSON")
	}
	if name, ok := jsonerr.UnknownField(raw, reflect.TypeFor[Input]()); ok {
		return in, invalid(fmt.Sprintf("unknown field %q", name))
	}
	return in, nil
}

// typeMessage says what a field of type t must be, in a client's words.
func typeMessage(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.String:
		return "must be a string"
	}
	return "must be of type " + t.String()
}

// Owner is whom an event's aggregates and history belong to: a customer,
// or an anonymous visitor not (yet) linked to one.
type Owner struct {
	CustomerID  string
	AnonymousID string
}

// OwnerOf returns the event's own owner before alias resolution: the
// customer when the event names one.
func OwnerOf(e Event) Owner {
	if e.CustomerID != "" {
		return Owner{CustomerID: e.CustomerID}
	}
	return Owner{AnonymousID: e.AnonymousID}
}

// Anonymous reports whether o is an anonymous visitor.
func (o Owner) Anonymous() bool { return o.CustomerID == "" }

// ErrOwnerChanged says an anonymous visitor was linked to a customer while
// its events were being written: none of them was applied to the visitor,
// and the caller resolves the owner again and writes them to the customer.
var ErrOwnerChanged = errors.New("anonymous id was linked to a customer meanwhile")

// Status is what ingestion did with one event.
type Status string

// Statuses of an event. Accepted and Duplicate both mean "stored": the
// client must not send the event again. Rejected is final. Failed means
// "not stored, retry".
const (
	Accepted  Status = "accepted"
	Duplicate Status = "duplicate"
	Rejected  Status = "rejected"
	Failed    Status = "failed"
)

// Month is the yyyy-mm bucket of t, used by windowed aggregates.
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// Day is the yyyy-mm-dd bucket of t, used by popularity counters.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// SortKeyTime formats t with fixed width so that string order is time order.
func SortKeyTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// ParseSortKeyTime is the inverse of SortKeyTime.
func ParseSortKeyTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05.000000000Z", s)
}

// HistoryKey orders an owner's history: the event's time, then its id, so
// that keys sort by time and never collide.
func HistoryKey(e Event) string { return SortKeyTime(e.Time) + "#" + e.ID }

// ValidHistoryKey reports whether k is a key HistoryKey could have made;
// stores check the position a page cursor carries with it.
func ValidHistoryKey(k string) bool {
	ts, eventID, ok := strings.Cut(k, "#")
	_, err := ParseSortKeyTime(ts)
	return ok && err == nil && id.Valid(eventID)
}

// IsType reports whether t names an event type.
func IsType(t string) bool { return slices.Contains(Types, Type(t)) }

// HistoryQuery selects events: of one type ("" for all), with From <= time
// < To (zero for open ends), at most Limit, continuing after Cursor.
type HistoryQuery struct {
	Type   Type
	From   time.Time
	To     time.Time
	Limit  int
	Cursor string
}

// HistoryPage is one page of events, newest first, and the cursor of the
// next page ("" when there is none).
type HistoryPage struct {
	Events []Event
	Next   string
}
