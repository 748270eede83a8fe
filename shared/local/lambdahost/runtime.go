package lambdahost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"tailor/shared/local/samtemplate"
)

// Outcome says how an invocation ended.
type Outcome int

// Outcomes of an invocation.
const (
	// Success means the function returned a response.
	Success Outcome = iota
	// FunctionError means the handler returned an error or panicked and the
	// runtime reported it.
	FunctionError
	// Timeout means the function ran past its Timeout and was killed.
	Timeout
	// Crash means the runtime process exited during the invocation.
	Crash
	// InitError means the runtime failed before asking for its first event.
	InitError
)

var outcomeNames = [...]string{"success", "function error", "timeout", "crash", "init error"}

// String names the outcome.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is what one invocation produced. For every outcome but Success,
// Payload is an error document in Lambda's shape
// ({"errorType": ..., "errorMessage": ...}).
type Result struct {
	RequestID string
	Outcome   Outcome
	Payload   []byte
	// ErrorType is the runtime's error type for FunctionError, and the
	// Lambda error type (Sandbox.Timedout, Runtime.ExitError) otherwise.
	ErrorType string
}

// ErrClosed is returned by invocations made after or during Close.
var ErrClosed = errors.New("lambdahost: server closed")

// Limits Lambda applies that the local runtime also enforces.
const (
	maxResponseBytes = 6 << 20
	maxRequestBytes  = 6 << 20
)

// function is one template function ready to run locally.
type function struct {
	def     samtemplate.Function
	name    string // AWS_LAMBDA_FUNCTION_NAME
	arn     string
	binary  string
	env     []string
	timeout time.Duration
	pool    *pool
}

// sandboxState is where a sandbox stands in its pool; guarded by pool.mu.
type sandboxState int

const (
	stateStarting sandboxState = iota
	stateIdle
	stateBusy
	stateGone
)

// sandbox is one runtime process with its own Runtime API endpoint, as each
// Lambda execution environment has its own.
type sandbox struct {
	fn      *function
	seq     int
	cmd     *exec.Cmd
	stdout  *lineWriter
	stderr  *lineWriter
	srv     *http.Server
	started time.Time
	next    chan *invocation // handed to the runtime's pending /next
	ready   chan struct{}    // closed at the first /next
	exited  chan struct{}    // closed once the process is reaped
	stop    chan struct{}    // closed to release pending /next calls
	once    sync.Once
	stopped sync.Once
	killed  atomic.Bool // set by kill: the exit was ours, not a crash

	mu        sync.Mutex
	current   *invocation
	initError []byte
	waitErr   error

	state sandboxState // guarded by pool.mu
}

// invocation is one event on its way through a sandbox.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	traceID  string
	done     chan Result // buffered: the first answer wins
}

func (inv *invocation) finish(r Result) {
	r.RequestID = inv.id
	select {
	case inv.done <- r:
	default:
	}
}

// pool keeps a function's sandboxes: idle ones are reused most recent
// first, new ones start when none is idle, and callers queue when the
// function is at its concurrency limit.
type pool struct {
	fn     *function
	host   *host
	max    int
	mu     sync.Mutex
	idle   []*sandbox
	all    map[*sandbox]bool
	total  int
	wait   []chan *sandbox // a nil send means "a slot is yours: start one"
	closed bool
	seq    int
}

// host owns every pool and what they share.
type host struct {
	logs        *logSink
	log         *slog.Logger
	initTimeout time.Duration
	wg          sync.WaitGroup // one per live sandbox monitor
	// runtimeEnv, when set, gives a runtime of fn the variables known only
	// once the server listens (the endpoints it answers); a runtime gets
	// them last.
	runtimeEnv func(fn *function) []string
}

// logAttr names the function's log file for a warning about it, so the
// reader knows where its own lines are; nil when they go to Config.Logs.
func (h *host) logAttr(function string) []any {
	if f := h.logs.file(function); f != "" {
		return []any{"log", f}
	}
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newTraceID(now time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), h[:24], h[24:40])
}

