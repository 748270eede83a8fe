// Package campaigns defines a marketing campaign and the rules around it:
// what a client may ask for (name, channel, audience rules, holdout share,
// attribution window, currency, cost, goal) and how it is validated; the
// states a campaign moves through (draft, launching, running, stopped,
// completed); the deterministic assignment of a customer to the treatment
// or the holdout arm; which customers an audience holds; and what a member
// did in the attribution window, the input of the statistics in package
// stats. It does no I/O.
package campaigns

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
	"tailor/shared/platform/money"
)

// Channel is how the treatment arm is reached. Tailor sends nothing
// itself: messaging tools read the treatment arm and report back.
type Channel string

// The channels.
const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Push   Channel = "push"
	Onsite Channel = "onsite"
)

// Channels lists the channels in a stable order.
var Channels = []Channel{Email, SMS, Push, Onsite}

// Goal is what counts as a conversion.
type Goal string

// GoalPurchase: at least one purchase day in the campaign currency inside
// the attribution window. It is the only goal so far.
const GoalPurchase Goal = "purchase"

// Limits and defaults of a campaign.
const (
	MaxNameLen             = 200
	DefaultHoldout         = 0.1
	MaxHoldout             = 0.5
	DefaultAttributionDays = 14
	MaxAttributionDays     = 90
)

