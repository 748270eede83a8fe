package customers

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"tailor/shared/events"
)

// MaxCampaigns bounds Aggregates.Campaigns: the engagement of at most
// this many campaigns is kept, the most recent by latest event time.
const MaxCampaigns = 50

// CampaignEngagement is what a customer did with one campaign: the latest
// time of each message event (zero when there was none) and the latest
// rating and NPS answer of the feedback events naming the campaign. Every
// field is a maximum by time (answers by (time, event id)), so entries
// merge in any order.
type CampaignEngagement struct {
	Delivered    time.Time `json:"delivered_at,omitzero" dynamodbav:"d,omitempty"`
	Opened       time.Time `json:"opened_at,omitzero" dynamodbav:"o,omitempty"`
	Clicked      time.Time `json:"clicked_at,omitzero" dynamodbav:"c,omitempty"`
	Unsubscribed time.Time `json:"unsubscribed_at,omitzero" dynamodbav:"u,omitempty"`
	Rating       *Answer   `json:"-" dynamodbav:"r,omitempty"`
	NPS          *Answer   `json:"-" dynamodbav:"nps,omitempty"`
}

// Engaged reports whether the customer had any message event of the
// campaign (delivered, opened, clicked or unsubscribed).
func (c CampaignEngagement) Engaged() bool {
	return !c.Delivered.IsZero() || !c.Opened.IsZero() || !c.Clicked.IsZero() || !c.Unsubscribed.IsZero()
}

// Last is the latest time of anything kept for the campaign.
func (c CampaignEngagement) Last() time.Time {
	var t time.Time
	for _, u := range []time.Time{c.Delivered, c.Opened, c.Clicked, c.Unsubscribed} {
		if u.After(t) {
			t = u
		}
	}
	for _, a := range []*Answer{c.Rating, c.NPS} {
		if a != nil && a.At.After(t) {
			t = a.At
		}
	}
	return t
}

// empty reports whether nothing is kept.
func (c CampaignEngagement) empty() bool { return c.Last().IsZero() && c.Rating == nil && c.NPS == nil }

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// merge folds o into c.
func (c *CampaignEngagement) merge(o CampaignEngagement) {
	c.Delivered = maxTime(c.Delivered, o.Delivered)
	c.Opened = maxTime(c.Opened, o.Opened)
	c.Clicked = maxTime(c.Clicked, o.Clicked)
	c.Unsubscribed = maxTime(c.Unsubscribed, o.Unsubscribed)
	c.Rating = latest(c.Rating, o.Rating)
	c.NPS = latest(c.NPS, o.NPS)
}

// dropThrough forgets everything at or before floor.
func (c *CampaignEngagement) dropThrough(floor time.Time) {
	for _, t := range []*time.Time{&c.Delivered, &c.Opened, &c.Clicked, &c.Unsubscribed} {
		if !t.After(floor) {
			*t = time.Time{}
		}
	}
	if c.Rating != nil && !c.Rating.At.After(floor) {
		c.Rating = nil
	}
	if c.NPS != nil && !c.NPS.At.After(floor) {
		c.NPS = nil
	}
}

// engagementOf is what one event says about its campaign; false when it
// says nothing (not a message event, or feedback without a campaign).
func engagementOf(e events.Event) (CampaignEngagement, bool) {
	var c CampaignEngagement
	if e.CampaignID == "" {
		return c, false
	}
	switch e.Type {
	case events.MessageDelivered:
		c.Delivered = e.Time
	case events.MessageOpened:
		c.Opened = e.Time
	case events.MessageClicked:
		c.Clicked = e.Time
	case events.Unsubscribed:
		c.Unsubscribed = e.Time
	case events.Feedback:
		if e.Rating != 0 {
			c.Rating = &Answer{Value: e.Rating, At: e.Time, EventID: e.ID}
		}
		if e.NPS != nil {
			c.NPS = &Answer{Value: *e.NPS, At: e.Time, EventID: e.ID}
		}
	default:
		return c, false
	}
	return c, !c.empty()
}

// addCampaign folds one campaign's engagement into a, ignoring what is at
// or before the floor.
func (a *Aggregates) addCampaign(id string, c CampaignEngagement) {
	if !a.CampaignFloor.IsZero() {
		c.dropThrough(a.CampaignFloor)
		if c.empty() {
			return
		}
	}
	cur := a.Campaigns[id]
	cur.merge(c)
	a.Campaigns[id] = cur
}

// trimCampaigns applies the MaxCampaigns bound. While more campaigns are
// kept, the floor rises to the latest time of the most recent campaign
// that does not fit (the (MaxCampaigns+1)-th by latest time) and
// everything at or before it is forgotten: campaigns tied at that time go
// together. The floor is thereby the least event time at or below which
// forgetting leaves at most MaxCampaigns campaigns, a function of the set
// of events whatever their order; a campaign dropped once comes back only
// with events later than the floor.
func (a *Aggregates) trimCampaigns() {
	if len(a.Campaigns) <= MaxCampaigns {
		return
	}
	lasts := make([]time.Time, 0, len(a.Campaigns))
	for _, c := range a.Campaigns {
		lasts = append(lasts, c.Last())
	}
	slices.SortFunc(lasts, func(x, y time.Time) int { return y.Compare(x) })
	a.CampaignFloor = maxTime(a.CampaignFloor, lasts[MaxCampaigns])
	for id, c := range a.Campaigns {
		c.dropThrough(a.CampaignFloor)
		if c.empty() {
			delete(a.Campaigns, id)
		} else {
			a.Campaigns[id] = c
		}
	}
}

// mergeCampaigns folds b's campaigns into a: both forget what is at or
// before the higher floor, then entries merge and the bound applies.
func (a *Aggregates) mergeCampaigns(b *Aggregates) {
	if b.CampaignFloor.After(a.CampaignFloor) {
		a.CampaignFloor = b.CampaignFloor
		for id, c := range a.Campaigns {
			c.dropThrough(a.CampaignFloor)
			if c.empty() {
				delete(a.Campaigns, id)
			} else {
				a.Campaigns[id] = c
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b.Campaigns)) {
		a.addCampaign(id, b.Campaigns[id].clone())
	}
	a.trimCampaigns()
}

func (c CampaignEngagement) clone() CampaignEngagement {
	c.Rating = latest(nil, c.Rating)
	c.NPS = latest(nil, c.NPS)
	return c
}

// Campaign returns the customer's engagement with the campaign; false
// when none is kept.
func (a *Aggregates) Campaign(id string) (CampaignEngagement, bool) {
	c, ok := a.Campaigns[id]
	return c.clone(), ok
}

// campaignIDs lists the kept campaigns, most recent first (ties by id),
// for tests and displays.
func (a *Aggregates) campaignIDs() []string {
	ids := slices.Collect(maps.Keys(a.Campaigns))
	slices.SortFunc(ids, func(x, y string) int {
		return cmp.Or(a.Campaigns[y].Last().Compare(a.Campaigns[x].Last()), strings.Compare(x, y))
	})
	return ids
}
