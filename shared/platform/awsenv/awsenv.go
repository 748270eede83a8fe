// Package awsenv builds the AWS SDK configuration a function needs from
// its environment, the way the SDK's default chain resolves it inside
// Lambda: region from AWS_REGION, credentials from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (Lambda sets all three for the
// function's role), and a service's endpoint from AWS_ENDPOINT_URL_<SERVICE>
// or AWS_ENDPOINT_URL (DynamoDB Local, `tailor serve`).
//
// It exists so that functions do not link the SDK's config module, which
// brings the SSO, STS, sign-in and instance-metadata clients with it and
// pushed the larger bootstraps over 10 MiB; none of those providers can
// apply inside Lambda.
package awsenv

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/logging"
)

// ErrNoCredentials says the environment holds no AWS credentials.
var ErrNoCredentials = errors.New("no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them for the function's role)")

// ErrNoRegion says the environment names no region.
var ErrNoRegion = errors.New("no AWS region in the environment: set AWS_REGION")

// Config returns the SDK configuration of this environment. Throttling and
// 5xx answers are retried up to attempts times (the SDK's standard retryer,
// jittered backoff); the caller's context deadline bounds the total.
func Config(ctx context.Context, attempts int) (aws.Config, error) {
	region := first(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, ErrNoRegion
	}
	creds := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "environment",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return aws.Config{}, ErrNoCredentials
	}
	return aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = attempts })
		},
		// As the default chain does: SDK warnings go to standard error,
		// which Lambda sends to the function's log group.
		Logger: logging.NewStandardLogger(os.Stderr),
	}, nil
}

// Endpoint returns the endpoint configured for a service, by its
// environment name (DYNAMODB, KMS), or nil for the service's default:
// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, as the SDK documents
// for service-specific endpoints.
func Endpoint(service string) *string {
	if v := first(os.Getenv("AWS_ENDPOINT_URL_"+strings.ToUpper(service)), os.Getenv("AWS_ENDPOINT_URL")); v != "" {
		return aws.String(v)
	}
	return nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
