package lambdahost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/local/samtemplate"
)

// authorizer runs an HTTP API Lambda authorizer (payload format 2.0) and
// caches its decisions per identity for the configured TTL.
type authorizer struct {
	def    samtemplate.Authorizer
	fn     *function
	ttl    time.Duration
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]authDecision
	simple bool
}

type authDecision struct {
	allowed bool
	context map[string]any
	expires time.Time
}

// maxAuthCache bounds the decision cache; expired entries are swept when
// it fills.
const maxAuthCache = 10000

func newAuthorizer(s *Server, def samtemplate.Authorizer) (*authorizer, error) {
	if def.JWT != nil {
		return nil, fmt.Errorf("authorizer %s: JWT authorizers are not supported locally", def.Name)
	}
	fn, ok := s.functions[def.FunctionLogicalID]
	if !ok {
		return nil, fmt.Errorf("authorizer %s: FunctionArn %s does not name a function of the template", def.Name, def.FunctionArn)
	}
	switch def.PayloadFormatVersion {
	case "2.0", "":
	default:
		return nil, fmt.Errorf("authorizer %s: payload format %s is not supported locally, only 2.0", def.Name, def.PayloadFormatVersion)
	}
	return &authorizer{
		def:    def,
		fn:     fn,
		ttl:    time.Duration(def.ReauthorizeEvery) * time.Second,
		now:    time.Now,
		cache:  map[string]authDecision{},
		simple: def.EnableSimpleResponses,
	}, nil
}

// identity collects the configured identity sources; ok is false when one
// is missing or empty, which API Gateway answers with 401 without calling
// the authorizer.
func (a *authorizer) identity(ev events.APIGatewayV2HTTPRequest) ([]string, bool) {
	var values []string
	for _, h := range a.def.IdentityHeaders {
		v := ev.Headers[strings.ToLower(h)]
		if v == "" {
			return nil, false
		}
		values = append(values, v)
	}
	for _, q := range a.def.IdentityQueryStrings {
		v := ev.QueryStringParameters[q]
		if v == "" {
			return nil, false
		}
		values = append(values, v)
	}
	for _, c := range a.def.IdentityContext {
		v := contextVariable(ev, c)
		if v == "" {
			return nil, false
		}
		values = append(values, v)
	}
	if len(a.def.IdentityStageVariables) > 0 {
		// The local stage has no stage variables, so such a source is
		// always missing.
		return nil, false
	}
	return values, true
}

// contextVariable reads the $context variables that make sense locally.
func contextVariable(ev events.APIGatewayV2HTTPRequest, name string) string {
	switch strings.TrimPrefix(name, "$context.") {
	case "requestId":
		return ev.RequestContext.RequestID
	case "routeKey":
		return ev.RequestContext.RouteKey
	case "stage":
		return ev.RequestContext.Stage
	case "apiId":
		return ev.RequestContext.APIID
	case "httpMethod":
		return ev.RequestContext.HTTP.Method
	case "path":
		return ev.RequestContext.HTTP.Path
	case "identity.sourceIp":
		return ev.RequestContext.HTTP.SourceIP
	case "identity.userAgent":
		return ev.RequestContext.HTTP.UserAgent
	}
	return ""
}

