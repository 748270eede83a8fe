package lambdahost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/local/samtemplate"
)

// maxGatewayBody is API Gateway's HTTP API request payload limit.
const maxGatewayBody = 10 << 20

// segmentKind orders path segments by specificity: API Gateway prefers a
// literal over a variable over a greedy variable.
type segmentKind int

const (
	segGreedy segmentKind = iota
	segParam
	segLiteral
)

type segment struct {
	kind segmentKind
	text string // literal text or variable name
}

// route is one template route bound to its function and authorizer.
type route struct {
	samtemplate.Route
	fn       *function
	segs     []segment
	catchAll bool
	auth     *authorizer
	apiID    string
}

// gateway emulates API Gateway's HTTP API for the template's routes.
type gateway struct {
	s       *Server
	routes  []*route
	account string
	region  string
}

func parseRoutePath(path string) ([]segment, error) {
	if path == "/" {
		return nil, nil
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("route %s: a greedy variable must be the last segment", path)
			}
			segs[i] = segment{kind: segGreedy, text: p[1 : len(p)-2]}
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			segs[i] = segment{kind: segParam, text: p[1 : len(p)-1]}
		default:
			segs[i] = segment{kind: segLiteral, text: p}
		}
	}
	return segs, nil
}

func newGateway(s *Server) (*gateway, error) {
	g := &gateway{s: s, account: samtemplate.DefaultAccountID, region: s.cfg.Region}
	defs, err := s.tpl.Routes()
	if err != nil {
		return nil, err
	}
	authorizers := map[string]*authorizer{}
	seen := map[string]string{}
	for _, d := range defs {
		if d.PayloadFormatVersion != "2.0" {
			return nil, fmt.Errorf("route %s of %s: payload format %s is not supported locally, only 2.0", d.Key(), d.FunctionID, d.PayloadFormatVersion)
		}
		key := d.Method + " " + samtemplate.NormalizedPath(d.Path)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("route %s is claimed by both %s and %s", d.Key(), prev, d.FunctionID)
		}
		seen[key] = d.FunctionID
		rt := &route{Route: d, fn: s.functions[d.FunctionID], catchAll: d.Path == "$default"}
		if !rt.catchAll {
			if rt.segs, err = parseRoutePath(d.Path); err != nil {
				return nil, err
			}
		}
		apiID, err := s.resolver.Resolve(samtemplate.NewValue(map[string]any{"Ref": d.APIID}))
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", d.Key(), err)
		}
		rt.apiID = apiID
		if d.Authorizer != "" {
			akey := d.APIID + "/" + d.Authorizer
			a, ok := authorizers[akey]
			if !ok {
				api, _ := s.tpl.HTTPAPI(d.APIID)
				if a, err = newAuthorizer(s, api.Auth.Authorizers[d.Authorizer]); err != nil {
					return nil, fmt.Errorf("API %s: %w", d.APIID, err)
				}
				authorizers[akey] = a
			}
			rt.auth = a
		}
		g.routes = append(g.routes, rt)
	}
	return g, nil
}

// maxIntegrationTimeout is API Gateway's limit for HTTP API integrations.
const maxIntegrationTimeout = 30 * time.Second

func (rt *route) integrationTimeout() time.Duration {
	if ms := rt.TimeoutInMillis; ms > 0 && time.Duration(ms)*time.Millisecond < maxIntegrationTimeout {
		return time.Duration(ms) * time.Millisecond
	}
	return maxIntegrationTimeout
}

