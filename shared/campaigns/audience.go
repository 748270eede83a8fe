package campaigns

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"tailor/shared/customers"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/id"
	"tailor/shared/platform/money"
	"tailor/shared/segments"
	"tailor/shared/segments/clv"
)

// Limits of an audience.
const (
	// MaxCustomerIDs bounds an explicit customer list.
	MaxCustomerIDs = 10000
	// MaxListLen bounds every other list of an audience.
	MaxListLen = 50
)

// ChurnBands lists the churn-risk bands an audience can name.
var ChurnBands = []string{string(clv.ChurnLow), string(clv.ChurnMedium), string(clv.ChurnHigh), string(clv.ChurnVeryHigh)}

// AudienceInput is an audience as the API reads and shows it: every rule
// optional, money as decimal strings in the campaign currency, dates as
// YYYY-MM-DD.
type AudienceInput struct {
	Segments           []string   `json:"segments,omitempty"`
	Clusters           []int      `json:"clusters,omitempty"`
	ChurnRisk          []string   `json:"churn_risk,omitempty"`
	CLV12m             *RangeText `json:"clv_12m,omitempty"`
	TagsAll            []string   `json:"tags_all,omitempty"`
	TagsNone           []string   `json:"tags_none,omitempty"`
	Countries          []string   `json:"countries,omitempty"`
	LastPurchaseAfter  string     `json:"last_purchase_after,omitempty"`
	LastPurchaseBefore string     `json:"last_purchase_before,omitempty"`
	CustomerIDs        []string   `json:"customer_ids,omitempty"`
}

// RangeText is a money range as the API shows it; either end may be
// absent.
type RangeText struct {
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
}

// Audience is a validated audience: which customers a campaign targets.
// A customer belongs when every rule that is set holds (see Matcher).
type Audience struct {
	Segments  []string `dynamodbav:"segments,omitempty"`
	Clusters  []int    `dynamodbav:"clusters,omitempty"`
	ChurnRisk []string `dynamodbav:"churn_risk,omitempty"`
	// CLVMin and CLVMax bound the 12-month CLV, in minor units of the
	// campaign currency, both inclusive.
	CLVMin    *int64   `dynamodbav:"clv_min,omitempty"`
	CLVMax    *int64   `dynamodbav:"clv_max,omitempty"`
	TagsAll   []string `dynamodbav:"tags_all,omitempty"`
	TagsNone  []string `dynamodbav:"tags_none,omitempty"`
	Countries []string `dynamodbav:"countries,omitempty"`
	// LastPurchaseAfter (inclusive) and LastPurchaseBefore (exclusive)
	// bound the day of the last purchase before the launch day.
	LastPurchaseAfter  string `dynamodbav:"last_purchase_after,omitempty"`
	LastPurchaseBefore string `dynamodbav:"last_purchase_before,omitempty"`
	// CustomerIDs is sorted and without repeats. Storage keeps it apart
	// from the rest of the campaign.
	CustomerIDs []string `dynamodbav:"-"`
}

// UsesScores reports whether any rule reads the nightly scores, which
// then must come from the latest segmentation run.
func (a Audience) UsesScores() bool {
	return len(a.Segments) > 0 || len(a.Clusters) > 0 || len(a.ChurnRisk) > 0 || a.CLVMin != nil || a.CLVMax != nil
}

// Input renders a as the API shows it, money in the campaign's currency.
func (a Audience) Input(currency string) AudienceInput {
	in := AudienceInput{Segments: a.Segments, Clusters: a.Clusters, ChurnRisk: a.ChurnRisk, TagsAll: a.TagsAll,
		TagsNone: a.TagsNone, Countries: a.Countries, LastPurchaseAfter: a.LastPurchaseAfter,
		LastPurchaseBefore: a.LastPurchaseBefore, CustomerIDs: a.CustomerIDs}
	if a.CLVMin != nil || a.CLVMax != nil {
		in.CLV12m = &RangeText{}
		if a.CLVMin != nil {
			in.CLV12m.Min = money.Format(*a.CLVMin, currency)
		}
		if a.CLVMax != nil {
			in.CLV12m.Max = money.Format(*a.CLVMax, currency)
		}
	}
	return in
}

var (
	tagRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_:.-]{0,63}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// parse validates in and returns the audience it describes, adding every
