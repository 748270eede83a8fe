package apigw

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/auth"
)

// Authorizer is the HTTP API Lambda authorizer (payload format 2.0, simple
// responses). It looks the presented key up and hands the router a
// principal; the router decides per route.
//
// Every request that reaches it is let through, with the verdict in the
// context ({"valid": "false"} for a bad key), because API Gateway can only
// answer a refusal with its own 403 {"message":"Forbidden"}, while Tailor
// answers a bad key with 401 problem JSON. A missing Authorization header
// never gets here: API Gateway answers it with 401 itself. See
// docs/security.md.
type Authorizer struct {
	Keys auth.KeyLookup
	Log  *slog.Logger
}

// AuthorizerRequest and AuthorizerResponse are the payload 2.0 authorizer
// types, named here so that wiring code need not import the events package.
type (
	AuthorizerRequest  = events.APIGatewayV2CustomAuthorizerV2Request
	AuthorizerResponse = events.APIGatewayV2CustomAuthorizerSimpleResponse
)

// Handle answers one authorization request. It returns an error only when
// the key could not be checked; API Gateway then answers 500 and caches
// nothing, so a database hiccup does not lock a good key out for the cache
// lifetime.
func (a *Authorizer) Handle(ctx context.Context, req AuthorizerRequest) (AuthorizerResponse, error) {
	p, err := auth.Authenticate(ctx, a.Keys, authorizationHeader(req))
	if err != nil {
		a.Log.ErrorContext(ctx, "key check failed", "keyId", p.KeyID, "error", err.Error())
		return AuthorizerResponse{}, err
	}
	if p.Valid {
		a.Log.InfoContext(ctx, "key accepted", "keyId", p.KeyID, "route", req.RouteKey)
	} else {
		a.Log.InfoContext(ctx, "key refused", "keyId", p.KeyID, "reason", string(p.Reason), "route", req.RouteKey)
	}
	return AuthorizerResponse{IsAuthorized: true, Context: p.Context()}, nil
}

// authorizationHeader finds the header the authorizer is configured with.
// API Gateway lower-cases header names in payload 2.0; identitySource holds
// the same value and is the fallback.
func authorizationHeader(req AuthorizerRequest) string {
	if h, ok := req.Headers["authorization"]; ok {
		return h
	}
	if len(req.IdentitySource) == 1 {
		return req.IdentitySource[0]
	}
	return ""
}
