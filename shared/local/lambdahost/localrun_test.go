package lambdahost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/obs/obstest"
)

// binDir holds the test functions, laid out as <name>/bootstrap.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localrun-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := buildTestFunctions(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTestFunctions compiles the test Lambdas; SlowFunction is the echo
// binary again under a template with a one second timeout.
func buildTestFunctions(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, "out") + string(filepath.Separator)
	cmd := exec.Command(goTool, "build", "-o", out, "./testdata/echo", "./testdata/authorizer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build test functions: %v\n%s", err, b)
	}
	for name, src := range map[string]string{"echo": "echo", "slow": "echo", "authorizer": "authorizer"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(out, src))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

type testServer struct {
	*Server
	logs *obstest.Buffer
	url  string
}

func startServer(t testing.TB, adjust func(*Config)) *testServer {
	t.Helper()
	logs := &obstest.Buffer{}
	cfg := Config{
		Template:    "testdata/template.yaml",
		BinDir:      binDir,
		TablePrefix: "tl-",
		Logs:        logs,
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return &testServer{Server: srv, logs: logs, url: srv.URL()}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (ts *testServer) do(t testing.TB, method, path string, body io.Reader, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// echoed is what the echo function puts in its body.
type echoed struct {
	Event  json.RawMessage `json:"event"`
	Lambda struct {
		RequestID   string `json:"requestId"`
		FunctionArn string `json:"functionArn"`
		DeadlineMs  int64  `json:"deadlineMs"`
		PID         int    `json:"pid"`
	} `json:"lambda"`
	Env map[string]string `json:"env"`
}

func decodeEcho(t testing.TB, r reply) (echoed, events.APIGatewayV2HTTPRequest) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var e echoed
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("decode echo body %s: %v", r.body, err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		t.Fatalf("decode event: %v", err)
	}
	return e, ev
}

func wantMessage(t *testing.T, r reply, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var doc map[string]string
	if err := json.Unmarshal(r.body, &doc); err != nil || doc["message"] != msg || len(doc) != 1 {
		t.Errorf("body = %s, want {\"message\":%q}", r.body, msg)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestEventFormat2(t *testing.T) {
	ts := startServer(t, nil)
	h := http.Header{}
	h.Add("X-Multi", "a")
	h.Add("X-Multi", "b")
	h.Add("Cookie", "c1=v1; c2=v2")
	h.Set("User-Agent", "localrun-test/1")
	r := ts.do(t, "GET", "/items/abc%2Fdef?x=1&x=2&y=hello+world&flag&z=%C3%A9", nil, h)
	e, ev := decodeEcho(t, r)

	if ev.Version != "2.0" || ev.RouteKey != "GET /items/{id}" || ev.RawPath != "/items/abc%2Fdef" {
		t.Errorf("version %q routeKey %q rawPath %q", ev.Version, ev.RouteKey, ev.RawPath)
	}
	if ev.RawQueryString != "x=1&x=2&y=hello+world&flag&z=%C3%A9" {
		t.Errorf("rawQueryString = %q", ev.RawQueryString)
	}
	wantQuery := map[string]string{"x": "1,2", "y": "hello world", "flag": "", "z": "é"}
	if fmt.Sprint(ev.QueryStringParameters) != fmt.Sprint(wantQuery) {
		t.Errorf("queryStringParameters = %v, want %v", ev.QueryStringParameters, wantQuery)
	}
	if ev.PathParameters["id"] != "abc/def" || len(ev.PathParameters) != 1 {
		t.Errorf("pathParameters = %v", ev.PathParameters)
	}
	if ev.Headers["x-multi"] != "a,b" {
		t.Errorf("x-multi = %q, want a,b", ev.Headers["x-multi"])
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header left in headers")
	}
	if strings.Join(ev.Cookies, "|") != "c1=v1|c2=v2" {
		t.Errorf("cookies = %q", ev.Cookies)
	}
	for k, v := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q not lower case", k)
		}
		_ = v
	}
	if ev.Headers["host"] == "" || ev.Headers["x-forwarded-proto"] != "http" || ev.Headers["x-forwarded-for"] != "127.0.0.1" ||
		ev.Headers["user-agent"] != "localrun-test/1" || !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("headers = %v", ev.Headers)
	}
	rc := ev.RequestContext
	if rc.Stage != "$default" || rc.RouteKey != "GET /items/{id}" || rc.AccountID != "123456789012" || rc.APIID != "tl-Api" {
		t.Errorf("requestContext = %+v", rc)
	}
	if rc.HTTP.Method != "GET" || rc.HTTP.Path != "/items/abc%2Fdef" || rc.HTTP.Protocol != "HTTP/1.1" ||
		rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "localrun-test/1" {
		t.Errorf("requestContext.http = %+v", rc.HTTP)
	}
	if rc.RequestID == "" || rc.RequestID != r.header.Get("Apigw-Requestid") {
		t.Errorf("requestId %q, apigw-requestid header %q", rc.RequestID, r.header.Get("Apigw-Requestid"))
	}
	if rc.DomainName != ev.Headers["host"] || rc.DomainPrefix != "127" {
		t.Errorf("domainName %q domainPrefix %q", rc.DomainName, rc.DomainPrefix)
	}
	tm, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time)
	if err != nil || tm.Unix() != rc.TimeEpoch/1000 {
		t.Errorf("time %q (%v) vs timeEpoch %d", rc.Time, err, rc.TimeEpoch)
	}
	if ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("body %q base64 %v, want none", ev.Body, ev.IsBase64Encoded)
	}
	// Fields API Gateway leaves out must not appear at all.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(e.Event, &raw)
	var rawCtx map[string]json.RawMessage
	_ = json.Unmarshal(raw["requestContext"], &rawCtx)
	for _, k := range []string{"stageVariables", "body"} {
		if _, ok := raw[k]; ok {
			t.Errorf("event has %q", k)
		}
	}
	for _, k := range []string{"authentication", "authorizer"} {
		if _, ok := rawCtx[k]; ok {
			t.Errorf("requestContext has %q", k)
		}
	}
	if e.Lambda.FunctionArn != "arn:aws:lambda:"+ts.cfg.Region+":123456789012:function:EchoFunction" {
		t.Errorf("invoked function ARN = %q", e.Lambda.FunctionArn)
	}
}