// problem to v. Money is parsed in currency when currencyOK.
func (in AudienceInput) parse(v *errs.Validator, currency string, currencyOK bool) Audience {
	a := Audience{Segments: normal(in.Segments), Clusters: slices.Compact(slices.Sorted(slices.Values(in.Clusters))),
		ChurnRisk: normal(in.ChurnRisk), TagsAll: normal(in.TagsAll), TagsNone: normal(in.TagsNone),
		Countries: normal(in.Countries), LastPurchaseAfter: in.LastPurchaseAfter,
		LastPurchaseBefore: in.LastPurchaseBefore, CustomerIDs: normal(in.CustomerIDs)}
	list := func(field string, n int) bool {
		if n > MaxListLen {
			v.Add("audience."+field, "at most %d entries", MaxListLen)
			return false
		}
		return true
	}
	if list("segments", len(in.Segments)) {
		for i, s := range in.Segments {
			_, ok := segments.SegmentBySlug(s)
			v.Check(ok, fmt.Sprintf("audience.segments[%d]", i), "unknown segment %q; the segments are %s", s, strings.Join(segments.Slugs(), ", "))
		}
	}
	if list("clusters", len(in.Clusters)) {
		for i, c := range in.Clusters {
			v.Check(c >= 0, fmt.Sprintf("audience.clusters[%d]", i), "must be a cluster number, 0 or more")
		}
	}
	if list("churn_risk", len(in.ChurnRisk)) {
		for i, b := range in.ChurnRisk {
			v.Check(slices.Contains(ChurnBands, b), fmt.Sprintf("audience.churn_risk[%d]", i), "must be one of %s", strings.Join(ChurnBands, ", "))
		}
	}
	if r := in.CLV12m; r != nil {
		switch {
		case r.Min == "" && r.Max == "":
			v.Add("audience.clv_12m", "must have min, max or both")
		case currencyOK:
			a.CLVMin = amount(v, "audience.clv_12m.min", r.Min, currency)
			a.CLVMax = amount(v, "audience.clv_12m.max", r.Max, currency)
			if a.CLVMin != nil && a.CLVMax != nil && *a.CLVMin > *a.CLVMax {
				v.Add("audience.clv_12m", "min must not exceed max")
			}
		}
	}
	for field, tags := range map[string][]string{"tags_all": in.TagsAll, "tags_none": in.TagsNone} {
		if list(field, len(tags)) {
			for i, t := range tags {
				v.Check(tagRE.MatchString(t), fmt.Sprintf("audience.%s[%d]", field, i), "must be 1 to 64 characters from a-z 0-9 _ : . -")
			}
		}
	}
	for _, t := range a.TagsAll {
		v.Check(!slices.Contains(a.TagsNone, t), "audience.tags_none", "tag %q is also in tags_all, so no customer could match", t)
	}
	if list("countries", len(in.Countries)) {
		for i, c := range in.Countries {
			v.Check(countryRE.MatchString(c), fmt.Sprintf("audience.countries[%d]", i), "must be an ISO 3166-1 alpha-2 code such as GB")
		}
	}
	after, okAfter := day(v, "audience.last_purchase_after", in.LastPurchaseAfter)
	before, okBefore := day(v, "audience.last_purchase_before", in.LastPurchaseBefore)
	if okAfter && okBefore && !after.Before(before) {
		v.Add("audience.last_purchase_before", "must be after last_purchase_after")
	}
	if len(in.CustomerIDs) > MaxCustomerIDs {
		v.Add("audience.customer_ids", "at most %d customer ids", MaxCustomerIDs)
	} else {
		bad := 0
		for i, c := range in.CustomerIDs {
			if !id.Valid(c) {
				if bad++; bad <= 10 { // a few examples are enough
					v.Add(fmt.Sprintf("audience.customer_ids[%d]", i), "must be %s", id.Rule)
				}
			}
		}
	}
	if a.empty() {
		v.Add("audience", "must set at least one rule: segments, clusters, churn_risk, clv_12m, tags_all, tags_none, countries, last_purchase_after, last_purchase_before or customer_ids")
	}
	return a
}

func (a Audience) empty() bool {
	return !a.UsesScores() && len(a.TagsAll) == 0 && len(a.TagsNone) == 0 && len(a.Countries) == 0 &&
		a.LastPurchaseAfter == "" && a.LastPurchaseBefore == "" && len(a.CustomerIDs) == 0
}

