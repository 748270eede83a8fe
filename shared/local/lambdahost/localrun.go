// Package lambdahost runs Tailor's compiled Lambda functions on one machine
// without Docker: it hosts the Lambda Runtime API for each function's
// bootstrap process and puts an emulation of API Gateway's HTTP API in
// front of them, with routes, Lambda authorizers and payload format 2.0 read
// from template.yaml. It also answers the Lambda Invoke API so any function
// can be run with a JSON event, and EventBridge's PutEvents API so
// functions that publish events can run: each accepted event is appended
// to a file (Config.EventsFile) instead of being routed to rules. It serves
// the template's SQS queues and runs their functions' event source
// mappings (sqs.go, sqsmapping.go), and fires the template's schedules
// (schedule.go).
//
// It is a development and test tool: it must not be imported by functions
// or domain packages, and it never talks to AWS itself.
package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tailor/shared/local/samtemplate"
	"tailor/shared/local/sqsemu"
)

// Config says what to run and how.
type Config struct {
	// Template is the path of template.yaml.
	Template string
	// BinDir holds the built functions as <BinDir>/<name>/bootstrap, e.g.
	// .build/local/customers/bootstrap for CustomersFunction.
	BinDir string
	// TablePrefix makes the local physical names of tables and other
	// resources: TablePrefix + logical id.
	TablePrefix string
	// Params override template parameter defaults.
	Params map[string]string
	// Region defaults to AWS_REGION, then us-east-1.
	Region string
	// Env adds or overrides variables for every function, after the
	// template's own.
	Env map[string]string
	// Logs receives every line the functions write to stdout and stderr,
	// as "[LogicalID] text" (see SplitLogLine), unless LogDir is set.
	// Defaults to os.Stderr.
	Logs io.Writer
	// LogDir, when set, receives each function's stdout and stderr lines
	// in LogDir/<LogicalID>.log instead of Logs. New creates the directory
	// and empties the files.
	LogDir string
	// Logger receives the server's own records (access lines, runtime
	// starts and exits, warnings). Defaults to JSON on os.Stderr.
	Logger *slog.Logger
	// Requests, when set, receives one line per HTTP request for people to
	// read: time, method, path, status, duration and the function that
	// answered (see RequestLine).
	Requests io.Writer
	// MaxConcurrency caps the runtime processes per function; requests
	// beyond it wait. Defaults to 8.
	MaxConcurrency int
	// InitTimeout bounds a runtime's start-up before its first event.
	// Defaults to 10s, Lambda's init limit.
	InitTimeout time.Duration
	// Addr is where Start listens; defaults to 127.0.0.1:0.
	Addr string
	// Prewarm makes Start launch one runtime per function and wait until
	// each is ready, so start-up failures show before the first request.
	Prewarm bool
	// EventsFile, when set, receives every event the server's EventBridge
	// PutEvents API accepts, one JSON object per line (see Event and
	// ReadEvents); New creates it afresh. Without it the API still answers
	// and keeps nothing. Runtimes started once the server listens get
	// AWS_ENDPOINT_URL_EVENTS pointing at it, unless Env sets that.
	EventsFile string
	// QueueVisibilityTimeout, when set, replaces the VisibilityTimeout of
	// every queue of the template, so that a test sees a failed message
	// come back, and reach its dead-letter queue, in seconds.
	QueueVisibilityTimeout time.Duration
	// Schedules makes Start fire the template's enabled schedules on their
	// cron and rate expressions. Without it a schedule runs only when
	// asked (InvokeSchedule).
	Schedules bool
}

// Server is a running local API: the gateway, the invoke API and the
// runtimes behind them. Its methods are safe for concurrent use.
type Server struct {
	cfg       Config
	tpl       *samtemplate.Template
	resolver  *samtemplate.Resolver
	functions map[string]*function
	gateway   *gateway
	events    *eventsAPI
	queues    *sqsemu.Service
	queueDefs []samtemplate.Queue
	queueURLs map[string]string // a queue's URL as the template resolves it -> its name
	mappings  []*mapping
	schedules []*scheduled
	host      *host
	handler   http.Handler
	log       *slog.Logger

	requestsMu sync.Mutex // serialises lines to Config.Requests

	mu       sync.Mutex
	listener net.Listener
	url      atomic.Pointer[string] // the base URL once listening, for runtimes
	httpSrv  *http.Server
	closed   bool
	bg       sync.WaitGroup // asynchronous invocations, queue pollers, schedules
	closing  chan struct{}  // closed by Close to stop asynchronous invocations

	schedMu  sync.Mutex
	nextFire map[string]time.Time // schedule name -> next firing, while armed
}