func TestEventBodies(t *testing.T) {
	ts := startServer(t, nil)
	binary := []byte{0, 1, 2, 0xfe, 0xff}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantBase64  bool
	}{
		{"json", "application/json; charset=utf-8", []byte(`{"a":1}`), false},
		{"text", "text/plain", []byte("hello"), false},
		{"form", "application/x-www-form-urlencoded", []byte("a=1&b=2"), false},
		{"xml", "application/xml", []byte("<a/>"), false},
		{"binary", "application/octet-stream", binary, true},
		{"image", "image/png", binary, true},
		{"invalid utf-8 text", "text/plain", binary, true},
		{"no content type", "", []byte("abc"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			_, ev := decodeEcho(t, ts.do(t, "POST", "/items/i1/parts/p2", bytes.NewReader(tc.body), h))
			if ev.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("isBase64Encoded = %v, want %v", ev.IsBase64Encoded, tc.wantBase64)
			}
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				var err error
				if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, tc.body) {
				t.Errorf("body = %q, want %q", got, tc.body)
			}
			if ev.PathParameters["id"] != "i1" || ev.PathParameters["part"] != "p2" || ev.RouteKey != "POST /items/{id}/parts/{part}" {
				t.Errorf("route %q params %v", ev.RouteKey, ev.PathParameters)
			}
			if ev.Headers["content-length"] != fmt.Sprint(len(tc.body)) {
				t.Errorf("content-length = %q", ev.Headers["content-length"])
			}
		})
	}
}