// invoke runs one event on the function, starting or queueing for a
// sandbox as needed. It returns an error only when no invocation happened
// (ctx ended, server closed, process could not start); what the function
// did is in the Result.
func (p *pool) invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: newID(), payload: payload, done: make(chan Result, 1)}
	for attempt := 0; ; attempt++ {
		sb, err := p.acquire(ctx)
		if err != nil {
			return Result{}, err
		}
		warm := false
		select {
		case <-sb.ready:
			warm = true
		default:
		}
		if !warm {
			// A new sandbox first has to finish its init phase, which Lambda
			// bounds separately from the function timeout.
			select {
			case <-sb.ready:
			case <-sb.exited:
				p.discard(sb)
				return sb.initFailure(inv), nil
			case <-time.After(p.host.initTimeout):
				sb.kill()
				p.discard(sb)
				return p.timeoutResult(inv, "init phase did not finish in "+p.host.initTimeout.String()), nil
			case <-ctx.Done():
				p.release(sb)
				return Result{}, ctx.Err()
			}
		}

		now := time.Now()
		inv.deadline = now.Add(p.fn.timeout)
		inv.traceID = newTraceID(now)
		select {
		case sb.next <- inv:
		case <-sb.exited:
			p.discard(sb)
			// A warm runtime that died while idle never saw this event, so
			// another one may take it; a crash loop must still surface.
			if warm && attempt < 2 {
				continue
			}
			return sb.crashResult(inv), nil
		case <-ctx.Done():
			p.release(sb)
			return Result{}, ctx.Err()
		}

		res, ok := p.await(ctx, sb, inv)
		if !ok {
			// The caller left; the sandbox still has to finish (or time out)
			// before anyone else can use it, as in Lambda.
			go p.await(context.WithoutCancel(ctx), sb, inv)
			return Result{}, ctx.Err()
		}
		return res, nil
	}
}

// await waits for the invocation's end and returns the sandbox to the pool
// or discards it. ok is false when ctx ended first; the sandbox is then
// still busy.
func (p *pool) await(ctx context.Context, sb *sandbox, inv *invocation) (Result, bool) {
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case res := <-inv.done:
		p.release(sb)
		return res, true
	case <-sb.exited:
		p.discard(sb)
		select {
		case res := <-inv.done:
			// The answer came in just before the process ended.
			return res, true
		default:
		}
		return sb.crashResult(inv), true
	case <-timer.C:
		select {
		case res := <-inv.done:
			p.release(sb)
			return res, true
		default:
		}
		sb.kill()
		p.discard(sb)
		return p.timeoutResult(inv, fmt.Sprintf("Task timed out after %.2f seconds", p.fn.timeout.Seconds())), true
	case <-ctx.Done():
		return Result{}, false
	}
}

func (p *pool) timeoutResult(inv *invocation, msg string) Result {
	p.host.log.Warn("function timed out", append([]any{"function", p.fn.def.LogicalID, "requestId", inv.id}, p.host.logAttr(p.fn.def.LogicalID)...)...)
	return Result{
		RequestID: inv.id,
		Outcome:   Timeout,
		ErrorType: "Sandbox.Timedout",
		Payload:   errorDocument("Sandbox.Timedout", "RequestId: "+inv.id+" Error: "+msg),
	}
}

func errorDocument(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{typ, msg})
	return b
}