// authorize returns 200 with the context to pass on, 401, 403, or 500 when
// the authorizer itself failed.
func (a *authorizer) authorize(ctx context.Context, g *gateway, rt *route, ev events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	ids, ok := a.identity(ev)
	if !ok {
		return http.StatusUnauthorized, nil
	}
	hasIdentity := len(a.def.IdentityHeaders)+len(a.def.IdentityQueryStrings)+len(a.def.IdentityContext) > 0
	cacheable := a.ttl > 0 && hasIdentity
	key := strings.Join(ids, "\x00")
	if cacheable {
		if d, ok := a.lookup(key); ok {
			return d.status(), d.context
		}
	}

	routeArn := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", g.region, g.account, rt.apiID,
		ev.RequestContext.Stage, ev.RequestContext.HTTP.Method, ev.RawPath)
	req := wireAuthorizerRequest{
		APIGatewayV2CustomAuthorizerV2Request: events.APIGatewayV2CustomAuthorizerV2Request{
			Version:               "2.0",
			Type:                  "REQUEST",
			RouteArn:              routeArn,
			IdentitySource:        ids,
			RouteKey:              ev.RouteKey,
			RawPath:               ev.RawPath,
			RawQueryString:        ev.RawQueryString,
			Cookies:               ev.Cookies,
			Headers:               ev.Headers,
			QueryStringParameters: ev.QueryStringParameters,
			PathParameters:        ev.PathParameters,
		},
		RequestContext: wireRequestContext{APIGatewayV2HTTPRequestContext: ev.RequestContext},
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return http.StatusInternalServerError, nil
	}
	res, err := a.fn.pool.invoke(ctx, payload)
	if err != nil || res.Outcome != Success {
		g.s.log.WarnContext(ctx, "authorizer failed", "authorizer", a.def.Name, "function", a.fn.def.LogicalID, "outcome", res.Outcome.String())
		return http.StatusInternalServerError, nil
	}
	d, err := a.decide(res.Payload, routeArn)
	if err != nil {
		g.s.log.WarnContext(ctx, "malformed authorizer response", "authorizer", a.def.Name, "err", err)
		return http.StatusInternalServerError, nil
	}
	if cacheable {
		a.store(key, d)
	}
	return d.status(), d.context
}

func (d authDecision) status() int {
	if d.allowed {
		return http.StatusOK
	}
	return http.StatusForbidden
}

func (a *authorizer) lookup(key string) (authDecision, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.cache[key]
	if !ok || !a.now().Before(d.expires) {
		return authDecision{}, false
	}
	return d, true
}

func (a *authorizer) store(key string, d authDecision) {
	now := a.now()
	d.expires = now.Add(a.ttl)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= maxAuthCache {
		for k, old := range a.cache {
			if !now.Before(old.expires) {
				delete(a.cache, k)
			}
		}
	}
	if len(a.cache) < maxAuthCache {
		a.cache[key] = d
	}
}

// decide reads a simple response ({"isAuthorized": bool, "context": {}})
// or, without simple responses, an IAM policy response evaluated against
// the route ARN.
func (a *authorizer) decide(payload []byte, routeArn string) (authDecision, error) {
	if a.simple {
		var r struct {
			IsAuthorized *bool          `json:"isAuthorized"`
			Context      map[string]any `json:"context"`
		}
		if err := json.Unmarshal(payload, &r); err != nil {
			return authDecision{}, fmt.Errorf("decode simple response: %w", err)
		}
		if r.IsAuthorized == nil {
			return authDecision{}, fmt.Errorf("simple response has no isAuthorized")
		}
		return authDecision{allowed: *r.IsAuthorized, context: r.Context}, nil
	}
	// Policies write Action and Resource as a string or a list, which the
	// events type cannot read, hence a local shape.
	var r struct {
		PolicyDocument struct {
			Statement []struct {
				Action   stringList `json:"Action"`
				Effect   string     `json:"Effect"`
				Resource stringList `json:"Resource"`
			} `json:"Statement"`
		} `json:"policyDocument"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return authDecision{}, fmt.Errorf("decode IAM policy response: %w", err)
	}
	allowed := false
	for _, st := range r.PolicyDocument.Statement {
		if !actionCovers(st.Action, "execute-api:Invoke") || !resourceCovers(st.Resource, routeArn) {
			continue
		}
		switch strings.ToLower(st.Effect) {
		case "deny":
			return authDecision{allowed: false, context: r.Context}, nil
		case "allow":
			allowed = true
		}
	}
	return authDecision{allowed: allowed, context: r.Context}, nil
}

// stringList reads a JSON string or list of strings.
type stringList []string

// UnmarshalJSON accepts "a" as well as ["a", "b"].
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func actionCovers(actions []string, want string) bool {
	for _, a := range actions {
		if globMatch(strings.ToLower(a), strings.ToLower(want)) {
			return true
		}
	}
	return false
}

func resourceCovers(resources []string, arn string) bool {
	for _, r := range resources {
		if globMatch(r, arn) {
			return true
		}
	}
	return false
}

// globMatch matches IAM-style patterns where * spans any run of characters
// (slashes included) and ? one character.
func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// wireAuthorizerRequest drops the empty mTLS block as wireHTTPRequest does.
type wireAuthorizerRequest struct {
	events.APIGatewayV2CustomAuthorizerV2Request
	RequestContext wireRequestContext `json:"requestContext"`
}
