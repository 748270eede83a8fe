package service

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"tailor/shared/events"
	"tailor/shared/platform/errs"
	"tailor/shared/segments"
)

// Outcome says what Derive made of a customer record.
type Outcome int

// The outcomes. Only Scored customers enter the models.
const (
	// Scored: at least one purchase day on or before the as-of date in the
	// job's currency.
	Scored Outcome = iota
	// NoPurchase: no purchase day on or before the as-of date in any
	// currency (a browser, or a customer whose purchases all came later).
	NoPurchase
	// OtherCurrency: purchases on or before the as-of date, but none in the
	// job's currency. Amounts are never converted between currencies.
	OtherCurrency
)

// AsOfDate normalises a run date: the UTC calendar day of t. A run as of
// day D sees D whole: purchases made on D count, T is measured from the
// first purchase day to D (so t_x may equal T, the CDNOW convention
// `tailor segment --as-of` follows too), and ratings and NPS answers given
// by the end of D count. A run "as of 2011-12-09" sees everything up to
// the end of 2011-12-09; the nightly schedule runs as of yesterday.
func AsOfDate(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// Yesterday is the as-of date of a run started at t by the nightly
// schedule: the last whole UTC day before t.
func Yesterday(t time.Time) time.Time { return AsOfDate(t).AddDate(0, 0, -1) }

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
// on or before asOf with an amount in that currency; frequency is their
// number; recency t_x counts days from the first of them to the last, and
// age T from the first to asOf itself (t_x = T for a customer who bought
// on the as-of day); spend is the sum of their amounts and repeat spend
// the sum over all but the first. Refunds are not netted: the aggregates
// keep them per currency, not per day, and the RFM and spend models
// describe buying behaviour. The latest rating and NPS answer count when
// given on or before asOf (by the end of that UTC day): the aggregates keep
// only the latest answers, so a customer whose latest answer came later
// has none for this run (a backfill never sees the future).
func Derive(c segments.CustomerDays, asOf time.Time, currency string) (segments.Customer, Outcome, error) {
	all, err := deriveEach(c, asOf)
	if err != nil {
		return segments.Customer{}, 0, err
	}
	for _, d := range all {
		if d.currency == currency {
			return d.customer, Scored, nil
		}
	}
	if len(all) > 0 {
		return segments.Customer{}, OtherCurrency, nil
	}
	return segments.Customer{}, NoPurchase, nil
}

// derived is a customer's model input in one currency.
type derived struct {
	currency string
	customer segments.Customer
}

// deriveEach derives c as of asOf, as Derive does, in every currency it
// bought in on or before asOf, in currency order; none for NoPurchase. One
// pass over the days serves every currency, so a run that must count the
// customers of each currency reads a record no more often than a run of
// one currency.
func deriveEach(c segments.CustomerDays, asOf time.Time) ([]derived, error) {
	end := int(AsOfDate(asOf).Unix() / 86400)
	type acc struct {
		currency           string
		first, last, n     int
		total, firstAmount int64
	}
	var accs []acc // a customer buys in one currency, rarely a few
	for day, am := range c.Days {
		d, ok := civilDay(day)
		if !ok {
			return nil, fmt.Errorf("customer %s: purchase day %q is not YYYY-MM-DD", c.CustomerID, day)
		}
		if d > end {
			continue
		}
		for cur, v := range am {
			if v < 0 {
				return nil, fmt.Errorf("customer %s: negative purchase amount on %s", c.CustomerID, day)
			}
			i := slices.IndexFunc(accs, func(a acc) bool { return a.currency == cur })
			if i < 0 {
				accs = append(accs, acc{currency: cur})
				i = len(accs) - 1
			}
			a := &accs[i]
			a.total += v
			if a.n == 0 || d < a.first {
				a.first, a.firstAmount = d, v
			}
			if a.n == 0 || d > a.last {
				a.last = d
			}
			a.n++
		}
	}
	if len(accs) == 0 {
		return nil, nil
	}
	slices.SortFunc(accs, func(a, b acc) int { return strings.Compare(a.currency, b.currency) })
	var rating int
	var nps events.NPSCategory
	// Answers given by the end of the as-of day count.
	next := AsOfDate(asOf).AddDate(0, 0, 1)
	if r := c.LastRating; r != nil && r.At.Before(next) {
		rating = r.Value
	}
	if a := c.LastNPS; a != nil && a.At.Before(next) {
		nps = events.NPSCategoryOf(a.Value)
	}
	out := make([]derived, len(accs))
	for i, a := range accs {
		out[i] = derived{currency: a.currency, customer: segments.Customer{
			CustomerID: c.CustomerID, PurchaseDays: a.n, RecencyDays: a.last - a.first, AgeDays: end - a.first,
			TotalSpend: a.total, RepeatSpend: a.total - a.firstAmount, Rating: rating, NPS: nps,
		}}
	}
	return out, nil
}