// warm makes sure the function has a ready runtime, starting one if none
// is idle, and reports a runtime that fails to start.
func (p *pool) warm(ctx context.Context) error {
	sb, err := p.acquire(ctx)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.fn.def.LogicalID, err)
	}
	select {
	case <-sb.ready:
		p.release(sb)
		return nil
	case <-sb.exited:
		p.discard(sb)
		res := sb.initFailure(&invocation{id: "init"})
		return fmt.Errorf("start %s: runtime exited during init: %s", p.fn.def.LogicalID, res.Payload)
	case <-time.After(p.host.initTimeout):
		sb.kill()
		p.discard(sb)
		return fmt.Errorf("start %s: init did not finish in %s", p.fn.def.LogicalID, p.host.initTimeout)
	case <-ctx.Done():
		p.release(sb)
		return fmt.Errorf("start %s: %w", p.fn.def.LogicalID, ctx.Err())
	}
}

// acquire returns an idle sandbox, a newly started one, or waits for one.
func (p *pool) acquire(ctx context.Context) (*sandbox, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		sb := p.idle[n-1]
		p.idle = p.idle[:n-1]
		sb.state = stateBusy
		p.mu.Unlock()
		return sb, nil
	}
	if p.total < p.max {
		p.total++
		p.mu.Unlock()
		return p.spawnForSlot()
	}
	ch := make(chan *sandbox, 1)
	p.wait = append(p.wait, ch)
	p.mu.Unlock()

	select {
	case sb, ok := <-ch:
		if !ok {
			return nil, ErrClosed
		}
		if sb == nil {
			return p.spawnForSlot()
		}
		return sb, nil
	case <-ctx.Done():
		p.mu.Lock()
		for i, w := range p.wait {
			if w == ch {
				p.wait = append(p.wait[:i], p.wait[i+1:]...)
				p.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		p.mu.Unlock()
		// Someone handed us a sandbox or a slot as we gave up: pass it on.
		if sb, ok := <-ch; ok {
			if sb == nil {
				p.freeSlot()
			} else {
				p.release(sb)
			}
		}
		return nil, ctx.Err()
	}
}

// spawnForSlot starts a sandbox in a slot already counted in total.
func (p *pool) spawnForSlot() (*sandbox, error) {
	sb, err := p.spawn()
	if err != nil {
		p.freeSlot()
		return nil, err
	}
	return sb, nil
}

// release returns a healthy sandbox after an invocation.
func (p *pool) release(sb *sandbox) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sb.state == stateGone {
		return
	}
	if p.closed {
		sb.state = stateGone
		p.total--
		go sb.kill()
		return
	}
	if len(p.wait) > 0 {
		ch := p.wait[0]
		p.wait = p.wait[1:]
		sb.state = stateBusy
		ch <- sb
		return
	}
	sb.state = stateIdle
	p.idle = append(p.idle, sb)
}

// discard drops a sandbox whose process has died or been killed.
func (p *pool) discard(sb *sandbox) {
	p.mu.Lock()
	if sb.state == stateGone {
		p.mu.Unlock()
		return
	}
	if sb.state == stateIdle {
		p.removeIdle(sb)
	}
	sb.state = stateGone
	p.mu.Unlock()
	p.freeSlot()
}

func (p *pool) removeIdle(sb *sandbox) {
	for i, s := range p.idle {
		if s == sb {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return
		}
	}
}

// freeSlot gives a free slot to the first waiter, who starts a sandbox in
// it, or returns it to the pool.
func (p *pool) freeSlot() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.wait) > 0 && !p.closed {
		ch := p.wait[0]
		p.wait = p.wait[1:]
		ch <- nil
		return
	}
	p.total--
}

// close kills every sandbox and fails every waiter.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	for _, ch := range p.wait {
		close(ch)
	}
	p.wait = nil
	var all []*sandbox
	for sb := range p.all {
		all = append(all, sb)
	}
	p.mu.Unlock()
	for _, sb := range all {
		sb.kill()
	}
}

