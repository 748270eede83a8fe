// Package apigwtest reads the sample events in events/, the same JSON
// documents `sam local invoke -e` takes, for handler tests.
package apigwtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"tailor/shared/local/dataset/datasettest"
	"tailor/shared/platform/apigw"
)

// File returns the bytes of events/<dir>/<name>.
func File(t testing.TB, dir, name string) []byte {
	t.Helper()
	root, err := datasettest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "events", dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Request decodes events/<dir>/<name> as an HTTP API payload 2.0 request.
func Request(t testing.TB, dir, name string) apigw.Event {
	t.Helper()
	var ev apigw.Event
	if err := json.Unmarshal(File(t, dir, name), &ev); err != nil {
		t.Fatalf("events/%s/%s: %v", dir, name, err)
	}
	return ev
}
