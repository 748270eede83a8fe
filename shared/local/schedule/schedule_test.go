package schedule

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDocumentedExamples runs the examples of EventBridge's cron and rate
// documentation, and the wildcards it describes, from fixed times: each
// row lists the firings that follow "after", in order.
func TestDocumentedExamples(t *testing.T) {
	tests := []struct {
		expr  string
		after string
		want  []string
	}{
		// "Run at 10:00 am (UTC+0) every day."
		{"cron(0 10 * * ? *)", "2026-03-02T09:00", []string{"2026-03-02T10:00", "2026-03-03T10:00"}},
		// "Run at 12:15 pm every day"; a firing time itself is not after.
		{"cron(15 12 * * ? *)", "2026-03-02T12:15", []string{"2026-03-03T12:15"}},
		// "Run at 6:00 pm every Monday through Friday", from a Friday evening.
		{"cron(0 18 ? * MON-FRI *)", "2026-03-06T19:00", []string{"2026-03-09T18:00", "2026-03-10T18:00"}},
		// "Run at 8:00 am every 1st day of the month."
		{"cron(0 8 1 * ? *)", "2026-03-02T00:00", []string{"2026-04-01T08:00", "2026-05-01T08:00"}},
		// "Run every 15 minutes."
		{"cron(0/15 * * * ? *)", "2026-03-02T10:07", []string{"2026-03-02T10:15", "2026-03-02T10:30", "2026-03-02T10:45", "2026-03-02T11:00"}},
		// "Run every 10 minutes Monday through Friday", from a Saturday.
		{"cron(0/10 * ? * MON-FRI *)", "2026-03-07T12:00", []string{"2026-03-09T00:00", "2026-03-09T00:10"}},
		// "Run every 5 minutes Monday through Friday between 8:00 am and
		// 5:55 pm."
		{"cron(0/5 8-17 ? * MON-FRI *)", "2026-03-02T17:50", []string{"2026-03-02T17:55", "2026-03-03T08:00"}},
		// "9:00 AM on the first Monday of each month" (2#1).
		{"cron(0 9 ? * 2#1 *)", "2026-03-02T09:00", []string{"2026-04-06T09:00", "2026-05-04T09:00"}},
		// "3#2 would be the second Tuesday of the month."
		{"cron(0 0 ? * 3#2 *)", "2026-03-01T00:00", []string{"2026-03-10T00:00", "2026-04-14T00:00"}},
		// "1/10 ... every tenth minute, starting from the first minute."
		{"cron(1/10 9 * * ? *)", "2026-03-02T09:05", []string{"2026-03-02T09:11", "2026-03-02T09:21"}},
		// L in day-of-month: the last day, February of a leap year too.
		{"cron(0 0 L * ? *)", "2028-02-01T00:00", []string{"2028-02-29T00:00", "2028-03-31T00:00"}},
		{"cron(0 0 L * ? *)", "2026-02-01T00:00", []string{"2026-02-28T00:00"}},
		// "3W specifies the weekday closest to the third day of the month":
		// Saturday 3 January 2026 gives Friday the 2nd, Sunday 3 May the
		// Monday after.
		{"cron(0 0 3W * ? *)", "2026-01-01T00:00", []string{"2026-01-02T00:00", "2026-02-03T00:00"}},
		{"cron(0 0 3W * ? *)", "2026-05-01T00:00", []string{"2026-05-04T00:00"}},
		// 1W on a Saturday stays in the month: Monday the 3rd.
		{"cron(0 0 1W * ? *)", "2026-07-31T12:00", []string{"2026-08-03T00:00"}},
		// LW: the last weekday; 31 May 2026 is a Sunday.
		{"cron(0 0 LW * ? *)", "2026-05-01T00:00", []string{"2026-05-29T00:00"}},
		// L in day-of-week: 6L is the last Friday; L alone is Saturday.
		{"cron(0 0 ? * 6L *)", "2026-03-01T00:00", []string{"2026-03-27T00:00", "2026-04-24T00:00"}},
		{"cron(0 0 ? * L *)", "2026-03-02T00:00", []string{"2026-03-07T00:00"}},
		// Month names and lists; the year field.
		{"cron(0 12 1 JAN,JUL ? *)", "2026-03-02T00:00", []string{"2026-07-01T12:00", "2027-01-01T12:00"}},
		{"cron(0 0 1 1 ? 2030)", "2026-03-02T00:00", []string{"2030-01-01T00:00", ""}},
		// Tailor's nightly jobs.
		{"cron(30 2 * * ? *)", "2026-03-02T02:30", []string{"2026-03-03T02:30", "2026-03-04T02:30"}},
		// Rates count from the time given.
		{"rate(1 hour)", "2026-03-02T10:07", []string{"2026-03-02T11:07", "2026-03-02T12:07"}},
		{"rate(5 minutes)", "2026-03-02T10:07", []string{"2026-03-02T10:12"}},
		{"rate(7 days)", "2026-03-02T10:07", []string{"2026-03-09T10:07"}},
		{"rate(1 day)", "2026-03-02T10:07", []string{"2026-03-03T10:07"}},
		// One-time schedules fire once.
		{"at(2026-05-01T10:00:00)", "2026-03-02T00:00", []string{"2026-05-01T10:00", ""}},
	}
	for _, tc := range tests {
		e, err := Parse(tc.expr, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		at := utc(tc.after)
		for i, w := range tc.want {
			got := e.Next(at)
			if w == "" {
				if !got.IsZero() {
					t.Errorf("%s firing %d after %s = %s, want none", tc.expr, i+1, tc.after, got)
				}
				break
			}
			if want := utc(w); !got.Equal(want) {
				t.Errorf("%s firing %d after %s = %s, want %s", tc.expr, i+1, tc.after, got.UTC().Format(time.RFC3339), w)
				break
			}
			at = got
		}
	}
}

func TestTimezone(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	e, err := Parse("cron(0 9 ? * MON-FRI *)", london)
	if err != nil {
		t.Fatal(err)
	}
	// British Summer Time starts on 29 March 2026: 09:00 in London is
	// 09:00 UTC on the Friday before and 08:00 UTC on the Monday after.
	if got := e.Next(utc("2026-03-27T00:00")); !got.Equal(utc("2026-03-27T09:00")) {
		t.Errorf("before the change: %s", got.UTC())
	}
	if got := e.Next(utc("2026-03-28T00:00")); !got.Equal(utc("2026-03-30T08:00")) {
		t.Errorf("after the change: %s", got.UTC())
	}
}

func TestInvalidExpressions(t *testing.T) {
	tests := []struct{ expr, why string }{
		{"cron(0 10 * * ? )", "six fields"},
		{"cron(0 10 * * * *)", "exactly one"},
		{"cron(0 10 ? * ? *)", "exactly one"},
		{"cron(60 10 * * ? *)", "outside"},
		{"cron(0 24 * * ? *)", "outside"},
		{"cron(0 0 32 * ? *)", "outside"},
		{"cron(0 0 ? * 8 *)", "outside"},
		{"cron(0 0 ? * MON-SUN *)", "low to high"},
		{"cron(0 0 1 FOO ? *)", "not a value"},
		{"cron(0 0 1 1 ? 2200)", "outside"},
		{"cron(0/0 * * * ? *)", "increment"},
		{"cron(0 0 ? * 3#1,6#3 *)", "one expression"},
		{"cron(0 0 ? * 2#6 *)", "1 to 5"},
		{"rate(1 hours)", "minute, hour or day"},
		{"rate(2 minute)", "plural"},
		{"rate(0 minutes)", "positive"},
		{"rate(5 weeks)", "not minutes"},
		{"rate(5)", "rate(value unit)"},
		{"at(2026-05-01 10:00)", "at(yyyy"},
		{"every(5 minutes)", "want cron"},
		{"cron 0 10 * * ? *", "want cron"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr, nil)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: error %v, want one about %q", tc.expr, err, tc.why)
		}
	}
}

func TestRateIsRelative(t *testing.T) {
	r, _ := Parse("rate(1 hour)", nil)
	c, _ := Parse("cron(0 * * * ? *)", nil)
	if !r.IsRate() || c.IsRate() {
		t.Error("IsRate")
	}
	if r.String() != "rate(1 hour)" {
		t.Errorf("String = %q", r.String())
	}
}
