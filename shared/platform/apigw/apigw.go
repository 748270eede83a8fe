// Package apigw is the HTTP edge of every API function: it routes API
// Gateway HTTP API (payload 2.0) events to handlers, decodes JSON bodies
// strictly, encodes answers, and maps every error to one RFC 9457 problem
// JSON document. It holds no business rules.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
	"tailor/shared/platform/jsonerr"
)

// Request is one HTTP API request as a handler sees it.
type Request struct {
	Event events.APIGatewayV2HTTPRequest
	// Principal is the API key the request was made with. The router has
	// already checked that it holds the route's scope; handlers consult it
	// for finer decisions (pii:read) and audit records.
	Principal auth.Principal
}

// PathParam returns the path parameter name ("" when absent).
func (r *Request) PathParam(name string) string { return r.Event.PathParameters[name] }

// Query returns the query string parameter name ("" when absent).
func (r *Request) Query(name string) string { return r.Event.QueryStringParameters[name] }

// Limit returns the optional "limit" query parameter, def when it is
// absent. A value that is not a whole number from 1 to max is recorded in v
// as a field error of "limit".
func (r *Request) Limit(v *errs.Validator, def, max int) int {
	s := r.Query("limit")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	v.Check(err == nil && n >= 1 && n <= max, "limit", "must be a whole number from 1 to %d", max)
	return n
}

// Header returns the named header; API Gateway lower-cases header names.
func (r *Request) Header(name string) string { return r.Event.Headers[strings.ToLower(name)] }

// Body returns the raw request body, decoding base64 where API Gateway
// encoded it.
func (r *Request) Body() ([]byte, error) {
	if !r.Event.IsBase64Encoded {
		return []byte(r.Event.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Event.Body)
	if err != nil {
		return nil, errs.E(errs.Invalid, "the body is not valid base64")
	}
	return b, nil
}

// DecodeJSON decodes the body into v. It accepts only a JSON media type,
// at most limit bytes, one JSON value and no unknown fields, so a typo in a
// field name is an error rather than silently ignored data.
func (r *Request) DecodeJSON(v any, limit int) error {
	ct := r.Header("content-type")
	if ct == "" {
		return errs.E(errs.Unsupported, "Content-Type must be application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errs.E(errs.Unsupported, "Content-Type must be application/json")
	}
	body, err := r.Body()
	if err != nil {
		return err
	}
	if len(body) > limit {
		return errs.E(errs.TooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d bytes", len(body), limit))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.E(errs.Invalid, jsonerr.Describe(err, body, v, "the body"))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.E(errs.Invalid, "the body must hold exactly one JSON value")
	}
	return nil
}

// Response is what a handler answers.
type Response struct {
	Status  int
	Headers map[string]string
	Body    any // encoded as JSON; nil for no body
	// raw, when set by Bytes, is sent as it is instead of Body.
	raw []byte
}

// Bytes answers status with body sent as it is, of media type
// contentType: static files. Bodies that are not UTF-8 text (compressed
// or binary files) travel base64-encoded, as API Gateway expects.
func Bytes(status int, contentType string, body []byte) *Response {
	if body == nil {
		body = []byte{}
	}
	return &Response{Status: status, Headers: map[string]string{"Content-Type": contentType}, raw: body}
}

// JSON answers status with v as the JSON body.
func JSON(status int, v any) *Response { return &Response{Status: status, Body: v} }

// NoContent answers 204.
func NoContent() *Response { return &Response{Status: http.StatusNoContent} }

// WithHeader sets a header on the response and returns it.
func (r *Response) WithHeader(k, v string) *Response {
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	r.Headers[k] = v
	return r
}

// HandlerFunc handles one route.
type HandlerFunc func(ctx context.Context, r *Request) (*Response, error)

// Router dispatches events by their route key ("GET /v1/customers/{id}"),
// which API Gateway sets from the template's routes.
type Router struct {
	routes map[string]HandlerFunc
	log    *slog.Logger
}

// NewRouter returns an empty router that logs through log.
func NewRouter(log *slog.Logger) *Router {
	return &Router{routes: map[string]HandlerFunc{}, log: log}
}

// Handle registers h for routeKey; registering a route twice is a
// programming error.
func (rt *Router) Handle(routeKey string, h HandlerFunc) {
	if _, dup := rt.routes[routeKey]; dup {
		panic("apigw: duplicate route " + routeKey)
	}
	rt.routes[routeKey] = h
}

// Routes lists the registered route keys.
func (rt *Router) Routes() []string {
	keys := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		keys = append(keys, k)
	}
	return keys
}

// Serve is the Lambda handler: it never returns an error to the runtime,
// because every failure is an HTTP answer.
//
// Before any handler runs, Serve checks the caller's key against the route
// table of package auth: no valid key is 401, a key without the route's
// scope is 403, and a route with no declared scope is 403 for every key.
// There is no way to register a handler that skips this check.
func (rt *Router) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	p := PrincipalOf(ev)
	if err := auth.Check(p, ev.RouteKey); err != nil {
		if errors.Is(err, auth.ErrNoScopeDeclared) {
			rt.log.ErrorContext(ctx, "route has no declared scope; add it to package auth", "route", ev.RouteKey)
		}
		return rt.reject(ctx, ev, p, err), nil
	}
	h, ok := rt.routes[ev.RouteKey]
	if !ok {
		return rt.fail(ctx, ev, errs.E(errs.NotFound, "no such route")), nil
	}
	resp, err := h(ctx, &Request{Event: ev, Principal: p})
	if err != nil {
		return rt.fail(ctx, ev, err), nil
	}
	out, err := encode(resp)
	if err != nil {
		return rt.fail(ctx, ev, err), nil
	}
	rt.log.InfoContext(ctx, "request", "route", ev.RouteKey, "status", out.StatusCode, "keyId", p.KeyID)
	return out, nil
}

// PrincipalOf reads the principal the authorizer attached to the event; an
// event that did not pass the authorizer has an invalid principal.
func PrincipalOf(ev Event) auth.Principal {
	if ev.RequestContext.Authorizer == nil {
		return auth.PrincipalFromContext(nil)
	}
	return auth.PrincipalFromContext(ev.RequestContext.Authorizer.Lambda)
}

// WithPrincipal returns ev as the authorizer would have passed it for p,
// for tests and sample events.
func WithPrincipal(ev Event, p auth.Principal) Event {
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: p.Context()}
	return ev
}

