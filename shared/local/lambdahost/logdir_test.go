package lambdahost

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/obs/obstest"
)

func TestLogDirTakesEachFunctionsLines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "EchoFunction.log")
	if err := os.WriteFile(stale, []byte("from the last run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	requests := &obstest.Buffer{}
	ts := startServer(t, func(c *Config) { c.LogDir = dir; c.Requests = requests })
	e, _ := decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	ts.Close() // flushes and reaps, so every line is in

	if got := ts.logs.String(); got != "" {
		t.Errorf("function lines reached Config.Logs:\n%s", got)
	}
	b, err := os.ReadFile(stale)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := map[string]bool{"echo handled " + e.Lambda.RequestID: false, "echo stderr " + e.Lambda.RequestID: false}
	for _, l := range lines {
		if l == "from the last run" {
			t.Error("the log file kept the last run's lines")
		}
		if _, ok := want[l]; ok {
			want[l] = true
		}
	}
	for l, seen := range want {
		if !seen {
			t.Errorf("EchoFunction.log lacks %q:\n%s", l, b)
		}
	}
	for _, id := range []string{"SlowFunction", "AuthorizerFunction"} {
		if _, err := os.Stat(filepath.Join(dir, id+".log")); err != nil {
			t.Errorf("no log file for %s: %v", id, err)
		}
	}
}

func TestRequestsGetsOneLinePerRequest(t *testing.T) {
	requests := &obstest.Buffer{}
	ts := startServer(t, func(c *Config) { c.Requests = requests })
	decodeEcho(t, ts.do(t, "GET", "/echo/a?sleep=20", nil, nil))
	ts.do(t, "GET", "/nowhere", nil, nil)
	r := ts.do(t, "POST", "/2015-03-31/functions/EchoFunction/invocations", strings.NewReader(`{}`), nil)
	if r.status != 200 {
		t.Fatalf("direct invoke: %d %s", r.status, r.body)
	}

	lines := strings.Split(strings.TrimSuffix(requests.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d request lines, want 3:\n%s", len(lines), requests.String())
	}
	want := [][4]string{
		{"GET", "/echo/a", "200", "EchoFunction"},
		{"GET", "/nowhere", "404", "-"},
		{"POST", "/2015-03-31/functions/EchoFunction/invocations", "200", "EchoFunction"},
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 6 {
			t.Errorf("line %q: want time, method, path, status, duration, function", l)
			continue
		}
		if _, err := time.Parse(time.TimeOnly, f[0]); err != nil {
			t.Errorf("line %q: time: %v", l, err)
		}
		if got := [4]string{f[1], f[2], f[3], f[5]}; got != want[i] {
			t.Errorf("line %q: got %v, want %v", l, got, want[i])
		}
		d, err := time.ParseDuration(f[4])
		if err != nil || d <= 0 {
			t.Errorf("line %q: duration %q: %v", l, f[4], err)
		}
		if i == 0 && d < 20*time.Millisecond {
			t.Errorf("line %q: the request slept 20ms", l)
		}
	}
}

func TestRequestLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 8, 50, 16, 900, time.UTC)
	cases := []struct {
		status   int
		took     time.Duration
		function string
		want     string
	}{
		{200, 1234567 * time.Microsecond, "IngestFunction",
			"08:50:16 POST   /v1/events                             200    1.235s IngestFunction\n"},
		{401, 145678 * time.Nanosecond, "",
			"08:50:16 POST   /v1/events                             401     150µs -\n"},
	}
	for _, c := range cases {
		if got := RequestLine(at, "POST", "/v1/events", c.status, c.took, c.function); got != c.want {
			t.Errorf("RequestLine = %q, want %q", got, c.want)
		}
	}
}

func TestCrashIsAWarningThatNamesTheLogFile(t *testing.T) {
	dir := t.TempDir()
	records := &obstest.Buffer{}
	ts := startServer(t, func(c *Config) {
		c.LogDir = dir
		c.Logger = slog.New(slog.NewJSONHandler(records, nil))
	})
	wantMessage(t, ts.do(t, "GET", "/echo/a?crash=3", nil, nil), 502, "Internal Server Error")
	decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	ts.Close() // kills the second runtime: an exit of ours, not a warning

	var crashes, quiet int
	for _, l := range strings.Split(strings.TrimSpace(records.String()), "\n") {
		var rec struct {
			Level, Msg, Function, Log, Exit string
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("record %q: %v", l, err)
		}
		if rec.Function != "EchoFunction" {
			continue
		}
		switch rec.Msg {
		case "runtime exited unexpectedly":
			crashes++
			if rec.Level != "WARN" || rec.Log != filepath.Join(dir, "EchoFunction.log") || rec.Exit != "exit status 3" {
				t.Errorf("crash record %s", l)
			}
		case "runtime exited":
			quiet++
			if rec.Level != "INFO" {
				t.Errorf("a runtime we stopped is logged as %s", l)
			}
		}
	}
	if crashes != 1 || quiet != 1 {
		t.Errorf("%d crash warnings and %d quiet exits, want 1 and 1:\n%s", crashes, quiet, records.String())
	}
}