func TestResponseMapping(t *testing.T) {
	ts := startServer(t, nil)

	r := ts.do(t, "GET", "/echo/x?code=201", nil, nil)
	if r.status != 201 || r.header.Get("X-Echo") != "yes" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("structured: status %d headers %v", r.status, r.header)
	}
	if got := r.header.Values("Set-Cookie"); strings.Join(got, "|") != "a=1; Path=/|b=2; HttpOnly" {
		t.Errorf("Set-Cookie = %q", got)
	}

	r = ts.do(t, "GET", "/echo/x?mode=raw", nil, nil)
	var facts map[string]any
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || json.Unmarshal(r.body, &facts) != nil || facts["event"] == nil {
		t.Errorf("object without statusCode: status %d type %q body %.80s", r.status, r.header.Get("Content-Type"), r.body)
	}

	r = ts.do(t, "GET", "/echo/x?mode=string", nil, nil)
	if r.status != 200 || string(r.body) != `"plain"` || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("string: status %d body %s", r.status, r.body)
	}

	r = ts.do(t, "GET", "/echo/x?mode=binary", nil, nil)
	if r.status != 200 || !bytes.Equal(r.body, []byte{0, 1, 2, 255}) || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary: status %d body %v", r.status, r.body)
	}

	r = ts.do(t, "GET", "/echo/x?mode=multi", nil, nil)
	if r.status != 200 || strings.Join(r.header.Values("X-Multi"), ",") != "a,b" || string(r.body) != "multi" {
		t.Errorf("multi: status %d headers %v body %s", r.status, r.header, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "" {
		t.Errorf("multi: Content-Type %q was not sent by the function", ct)
	}

	wantMessage(t, ts.do(t, "GET", "/echo/x?mode=bad", nil, nil), 500, "Internal Server Error")
	wantMessage(t, ts.do(t, "GET", "/echo/x?error=broken", nil, nil), 500, "Internal Server Error")
	wantMessage(t, ts.do(t, "GET", "/echo/x?panic=1", nil, nil), 500, "Internal Server Error")
}

func TestRouting(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		method, path string
		routeKey     string
		params       map[string]string
	}{
		{"GET", "/items/special", "GET /items/special", nil},
		{"GET", "/items/other", "GET /items/{id}", map[string]string{"id": "other"}},
		{"DELETE", "/echo/a/b/c", "ANY /echo/{proxy+}", map[string]string{"proxy": "a/b/c"}},
		{"GET", "/echo/one", "ANY /echo/{proxy+}", map[string]string{"proxy": "one"}},
	}
	for _, tc := range tests {
		_, ev := decodeEcho(t, ts.do(t, tc.method, tc.path, nil, nil))
		if ev.RouteKey != tc.routeKey || fmt.Sprint(ev.PathParameters) != fmt.Sprint(tc.params) {
			t.Errorf("%s %s: routeKey %q params %v, want %q %v", tc.method, tc.path, ev.RouteKey, ev.PathParameters, tc.routeKey, tc.params)
		}
	}
	for _, miss := range []struct{ method, path string }{
		{"GET", "/nope"}, {"PUT", "/items/x"}, {"GET", "/echo"}, {"GET", "/items"}, {"GET", "/items/a/b"},
	} {
		wantMessage(t, ts.do(t, miss.method, miss.path, nil, nil), 404, "Not Found")
	}
}

func TestConcurrentRequests(t *testing.T) {
	const max = 4
	ts := startServer(t, func(c *Config) { c.MaxConcurrency = max })
	const n = 20
	var wg sync.WaitGroup
	results := make([]reply, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = ts.do(t, "GET", fmt.Sprintf("/echo/c%d?sleep=50", i), nil, nil)
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	pids := map[int]bool{}
	for i, r := range results {
		e, ev := decodeEcho(t, r)
		if ev.PathParameters["proxy"] != fmt.Sprintf("c%d", i) {
			t.Errorf("request %d got the answer for %v", i, ev.PathParameters)
		}
		ids[e.Lambda.RequestID] = true
		pids[e.Lambda.PID] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct request ids, want %d", len(ids), n)
	}
	st, _ := ts.Stats("EchoFunction")
	if len(pids) > max || st.Started > max || st.Processes > max {
		t.Errorf("%d pids, stats %+v: more than %d processes", len(pids), st, max)
	}
	if st.Idle != st.Processes {
		t.Errorf("stats %+v: every process should be idle again", st)
	}
}

// waitGone waits until a process no longer exists; it bounds the wait but
// asserts nothing about how long it took.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 1000 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d still exists", pid)
}

