package campaigns

import (
	"time"

	"tailor/shared/campaigns/stats"
	"tailor/shared/customers"
)

// PrePeriodDays is the length of the pre-period whose spend is each
// member's CUPED covariate: the days before the launch day.
const PrePeriodDays = 90

// Observe reads a member's observation from the per-UTC-day purchases of
// the customer's aggregates (YYYY-MM-DD keys), in currency, for window w.
// Days compare as dates, so the window is exactly the whole days
// [w.Start, w.End) and the pre-period the PrePeriodDays before w.Start.
func Observe(arm Arm, days map[string]customers.Amounts, currency string, w Window) stats.Observation {
	o := stats.Observation{Arm: stats.Arm(arm)}
	start, end := w.Start.Format(time.DateOnly), w.End.Format(time.DateOnly)
	pre := w.Start.AddDate(0, 0, -PrePeriodDays).Format(time.DateOnly)
	for d, am := range days {
		v, ok := am[currency]
		if !ok {
			continue
		}
		switch {
		case d >= start && d < end:
			o.Revenue += v
			o.Converted = o.Converted || v > 0
		case d >= pre && d < start:
			o.PreSpend += v
		}
	}
	return o
}

// Report is a campaign's latest computed report: when it was computed,
// over which window, and the statistics of package stats over every
// assigned member (intent to treat) whose record still exists.
type Report struct {
	CampaignID string    `json:"campaign_id"`
	AsOf       time.Time `json:"as_of"`
	// WindowStart and WindowEnd are the attribution window's days,
	// [start, end).
	WindowStart string `json:"window_start"`
	WindowEnd   string `json:"window_end"`
	// Provisional until the window has closed.
	Provisional bool `json:"provisional"`
	// Erased counts members left out because the customer was erased
	// since the launch.
	Erased   int    `json:"erased_members"`
	Currency string `json:"currency"`
	// Cost is the campaign's cost as an exact decimal string, if any.
	Cost  string       `json:"cost,omitempty"`
	Stats stats.Report `json:"stats"`
	// Funnel is the treatment arm's message events, Integrity the holdout
	// members with message events, Satisfaction the feedback naming the
	// campaign: all from the members' campaign engagement (see
	// EngagementTally).
	Funnel       Funnel       `json:"funnel"`
	Integrity    Integrity    `json:"integrity"`
	Satisfaction Satisfaction `json:"satisfaction"`
}
