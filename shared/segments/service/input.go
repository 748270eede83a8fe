package service

import (
	"fmt"
	"time"

	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

// Outcome says what Derive made of a customer record.
type Outcome int

// The outcomes. Only Scored customers enter the models.
const (
	// Scored: at least one purchase day before the as-of date in the job's
	// currency.
	Scored Outcome = iota
	// NoPurchase: no purchase day before the as-of date in any currency
	// (a browser, or a customer whose purchases all came later).
	NoPurchase
	// OtherCurrency: purchases before the as-of date, but none in the job's
	// currency. Amounts are never converted between currencies.
	OtherCurrency
)

// AsOfDate normalises a run date: the UTC calendar day of t. Purchases on
// days strictly before it count, so a run "as of 2011-12-10" sees
// everything up to the end of 2011-12-09 and a nightly run just after
// midnight sees all of yesterday.
func AsOfDate(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseAsOf reads an as-of date given as RFC 3339 or YYYY-MM-DD and
// normalises it with AsOfDate.
func ParseAsOf(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1990 || t.Year() > 9999 {
				break
			}
			return AsOfDate(t), nil
		}
	}
	var v errs.Validator
	v.Add("as_of", "must be an RFC 3339 timestamp or YYYY-MM-DD from 1990 on")
	return time.Time{}, v.Err()
}

// RunID is the run's id: the as-of date, YYYY-MM-DD. It depends on nothing
// else, so re-running a date overwrites that date's run with identical
// results rather than adding a second one.
func RunID(asOf time.Time) string { return AsOfDate(asOf).Format(time.DateOnly) }

// civilDay parses YYYY-MM-DD into days since 1970-01-01 without the cost
// of time.Parse, which matters at a million customers.
func civilDay(s string) (int, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	num := func(b string) (int, bool) {
		n := 0
		for i := 0; i < len(b); i++ {
			if b[i] < '0' || b[i] > '9' {
				return 0, false
			}
			n = n*10 + int(b[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	// Howard Hinnant's days_from_civil.
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468, true
}

// Derive turns a customer's purchase days into the model input as of
// asOf (a date from AsOfDate), in one currency: purchase days are the days
// before asOf with an amount in that currency; frequency is their number;
// recency t_x and age T count days from the first of them; spend is the
// sum of their amounts and repeat spend the sum over all but the first.
// Refunds are not netted: the aggregates keep them per currency, not per
// day, and the RFM and spend models describe buying behaviour. The latest
// rating and NPS answer count when given before asOf: the aggregates keep
// only the latest answers, so a customer whose latest answer came later
// has none for this run (a backfill never sees the future).
func Derive(c segments.CustomerDays, asOf time.Time, currency string) (segments.Customer, Outcome, error) {
	end := int(asOf.Unix() / 86400)
	first, last, n := 0, 0, 0
	var total, firstAmount int64
	other := false
	for day, am := range c.Days {
		d, ok := civilDay(day)
		if !ok {
			return segments.Customer{}, 0, fmt.Errorf("customer %s: purchase day %q is not YYYY-MM-DD", c.CustomerID, day)
		}
		if d >= end {
			continue
		}
		v, ok := am[currency]
		if !ok {
			other = other || len(am) > 0
			continue
		}
		if v < 0 {
			return segments.Customer{}, 0, fmt.Errorf("customer %s: negative purchase amount on %s", c.CustomerID, day)
		}
		total += v
		if n == 0 || d < first {
			first, firstAmount = d, v
		}
		if n == 0 || d > last {
			last = d
		}
		n++
	}
	if n == 0 {
		if other {
			return segments.Customer{}, OtherCurrency, nil
		}
		return segments.Customer{}, NoPurchase, nil
	}
	out := segments.Customer{
		CustomerID: c.CustomerID, PurchaseDays: n, RecencyDays: last - first, AgeDays: end - first,
		TotalSpend: total, RepeatSpend: total - firstAmount,
	}
	if r := c.LastRating; r != nil && r.At.Before(asOf) {
		out.Rating = r.Value
	}
	if a := c.LastNPS; a != nil && a.At.Before(asOf) {
		out.NPS = events.NPSCategoryOf(a.Value)
	}
	return out, Scored, nil
}
