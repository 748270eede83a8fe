// Package schedule reads EventBridge schedule expressions and says when
// they fire: cron(minutes hours day-of-month month day-of-week year) with
// the wildcards EventBridge documents (, - * / ? L W #), rate(value unit),
// and EventBridge Scheduler's one-time at(yyyy-mm-ddThh:mm:ss).
//
// It is pure: it takes times and returns times, and keeps no clock. The
// local runner's scheduler decides when to ask.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Expression is a parsed schedule expression.
type Expression struct {
	text string
	loc  *time.Location
	kind kind
	rate time.Duration // kindRate
	at   time.Time     // kindAt
	cron *cron         // kindCron
}

type kind int

const (
	kindCron kind = iota
	kindRate
	kindAt
)

// Parse reads a schedule expression. loc is the time zone cron and at
// expressions are read in (EventBridge Scheduler's
// ScheduleExpressionTimezone); nil means UTC, as for EventBridge rules.
func Parse(expr string, loc *time.Location) (Expression, error) {
	if loc == nil {
		loc = time.UTC
	}
	e := Expression{text: expr, loc: loc}
	name, arg, ok := strings.Cut(strings.TrimSpace(expr), "(")
	if !ok || !strings.HasSuffix(arg, ")") {
		return Expression{}, fmt.Errorf("schedule expression %q: want cron(...), rate(...) or at(...)", expr)
	}
	arg = strings.TrimSpace(strings.TrimSuffix(arg, ")"))
	var err error
	switch name {
	case "cron":
		e.kind = kindCron
		e.cron, err = parseCron(arg)
	case "rate":
		e.kind = kindRate
		e.rate, err = parseRate(arg)
	case "at":
		e.kind = kindAt
		e.at, err = time.ParseInLocation("2006-01-02T15:04:05", arg, loc)
		if err != nil {
			err = fmt.Errorf("want at(yyyy-mm-ddThh:mm:ss)")
		}
	default:
		err = fmt.Errorf("want cron(...), rate(...) or at(...)")
	}
	if err != nil {
		return Expression{}, fmt.Errorf("schedule expression %q: %w", expr, err)
	}
	return e, nil
}

// String returns the expression as written.
func (e Expression) String() string { return e.text }

// IsRate reports a rate expression, whose firings count from when the
// schedule was created rather than from the clock.
func (e Expression) IsRate() bool { return e.kind == kindRate }

// Next returns the first firing strictly after t, or the zero time when
// the expression never fires again. A rate expression fires every
// interval after t: give it the creation time, then each firing.
func (e Expression) Next(t time.Time) time.Time {
	switch e.kind {
	case kindRate:
		return t.Add(e.rate)
	case kindAt:
		if e.at.After(t) {
			return e.at
		}
		return time.Time{}
	}
	return e.cron.next(t.In(e.loc))
}

// parseRate reads "value unit": value a positive whole number, unit
// minute, hour or day, singular for 1 and plural otherwise, as EventBridge
// requires.
func parseRate(arg string) (time.Duration, error) {
	fields := strings.Fields(arg)
	if len(fields) != 2 {
		return 0, fmt.Errorf("want rate(value unit)")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("rate value %q is not a positive whole number", fields[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := fields[1]
	want := unit
	if n != 1 {
		want = strings.TrimSuffix(unit, "s")
		if want == unit {
			return 0, fmt.Errorf("rate unit for %d must be plural (minutes, hours, days), not %q", n, unit)
		}
	}
	d, ok := units[want]
	if !ok {
		if n == 1 {
			return 0, fmt.Errorf("rate unit for 1 must be minute, hour or day, not %q", unit)
		}
		return 0, fmt.Errorf("rate unit %q is not minutes, hours or days", unit)
	}
	return time.Duration(n) * d, nil
}
