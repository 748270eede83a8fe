package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNightlyRunsAsOfTheLastDay: after a replay whose last event is on
// 2011-12-09, training runs as of the end of that day (a time),
// segmentation as of that day (a date whose purchases count), and a
// backtest of the 90 days up to it.
func TestNightlyRunsAsOfTheLastDay(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fn := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2015-03-31/functions/"), "/invocations")
		mu.Lock()
		got = append(got, fn+" "+string(b))
		mu.Unlock()
		io.WriteString(w, `{"run_id":"x"}`)
	}))
	defer srv.Close()
	last := time.Date(2011, 12, 9, 20, 1, 0, 0, time.UTC)
	if err := runNightly(context.Background(), srv.URL, last); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`TrainFunction {"as_of":"2011-12-10T00:00:00Z"}`,
		`ScoreFunction {"as_of":"2011-12-09"}`,
		`ScoreFunction {"phase":"backtest","calibration_end":"2011-09-10","holdout_end":"2011-12-09"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("invocations %q, want %q", got, want)
	}
}

// TestSummaryKeepsNumbersWhole: a job's answer prints its scalar fields,
// numbers as written (no exponent), nested objects left out.
func TestSummaryKeepsNumbersWhole(t *testing.T) {
	got := summary([]byte(`{"model_bytes": 3754886, "lambda": 500.5, "as_of": "2011-12-09", "done": true, "snapshot": {"bytes": 1}}`))
	if want := "as_of=2011-12-09 done=true lambda=500.5 model_bytes=3754886"; got != want {
		t.Fatalf("summary = %q, want %q", got, want)
	}
}
