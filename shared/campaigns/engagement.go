package campaigns

import (
	"fmt"

	"tailor/shared/customers"
	"tailor/shared/events"
)

// MemberRecord is what a report reads of a member's customer record.
type MemberRecord struct {
	// PurchaseDays are the per-UTC-day purchase amounts of the aggregates.
	PurchaseDays map[string]customers.Amounts
	// Engagement is the member's engagement with this campaign (its
	// message events and its feedback); nil when there is none.
	Engagement *customers.CampaignEngagement
}

// Funnel is how far the treatment arm's members went with the campaign's
// message: of the members, how many had each message event at least once.
type Funnel struct {
	Members      int        `json:"members"`
	Delivered    FunnelStep `json:"delivered"`
	Opened       FunnelStep `json:"opened"`
	Clicked      FunnelStep `json:"clicked"`
	Unsubscribed FunnelStep `json:"unsubscribed"`
}

// FunnelStep is a count of members and its share of the arm's members,
// null when the arm is empty.
type FunnelStep struct {
	Count int      `json:"count"`
	Rate  *float64 `json:"rate"`
}

// Integrity flags what breaks the experiment's design.
type Integrity struct {
	// HoldoutEngaged counts holdout members with a message event of the
	// campaign (delivered, opened, clicked or unsubscribed): they were
	// messaged although held out, so the holdout no longer shows what
	// would have happened without the campaign.
	HoldoutEngaged int `json:"holdout_engaged"`
	// Warning explains a non-zero HoldoutEngaged; empty otherwise.
	Warning string `json:"warning,omitempty"`
}

// SatisfactionArm is the feedback naming the campaign of a group of
// members, each member's latest rating and latest NPS answer counted once.
type SatisfactionArm struct {
	// Respondents counts members with a rating or an NPS answer.
	Respondents int   `json:"respondents"`
	Ratings     int64 `json:"ratings"`
	// MeanRating is rounded to two decimals; null without ratings.
	MeanRating *float64 `json:"mean_rating"`
	NPSAnswers int64    `json:"nps_answers"`
	// NPS is promoters% - detractors%, rounded to one decimal; null
	// without answers.
	NPS *float64 `json:"nps"`
}

// Satisfaction is the campaign's feedback per arm and over both.
type Satisfaction struct {
	Treatment SatisfactionArm `json:"treatment"`
	Holdout   SatisfactionArm `json:"holdout"`
	Overall   SatisfactionArm `json:"overall"`
}

// EngagementTally counts the members' engagement with a campaign for its
// report. The zero value is empty.
type EngagementTally struct {
	members, delivered, opened, clicked, unsubscribed int
	holdoutEngaged                                    int
	respondents                                       map[Arm]int
	answers                                           map[Arm]*events.Satisfaction
}

// Add counts one observed member of arm with its engagement (nil for
// none).
func (t *EngagementTally) Add(arm Arm, e *customers.CampaignEngagement) {
	if t.answers == nil {
		t.respondents = map[Arm]int{}
		t.answers = map[Arm]*events.Satisfaction{Treatment: {}, Holdout: {}}
	}
	if arm == Treatment {
		t.members++
	}
	if e == nil {
		return
	}
	switch arm {
	case Treatment:
		t.delivered += b2i(!e.Delivered.IsZero())
		t.opened += b2i(!e.Opened.IsZero())
		t.clicked += b2i(!e.Clicked.IsZero())
		t.unsubscribed += b2i(!e.Unsubscribed.IsZero())
	case Holdout:
		t.holdoutEngaged += b2i(e.Engaged())
	}
	s := t.answers[arm]
	if s == nil {
		return
	}
	if e.Rating != nil {
		s.AddRating(e.Rating.Value)
	}
	if e.NPS != nil {
		s.AddNPS(events.NPSCategoryOf(e.NPS.Value))
	}
	if e.Rating != nil || e.NPS != nil {
		t.respondents[arm]++
	}
}

// Funnel returns the treatment arm's funnel.
func (t *EngagementTally) Funnel() Funnel {
	step := func(n int) FunnelStep {
		s := FunnelStep{Count: n}
		if t.members > 0 {
			r := float64(n) / float64(t.members)
			s.Rate = &r
		}
		return s
	}
	return Funnel{Members: t.members, Delivered: step(t.delivered), Opened: step(t.opened), Clicked: step(t.clicked),
		Unsubscribed: step(t.unsubscribed)}
}

// Integrity returns the holdout-engagement check.
func (t *EngagementTally) Integrity() Integrity {
	out := Integrity{HoldoutEngaged: t.holdoutEngaged}
	if t.holdoutEngaged > 0 {
		out.Warning = fmt.Sprintf("%d holdout member(s) have message events for this campaign: the holdout was not kept "+
			"out of the campaign, so the comparison understates its effect; suppress the holdout (GET .../audience?arm=holdout) in the sending system", t.holdoutEngaged)
	}
	return out
}

// Satisfaction returns the feedback per arm and overall.
func (t *EngagementTally) Satisfaction() Satisfaction {
	var tr, ho events.Satisfaction
	if t.answers != nil {
		tr, ho = *t.answers[Treatment], *t.answers[Holdout]
	}
	all := tr
	all.Merge(ho)
	return Satisfaction{
		Treatment: satisfactionArm(tr, t.respondents[Treatment]),
		Holdout:   satisfactionArm(ho, t.respondents[Holdout]),
		Overall:   satisfactionArm(all, t.respondents[Treatment]+t.respondents[Holdout]),
	}
}

func satisfactionArm(s events.Satisfaction, respondents int) SatisfactionArm {
	out := SatisfactionArm{Respondents: respondents, Ratings: s.Ratings, NPSAnswers: s.NPSAnswers()}
	if v, ok := s.MeanRating(); ok {
		out.MeanRating = &v
	}
	if v, ok := s.NPS(); ok {
		out.NPS = &v
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
