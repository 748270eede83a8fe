package samtemplate

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// HTTPAPI is one AWS::Serverless::HttpApi.
type HTTPAPI struct {
	// LogicalID is the resource's name in the template.
	LogicalID string
	// StageName is unresolved (often !Ref Stage).
	StageName Value
	// Auth holds the authorizers and the default one.
	Auth HTTPAPIAuth
	// Implicit is true for the API SAM creates for events without ApiId.
	Implicit bool
}

// HTTPAPIAuth is an HttpApi's Auth block.
type HTTPAPIAuth struct {
	// Authorizers by name.
	Authorizers map[string]Authorizer
	// DefaultAuthorizer names the authorizer routes use unless they say
	// otherwise; "" when routes are open by default.
	DefaultAuthorizer string
	// EnableIAMAuthorizer allows routes to use AWS_IAM authorization.
	EnableIAMAuthorizer bool
}

// Authorizer is one HTTP API authorizer: a Lambda authorizer when
// FunctionArn is set, a JWT authorizer when JWT is set.
type Authorizer struct {
	// Name is the authorizer's key under Auth.Authorizers.
	Name string
	// FunctionArn is unresolved, usually !GetAtt XFunction.Arn.
	FunctionArn Value
	// FunctionLogicalID is the function FunctionArn names, when it is a
	// GetAtt of a function in this template.
	FunctionLogicalID string
	// Identity sources of a Lambda authorizer.
	IdentityHeaders        []string
	IdentityQueryStrings   []string
	IdentityContext        []string
	IdentityStageVariables []string
	// ReauthorizeEvery is the result cache TTL in seconds; 0 turns caching
	// off, which is also what an unset value means here.
	ReauthorizeEvery int
	// EnableSimpleResponses selects {"isAuthorized": bool, "context": {...}}
	// over IAM policy responses.
	EnableSimpleResponses bool
	// PayloadFormatVersion is "1.0" or "2.0".
	PayloadFormatVersion string
	// JWT is set for JWT authorizers.
	JWT *JWTAuthorizer
}

// JWTAuthorizer is the JwtConfiguration of a JWT authorizer.
type JWTAuthorizer struct {
	// Issuer and Audience are the token claims required.
	Issuer   string
	Audience []string
	// IdentitySource is where the token is read from, e.g.
	// "$request.header.Authorization".
	IdentitySource string
}

type rawAuthorizer struct {
	FunctionArn Value `json:"FunctionArn"`
	Identity    *struct {
		Headers          []string `json:"Headers"`
		QueryStrings     []string `json:"QueryStrings"`
		Context          []string `json:"Context"`
		StageVariables   []string `json:"StageVariables"`
		ReauthorizeEvery Value    `json:"ReauthorizeEvery"`
	} `json:"Identity"`
	EnableSimpleResponses          bool   `json:"EnableSimpleResponses"`
	AuthorizerPayloadFormatVersion Value  `json:"AuthorizerPayloadFormatVersion"`
	IdentitySource                 string `json:"IdentitySource"`
	JwtConfiguration               *struct {
		Issuer   string   `json:"issuer"`
		Audience []string `json:"audience"`
	} `json:"JwtConfiguration"`
}

func readHTTPAPI(id string, props Value) (HTTPAPI, error) {
	api := HTTPAPI{LogicalID: id}
	js, err := json.Marshal(props)
	if err != nil {
		return api, fmt.Errorf("re-encode properties: %w", err)
	}
	var p struct {
		StageName Value `json:"StageName"`
		Auth      struct {
			Authorizers         map[string]rawAuthorizer `json:"Authorizers"`
			DefaultAuthorizer   string                   `json:"DefaultAuthorizer"`
			EnableIamAuthorizer bool                     `json:"EnableIamAuthorizer"`
		} `json:"Auth"`
	}
	if !props.IsZero() {
		if err := json.Unmarshal(js, &p); err != nil {
			return api, fmt.Errorf("read properties: %w", err)
		}
	}
	api.StageName = p.StageName
	api.Auth.DefaultAuthorizer = p.Auth.DefaultAuthorizer
	api.Auth.EnableIAMAuthorizer = p.Auth.EnableIamAuthorizer
	for _, name := range sortedKeys(p.Auth.Authorizers) {
		ra := p.Auth.Authorizers[name]
		a := Authorizer{
			Name:                  name,
			FunctionArn:           ra.FunctionArn,
			EnableSimpleResponses: ra.EnableSimpleResponses,
		}
		if res, attr, ok := ra.FunctionArn.GetAtt(); ok && attr == "Arn" {
			a.FunctionLogicalID = res
		}
		if ra.Identity != nil {
			a.IdentityHeaders = ra.Identity.Headers
			a.IdentityQueryStrings = ra.Identity.QueryStrings
			a.IdentityContext = ra.Identity.Context
			a.IdentityStageVariables = ra.Identity.StageVariables
			if a.ReauthorizeEvery, err = intValue(ra.Identity.ReauthorizeEvery, nil, "ReauthorizeEvery"); err != nil {
				return api, fmt.Errorf("authorizer %s: %w", name, err)
			}
		}
		if !ra.AuthorizerPayloadFormatVersion.IsZero() {
			a.PayloadFormatVersion, _ = ra.AuthorizerPayloadFormatVersion.Literal()
			// YAML reads an unquoted 2.0 as a number; the version is text.
			if a.PayloadFormatVersion == "2" || a.PayloadFormatVersion == "1" {
				a.PayloadFormatVersion += ".0"
			}
		}
		if ra.JwtConfiguration != nil {
			a.JWT = &JWTAuthorizer{Issuer: ra.JwtConfiguration.Issuer, Audience: ra.JwtConfiguration.Audience, IdentitySource: ra.IdentitySource}
		}
		if api.Auth.Authorizers == nil {
			api.Auth.Authorizers = map[string]Authorizer{}
		}
		api.Auth.Authorizers[name] = a
	}
	if d := api.Auth.DefaultAuthorizer; d != "" {
		if _, ok := api.Auth.Authorizers[d]; !ok {
			return api, fmt.Errorf("DefaultAuthorizer %q is not among Auth.Authorizers", d)
		}
	}
	return api, nil
}

