package shared

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "tailor/"

// features are the folders under shared/ that follow the feature layout:
// the folder is the domain, with service, edge, dynamo, memory and
// contract below it.
var features = []string{"customers", "catalog", "events", "recommendations", "segments", "campaigns"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module; the test then needs the go
// tool, which every machine that runs the tests has.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "tailor/...")
	cmd.Dir = ".."
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	return pkgs
}

// role names what a package is in the layout: "domain", "service", "edge",
// "dynamo", "memory", "contract", "platform", "local", "function", "cmd",
// or "" for anything else; feature is its feature folder, if any.
func role(path string) (feature, r string) {
	rest, ok := strings.CutPrefix(path, module)
	if !ok {
		return "", ""
	}
	parts := strings.Split(rest, "/")
	switch {
	case parts[0] == "functions":
		return "", "function"
	case parts[0] == "cmd":
		return "", "cmd"
	case parts[0] != "shared" || len(parts) < 2:
		return "", ""
	case parts[1] == "platform":
		return "", "platform"
	case parts[1] == "local":
		return "", "local"
	}
	if !slices.Contains(features, parts[1]) {
		return "", ""
	}
	if len(parts) == 2 {
		return parts[1], "domain"
	}
	switch parts[2] {
	case "service", "edge", "dynamo", "memory", "contract":
		return parts[1], parts[2]
	case "training":
		// The nightly training job is the recommendations' second service.
		return parts[1], "service"
	}
	// Other subpackages of a feature (the purchase models in
	// segments/clv, test fixtures) count as its domain.
	return parts[1], "domain"
}

func isAWS(path string) bool { return strings.HasPrefix(path, "github.com/aws/") }

// TestDependencyRules holds the tree to docs/architecture.md.
func TestDependencyRules(t *testing.T) {
	pkgs := listPackages(t)
	for path, p := range pkgs {
		feature, r := role(path)
		if r == "function" {
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module) && testSupport(d) {
					t.Errorf("%s links test support %s", path, d)
				}
			}
		}
		if testSupport(path) {
			// Fixtures for tests (fresh tables, fault injection, sample
			// events) may use local tooling; no function links them.
			continue
		}
		for _, imp := range p.Imports {
			f2, r2 := role(imp)
			switch r {
			case "domain":
				if isAWS(imp) {
					t.Errorf("%s is a domain package and imports %s: domains do no I/O", path, imp)
				}
				if r2 != "" && r2 != "domain" && !(r2 == "platform" && pureplatform(imp)) {
					t.Errorf("%s is a domain package and imports %s (%s)", path, imp, r2)
				}
			case "service":
				if r2 == "dynamo" || r2 == "edge" || r2 == "memory" || r2 == "local" || r2 == "function" {
					t.Errorf("%s is a service and imports %s (%s): services talk to ports they declare", path, imp, r2)
				}
				if f2 != "" && f2 != feature && r2 == "service" {
					t.Errorf("%s imports another feature's service %s", path, imp)
				}
				if strings.HasPrefix(imp, "github.com/aws/aws-sdk-go-v2/service/dynamodb") {
					t.Errorf("%s is a service and imports the DynamoDB SDK", path)
				}
			case "edge":
				if r2 == "dynamo" || r2 == "memory" || r2 == "local" {
					t.Errorf("%s is an edge and imports %s (%s): edges call services", path, imp, r2)
				}
			case "dynamo", "memory":
				if r2 == "service" || r2 == "edge" || r2 == "local" || ((r2 == "dynamo" || r2 == "memory") && f2 != feature) {
					t.Errorf("%s is an adapter and imports %s (%s %s): adapters import domains and the platform", path, imp, f2, r2)
				}
			case "platform":
				if f2 != "" || r2 == "local" {
					t.Errorf("%s is a platform package and imports %s: the platform knows no feature", path, imp)
				}
			}
		}
		if r != "local" && r != "cmd" && r != "contract" {
			for _, d := range p.Deps {
				if _, r2 := role(d); r2 == "local" {
					t.Errorf("%s links local-only tooling %s", path, d)
				}
			}
		}
	}
}

// testSupport reports a package that exists for tests: its name ends in
// "test" (ddbtest, apigwtest, datasettest, ...).
func testSupport(path string) bool {
	return strings.HasSuffix(path[strings.LastIndex(path, "/")+1:], "test")
}

// pureplatform lists the platform packages a domain may use: values and
// error kinds, no I/O.
func pureplatform(path string) bool {
	switch strings.TrimPrefix(path, module+"shared/platform/") {
	case "errs", "id", "jsonerr", "money", "pii":
		return true
	}
	return false
}

// TestAuthorizerLinksLittle keeps the smallest function small: no numeric
// library, no YAML, no KMS client.
func TestAuthorizerLinksLittle(t *testing.T) {
	p := listPackages(t)[module+"functions/authorizer"]
	for _, d := range p.Deps {
		if strings.Contains(d, "gonum") || strings.Contains(d, "yaml") || strings.Contains(d, "service/kms") {
			t.Errorf("the authorizer links %s", d)
		}
	}
}

// TestNoTwinFolderNames: no two sibling folders (nor two functions) whose
// names differ only by a suffix, such as segment and segments.
func TestNoTwinFolderNames(t *testing.T) {
	for _, root := range []string{".", "../functions", "../cmd"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			entries, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			var names []string
			for _, e := range entries {
				if e.IsDir() {
					names = append(names, e.Name())
				}
			}
			for _, a := range names {
				for _, b := range names {
					if a != b && strings.HasPrefix(b, a) {
						t.Errorf("%s: folders %s and %s differ only by a suffix", path, a, b)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestFunctionsLinkNoSDKConfigModule keeps every bootstrap small: functions
// build their SDK configuration from the Lambda environment
// (platform/awsenv); the config module would bring the SSO, STS, sign-in
// and instance-metadata clients. Only the CLI uses it.
func TestFunctionsLinkNoSDKConfigModule(t *testing.T) {
	for path, p := range listPackages(t) {
		if _, r := role(path); r != "function" {
			continue
		}
		for _, d := range p.Deps {
			if d == "github.com/aws/aws-sdk-go-v2/config" {
				t.Errorf("%s links %s", path, d)
			}
		}
	}
}
