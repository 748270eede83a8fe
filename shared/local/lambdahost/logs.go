package lambdahost

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// maxLogLine bounds one buffered line so a runaway writer without
// newlines cannot grow memory without limit; longer lines are split.
const maxLogLine = 256 << 10

// logSink serialises whole lines from every runtime process onto one
// writer, each line prefixed with the function's logical id in brackets.
type logSink struct {
	mu  sync.Mutex
	out io.Writer
}

// writer returns a writer for one process stream. Each process gets its
// own so partial lines never interleave.
func (s *logSink) writer(function string) *lineWriter {
	return &lineWriter{sink: s, prefix: "[" + function + "] "}
}

func (s *logSink) emit(prefix string, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := make([]byte, 0, len(prefix)+len(line)+1)
	buf = append(buf, prefix...)
	buf = append(buf, line...)
	buf = append(buf, '\n')
	_, _ = s.out.Write(buf)
}

// lineWriter buffers a stream and emits complete lines. exec.Cmd writes
// to it from one goroutine per stream, so it needs no lock of its own.
type lineWriter struct {
	sink   *logSink
	prefix string
	buf    []byte
}

// Write emits every complete line in p and keeps the rest for later.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			for len(w.buf) >= maxLogLine {
				w.sink.emit(w.prefix, w.buf[:maxLogLine])
				w.buf = append(w.buf[:0], w.buf[maxLogLine:]...)
			}
			break
		}
		line := p[:i]
		if len(w.buf) > 0 {
			line = append(w.buf, line...)
			w.buf = w.buf[:0]
		}
		w.sink.emit(w.prefix, bytes.TrimSuffix(line, []byte("\r")))
		p = p[i+1:]
	}
	return n, nil
}

// Close emits a final line that had no newline; exec.Cmd does not call it,
// so the runtime flushes it when the process ends.
func (w *lineWriter) Close() error {
	if len(w.buf) > 0 {
		w.sink.emit(w.prefix, w.buf)
		w.buf = nil
	}
	return nil
}

// SplitLogLine splits one line of function output, as written to
// Config.Logs, into the function's logical id and the text the function
// wrote. ok is false for lines not in that form.
func SplitLogLine(line string) (function, text string, ok bool) {
	rest, found := strings.CutPrefix(line, "[")
	if !found {
		return "", "", false
	}
	function, text, found = strings.Cut(rest, "] ")
	if !found || function == "" || strings.ContainsAny(function, " []") {
		return "", "", false
	}
	return function, strings.TrimSuffix(text, "\n"), true
}
