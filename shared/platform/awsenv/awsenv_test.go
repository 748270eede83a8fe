package awsenv

import (
	"context"
	"errors"
	"testing"
)

func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-2")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	cfg, err := Config(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-2" {
		t.Errorf("region %q", cfg.Region)
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != "AKID" || c.SecretAccessKey != "secret" || c.SessionToken != "token" {
		t.Errorf("credentials %+v, %v", c, err)
	}
	if got := cfg.Retryer().MaxAttempts(); got != 5 {
		t.Errorf("max attempts %d, want 5", got)
	}
}

func TestConfigNeedsRegionAndCredentials(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	if _, err := Config(context.Background(), 3); !errors.Is(err, ErrNoRegion) {
		t.Errorf("no region: %v", err)
	}
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := Config(context.Background(), 3); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
}

func TestEndpointPrefersTheServiceVariable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	if e := Endpoint("dynamodb"); e != nil {
		t.Errorf("no variables: %q", *e)
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
	if e := Endpoint("dynamodb"); e == nil || *e != "http://127.0.0.1:9000" {
		t.Errorf("global endpoint: %v", e)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
	if e := Endpoint("dynamodb"); e == nil || *e != "http://127.0.0.1:8000" {
		t.Errorf("service endpoint: %v", e)
	}
}
