package lambdahost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxLogLine bounds one buffered line so a runaway writer without
// newlines cannot grow memory without limit; longer lines are split.
const maxLogLine = 256 << 10

// logSink serialises whole lines from every runtime process. Without a
// log directory every line goes to one writer, prefixed with the
// function's logical id in brackets; with one, each function's lines go to
// its own file, unprefixed.
type logSink struct {
	mu    sync.Mutex
	out   io.Writer
	files map[string]*os.File // by logical id; empty without a log directory
}

// newLogSink returns a sink writing to out or, when dir is set, to
// dir/<LogicalID>.log for each function, each file created afresh.
func newLogSink(out io.Writer, dir string, functions []string) (*logSink, error) {
	s := &logSink{out: out, files: map[string]*os.File{}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("function logs: %w", err)
	}
	for _, fn := range functions {
		f, err := os.OpenFile(filepath.Join(dir, fn+".log"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("function logs: %w", err)
		}
		s.files[fn] = f
	}
	return s, nil
}

// file returns the path of the function's log file, "" when its lines go
// to the shared writer.
func (s *logSink) file(function string) string {
	if f := s.files[function]; f != nil {
		return f.Name()
	}
	return ""
}

// writer returns a writer for one process stream. Each process gets its
// own so partial lines never interleave.
func (s *logSink) writer(function string) *lineWriter {
	return &lineWriter{sink: s, function: function}
}

func (s *logSink) emit(function string, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[function]; f != nil {
		_, _ = f.Write(append(line[:len(line):len(line)], '\n'))
		return
	}
	buf := make([]byte, 0, len(function)+len(line)+4)
	buf = append(buf, '[')
	buf = append(buf, function...)
	buf = append(buf, "] "...)
	buf = append(buf, line...)
	buf = append(buf, '\n')
	_, _ = s.out.Write(buf)
}

// close closes the log files; the server calls it once every process has
// been reaped, so no line is lost. Calling it again does nothing.
func (s *logSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, f := range s.files {
		if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lineWriter buffers a stream and emits complete lines. exec.Cmd writes
// to it from one goroutine per stream, so it needs no lock of its own.
type lineWriter struct {
	sink     *logSink
	function string
	buf      []byte
}

// Write emits every complete line in p and keeps the rest for later.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			for len(w.buf) >= maxLogLine {
				w.sink.emit(w.function, w.buf[:maxLogLine])
				w.buf = append(w.buf[:0], w.buf[maxLogLine:]...)
			}
			break
		}
		line := p[:i]
		if len(w.buf) > 0 {
			line = append(w.buf, line...)
			w.buf = w.buf[:0]
		}
		w.sink.emit(w.function, bytes.TrimSuffix(line, []byte("\r")))
		p = p[i+1:]
	}
	return n, nil
}

// Close emits a final line that had no newline; exec.Cmd does not call it,
// so the runtime flushes it when the process ends.
func (w *lineWriter) Close() error {
	if len(w.buf) > 0 {
		w.sink.emit(w.function, w.buf)
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