// Campaign is a stored campaign. The audience's explicit customer id list
// can hold up to MaxCustomerIDs ids; the storage adapter keeps it beside
// the campaign's own item.
type Campaign struct {
	ID              string   `json:"campaign_id"`
	Name            string   `json:"name"`
	Channel         Channel  `json:"channel"`
	Audience        Audience `json:"audience"`
	Holdout         float64  `json:"holdout"`
	AttributionDays int      `json:"attribution_days"`
	Currency        string   `json:"currency"`
	// CostMinor is the campaign's cost in minor units of Currency; nil
	// when no cost was given.
	CostMinor *int64 `json:"-"`
	Goal      Goal   `json:"goal"`
	Status    Status `json:"status"`
	// Version counts changes of the stored campaign; storage writes are
	// conditional on it.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Launch is nil for a draft.
	Launch      *Launch    `json:"launch,omitempty"`
	StoppedAt   *time.Time `json:"stopped_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// Launch records a campaign's launch: its day, which segmentation run
// scored the audience, and how far the snapshot of the audience got.
type Launch struct {
	// AsOf is the launch day, YYYY-MM-DD (UTC): the first day of the
	// attribution window and the end of the pre-period.
	AsOf      string    `json:"as_of" dynamodbav:"as_of"`
	StartedAt time.Time `json:"started_at" dynamodbav:"started_at"`
	// SegmentRunID names the segmentation run whose scores the audience
	// rules were matched against ("" when none had completed).
	SegmentRunID string `json:"segment_run_id,omitempty" dynamodbav:"segment_run_id,omitempty"`
	// Snapshot is true once the audience was materialised: from then on
	// Members, Treatment and Holdout are final and only members are
	// written, from Written on.
	Snapshot bool `json:"snapshot" dynamodbav:"snapshot"`
	// SnapshotID names the stored snapshot the members are written from:
	// each attempt stores its own, and the first recorded wins, so two
	// launch requests racing can never mix two snapshots.
	SnapshotID string `json:"-" dynamodbav:"snapshot_id,omitempty"`
	Members    int    `json:"members" dynamodbav:"members"`
	Treatment  int    `json:"treatment" dynamodbav:"treatment"`
	Holdout    int    `json:"holdout" dynamodbav:"holdout"`
	// Written counts the snapshot's members (in customer id order)
	// already stored as audience members: the launch cursor.
	Written int `json:"written" dynamodbav:"written"`
	// Announced is true once campaign.launched was published.
	Announced  bool       `json:"announced" dynamodbav:"announced"`
	LaunchedAt *time.Time `json:"launched_at,omitempty" dynamodbav:"launched_at,omitempty"`
}

// Day parses the launch day.
func (l *Launch) Day() time.Time {
	d, _ := time.Parse(time.DateOnly, l.AsOf)
	return d
}

// Window is the attribution window of a launched campaign: [Start, End),
// whole UTC days.
type Window struct {
	Start time.Time
	End   time.Time
}

// Window returns the campaign's attribution window; ok is false before
// launch.
func (c *Campaign) Window() (Window, bool) {
	if c.Launch == nil {
		return Window{}, false
	}
	start := c.Launch.Day()
	return Window{Start: start, End: start.AddDate(0, 0, c.AttributionDays)}, true
}

// Input is the body of POST /v1/campaigns.
type Input struct {
	Name            string        `json:"name"`
	Channel         Channel       `json:"channel"`
	Audience        AudienceInput `json:"audience"`
	Holdout         *float64      `json:"holdout"`
	AttributionDays *int          `json:"attribution_days"`
	Currency        string        `json:"currency"`
	Cost            string        `json:"cost,omitempty"`
	Goal            Goal          `json:"goal,omitempty"`
}

// Patch is the body of PATCH /v1/campaigns/{id}: the fields to change. An
// audience replaces the whole audience; "cost": "" removes the cost.
type Patch struct {
	Name            *string        `json:"name"`
	Channel         *Channel       `json:"channel"`
	Audience        *AudienceInput `json:"audience"`
	Holdout         *float64       `json:"holdout"`
	AttributionDays *int           `json:"attribution_days"`
	Currency        *string        `json:"currency"`
	Cost            *string        `json:"cost"`
	Goal            *Goal          `json:"goal"`
}

// ValidateID checks a campaign id.
func ValidateID(campaignID string) error {
	if !id.Valid(campaignID) {
		var v errs.Validator
		v.Add("campaign_id", "must be %s", id.Rule)
		return v.Err()
	}
	return nil
}

// New validates in and returns the draft it describes, with id and the
// time now. The audience's rules are checked on their own here; whether
// its segments and clusters exist in the latest segmentation run is the
// service's to check (CheckAgainstRun).
func New(campaignID string, in Input, now time.Time) (*Campaign, error) {
	var v errs.Validator
	c := &Campaign{ID: campaignID, Name: in.Name, Channel: in.Channel, Currency: in.Currency, Goal: in.Goal,
		Holdout: DefaultHoldout, AttributionDays: DefaultAttributionDays, Status: Draft, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	if in.Holdout != nil {
		c.Holdout = *in.Holdout
	}
	if in.AttributionDays != nil {
		c.AttributionDays = *in.AttributionDays
	}
	if c.Goal == "" {
		c.Goal = GoalPurchase
	}
	c.CostMinor = c.check(&v, in.Audience, in.Cost)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Apply returns cur changed by p, validated as a whole; only a draft can
// be changed (a Conflict error otherwise).
func Apply(cur *Campaign, p Patch, now time.Time) (*Campaign, error) {
	if cur.Status != Draft {
		return nil, errs.E(errs.Conflict, fmt.Sprintf("campaign %s is %s; only a draft can be changed", cur.ID, cur.Status))
	}
	next := *cur
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&next.Name, p.Name)
	set(&next.Currency, p.Currency)
	if p.Channel != nil {
		next.Channel = *p.Channel
	}
	if p.Goal != nil {
		next.Goal = *p.Goal
	}
	if p.Holdout != nil {
		next.Holdout = *p.Holdout
	}
	if p.AttributionDays != nil {
		next.AttributionDays = *p.AttributionDays
	}
	audience := cur.Audience.Input(cur.Currency)
	if p.Audience != nil {
		audience = *p.Audience
	}
	cost := ""
	if cur.CostMinor != nil {
		cost = money.Format(*cur.CostMinor, cur.Currency)
	}
	set(&cost, p.Cost)
	var v errs.Validator
	if p == (Patch{}) {
		v.Add("body", "must change at least one field")
	}
	next.CostMinor = next.check(&v, audience, cost)
	if err := v.Err(); err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt = now
	return &next, nil
}

// check validates every field of c, parsing the audience and the cost
// (both in c's currency) into c; it returns the cost in minor units.
func (c *Campaign) check(v *errs.Validator, audience AudienceInput, cost string) *int64 {
	v.Check(printable(c.Name, MaxNameLen), "name", "is required: printable text of at most %d characters", MaxNameLen)
	v.Check(slices.Contains(Channels, c.Channel), "channel", "must be one of %s", joinChannels())
	v.Check(c.Holdout > 0 && c.Holdout <= MaxHoldout, "holdout",
		"must be a share greater than 0 and at most %g (default %g)", MaxHoldout, DefaultHoldout)
	v.Check(c.AttributionDays >= 1 && c.AttributionDays <= MaxAttributionDays, "attribution_days",
		"must be 1 to %d days (default %d)", MaxAttributionDays, DefaultAttributionDays)
	v.Check(c.Goal == GoalPurchase, "goal", "must be %q", GoalPurchase)
	_, currencyOK := money.Digits(c.Currency)
	v.Check(currencyOK, "currency", "is required: an ISO 4217 code such as GBP")
	c.Audience = audience.parse(v, c.Currency, currencyOK)
	if cost == "" || !currencyOK {
		return nil
	}
	minor, err := money.Parse(cost, c.Currency)
	switch {
	case err != nil:
		v.Add("cost", "must be a decimal string in %s such as \"250.00\": %v", c.Currency, err)
	case minor <= 0:
		v.Add("cost", "must be greater than zero")
	default:
		return &minor
	}
	return nil
}

func joinChannels() string {
	parts := make([]string, len(Channels))
	for i, ch := range Channels {
		parts[i] = string(ch)
	}
	return strings.Join(parts, ", ")
}

// printable reports non-blank, valid UTF-8 text of at most max
// characters, every one printable.
func printable(s string, max int) bool {
	return strings.TrimSpace(s) != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		!strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// Cost renders the cost as an exact decimal string, "" when none.
func (c *Campaign) Cost() string {
	if c.CostMinor == nil {
		return ""
	}
	return money.Format(*c.CostMinor, c.Currency)
}

// View is the JSON form of a campaign: the audience and the cost as the
// API reads them, and the attribution window once launched.
type View struct {
	*Campaign
	Audience AudienceInput `json:"audience"`
	Cost     string        `json:"cost,omitempty"`
	// WindowEnd is the first day after the attribution window.
	WindowEnd string `json:"window_end,omitempty"`
}

// View renders c for the API.
func (c *Campaign) View() View {
	v := View{Campaign: c, Audience: c.Audience.Input(c.Currency), Cost: c.Cost()}
	if w, ok := c.Window(); ok {
		v.WindowEnd = w.End.Format(time.DateOnly)
	}
	return v
}

// Contact is how a member is reached on the campaign's channel: personal
// data, shown only to keys with pii:read and audited.
type Contact struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// For keeps the detail the channel uses: the email for email, the phone
// for SMS, nothing for push and onsite (the app knows its devices).
func (ct Contact) For(ch Channel) Contact {
	switch ch {
	case Email:
		return Contact{Email: ct.Email}
	case SMS:
		return Contact{Phone: ct.Phone}
	}
	return Contact{}
}

// Empty reports whether there is no detail.
func (ct Contact) Empty() bool { return ct == Contact{} }

// Clone returns a deep copy of c, with times stripped of clock readings
// (as storage returns them).
func (c *Campaign) Clone() *Campaign {
	n := *c
	a := &n.Audience
	a.Segments, a.Clusters, a.ChurnRisk = slices.Clone(a.Segments), slices.Clone(a.Clusters), slices.Clone(a.ChurnRisk)
	a.TagsAll, a.TagsNone, a.Countries = slices.Clone(a.TagsAll), slices.Clone(a.TagsNone), slices.Clone(a.Countries)
	a.CustomerIDs = slices.Clone(a.CustomerIDs)
	a.CLVMin, a.CLVMax = clonePtr(a.CLVMin), clonePtr(a.CLVMax)
	n.CostMinor = clonePtr(c.CostMinor)
	n.CreatedAt, n.UpdatedAt = c.CreatedAt.Round(0), c.UpdatedAt.Round(0)
	n.StoppedAt, n.CompletedAt = cloneTime(c.StoppedAt), cloneTime(c.CompletedAt)
	if c.Launch != nil {
		l := *c.Launch
		l.StartedAt = l.StartedAt.Round(0)
		l.LaunchedAt = cloneTime(l.LaunchedAt)
		n.Launch = &l
	}
	return &n
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Round(0)
	return &v
}
