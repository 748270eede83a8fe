package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeOutputKeepsTheTerminalCalm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	var stdout, stderr bytes.Buffer
	out, err := newServeOutput(false, dir, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if out.logDir != dir || out.requests != &stdout {
		t.Errorf("function logs to %q, request lines to %v", out.logDir, out.requests)
	}
	out.logger.Info("runtime started", "function", "IngestFunction")
	out.logger.Warn("function timed out", "function", "IngestFunction")
	if err := out.close(); err != nil {
		t.Fatal(err)
	}

	if s := stderr.String(); strings.Contains(s, "runtime started") || !strings.Contains(s, "function timed out") {
		t.Errorf("terminal got %q: want the warning and not the info record", s)
	}
	b, err := os.ReadFile(filepath.Join(dir, serveLogName))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct{ Msg string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%s holds %q: %v", serveLogName, l, err)
		}
		msgs = append(msgs, rec.Msg)
	}
	if strings.Join(msgs, "|") != "runtime started|function timed out" {
		t.Errorf("%s has %q, want every record", serveLogName, msgs)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout got %q", stdout.String())
	}
}

func TestServeOutputVerboseInterleaves(t *testing.T) {
	var stdout, stderr bytes.Buffer
	out, err := newServeOutput(true, filepath.Join(t.TempDir(), "unused"), &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer out.close()
	if out.logDir != "" || out.requests != nil {
		t.Errorf("verbose: function logs to %q, request lines to %v", out.logDir, out.requests)
	}
	out.logger.Info("runtime started")
	var rec struct{ Msg string }
	if err := json.Unmarshal(stderr.Bytes(), &rec); err != nil || rec.Msg != "runtime started" {
		t.Errorf("verbose stderr %q: %v", stderr.String(), err)
	}
}

func TestClearLineStartsOnACleanLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("events [====      ] 40%")
	if _, err := (clearLine{&b}).Write([]byte("08:50:16 POST /v1/events 200 1.2s IngestFunction\n")); err != nil {
		t.Fatal(err)
	}
	want := "events [====      ] 40%\r\x1b[K08:50:16 POST /v1/events 200 1.2s IngestFunction\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
