package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/kmskey"
)

func init() {
	register("serve", "serve the API locally through the real function binaries (no Docker)", runServe)
}

// paramFlags collects repeated --param Key=Value flags.
type paramFlags map[string]string

func (p paramFlags) String() string {
	parts := make([]string, 0, len(p))
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Key=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	tpl := fs.String("template", "template.yaml", "SAM template with the functions and routes")
	bin := fs.String("bin", ".build/local", "directory of built functions, as <name>/bootstrap")
	addr := fs.String("addr", envOr("TAILOR_ADDR", "127.0.0.1:3000"), "address to listen on")
	prefix := fs.String("table-prefix", envOr("TAILOR_TABLE_PREFIX", "tailor-local-"), "table name prefix; a table is named <prefix><LogicalId>")
	maxConc := fs.Int("max-concurrency", lambdahost.DefaultMaxConcurrency, "runtime processes per function at most")
	piiKeyFile := fs.String("pii-key-file", envOr("TAILOR_PII_KEY_FILE", ".local/pii.key"),
		"local key file for personal data, created when missing; given to every function as PII_KEY_FILE in place of KMS")
	logDir := fs.String("log-dir", envOr("TAILOR_LOG_DIR", ".local/logs"),
		"directory for each function's log lines (<LogicalId>.log) and the server's own (serve.log)")
	eventsFile := fs.String("events-file", envOr("TAILOR_EVENTS_FILE", ".local/events.jsonl"),
		"file that receives every event the functions put on EventBridge, one JSON object per line, emptied at start (\"\" keeps none)")
	schedules := fs.Bool("schedules", false,
		"fire the template's enabled schedules on their cron and rate expressions, as EventBridge does (tailor invoke-schedule fires one at once either way)")
	queueVisibility := fs.Duration("queue-visibility-timeout", 0,
		"replace every queue's VisibilityTimeout, e.g. 5s to see failed messages come back and reach the dead-letter queue quickly (0 keeps the template's)")
	verbose := fs.Bool("verbose", os.Getenv("LOG") == "stdout",
		"write every function's log lines and the server's records to standard error, interleaved (also LOG=stdout)")
	params := paramFlags{}
	fs.Var(params, "param", "template parameter override Key=Value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	keyFile, err := kmskey.EnsureFile(*piiKeyFile)
	if err != nil {
		return err
	}
	out, err := newServeOutput(*verbose, *logDir, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	defer out.close()
	srv, err := lambdahost.New(lambdahost.Config{
		Env:            map[string]string{"PII_KEY_FILE": keyFile},
		Template:       *tpl,
		BinDir:         *bin,
		TablePrefix:    *prefix,
		Params:         params,
		Logs:           os.Stderr,
		LogDir:         out.logDir,
		Logger:         out.logger,
		Requests:       out.requests,
		MaxConcurrency: *maxConc,
		Addr:           *addr,
		Prewarm:        true,
		EventsFile:     *eventsFile,

		QueueVisibilityTimeout: *queueVisibility,
		Schedules:              *schedules,
	})
	if err != nil {
		return err
	}
	// Close kills every runtime process whichever way we leave.
	defer srv.Close()
	if err := srv.Start(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if !*verbose {
			return fmt.Errorf("start: %w (the functions' own lines are in %s)", err, *logDir)
		}
		return fmt.Errorf("start: %w", err)
	}

	routes, err := srv.Template().Routes()
	if err != nil {
		return err
	}
	fmt.Printf("Tailor local API on %s\n", srv.URL())
	for _, r := range routes {
		auth := ""
		if r.Authorizer != "" {
			auth = "  (authorizer " + r.Authorizer + ")"
		}
		fmt.Printf("  %-40s -> %s%s\n", r.Key(), r.FunctionID, auth)
	}
	fmt.Printf("  %-40s -> direct invoke\n", "POST /2015-03-31/functions/{LogicalId}/invocations")
	events := "answered, kept nowhere"
	if *eventsFile != "" {
		events = "appended to " + *eventsFile
	}
	fmt.Printf("  %-40s -> EventBridge PutEvents, %s\n", "POST / (X-Amz-Target: AWSEvents.*)", events)
	printQueuesAndSchedules(os.Stdout, srv, *schedules)
	if !*verbose {
		fmt.Printf("Function logs: %s/<LogicalId>.log, e.g. %s; the server's own: %s\n",
			*logDir, filepath.Join(*logDir, "IngestFunction.log"), filepath.Join(*logDir, serveLogName))
		fmt.Println("(tailor serve --verbose, or LOG=stdout make run, writes them all here instead)")
		fmt.Println("Requests:")
	}

	<-ctx.Done()
	out.logger.Info("stopping local API")
	return srv.Close()
}

// serveLogName is the file of tailor serve's own records in the log
// directory.
const serveLogName = "serve.log"

// serveOutput says where tailor serve writes what. Verbose, everything goes
// to standard error as it comes: each function's lines prefixed with its
// logical id, and the server's records as JSON. Otherwise the terminal
// shows one line per request and the server's warnings, and the rest goes
// to files in the log directory: each function's lines to
// <LogicalId>.log, the server's records to serve.log.
type serveOutput struct {
	logDir   string // "" when verbose
	logger   *slog.Logger
	requests io.Writer // nil when verbose: the JSON access records say it
	close    func() error
}

func newServeOutput(verbose bool, logDir string, stdout, stderr io.Writer) (*serveOutput, error) {
	if verbose {
		return &serveOutput{logger: slog.New(slog.NewJSONHandler(stderr, nil)), close: func() error { return nil }}, nil
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	f, err := os.Create(filepath.Join(logDir, serveLogName))
	if err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	logger := slog.New(slog.NewMultiHandler(
		slog.NewJSONHandler(f, nil),
		slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
	))
	return &serveOutput{logDir: logDir, logger: logger, requests: aboveProgress(stdout), close: f.Close}, nil
}

// aboveProgress returns w, or on a terminal a writer that first clears the
// line the cursor is on: a progress bar another process draws there (make
// run DEMO=1 runs tailor load next to tailor serve) is redrawn below the
// request line instead of being run into by it.
func aboveProgress(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return w
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return w
	}
	return clearLine{f}
}

// clearLine writes each line after the terminal's carriage return and
// erase-line sequences.
type clearLine struct{ w io.Writer }

// Write writes p at the start of a cleared line.
func (c clearLine) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\x1b[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
