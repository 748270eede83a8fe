// Package datasettest locates the reference data sets for tests and
// benchmarks. The data lives in ../shared/data beside the module root; the
// product never reads it at run time.
package datasettest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// ModuleRoot finds the directory holding go.mod, walking up from the
// working directory, so tests work from any package and any checkout.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the path of a file under ../shared/data, e.g.
// Path(t, "cdnow", "CDNOW_sample.txt"), failing the test when the module
// root cannot be found.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root, "..", "shared", "data"}, elem...)...)
}
