//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"tailor/shared/local/apiclient"
	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/auth"
	keysdb "tailor/shared/platform/auth/dynamo"
	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/kmskey"
	"tailor/shared/platform/obs/obstest"
)

// The end-to-end tests run the real compiled bootstraps under tailor
// serve's Lambda Runtime API, against DynamoDB Local.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// bootstraps builds every function once per test binary, as make
// build-local does.
func bootstraps(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ddbtest.ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		binDir, buildErr = os.MkdirTemp("", "tailor-bootstraps-")
		if buildErr != nil {
			return
		}
		entries, err := os.ReadDir(filepath.Join(root, "functions"))
		if err != nil {
			buildErr = err
			return
		}
		for _, e := range entries {
			out := filepath.Join(binDir, e.Name(), "bootstrap")
			cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./functions/"+e.Name())
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", e.Name(), err, b)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// stack is a running local Tailor: fresh tables, every function, the API.
type stack struct {
	t    testing.TB
	URL  string
	Srv  *lambdahost.Server
	Env  *ddbtest.Env
	logs *obstest.Buffer
	// key is sent as "Authorization: Bearer <key>" on every call; "" sends
	// no Authorization header. startStack sets an admin key.
	key string
	// AdminKey is the admin key startStack created.
	AdminKey string
	// Events is the file the server appends accepted EventBridge events
	// to, as tailor serve does with .local/events.jsonl.
	Events string
	// HTTP sends every request of the test; its transport checks each
	// answer of the API against docs/openapi.yaml (contract_e2e_test.go).
	HTTP *http.Client
}

// as returns the stack calling with another key ("" for none).
func (s *stack) as(key string) *stack {
	c := *s
	c.key = key
	return &c
}

// newKey stores a key with the scopes in the stack's KeysTable and returns
// it, as tailor keys create does.
func (s *stack) newKey(name string, scopes ...auth.Scope) string {
	s.t.Helper()
	rec, key, err := auth.NewKey(rand.Reader, name, scopes, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.keys().Create(context.Background(), rec); err != nil {
		s.t.Fatal(err)
	}
	return key
}

// keys is the stack's key table.
func (s *stack) keys() *keysdb.Keys {
	return &keysdb.Keys{DB: s.Env.DB, Table: s.Env.Table("KeysTable")}
}

func startStack(t testing.TB) *stack {
	t.Helper()
	env := ddbtest.New(t)
	root, _ := ddbtest.ModuleRoot()
	logs := &obstest.Buffer{}
	// Personal data is sealed under a key file of the test's own, as
	// tailor serve does with .local/pii.key.
	keyFile, err := kmskey.EnsureFile(filepath.Join(t.TempDir(), "pii.key"))
	if err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(t.TempDir(), "events.jsonl")
	srv, err := lambdahost.New(lambdahost.Config{
		// The recommend function looks for a newer model and catalogue
		// changes on every request, so a test sees training at once.
		Env:         map[string]string{"PII_KEY_FILE": keyFile, "MODEL_CHECK_INTERVAL": "1ms", "CATALOG_REFRESH_INTERVAL": "1ms"},
		EventsFile:  events,
		Template:    filepath.Join(root, "template.yaml"),
		BinDir:      bootstraps(t),
		TablePrefix: env.Prefix,
		Logs:        logs,
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("function logs:\n%s", logs.String())
		}
	})
	s := &stack{t: t, URL: srv.URL(), Srv: srv, Env: env, logs: logs, Events: events,
		HTTP: &http.Client{Transport: checked(t, http.DefaultTransport),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	s.AdminKey = s.newKey("e2e admin", auth.Admin)
	s.key = s.AdminKey
	return s
}

// api returns the generated client of the API calling as s does: with its
// key, through its HTTP client, so every answer is checked against the
// document too.
func (s *stack) api() *apiclient.ClientWithResponses {
	s.t.Helper()
	c, err := apiclient.NewClientWithResponses(s.URL, apiclient.WithHTTPClient(s.HTTP), apiclient.WithKey(s.key))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// call sends one request and decodes a JSON answer (nil for other media
// types; redirects are answers, not followed): for requests the
// client cannot make (malformed on purpose, routes taken from the
// template) and for looking at raw bodies.
func (s *stack) call(method, path string, body any, headers ...string) (int, http.Header, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); len(raw) > 0 && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("%s %s: body is not a JSON object: %q", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// answered describes an answer of the generated client for a failure
// message: its status and raw body, or "no answer" when the request
// failed.
func answered(r interface{ StatusCode() int }) string {
	v := reflect.ValueOf(r)
	if r == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return "no answer"
	}
	return fmt.Sprintf("%d %s", r.StatusCode(), reflect.Indirect(v).FieldByName("Body").Bytes())
}

// deref is *p, or the zero value for nil: the client's optional fields
// are pointers.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