// DefaultMaxConcurrency is the per-function process limit when
// Config.MaxConcurrency is not set.
const DefaultMaxConcurrency = 8

// New reads the template, resolves every function's environment and checks
// that every function has a built binary. It starts nothing: processes
// start on first use, or in Start with Config.Prewarm.
func New(cfg Config) (*Server, error) {
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	// Runtimes start in their own binary's directory, so a relative BinDir
	// must be fixed against ours first.
	if abs, err := filepath.Abs(cfg.BinDir); err == nil {
		cfg.BinDir = abs
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = samtemplate.DefaultRegion
	}
	if cfg.Logs == nil {
		cfg.Logs = os.Stderr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	tpl, err := samtemplate.Parse(cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("start local API: %w", err)
	}
	s := &Server{
		cfg: cfg,
		tpl: tpl,
		resolver: &samtemplate.Resolver{
			Template:    tpl,
			TablePrefix: cfg.TablePrefix,
			Params:      cfg.Params,
			Region:      cfg.Region,
		},
		functions: map[string]*function{},
		queueURLs: map[string]string{},
		nextFire:  map[string]time.Time{},
		log:       cfg.Logger,
		host: &host{
			log:         cfg.Logger,
			initTimeout: cfg.InitTimeout,
		},
	}
	s.closing = make(chan struct{})

	var problems []string
	ids := make([]string, 0, len(tpl.Functions))
	for _, def := range tpl.Functions {
		fn, err := s.newFunction(def)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		s.functions[def.LogicalID] = fn
		ids = append(ids, def.LogicalID)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("start local API: %s", strings.Join(problems, "; "))
	}
	if s.gateway, err = newGateway(s); err != nil {
		return nil, fmt.Errorf("start local API: %w", err)
	}
	if s.events, err = newEventsAPI(s, cfg.EventsFile); err != nil {
		return nil, fmt.Errorf("start local API: %w", err)
	}
	if err := s.newQueues(); err != nil {
		_ = s.events.close()
		return nil, fmt.Errorf("start local API: %w", err)
	}
	if err := s.newSchedules(); err != nil {
		_ = s.events.close()
		return nil, fmt.Errorf("start local API: %w", err)
	}
	s.host.runtimeEnv = s.runtimeEnv
	if s.host.logs, err = newLogSink(cfg.Logs, cfg.LogDir, ids); err != nil {
		_ = s.events.close()
		return nil, fmt.Errorf("start local API: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /2015-03-31/functions/{name}/invocations", http.HandlerFunc(s.serveInvoke))
	mux.Handle("GET "+schedulesPath, http.HandlerFunc(s.serveListSchedules))
	mux.Handle("POST "+schedulesPath+"/{name}", http.HandlerFunc(s.serveInvokeSchedule))
	// The SDK posts every EventBridge and SQS call to the root with an
	// X-Amz-Target header, which no API route can claim.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isEventsRequest(r) {
			s.events.ServeHTTP(w, r)
			return
		}
		if sqsemu.IsRequest(r) {
			s.serveSQS(w, r)
			return
		}
		s.gateway.ServeHTTP(w, r)
	}))
	s.handler = s.accessLog(mux)
	return s, nil
}

// EventsEndpointVar is the variable that points a runtime's EventBridge
// client at the server (the SDK reads it with no code branch).
const EventsEndpointVar = "AWS_ENDPOINT_URL_EVENTS"

