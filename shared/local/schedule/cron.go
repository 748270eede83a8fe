package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Year range of EventBridge cron expressions.
const (
	minYear = 1970
	maxYear = 2199
)

// cron is a parsed six-field cron expression. Sets are bit masks indexed
// by value; day-of-week counts 1 (SUN) to 7 (SAT) as EventBridge does.
type cron struct {
	minutes, hours, months uint64
	years                  [maxYear - minYear + 1]bool

	// Exactly one of the day fields is "?" (any).
	domAny, dowAny bool

	dom         uint64 // plain days of the month
	domLast     bool   // L: the last day of the month
	domLastWork bool   // LW: the last weekday of the month
	domNearest  []int  // nW: the weekday nearest day n, within the month

	dow     uint64 // plain days of the week
	dowLast []int  // nL: the last such day of the month
	dowNth  [2]int // n#k: the k-th such day of the month; zero when unused
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

func parseCron(arg string) (*cron, error) {
	f := strings.Fields(arg)
	if len(f) != 6 {
		return nil, fmt.Errorf("want six fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cron{}
	var err error
	if c.minutes, err = parseField(f[0], "minutes", 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hours, err = parseField(f[1], "hours", 0, 23, nil); err != nil {
		return nil, err
	}
	if c.months, err = parseField(f[3], "month", 1, 12, monthNames); err != nil {
		return nil, err
	}
	if err := c.parseYears(f[5]); err != nil {
		return nil, err
	}
	c.domAny, c.dowAny = f[2] == "?", f[4] == "?"
	if c.domAny == c.dowAny {
		return nil, fmt.Errorf("exactly one of day-of-month and day-of-week must be ?")
	}
	if !c.domAny {
		if err := c.parseDayOfMonth(f[2]); err != nil {
			return nil, err
		}
	}
	if !c.dowAny {
		if err := c.parseDayOfWeek(f[4]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseField reads a field of plain values: a list of *, n, n-m, with an
// optional /step after * , n or n-m.
func parseField(field, name string, lo, hi int, names map[string]int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		from, to, err := parseRange(part, name, lo, hi, names)
		if err != nil {
			return 0, err
		}
		for v := from[0]; v <= to; v += from[1] {
			set |= 1 << v
		}
	}
	return set, nil
}

// parseRange reads one list element; it returns {start, step} and the
// end.
func parseRange(part, name string, lo, hi int, names map[string]int) ([2]int, int, error) {
	bad := func(why string) ([2]int, int, error) {
		return [2]int{}, 0, fmt.Errorf("%s field %q: %s", name, part, why)
	}
	span, stepText, hasStep := strings.Cut(part, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return bad("the increment must be a positive whole number")
		}
		step = n
	}
	var from, to int
	switch {
	case span == "*":
		from, to = lo, hi
	case strings.Contains(span, "-"):
		a, b, _ := strings.Cut(span, "-")
		var err error
		if from, err = value(a, lo, hi, names); err != nil {
			return bad(err.Error())
		}
		if to, err = value(b, lo, hi, names); err != nil {
			return bad(err.Error())
		}
		if from > to {
			return bad("a range must go from low to high")
		}
	default:
		var err error
		if from, err = value(span, lo, hi, names); err != nil {
			return bad(err.Error())
		}
		// n/step runs from n to the end of the field's range.
		to = from
		if hasStep {
			to = hi
		}
	}
	return [2]int{from, step}, to, nil
}

func value(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a value", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%d is outside %d-%d", v, lo, hi)
	}
	return v, nil
}

func (c *cron) parseYears(field string) error {
	for _, part := range strings.Split(field, ",") {
		from, to, err := parseRange(part, "year", minYear, maxYear, nil)
		if err != nil {
			return err
		}
		for y := from[0]; y <= to; y += from[1] {
			c.years[y-minYear] = true
		}
	}
	return nil
}

func (c *cron) parseDayOfMonth(field string) error {
	for _, part := range strings.Split(field, ",") {
		switch {
		case part == "L":
			c.domLast = true
		case part == "LW":
			c.domLastWork = true
		case strings.HasSuffix(part, "W"):
			n, err := value(strings.TrimSuffix(part, "W"), 1, 31, nil)
			if err != nil {
				return fmt.Errorf("day-of-month field %q: %v", part, err)
			}
			c.domNearest = append(c.domNearest, n)
		default:
			set, err := parseField(part, "day-of-month", 1, 31, nil)
			if err != nil {
				return err
			}
			c.dom |= set
		}
	}
	return nil
}

func (c *cron) parseDayOfWeek(field string) error {
	if strings.Contains(field, "#") {
		// EventBridge allows one expression only in a field with #.
		day, nth, _ := strings.Cut(field, "#")
		d, err := value(day, 1, 7, dayNames)
		if err != nil {
			return fmt.Errorf("day-of-week field %q: %v", field, err)
		}
		k, err := strconv.Atoi(nth)
		if err != nil || k < 1 || k > 5 {
			return fmt.Errorf("day-of-week field %q: the instance after # must be 1 to 5, and # allows one expression only", field)
		}
		c.dowNth = [2]int{d, k}
		return nil
	}
	for _, part := range strings.Split(field, ",") {
		switch {
		case part == "L":
			// L alone is the last day of the week.
			c.dow |= 1 << 7
		case strings.HasSuffix(part, "L"):
			d, err := value(strings.TrimSuffix(part, "L"), 1, 7, dayNames)
			if err != nil {
				return fmt.Errorf("day-of-week field %q: %v", part, err)
			}
			c.dowLast = append(c.dowLast, d)
		default:
			set, err := parseField(part, "day-of-week", 1, 7, dayNames)
			if err != nil {
				return err
			}
			c.dow |= set
		}
	}
	return nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// weekday of a date, 1 (SUN) to 7 (SAT).
func weekday(year int, month time.Month, day int) int {
	return int(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Weekday()) + 1
}

// nearestWeekday is the Monday-to-Friday day nearest day n of the month,
// never crossing into another month; 0 when n is past the month's end.
func nearestWeekday(year int, month time.Month, n, last int) int {
	if n > last {
		return 0
	}
	switch weekday(year, month, n) {
	case 7: // Saturday: Friday before, or Monday after on the 1st.
		if n == 1 {
			return 3
		}
		return n - 1
	case 1: // Sunday: Monday after, or Friday before on the last day.
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

func (c *cron) dayMatches(year int, month time.Month, day, last int) bool {
	if c.dowAny {
		if c.dom&(1<<day) != 0 || c.domLast && day == last {
			return true
		}
		if c.domLastWork && day == nearestWeekday(year, month, last, last) {
			return true
		}
		for _, n := range c.domNearest {
			if day == nearestWeekday(year, month, n, last) {
				return true
			}
		}
		return false
	}
	wd := weekday(year, month, day)
	if c.dow&(1<<wd) != 0 {
		return true
	}
	if c.dowNth[0] == wd && (day-1)/7+1 == c.dowNth[1] {
		return true
	}
	for _, d := range c.dowLast {
		if d == wd && day+7 > last {
			return true
		}
	}
	return false
}

// next is the first matching minute strictly after t, in t's location;
// zero when none is left before the end of 2199.
func (c *cron) next(t time.Time) time.Time {
	loc := t.Location()
	start := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc).Add(time.Minute)
	y, m, d := start.Date()
	for year := max(y, minYear); year <= maxYear; year++ {
		if !c.years[year-minYear] {
			continue
		}
		firstMonth := time.January
		if year == y {
			firstMonth = m
		}
		for month := firstMonth; month <= time.December; month++ {
			if c.months&(1<<month) == 0 {
				continue
			}
			last := daysIn(year, month)
			firstDay := 1
			if year == y && month == m {
				firstDay = d
			}
			for day := firstDay; day <= last; day++ {
				if !c.dayMatches(year, month, day, last) {
					continue
				}
				for hour := 0; hour < 24; hour++ {
					if c.hours&(1<<hour) == 0 {
						continue
					}
					for minute := 0; minute < 60; minute++ {
						if c.minutes&(1<<minute) == 0 {
							continue
						}
						// A wall-clock time a daylight-saving change skips
						// comes out an hour later, as time.Date normalises
						// it; it still fires once.
						if at := time.Date(year, month, day, hour, minute, 0, 0, loc); !at.Before(start) {
							return at
						}
					}
				}
			}
		}
	}
	return time.Time{}
}