// spawn starts a runtime process with its own Runtime API listener.
func (p *pool) spawn() (*sandbox, error) {
	fn := p.fn
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API of %s: %w", fn.def.LogicalID, err)
	}
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	sb := &sandbox{
		fn:     fn,
		seq:    seq,
		next:   make(chan *invocation),
		ready:  make(chan struct{}),
		exited: make(chan struct{}),
		stop:   make(chan struct{}),
		state:  stateStarting,
	}
	sb.srv = &http.Server{Handler: sb.routes(), ReadHeaderTimeout: 10 * time.Second}

	cmd := exec.Command(fn.binary)
	cmd.Dir = filepath.Dir(fn.binary)
	cmd.Env = append(append([]string(nil), fn.env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/[$LATEST]"+newID()[:8],
	)
	if p.host.runtimeEnv != nil {
		// Last, so it wins over a variable of the same name passed through
		// from the parent (exec keeps the last value of a duplicate).
		cmd.Env = append(cmd.Env, p.host.runtimeEnv(fn)...)
	}
	sb.stdout = p.host.logs.writer(fn.def.LogicalID)
	sb.stderr = p.host.logs.writer(fn.def.LogicalID)
	cmd.Stdout = sb.stdout
	cmd.Stderr = sb.stderr
	// A child that keeps our pipes open must not hold up reaping.
	cmd.WaitDelay = time.Second
	configureProcess(cmd)
	sb.cmd = cmd
	sb.started = time.Now()
	// Serve only now: the handlers read the fields set above.
	go sb.srv.Serve(ln) //nolint:errcheck // Serve returns once Close is called.
	if err := cmd.Start(); err != nil {
		sb.srv.Close()
		return nil, fmt.Errorf("start %s: %w", fn.binary, err)
	}
	p.mu.Lock()
	if p.closed {
		// Close has already collected the sandboxes it will kill and may be
		// waiting for them: this one is ours to end.
		p.mu.Unlock()
		sb.kill()
		_ = cmd.Wait()
		return nil, ErrClosed
	}
	if p.all == nil {
		p.all = map[*sandbox]bool{}
	}
	p.all[sb] = true
	sb.state = stateBusy
	// Added under the lock that close takes first, so the Add always comes
	// before Close's Wait.
	p.host.wg.Add(1)
	p.mu.Unlock()
	p.host.log.Info("runtime started", "function", fn.def.LogicalID, "pid", cmd.Process.Pid, "sandbox", seq)
	go p.monitor(sb)
	return sb, nil
}

// monitor reaps the process and fails whatever it was running.
func (p *pool) monitor(sb *sandbox) {
	defer p.host.wg.Done()
	err := sb.cmd.Wait()
	_ = sb.stdout.Close()
	_ = sb.stderr.Close()
	sb.mu.Lock()
	sb.waitErr = err
	inv := sb.current
	sb.current = nil
	sb.mu.Unlock()
	sb.stopServing()
	close(sb.exited)
	if inv != nil {
		inv.finish(sb.crashResult(inv))
	}
	p.mu.Lock()
	delete(p.all, sb)
	wasIdle := sb.state == stateIdle
	p.mu.Unlock()
	if wasIdle {
		// Died between invocations: nobody else will notice.
		p.discard(sb)
	}
	attrs := []any{"function", sb.fn.def.LogicalID, "pid", sb.cmd.Process.Pid, "sandbox", sb.seq, "exit", exitText(err)}
	if sb.killed.Load() {
		p.host.log.Info("runtime exited", attrs...)
		return
	}
	p.host.log.Warn("runtime exited unexpectedly", append(attrs, p.host.logAttr(sb.fn.def.LogicalID)...)...)
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func (sb *sandbox) stopServing() {
	sb.stopped.Do(func() {
		close(sb.stop)
		sb.srv.Close()
	})
}

// kill ends the process group; monitor does the rest. The signal goes
// first so the runtime dies without logging about a vanished Runtime API.
func (sb *sandbox) kill() {
	sb.killed.Store(true)
	killProcess(sb.cmd)
	sb.stopServing()
}

func (sb *sandbox) crashResult(inv *invocation) Result {
	sb.mu.Lock()
	err := sb.waitErr
	sb.mu.Unlock()
	msg := "RequestId: " + inv.id + " Error: Runtime exited with error: " + exitText(err)
	if err == nil {
		msg = "RequestId: " + inv.id + " Error: Runtime exited without providing a reason"
	}
	return Result{RequestID: inv.id, Outcome: Crash, ErrorType: "Runtime.ExitError", Payload: errorDocument("Runtime.ExitError", msg)}
}

// initFailure reports a runtime that ended before its first /next, with
// the document it sent to /init/error when it sent one.
func (sb *sandbox) initFailure(inv *invocation) Result {
	sb.mu.Lock()
	doc := sb.initError
	err := sb.waitErr
	sb.mu.Unlock()
	if len(doc) == 0 {
		doc = errorDocument("Runtime.ExitError", "RequestId: "+inv.id+" Error: Runtime exited with error: "+exitText(err))
	}
	var typ struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(doc, &typ)
	return Result{RequestID: inv.id, Outcome: InitError, ErrorType: typ.ErrorType, Payload: doc}
}

// Runtime API paths, version 2018-06-01.
const runtimeAPIPrefix = "/2018-06-01/runtime"

func (sb *sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", sb.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", sb.handleResponse)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", sb.handleError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", sb.handleInitError)
	return mux
}