// runtimeEnv gives a runtime the variables known only once the server
// listens: the EventBridge and SQS endpoints (unless Config.Env sets
// them) and its queues' local URLs.
func (s *Server) runtimeEnv(fn *function) []string {
	u := s.url.Load()
	if u == nil {
		return nil
	}
	var out []string
	for _, k := range []string{EventsEndpointVar, SQSEndpointVar} {
		if _, set := s.cfg.Env[k]; !set {
			out = append(out, k+"="+*u)
		}
	}
	return append(out, s.queueEnv(fn, *u)...)
}

func (s *Server) newFunction(def samtemplate.Function) (*function, error) {
	bin, err := samtemplate.BinaryPath(s.cfg.BinDir, def.LogicalID)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return nil, fmt.Errorf("%s: no built binary at %s (build it first, e.g. make build-local)", def.LogicalID, bin)
	}
	vars, err := s.resolver.Environment(def)
	if err != nil {
		return nil, err
	}
	fn := &function{
		def:     def,
		name:    def.LogicalID,
		binary:  bin,
		timeout: time.Duration(def.Timeout) * time.Second,
	}
	fn.arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", s.cfg.Region, samtemplate.DefaultAccountID, fn.name)
	fn.env = s.functionEnv(fn, vars)
	fn.pool = &pool{fn: fn, host: s.host, max: s.cfg.MaxConcurrency}
	return fn, nil
}