func TestTimeoutKillsAndRecovers(t *testing.T) {
	ts := startServer(t, nil)
	first, _ := decodeEcho(t, ts.do(t, "GET", "/slow", nil, nil))
	if first.Lambda.DeadlineMs == 0 {
		t.Error("no deadline passed to the function")
	}

	wantMessage(t, ts.do(t, "GET", "/slow?sleep=5000", nil, nil), 503, "Service Unavailable")
	waitGone(t, first.Lambda.PID)

	again, _ := decodeEcho(t, ts.do(t, "GET", "/slow", nil, nil))
	if again.Lambda.PID == first.Lambda.PID {
		t.Error("the timed-out process served again")
	}
	st, _ := ts.Stats("SlowFunction")
	if st.Processes != 1 || st.Started != 2 {
		t.Errorf("stats %+v, want one live process and two started", st)
	}

	res, err := ts.Invoke(context.Background(), "SlowFunction", []byte(`{"sleep":"5000"}`))
	if err != nil || res.Outcome != Timeout || res.ErrorType != "Sandbox.Timedout" || !strings.Contains(string(res.Payload), "Task timed out after 1.00 seconds") {
		t.Errorf("direct invoke past the timeout: %+v %s, %v", res, res.Payload, err)
	}
}

func TestIntegrationTimeout(t *testing.T) {
	ts := startServer(t, nil)
	// The route gives up after 300ms although the function may run 10s.
	wantMessage(t, ts.do(t, "GET", "/brief?sleep=1500", nil, nil), 503, "Service Unavailable")
	_, ev := decodeEcho(t, ts.do(t, "GET", "/brief", nil, nil))
	if ev.RouteKey != "GET /brief" {
		t.Errorf("routeKey %q", ev.RouteKey)
	}
}

func TestCrashRestarts(t *testing.T) {
	ts := startServer(t, nil)
	before, _ := decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	wantMessage(t, ts.do(t, "GET", "/echo/a?crash=3", nil, nil), 502, "Internal Server Error")
	waitGone(t, before.Lambda.PID)
	after, _ := decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	if after.Lambda.PID == before.Lambda.PID {
		t.Error("crashed process still serving")
	}

	r := ts.do(t, "POST", "/2015-03-31/functions/EchoFunction/invocations", strings.NewReader(`{"crash":"7"}`), nil)
	var doc struct{ ErrorType, ErrorMessage string }
	_ = json.Unmarshal(r.body, &doc)
	if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "Unhandled" || doc.ErrorType != "Runtime.ExitError" ||
		!strings.Contains(doc.ErrorMessage, "exit status 7") {
		t.Errorf("direct invoke crash: %d %v %s", r.status, r.header, r.body)
	}
	decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
}

func TestDirectInvoke(t *testing.T) {
	ts := startServer(t, nil)
	path := "/2015-03-31/functions/EchoFunction/invocations"

	r := ts.do(t, "POST", path, strings.NewReader(`{"mode":"raw","hello":"world"}`), nil)
	var facts echoed
	if r.status != 200 || json.Unmarshal(r.body, &facts) != nil || r.header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke: %d %s", r.status, r.body)
	}
	var ev map[string]string
	_ = json.Unmarshal(facts.Event, &ev)
	if ev["hello"] != "world" || r.header.Get("X-Amz-Executed-Version") != "$LATEST" || r.header.Get("X-Amzn-Requestid") != facts.Lambda.RequestID {
		t.Errorf("event %v, headers %v", ev, r.header)
	}

	r = ts.do(t, "POST", path, strings.NewReader(`{"error":"no such segment"}`), nil)
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if r.status != 200 || r.header.Get("X-Amz-Function-Error") != "Unhandled" || json.Unmarshal(r.body, &doc) != nil ||
		doc.ErrorMessage != "no such segment" || doc.ErrorType == "" {
		t.Errorf("function error: %d %v %s", r.status, r.header, r.body)
	}

	arn := "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:EchoFunction:$LATEST/invocations"
	if r := ts.do(t, "POST", arn, strings.NewReader(`{"mode":"raw"}`), nil); r.status != 200 {
		t.Errorf("invoke by ARN: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "POST", path, nil, nil); r.status != 200 {
		t.Errorf("empty payload: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/2015-03-31/functions/NopeFunction/invocations", strings.NewReader(`{}`), nil)
	if r.status != 404 || r.header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Errorf("unknown function: %d %v", r.status, r.header)
	}
	r = ts.do(t, "POST", path, strings.NewReader(`{not json`), nil)
	if r.status != 400 || r.header.Get("X-Amzn-Errortype") != "InvalidRequestContentException" {
		t.Errorf("invalid JSON: %d %v", r.status, r.header)
	}
	r = ts.do(t, "POST", path, strings.NewReader(`{}`), http.Header{"X-Amz-Invocation-Type": {"DryRun"}})
	if r.status != 204 {
		t.Errorf("DryRun: %d", r.status)
	}
	r = ts.do(t, "POST", path, strings.NewReader(`{"marker":"async-call"}`), http.Header{"X-Amz-Invocation-Type": {"Event"}})
	if r.status != 202 {
		t.Errorf("Event: %d", r.status)
	}

	res, err := ts.Invoke(context.Background(), "NopeFunction", []byte(`{}`))
	if !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Invoke unknown = %+v, %v", res, err)
	}
}

