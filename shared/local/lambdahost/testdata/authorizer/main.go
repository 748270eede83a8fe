// Command authorizer is a test HTTP API Lambda authorizer (payload 2.0,
// simple responses) for the local runner. The Authorization header decides:
// "allow" allows, "boom" fails, anything else denies.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handle(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	switch req.Headers["authorization"] {
	case "boom":
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("authorizer failed on purpose")
	case "allow":
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{
			IsAuthorized: true,
			Context: map[string]any{
				"scope":          "admin",
				"authRequestId":  lc.AwsRequestID,
				"routeArn":       req.RouteArn,
				"type":           req.Type,
				"identitySource": req.IdentitySource,
				"routeKey":       req.RouteKey,
				"pathId":         req.PathParameters["id"],
			},
		}, nil
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
}

func main() { lambda.Start(handle) }