// functionEnv builds a runtime's environment the way Lambda does: only
// what the template declares plus the reserved variables, not the parent's
// whole environment, so a function cannot come to depend on a developer's
// shell. AWS endpoint and credential variables pass through so that
// clients reach local services such as DynamoDB Local with no code branch.
func (s *Server) functionEnv(fn *function, vars map[string]string) []string {
	env := map[string]string{}
	for k, v := range vars {
		env[k] = v
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_ENDPOINT_URL"),
			k == "AWS_ACCESS_KEY_ID", k == "AWS_SECRET_ACCESS_KEY", k == "AWS_SESSION_TOKEN",
			k == "AWS_EC2_METADATA_DISABLED", k == "GOCOVERDIR", k == "GODEBUG", k == "GORACE":
			env[k] = v
		}
	}
	if env["AWS_ACCESS_KEY_ID"] == "" || env["AWS_SECRET_ACCESS_KEY"] == "" {
		// Dummy keys: local servers accept any, and the SDK must not go
		// looking for real ones.
		env["AWS_ACCESS_KEY_ID"] = "local"
		env["AWS_SECRET_ACCESS_KEY"] = "local"
		delete(env, "AWS_SESSION_TOKEN")
	}
	env["AWS_REGION"] = s.cfg.Region
	env["AWS_DEFAULT_REGION"] = s.cfg.Region
	env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(fn.def.MemorySize)
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.def.Runtime
	env["_HANDLER"] = fn.def.Handler
	env["LAMBDA_TASK_ROOT"] = fn.binaryDir()
	env["LAMBDA_RUNTIME_DIR"] = fn.binaryDir()
	env["TZ"] = ":UTC"
	env["LANG"] = "en_US.UTF-8"
	env["PATH"] = os.Getenv("PATH")
	if fn.def.LogFormat != "" {
		env["AWS_LAMBDA_LOG_FORMAT"] = fn.def.LogFormat
	}
	if !fn.def.ApplicationLogLevel.IsZero() {
		if lvl, err := s.resolver.Resolve(fn.def.ApplicationLogLevel); err == nil {
			env["AWS_LAMBDA_LOG_LEVEL"] = lvl
		}
	}
	for k, v := range s.cfg.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (fn *function) binaryDir() string {
	i := strings.LastIndexAny(fn.binary, `/\`)
	if i < 0 {
		return "."
	}
	return fn.binary[:i]
}

// Template returns the parsed template the server runs.
func (s *Server) Template() *samtemplate.Template { return s.tpl }

// Handler returns the HTTP handler for both the API routes and the Lambda
// Invoke API, for use in-process (httptest) or under another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Config.Addr and serves Handler until Close. With
// Config.Prewarm it returns only once every function's first runtime is
// ready. ctx bounds the start-up, not the serving.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.listener != nil {
		s.mu.Unlock()
		return errors.New("lambdahost: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.listener = ln
	url := "http://" + ln.Addr().String()
	s.url.Store(&url)
	s.httpSrv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := s.httpSrv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("local API stopped", "err", err)
		}
	}()
	if s.cfg.Prewarm {
		if err := s.Prewarm(ctx); err != nil {
			return err
		}
	}
	s.startBackground(ctx)
	s.log.Info("local API ready", "url", s.URL(), "functions", len(s.functions))
	return nil
}

// startBackground starts the queue pollers and, with Config.Schedules, the
// schedules. They run until Close, which cancels their context.
func (s *Server) startBackground(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel()
		return
	}
	go func() {
		<-s.closing
		cancel()
	}()
	s.startMappings(ctx)
	if s.cfg.Schedules {
		s.startSchedules(ctx)
	}
}

// Prewarm starts one runtime per function and waits until each has asked
// for its first event, reporting every function that failed to start.
func (s *Server) Prewarm(ctx context.Context) error {
	ids := make([]string, 0, len(s.functions))
	for id := range s.functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.functions[id].pool.warm(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// URL returns the base URL once Start has been called, "" before.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops serving, kills every runtime process and waits until all are
// reaped. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.httpSrv
	close(s.closing)
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	for _, fn := range s.functions {
		fn.pool.close()
	}
	s.host.wg.Wait()
	s.bg.Wait()
	return errors.Join(err, s.host.logs.close(), s.events.close())
}

// Invoke runs one event on a function by logical id and returns what the
// function produced. The error is set only when nothing could be invoked.
func (s *Server) Invoke(ctx context.Context, logicalID string, payload []byte) (Result, error) {
	fn, ok := s.functions[logicalID]
	if !ok {
		return Result{}, fmt.Errorf("invoke %s: %w", logicalID, ErrUnknownFunction)
	}
	res, err := fn.pool.invoke(ctx, payload)
	if err != nil {
		return Result{}, fmt.Errorf("invoke %s: %w", logicalID, err)
	}
	return res, nil
}

// ErrUnknownFunction is returned when a logical id names no function of the
// template.
var ErrUnknownFunction = errors.New("no such function in the template")

// Stats describes one function's runtime processes at a moment.
type Stats struct {
	// Processes is the number of live or starting runtime processes.
	Processes int
	// Idle is how many of them wait for an event.
	Idle int
	// Started counts processes started since New.
	Started int
}

// Stats reports a function's runtime processes, for tests and diagnostics.
func (s *Server) Stats(logicalID string) (Stats, bool) {
	fn, ok := s.functions[logicalID]
	if !ok {
		return Stats{}, false
	}
	p := fn.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Processes: p.total, Idle: len(p.idle), Started: p.seq}, true
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// accessLog writes one slog record per request, and one line to
// Config.Requests when set. It records the path but never the query string
// or body, which may carry personal data.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		info := &requestInfo{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		took := time.Since(start)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("routeKey", info.routeKey),
			slog.String("function", info.function),
			slog.String("requestId", info.requestID),
			slog.Int("status", rec.status),
			slog.Float64("durationMs", float64(took.Microseconds())/1000),
		)
		if s.cfg.Requests != nil {
			line := RequestLine(start, r.Method, r.URL.Path, rec.status, took, info.function)
			s.requestsMu.Lock()
			_, _ = io.WriteString(s.cfg.Requests, line)
			s.requestsMu.Unlock()
		}
	})
}

// RequestLine formats one request as Config.Requests receives it, in
// aligned columns: the time it arrived, method, path, status, how long it
// took and the function that answered, e.g. "08:50:16 POST /v1/events 200
// 1.235s IngestFunction". The function is "-" when none answered (no such
// route), and "EventBridge" for the emulated PutEvents API.
func RequestLine(at time.Time, method, path string, status int, took time.Duration, function string) string {
	if function == "" {
		function = "-"
	}
	if took < time.Second {
		took = took.Round(10 * time.Microsecond)
	} else {
		took = took.Round(time.Millisecond)
	}
	return fmt.Sprintf("%s %-6s %-38s %3d %9s %s\n", at.Format(time.TimeOnly), method, path, status, took, function)
}

// requestInfo carries what the access line reports from deeper handlers.
type requestInfo struct {
	routeKey, function, requestID string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}