func TestAuthorizer(t *testing.T) {
	ts := startServer(t, nil)
	auth := func(v string) http.Header { return http.Header{"Authorization": {v}} }

	wantMessage(t, ts.do(t, "GET", "/secure/1", nil, nil), 401, "Unauthorized")
	wantMessage(t, ts.do(t, "GET", "/secure/1", nil, auth("deny")), 403, "Forbidden")
	wantMessage(t, ts.do(t, "GET", "/secure/1", nil, auth("boom")), 500, "Internal Server Error")

	_, ev := decodeEcho(t, ts.do(t, "GET", "/secure/1?q=1", nil, auth("allow")))
	if ev.RequestContext.Authorizer == nil {
		t.Fatal("no authorizer context")
	}
	lc := ev.RequestContext.Authorizer.Lambda
	if lc["scope"] != "admin" || lc["type"] != "REQUEST" || lc["routeKey"] != "GET /secure/{id}" || lc["pathId"] != "1" ||
		fmt.Sprint(lc["identitySource"]) != "[allow]" {
		t.Errorf("authorizer context = %v", lc)
	}
	if arn, _ := lc["routeArn"].(string); arn != "arn:aws:execute-api:"+ts.cfg.Region+":123456789012:tl-Api/$default/GET/secure/1" {
		t.Errorf("routeArn = %q", arn)
	}
	firstCall := lc["authRequestId"]

	// Same identity within the TTL: the cached decision, not a new call.
	_, ev = decodeEcho(t, ts.do(t, "GET", "/secure/2", nil, auth("allow")))
	if got := ev.RequestContext.Authorizer.Lambda["authRequestId"]; got != firstCall {
		t.Errorf("second call ran the authorizer again (%v, first %v)", got, firstCall)
	}
	st, _ := ts.Stats("AuthorizerFunction")
	if st.Started != 1 {
		t.Errorf("authorizer stats %+v", st)
	}

	// Routes with Authorizer: NONE never call it.
	_, ev = decodeEcho(t, ts.do(t, "GET", "/items/1", nil, auth("deny")))
	if ev.RequestContext.Authorizer != nil {
		t.Errorf("open route got authorizer context %v", ev.RequestContext.Authorizer)
	}
}

func TestAuthorizerCacheExpires(t *testing.T) {
	ts := startServer(t, nil)
	var a *authorizer
	for _, rt := range ts.gateway.routes {
		if rt.auth != nil {
			a = rt.auth
		}
	}
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	a.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	call := func() any {
		_, ev := decodeEcho(t, ts.do(t, "GET", "/secure/1", nil, http.Header{"Authorization": {"allow"}}))
		return ev.RequestContext.Authorizer.Lambda["authRequestId"]
	}
	first := call()
	mu.Lock()
	now = now.Add(299 * time.Second)
	mu.Unlock()
	if call() != first {
		t.Error("decision not cached within the TTL")
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if call() == first {
		t.Error("decision still cached after the TTL")
	}
}

func TestEnvironmentAndLogs(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8011")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("HOME", "/home/someone")
	ts := startServer(t, func(c *Config) {
		c.Params = map[string]string{"Stage": "ci"}
		c.Region = "eu-west-2"
		c.Env = map[string]string{"EXTRA": "1"}
	})
	e, _ := decodeEcho(t, ts.do(t, "GET", "/echo/env", nil, nil))
	want := map[string]string{
		"STAGE":                           "ci",
		"THINGS_TABLE":                    "tl-ThingsTable",
		"AWS_LAMBDA_FUNCTION_NAME":        "EchoFunction",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_REGION":                      "eu-west-2",
		"AWS_DEFAULT_REGION":              "eu-west-2",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_ENDPOINT_URL_DYNAMODB":       "http://127.0.0.1:8011",
		"AWS_LAMBDA_LOG_LEVEL":            "DEBUG",
		"EXTRA":                           "1",
	}
	for k, v := range want {
		if e.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, e.Env[k], v)
		}
	}
	if _, ok := e.Env["HOME"]; ok {
		t.Error("the parent's HOME leaked into the function")
	}
	if !strings.HasPrefix(e.Env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", e.Env["AWS_LAMBDA_RUNTIME_API"])
	}

	ts.Close() // flushes and reaps, so every line is in
	var out, errLine bool
	for _, line := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		fn, text, ok := SplitLogLine(line)
		if !ok {
			t.Errorf("log line not attributed to a function: %q", line)
			continue
		}
		if fn == "EchoFunction" && text == "echo handled "+e.Lambda.RequestID {
			out = true
		}
		if fn == "EchoFunction" && text == "echo stderr "+e.Lambda.RequestID {
			errLine = true
		}
	}
	if !out || !errLine {
		t.Errorf("stdout line %v, stderr line %v in logs:\n%s", out, errLine, ts.logs.String())
	}
}