// Route is one HTTP API route with the function behind it and the
// authorizer that guards it after route overrides are applied.
type Route struct {
	// APIID is the HTTP API's logical id.
	APIID string
	// Method is upper case or "ANY".
	Method string
	// Path is the route path or "$default".
	Path string
	// FunctionID is the logical id of the function serving the route.
	FunctionID string
	// EventName is the function's event that declares the route.
	EventName string
	// Authorizer names the API authorizer that guards the route, "" when
	// the route is open.
	Authorizer string
	// AuthorizationScopes come from the route's Auth block.
	AuthorizationScopes []string
	// PayloadFormatVersion is "2.0" or "1.0".
	PayloadFormatVersion string
	// TimeoutInMillis is the route's integration timeout, 0 when unset.
	TimeoutInMillis int
}

// Key is the API Gateway route key, e.g. "GET /v1/customers/{id}", or
// "$default" for the catch-all route.
func (r Route) Key() string {
	if r.Path == "$default" {
		return "$default"
	}
	return r.Method + " " + r.Path
}

// Routes lists every HttpApi route of the template in API, path and method
// order. A route naming an authorizer its API does not declare is an error,
// as it is at deployment.
func (t *Template) Routes() ([]Route, error) {
	var routes []Route
	for _, f := range t.Functions {
		for _, e := range f.Events {
			if e.HTTPAPI == nil {
				continue
			}
			h := e.HTTPAPI
			api, ok := t.HTTPAPI(h.APIID)
			if !ok {
				return nil, fmt.Errorf("function %s event %s: ApiId %s is not an %s", f.LogicalID, e.Name, h.APIID, TypeHTTPAPI)
			}
			r := Route{
				APIID:                h.APIID,
				Method:               h.Method,
				Path:                 h.Path,
				FunctionID:           f.LogicalID,
				EventName:            e.Name,
				Authorizer:           api.Auth.DefaultAuthorizer,
				PayloadFormatVersion: h.PayloadFormatVersion,
				TimeoutInMillis:      h.TimeoutInMillis,
			}
			if h.Auth != nil {
				r.AuthorizationScopes = h.Auth.AuthorizationScopes
				switch h.Auth.Authorizer {
				case "":
				case NoAuthorizer:
					r.Authorizer = ""
				default:
					if _, ok := api.Auth.Authorizers[h.Auth.Authorizer]; !ok {
						return nil, fmt.Errorf("function %s event %s: authorizer %q is not declared on %s", f.LogicalID, e.Name, h.Auth.Authorizer, api.LogicalID)
					}
					r.Authorizer = h.Auth.Authorizer
				}
			}
			routes = append(routes, r)
		}
	}
	sort.SliceStable(routes, func(i, j int) bool {
		a, b := routes[i], routes[j]
		if a.APIID != b.APIID {
			return a.APIID < b.APIID
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Method < b.Method
	})
	return routes, nil
}

// NormalizedPath replaces every path variable's name with an empty {} (and
// {name+} with {+}) so that routes differing only in variable names compare
// equal, as API Gateway treats them.
func NormalizedPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if strings.HasSuffix(s, "+}") {
				segs[i] = "{+}"
			} else {
				segs[i] = "{}"
			}
		}
	}
	return strings.Join(segs, "/")
}
