// Package ddbtest gives tests a real DynamoDB (DynamoDB Local, started by
// `make test`) with the tables of template.yaml created under a prefix of
// their own, so test packages can run in parallel against one server.
package ddbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"tailor/shared/local/dataset/datasettest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/local/samtemplate"
	tables "tailor/shared/local/tables"
	"tailor/shared/platform/ddb"
)

// Env is a set of fresh tables on the local server.
type Env struct {
	DB       *dynamodb.Client
	Prefix   string
	Template *samtemplate.Template
}

// Table returns the physical name of the table with the logical id.
func (e *Env) Table(logicalID string) string { return e.Prefix + logicalID }

var seq atomic.Int64

// New creates every table of the template under a unique prefix and deletes
// them when the test ends. It fails the test when AWS_ENDPOINT_URL_DYNAMODB
// is unset: storage tests always run against a real server, never skip.
func New(t testing.TB) *Env {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts DynamoDB Local")
	}
	for k, v := range map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		if os.Getenv(k) == "" {
			t.Setenv(k, v)
		}
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Parse(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := ddb.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("t%d-%d-%d-", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	if err := tables.CreateTables(ctx, db, tpl.Tables, prefix); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tables.DeleteTables(ctx, db, tpl.Tables, prefix); err != nil {
			t.Errorf("clean up tables: %v", err)
		}
	})
	return &Env{DB: db, Prefix: prefix, Template: tpl}
}

// ModuleRoot finds the directory holding go.mod, walking up from the
// working directory.
func ModuleRoot() (string, error) { return datasettest.ModuleRoot() }
