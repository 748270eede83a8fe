package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

type payload struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// testRoute is a route with a declared scope; the router refuses others.
const testRoute = "POST /v1/items:batch"

// admin is a valid key holding every scope.
var admin = auth.Principal{KeyID: "aaaaaaaaaaaaaaaa", Scopes: []auth.Scope{auth.Admin}, Valid: true}

func event(ct, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{RouteKey: testRoute, Headers: map[string]string{}, Body: body, IsBase64Encoded: b64}
	if ct != "" {
		ev.Headers["content-type"] = ct
	}
	ev.RequestContext.RequestID = "req-9"
	return WithPrincipal(ev, admin)
}

func TestServeMapsDecodeFailures(t *testing.T) {
	rt := NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	rt.Handle(testRoute, func(ctx context.Context, r *Request) (*Response, error) {
		var p payload
		if err := r.DecodeJSON(&p, 64); err != nil {
			return nil, err
		}
		return JSON(200, p), nil
	})
	cases := []struct {
		name, ct, body string
		b64            bool
		status         int
		detail         string
	}{
		{"ok", "application/json", `{"name":"a","n":1}`, false, 200, ""},
		{"charset ok", "application/json; charset=utf-8", `{"name":"a"}`, false, 200, ""},
		{"base64 ok", "application/json", base64.StdEncoding.EncodeToString([]byte(`{"n":2}`)), true, 200, ""},
		{"no content type", "", `{}`, false, 415, "Content-Type must be application/json"},
		{"wrong content type", "text/plain", `{}`, false, 415, "Content-Type must be application/json"},
		{"malformed", "application/json", `{"name":`, false, 400, "the body is not valid JSON (it ends too early)"},
		{"syntax", "application/json", `{"name" "a"}`, false, 400, "the body is not valid JSON (at byte 9)"},
		{"unknown field", "application/json", `{"nmae":"a"}`, false, 400, `unknown field "nmae"`},
		{"wrong type", "application/json", `{"n":"one"}`, false, 400, `field "n" must be of type int`},
		{"two values", "application/json", `{} {}`, false, 400, "the body must hold exactly one JSON value"},
		{"empty", "application/json", ``, false, 400, "the body is empty"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("a", 80) + `"}`, false, 413, "the body is 91 bytes; the limit is 64 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := rt.Serve(context.Background(), event(c.ct, c.body, c.b64))
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", out.StatusCode, c.status, out.Body)
			}
			if c.status == 200 {
				return
			}
			if out.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("content type %q", out.Headers["Content-Type"])
			}
			var p Problem
			if err := json.Unmarshal([]byte(out.Body), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != c.status || p.Detail != c.detail || p.Instance != "req-9" || p.Type == "" || p.Title == "" {
				t.Fatalf("problem %+v", p)
			}
		})
	}
}

func TestProblemForHidesInternals(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("get customer c-1: %w", errs.E(errs.NotFound, "no customer c-1")), 404},
		{errs.E(errs.Conflict, "exists"), 409},
		{errs.E(errs.Precondition, "version"), 412},
		{errs.E(errs.Forbidden, "scope"), 403},
		{errs.E(errs.Unauthorized, "key"), 401},
		{errs.E(errs.Transient, "throttled"), 503},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 504},
		{errors.New("dial tcp 10.0.0.1:443: secret internals"), 500},
	}
	for _, c := range cases {
		p := ProblemFor(c.err)
		if p.Status != c.status {
			t.Errorf("%v: status %d, want %d", c.err, p.Status, c.status)
		}
		if strings.Contains(p.Detail, "internals") {
			t.Errorf("internal detail leaked: %q", p.Detail)
		}
	}
}

func TestUnknownRouteIs404AndFieldErrorsAreListed(t *testing.T) {
	rt := NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	rt.Handle(testRoute, func(ctx context.Context, r *Request) (*Response, error) {
		var v errs.Validator
		v.Add("email", "must contain @")
		return nil, v.Err()
	})
	// A declared route this function does not serve.
	out, _ := rt.Serve(context.Background(), WithPrincipal(events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/popular"}, admin))
	if out.StatusCode != 404 {
		t.Fatalf("status %d", out.StatusCode)
	}
	out, _ = rt.Serve(context.Background(), event("application/json", "{}", false))
	var p Problem
	_ = json.Unmarshal([]byte(out.Body), &p)
	if out.StatusCode != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "email" {
		t.Fatalf("got %d %s", out.StatusCode, out.Body)
	}
}

func TestLimit(t *testing.T) {
	for _, tt := range []struct {
		query string
		want  int
		bad   bool
	}{
		{"", 25, false}, {"1", 1, false}, {"100", 100, false},
		{"0", 0, true}, {"101", 0, true}, {"-3", 0, true}, {"ten", 0, true}, {"2.5", 0, true},
	} {
		r := &Request{Event: Event{QueryStringParameters: map[string]string{}}}
		if tt.query != "" {
			r.Event.QueryStringParameters["limit"] = tt.query
		}
		var v errs.Validator
		got := r.Limit(&v, 25, 100)
		if tt.bad != (v.Err() != nil) {
			t.Errorf("limit=%q: error %v, want bad=%v", tt.query, v.Err(), tt.bad)
		}
		if !tt.bad && got != tt.want {
			t.Errorf("limit=%q: %d, want %d", tt.query, got, tt.want)
		}
	}
}