// reject answers a failed key or scope check. A 401 says how to
// authenticate (RFC 6750); the log names the key id and reason, never the
// key.
func (rt *Router) reject(ctx context.Context, ev events.APIGatewayV2HTTPRequest, p auth.Principal, err error) events.APIGatewayV2HTTPResponse {
	out := rt.problem(ev, err)
	attrs := []any{"route", ev.RouteKey, "status", out.StatusCode, "kind", errs.KindOf(err).String(), "keyId", p.KeyID}
	if p.Reason != "" {
		attrs = append(attrs, "reason", string(p.Reason))
	}
	rt.log.InfoContext(ctx, "request rejected", attrs...)
	if out.StatusCode == http.StatusUnauthorized {
		out.Headers["WWW-Authenticate"] = `Bearer realm="tailor"`
	}
	return out
}

func encode(r *Response) (events.APIGatewayV2HTTPResponse, error) {
	out := events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: map[string]string{}}
	for k, v := range r.Headers {
		out.Headers[k] = v
	}
	if r.raw != nil {
		if utf8.Valid(r.raw) && out.Headers["Content-Encoding"] == "" {
			out.Body = string(r.raw)
		} else {
			out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.raw), true
		}
		return out, nil
	}
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return out, fmt.Errorf("encode response: %w", err)
		}
		out.Body = string(b)
		if _, set := out.Headers["Content-Type"]; !set {
			out.Headers["Content-Type"] = "application/json"
		}
	}
	return out, nil
}

// fail answers err as problem JSON and logs it once: client errors at info
// level with their kind only, server errors at error level.
func (rt *Router) fail(ctx context.Context, ev events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	out := rt.problem(ev, err)
	if out.StatusCode >= 500 {
		rt.log.ErrorContext(ctx, "request failed", "route", ev.RouteKey, "status", out.StatusCode, "error", err.Error())
	} else {
		rt.log.InfoContext(ctx, "request rejected", "route", ev.RouteKey, "status", out.StatusCode, "kind", errs.KindOf(err).String())
	}
	return out
}

// problem renders err as a problem JSON response.
func (rt *Router) problem(ev events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	p := ProblemFor(err)
	p.Instance = ev.RequestContext.RequestID
	b, _ := json.Marshal(p)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    map[string]string{"Content-Type": "application/problem+json"},
		Body:       string(b),
	}
}

// Event and Result are the HTTP API payload 2.0 types, named here so that
// wiring code need not import the events package.
type (
	Event  = events.APIGatewayV2HTTPRequest
	Result = events.APIGatewayV2HTTPResponse
)