// normal sorts a list and drops repeats; nil stays nil.
func normal(s []string) []string {
	if s == nil {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

func amount(v *errs.Validator, field, s, currency string) *int64 {
	if s == "" {
		return nil
	}
	minor, err := money.Parse(s, currency)
	if err != nil || minor < 0 {
		v.Add(field, "must be a decimal string in %s such as \"50.00\", not negative", currency)
		return nil
	}
	return &minor
}

func day(v *errs.Validator, field, s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(field, "must be a date, YYYY-MM-DD")
		return time.Time{}, false
	}
	return d, true
}

// CheckAgainstRun checks the rules that name parts of a segmentation run
// against the latest complete run: its segments and its clusters. run is
// nil before the first run, when no score rule can be used.
func (a Audience) CheckAgainstRun(run *segments.Report) error {
	var v errs.Validator
	if run == nil {
		v.Check(!a.UsesScores(), "audience", "segments, clusters, churn_risk and clv_12m need a segmentation run, and none has completed yet")
		return v.Err()
	}
	present := map[string]bool{}
	for _, s := range run.Segments {
		present[s.Segment] = true
	}
	for i, s := range a.Segments {
		v.Check(present[s], fmt.Sprintf("audience.segments[%d]", i), "segment %q has no customers in the latest segmentation run (%s)", s, run.RunID)
	}
	k := run.Model.Clusters.K
	for i, c := range a.Clusters {
		v.Check(c < k, fmt.Sprintf("audience.clusters[%d]", i), "the latest segmentation run (%s) has clusters 0 to %d", run.RunID, k-1)
	}
	return v.Err()
}

// Candidate is what audience rules read of one customer record: nothing
// personal beyond the country.
type Candidate struct {
	CustomerID string
	// Erased marks an erased customer's tombstone: never a member.
	Erased  bool
	Consent map[string]customers.ConsentState
	Tags    []string
	Country string
	// Scores are the customer's latest nightly scores; nil if never scored.
	Scores *customers.Scores
	// PurchaseDays are the per-UTC-day purchase amounts of the aggregates.
	PurchaseDays map[string]customers.Amounts
}

// Reachable reports whether a customer's consent allows the channel.
// Email and SMS need the matching consent granted, push needs
// personalization granted (Tailor holds no device permission; the app
// does). Onsite content is personalization, which, as for
// recommendations, only an explicit "no" turns off.
func Reachable(ch Channel, consent map[string]customers.ConsentState) bool {
	granted := func(purpose string) (bool, bool) {
		s, ok := consent[purpose]
		return s.Granted, ok
	}
	switch ch {
	case Email:
		g, _ := granted(customers.ConsentEmail)
		return g
	case SMS:
		g, _ := granted(customers.ConsentSMS)
		return g
	case Push:
		g, _ := granted(customers.ConsentPersonalization)
		return g
	case Onsite:
		g, set := granted(customers.ConsentPersonalization)
		return g || !set
	}
	return false
}

// Matcher decides membership of one campaign's audience at its launch.
type Matcher struct {
	c     *Campaign
	runID string
	// day is the launch day: purchases from it on are not "last purchases"
	// (a launch as of a past date sees the history as it was).
	day string
	ids map[string]bool
}

// NewMatcher returns the matcher of c's audience at launch day (YYYY-MM-DD),
// scores taken from segmentation run runID.
func NewMatcher(c *Campaign, runID, launchDay string) *Matcher {
	m := &Matcher{c: c, runID: runID, day: launchDay}
	if len(c.Audience.CustomerIDs) > 0 {
		m.ids = make(map[string]bool, len(c.Audience.CustomerIDs))
		for _, id := range c.Audience.CustomerIDs {
			m.ids[id] = true
		}
	}
	return m
}

// Match reports whether the customer is a member: not erased, reachable on
// the channel, and every rule of the audience holds.
func (m *Matcher) Match(cd Candidate) bool {
	a := &m.c.Audience
	if cd.Erased || !Reachable(m.c.Channel, cd.Consent) {
		return false
	}
	if m.ids != nil && !m.ids[cd.CustomerID] {
		return false
	}
	if a.UsesScores() && !m.scoresMatch(cd.Scores) {
		return false
	}
	for _, t := range a.TagsAll {
		if !slices.Contains(cd.Tags, t) {
			return false
		}
	}
	for _, t := range a.TagsNone {
		if slices.Contains(cd.Tags, t) {
			return false
		}
	}
	if len(a.Countries) > 0 && !slices.Contains(a.Countries, cd.Country) {
		return false
	}
	if a.LastPurchaseAfter != "" || a.LastPurchaseBefore != "" {
		last := LastPurchaseBefore(cd.PurchaseDays, m.day)
		if last == "" || (a.LastPurchaseAfter != "" && last < a.LastPurchaseAfter) ||
			(a.LastPurchaseBefore != "" && last >= a.LastPurchaseBefore) {
			return false
		}
	}
	return true
}

func (m *Matcher) scoresMatch(s *customers.Scores) bool {
	a := &m.c.Audience
	if s == nil || s.RunID != m.runID {
		return false
	}
	if len(a.Segments) > 0 && !slices.Contains(a.Segments, s.Segment) {
		return false
	}
	if len(a.Clusters) > 0 && !slices.Contains(a.Clusters, s.Cluster) {
		return false
	}
	if len(a.ChurnRisk) > 0 && !slices.Contains(a.ChurnRisk, s.ChurnRisk) {
		return false
	}
	if a.CLVMin != nil || a.CLVMax != nil {
		if s.Currency != m.c.Currency || (a.CLVMin != nil && s.CLV12mMinor < *a.CLVMin) || (a.CLVMax != nil && s.CLV12mMinor > *a.CLVMax) {
			return false
		}
	}
	return true
}

// LastPurchaseBefore returns the latest purchase day (any currency)
// before day, both YYYY-MM-DD, or "" when there is none.
func LastPurchaseBefore(days map[string]customers.Amounts, day string) string {
	last := ""
	for d := range days {
		if d < day && d > last {
			last = d
		}
	}
	return last
}