// match reports whether the route matches the request's decoded path
// segments, and the path parameters it binds.
func (rt *route) match(method string, segs []string) (map[string]string, bool) {
	if rt.Method != "ANY" && rt.Method != method {
		return nil, false
	}
	if rt.catchAll {
		return nil, true
	}
	var params map[string]string
	bind := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, sg := range rt.segs {
		if sg.kind == segGreedy {
			// A greedy variable takes one or more remaining segments.
			if i >= len(segs) {
				return nil, false
			}
			bind(sg.text, strings.Join(segs[i:], "/"))
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		switch sg.kind {
		case segLiteral:
			if segs[i] != sg.text {
				return nil, false
			}
		case segParam:
			if segs[i] == "" {
				return nil, false
			}
			bind(sg.text, segs[i])
		}
	}
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	return params, true
}

// moreSpecific reports whether route a should win over route b when both
// match: the catch-all loses to everything, then segments compare left to
// right (literal over variable over greedy), then a named method beats ANY.
func moreSpecific(a, b *route) bool {
	if a.catchAll != b.catchAll {
		return b.catchAll
	}
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind > b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// splitRequestPath decodes the request path into segments, keeping an
// encoded slash (%2F) inside its segment as API Gateway does.
func splitRequestPath(escaped string) []string {
	trimmed := strings.TrimPrefix(escaped, "/")
	if trimmed == "" {
		return nil
	}
	parts := strings.Split(trimmed, "/")
	for i, p := range parts {
		if d, err := url.PathUnescape(p); err == nil {
			parts[i] = d
		}
	}
	return parts
}

func (g *gateway) find(method, escapedPath string) (*route, map[string]string) {
	segs := splitRequestPath(escapedPath)
	var best *route
	var bestParams map[string]string
	for _, rt := range g.routes {
		params, ok := rt.match(method, segs)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(rt, best) {
			best, bestParams = rt, params
		}
	}
	return best, bestParams
}

// gatewayRequestID makes an id shaped like API Gateway's (base64 of 11
// random bytes).
func gatewayRequestID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// gatewayError answers the way API Gateway does for its own failures: a
// JSON document with a message.
func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(b)
}

// ServeHTTP answers one API request as API Gateway would.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	reqID := gatewayRequestID()
	info := infoFrom(r.Context())
	info.requestID = reqID
	w.Header().Set("Apigw-Requestid", reqID)

	rawPath := r.URL.EscapedPath()
	rt, params := g.find(r.Method, rawPath)
	if rt == nil {
		gatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	info.routeKey, info.function = rt.Key(), rt.FunctionID

	body, err := io.ReadAll(io.LimitReader(r.Body, maxGatewayBody+1))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxGatewayBody {
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := g.buildEvent(r, rt, params, body, reqID, now)

	if rt.auth != nil {
		status, lambdaCtx := rt.auth.authorize(r.Context(), g, rt, ev)
		switch status {
		case http.StatusOK:
		case http.StatusUnauthorized:
			gatewayError(w, status, "Unauthorized")
			return
		case http.StatusForbidden:
			gatewayError(w, status, "Forbidden")
			return
		default:
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambdaCtx}
		if lambdaCtx == nil {
			ev.RequestContext.Authorizer.Lambda = map[string]any{}
		}
	}

	payload, err := json.Marshal(wireRequest(ev))
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if len(payload) > maxRequestBytes {
		gatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	// API Gateway stops waiting after the integration timeout (30s unless
	// the route says less) even when the function may run longer; the
	// function then finishes unobserved, as it would in AWS.
	ctx, cancel := context.WithTimeout(r.Context(), rt.integrationTimeout())
	defer cancel()
	res, err := rt.fn.pool.invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			// The client has gone; nobody reads this answer.
			return
		}
		gatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	switch res.Outcome {
	case Success:
		if err := writeFunctionResponse(w, res.Payload); err != nil {
			g.s.log.WarnContext(r.Context(), "malformed function response", "function", rt.FunctionID, "requestId", reqID, "err", err)
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		}
	case Timeout:
		gatewayError(w, http.StatusServiceUnavailable, "Service Unavailable")
	case Crash, InitError:
		gatewayError(w, http.StatusBadGateway, "Internal Server Error")
	default:
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// wireRequestContext drops the mTLS "authentication" block, which API
// Gateway leaves out when no client certificate was used, but which the
// events type would always encode.
type wireRequestContext struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
}

type wireHTTPRequest struct {
	events.APIGatewayV2HTTPRequest
	RequestContext wireRequestContext `json:"requestContext"`
}

func wireRequest(ev events.APIGatewayV2HTTPRequest) wireHTTPRequest {
	return wireHTTPRequest{APIGatewayV2HTTPRequest: ev, RequestContext: wireRequestContext{APIGatewayV2HTTPRequestContext: ev.RequestContext}}
}

// isTextContent reports whether API Gateway would pass a body of this
// content type as text rather than base64.
func isTextContent(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	switch {
	case mt == "":
		return false
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/x-www-form-urlencoded",
		mt == "application/javascript", mt == "application/graphql":
		return true
	}
	return false
}

// buildEvent makes the payload format 2.0 event API Gateway would send.
func (g *gateway) buildEvent(r *http.Request, rt *route, params map[string]string, body []byte, reqID string, now time.Time) events.APIGatewayV2HTTPRequest {
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	headers := make(map[string]string, len(r.Header)+5)
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			// Format 2.0 moves cookies out of the headers into their own list.
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(la.String()); err == nil {
			port = p
		}
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	traceID := newTraceID(now)
	headers["x-amzn-trace-id"] = strings.SplitN(traceID, ";", 2)[0]
	if len(body) > 0 && headers["content-length"] == "" {
		headers["content-length"] = strconv.Itoa(len(body))
	}

	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	// API Gateway's domainPrefix is the first label of the host name.
	prefix, _, _ := strings.Cut(host, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.Key(),
			AccountID:    g.account,
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        rt.apiID,
			DomainName:   r.Host,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextContent(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// queryParameters decodes a query string the way format 2.0 does: repeated
// keys become one comma-joined value, in order of appearance.
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if prev, ok := out[k]; ok {
			out[k] = prev + "," + v
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// writeFunctionResponse turns a function's payload into the HTTP response
// by the format 2.0 rules: an object with statusCode is a structured
// response; any other valid JSON is sent as a 200 application/json body.
func writeFunctionResponse(w http.ResponseWriter, payload []byte) error {
	trimmed := bytes.TrimSpace(payload)
	if !json.Valid(trimmed) {
		return errors.New("response is not valid JSON")
	}
	var probe map[string]json.RawMessage
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &probe) != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(payload)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(trimmed, &resp); err != nil {
		return fmt.Errorf("decode structured response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("status code %d out of range", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("decode base64 body: %w", err)
		}
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// Do not let net/http sniff a type the function did not send.
		h["Content-Type"] = nil
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}