func TestCloseKillsChildren(t *testing.T) {
	ts := startServer(t, nil)
	e, _ := decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(e.Lambda.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("runtime %d survived Close: %v", e.Lambda.PID, err)
	}
	if _, err := ts.Invoke(context.Background(), "EchoFunction", []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v", err)
	}
}

func TestPrewarm(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Prewarm = true })
	for _, id := range []string{"EchoFunction", "SlowFunction", "AuthorizerFunction"} {
		if st, _ := ts.Stats(id); st.Processes != 1 || st.Idle != 1 {
			t.Errorf("%s after prewarm: %+v", id, st)
		}
	}
	decodeEcho(t, ts.do(t, "GET", "/echo/a", nil, nil))
	if st, _ := ts.Stats("EchoFunction"); st.Started != 1 {
		t.Errorf("prewarmed runtime not reused: %+v", st)
	}
}

func TestInitFailure(t *testing.T) {
	srv, err := New(Config{
		Template: "testdata/template.yaml",
		BinDir:   binDir,
		Env:      map[string]string{"ECHO_FAIL_INIT": "1"},
		Logs:     io.Discard,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Prewarm:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	err = srv.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "EchoFunction") || !strings.Contains(err.Error(), "exit status 4") {
		t.Fatalf("Start with a failing init = %v", err)
	}
	res, err := srv.Invoke(context.Background(), "EchoFunction", []byte(`{}`))
	if err != nil || res.Outcome != InitError || res.ErrorType != "Runtime.ExitError" {
		t.Errorf("invoke after failed init: %+v, %v", res, err)
	}
	ts := &testServer{Server: srv, url: srv.URL()}
	wantMessage(t, ts.do(t, "GET", "/echo/a", nil, nil), 502, "Internal Server Error")
}

func TestNewReportsMissingBinaries(t *testing.T) {
	_, err := New(Config{Template: "testdata/template.yaml", BinDir: t.TempDir()})
	if err == nil {
		t.Fatal("New accepted a bin directory without binaries")
	}
	for _, id := range []string{"EchoFunction", "SlowFunction", "AuthorizerFunction"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error does not name %s: %v", id, err)
		}
	}
}

func TestCallerLeavingDoesNotLeakTheRuntime(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxConcurrency = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.Invoke(ctx, "EchoFunction", []byte(`{"sleep":"200"}`))
		done <- err
	}()
	// Wait until the invocation is running, then leave.
	for range 1000 {
		if st, _ := ts.Stats("EchoFunction"); st.Processes == 1 && st.Idle == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Invoke after cancel = %v", err)
	}
	// With one slot, this only runs once the abandoned invocation finished.
	res, err := ts.Invoke(context.Background(), "EchoFunction", []byte(`{"mode":"raw"}`))
	if err != nil || res.Outcome != Success {
		t.Errorf("next invoke: %+v, %v", res, err)
	}
	if st, _ := ts.Stats("EchoFunction"); st.Started != 1 {
		t.Errorf("stats %+v: the runtime should have been reused", st)
	}
}

func TestRelativeBinDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, binDir)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *Config) { c.BinDir = rel })
	res, err := ts.Invoke(context.Background(), "EchoFunction", []byte(`{}`))
	if err != nil || res.Outcome != Success {
		t.Fatalf("relative BinDir %q: %v %v %s", rel, err, res.Outcome, res.Payload)
	}
}