func (sb *sandbox) handleNext(w http.ResponseWriter, r *http.Request) {
	sb.once.Do(func() {
		sb.fn.pool.host.log.Info("runtime ready", "function", sb.fn.def.LogicalID, "sandbox", sb.seq,
			"initMs", float64(time.Since(sb.started).Microseconds())/1000)
		close(sb.ready)
	})
	select {
	case inv := <-sb.next:
		sb.mu.Lock()
		sb.current = inv
		sb.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", sb.fn.arn)
		h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-sb.stop:
		http.Error(w, "runtime is shutting down", http.StatusGone)
	case <-r.Context().Done():
	}
}

// takeCurrent claims the in-flight invocation if id names it.
func (sb *sandbox) takeCurrent(id string) *invocation {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	inv := sb.current
	if inv == nil || inv.id != id {
		return nil
	}
	sb.current = nil
	return inv
}

func runtimeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorDocument(typ, msg))
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func (sb *sandbox) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		runtimeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read response: "+err.Error())
		return
	}
	inv := sb.takeCurrent(r.PathValue("id"))
	if inv == nil {
		runtimeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with that id")
		return
	}
	if len(body) > maxResponseBytes {
		runtimeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload too large")
		inv.finish(Result{Outcome: FunctionError, ErrorType: "Function.ResponseSizeTooLarge",
			Payload: errorDocument("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size (6291556 bytes).")})
		return
	}
	accepted(w)
	inv.finish(Result{Outcome: Success, Payload: body})
}

func (sb *sandbox) handleError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes))
	if err != nil {
		runtimeAPIError(w, http.StatusBadRequest, "InvalidRequest", "read error: "+err.Error())
		return
	}
	inv := sb.takeCurrent(r.PathValue("id"))
	if inv == nil {
		runtimeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with that id")
		return
	}
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	if typ == "" {
		var doc struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(body, &doc)
		typ = doc.ErrorType
	}
	if !json.Valid(body) {
		body = errorDocument(typ, string(body))
	}
	accepted(w)
	inv.finish(Result{Outcome: FunctionError, ErrorType: typ, Payload: body})
}

func (sb *sandbox) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes))
	if !json.Valid(body) {
		body = errorDocument(r.Header.Get("Lambda-Runtime-Function-Error-Type"), string(body))
	}
	sb.mu.Lock()
	sb.initError = body
	sb.mu.Unlock()
	h := sb.fn.pool.host
	h.log.Error("runtime init failed", append([]any{"function", sb.fn.def.LogicalID, "sandbox", sb.seq}, h.logAttr(sb.fn.def.LogicalID)...)...)
	accepted(w)
}
