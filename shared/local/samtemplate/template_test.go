package samtemplate

// These tests hold the real template.yaml to the conventions the build and
// the code rely on, which cfn-lint cannot see: the Makefile targets sam build
// calls, the function packages, route uniqueness, references, and the table
// variables each function's code reads.

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository root relative to this package.
const repoRoot = "../../.."

func realTemplate(t *testing.T) *Template {
	t.Helper()
	tpl, err := Parse(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	if len(tpl.Functions) == 0 {
		t.Fatal("template.yaml declares no functions")
	}
	return tpl
}

func TestTemplateFunctionsFollowConventions(t *testing.T) {
	tpl := realTemplate(t)
	for _, fn := range tpl.Functions {
		if _, err := FunctionName(fn.LogicalID); err != nil {
			t.Errorf("%v", err)
		}
		// sam build runs the Makefile from CodeUri, which is the repository
		// root for every function.
		if fn.BuildMethod != "makefile" || fn.CodeURI != "." {
			t.Errorf("%s: BuildMethod %q CodeUri %q, want makefile and .", fn.LogicalID, fn.BuildMethod, fn.CodeURI)
		}
		if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" {
			t.Errorf("%s: runtime %q handler %q, want provided.al2023 and bootstrap", fn.LogicalID, fn.Runtime, fn.Handler)
		}
	}
}

// makeRule matches a rule line's targets; assignments (:=, ::=, ?=, +=, =)
// and recipe lines do not match.
var makeRule = regexp.MustCompile(`^([^\t#=:][^#=:]*?)\s*::?([^=:]|$)`)

// makeTargets lists the targets of every rule in a Makefile, patterns
// included.
func makeTargets(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open Makefile (sam build needs it for BuildMethod makefile): %v", err)
	}
	defer f.Close()
	var targets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := makeRule.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		for _, tg := range strings.Fields(m[1]) {
			if !strings.HasPrefix(tg, ".") {
				targets = append(targets, tg)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read Makefile: %v", err)
	}
	return targets
}

// makeMatches reports whether a rule target (possibly a % pattern) builds
// name, with make's rule that the stem is not empty.
func makeMatches(target, name string) bool {
	prefix, suffix, pattern := strings.Cut(target, "%")
	if !pattern {
		return target == name
	}
	return len(name) > len(prefix)+len(suffix) && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix)
}

func TestMakefileBuildsEveryFunction(t *testing.T) {
	tpl := realTemplate(t)
	targets := makeTargets(t, filepath.Join(repoRoot, "Makefile"))
	for _, fn := range tpl.Functions {
		want := "build-" + fn.LogicalID
		found := false
		for _, tg := range targets {
			if makeMatches(tg, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("Makefile has no rule for %s (explicit or pattern such as build-%%Function)", want)
		}
	}
}

func TestMakeRuleParsing(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"build-%Function: go.mod", []string{"build-%Function"}},
		{"build-CustomersFunction build-CatalogFunction:", []string{"build-CustomersFunction", "build-CatalogFunction"}},
		{"run::", []string{"run"}},
		{"GOFLAGS := -trimpath", nil},
		{"X ::= y", nil},
		{"\tgo build ./...", nil},
		{"# build-XFunction:", nil},
		{"ARTIFACTS_DIR ?= .build", nil},
	}
	for _, tc := range tests {
		m := makeRule.FindStringSubmatch(tc.line)
		var got []string
		if m != nil {
			got = strings.Fields(m[1])
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: targets %q, want %q", tc.line, got, tc.want)
		}
	}
	if !makeMatches("build-%Function", "build-CustomersFunction") || makeMatches("build-%Function", "build-Function") || makeMatches("build-%Function", "build-CustomersTable") {
		t.Error("pattern matching is wrong")
	}
}

const lambdaImport = "github.com/aws/aws-lambda-go/lambda"

// callsLambdaStart reports whether a parsed main package calls
// lambda.Start or lambda.StartWithOptions, under whatever name it imports
// the lambda package.
func callsLambdaStart(f *ast.File) bool {
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == lambdaImport {
			local = "lambda"
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" || local == "_" {
		return false
	}
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == local && (sel.Sel.Name == "Start" || sel.Sel.Name == "StartWithOptions") {
			found = true
		}
		return !found
	})
	return found
}

func TestFunctionPackagesStartLambda(t *testing.T) {
	tpl := realTemplate(t)
	for _, fn := range tpl.Functions {
		dir, err := PackageDir(fn.LogicalID)
		if err != nil {
			t.Error(err)
			continue
		}
		path := filepath.Join(repoRoot, dir, "main.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("%s: %v", fn.LogicalID, err)
			continue
		}
		if f.Name.Name != "main" {
			t.Errorf("%s: package %s, want main", path, f.Name.Name)
		}
		if !callsLambdaStart(f) {
			t.Errorf("%s: does not call lambda.Start from %s", path, lambdaImport)
		}
	}
}

func TestCallsLambdaStart(t *testing.T) {
	tests := []struct {
		name, src string
		want      bool
	}{
		{"plain", `package main; import "github.com/aws/aws-lambda-go/lambda"; func main() { lambda.Start(h) }`, true},
		{"alias", `package main; import awslambda "github.com/aws/aws-lambda-go/lambda"; func main() { awslambda.StartWithOptions(h) }`, true},
		{"other package", `package main; import "example.com/lambda"; func main() { lambda.Start(h) }`, false},
		{"no call", `package main; import "github.com/aws/aws-lambda-go/lambda"; var _ = lambda.Start`, false},
	}
	for _, tc := range tests {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", tc.src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := callsLambdaStart(f); got != tc.want {
			t.Errorf("%s: callsLambdaStart = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRoutesAreUnique(t *testing.T) {
	tpl := realTemplate(t)
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) == 0 {
		t.Fatal("no HttpApi routes")
	}
	owner := map[string]string{}
	for _, r := range routes {
		if _, ok := tpl.Function(r.FunctionID); !ok {
			t.Errorf("route %s: function %s not declared", r.Key(), r.FunctionID)
		}
		if r.Path != "$default" && !strings.HasPrefix(r.Path, "/") {
			t.Errorf("route %s of %s: path must start with /", r.Key(), r.FunctionID)
		}
		switch r.Method {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY":
		default:
			t.Errorf("route %s of %s: method %q", r.Key(), r.FunctionID, r.Method)
		}
		// API Gateway treats /a/{x} and /a/{y} as the same route.
		key := r.APIID + " " + r.Method + " " + NormalizedPath(r.Path)
		if prev, dup := owner[key]; dup {
			t.Errorf("route %s claimed by both %s and %s", r.Key(), prev, r.FunctionID+"."+r.EventName)
		}
		owner[key] = r.FunctionID + "." + r.EventName
	}
}

// pseudoParameters are the names CloudFormation defines itself.
var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

func TestReferencesAreDeclared(t *testing.T) {
	tpl := realTemplate(t)
	check := func(where string, v Value) {
		for _, ref := range v.References() {
			if pseudoParameters[ref.Name] {
				continue
			}
			_, isParam := tpl.Parameter(ref.Name)
			_, isResource := tpl.Resources[ref.Name]
			switch {
			case ref.Kind == "Fn::GetAtt" || ref.Attribute != "":
				if !isResource {
					t.Errorf("%s: %s %s.%s names no resource", where, ref.Kind, ref.Name, ref.Attribute)
				}
			case !isParam && !isResource:
				t.Errorf("%s: %s %s names no parameter or resource", where, ref.Kind, ref.Name)
			}
		}
	}
	for _, fn := range tpl.Functions {
		for _, k := range sortedKeys(fn.Environment) {
			check(fn.LogicalID+" environment "+k, fn.Environment[k])
		}
		check(fn.LogicalID+" policies", fn.Policies)
		for _, e := range fn.Events {
			check(fn.LogicalID+" event "+e.Name, e.Properties)
		}
	}
	for _, api := range tpl.HTTPAPIs {
		check(api.LogicalID+" StageName", api.StageName)
		for _, a := range api.Auth.Authorizers {
			check(api.LogicalID+" authorizer "+a.Name, a.FunctionArn)
			if !a.FunctionArn.IsZero() {
				if _, ok := tpl.Function(a.FunctionLogicalID); !ok {
					t.Errorf("%s authorizer %s: FunctionArn %s is not !GetAtt <Function>.Arn", api.LogicalID, a.Name, a.FunctionArn)
				}
			}
		}
	}
	for _, name := range sortedKeys(tpl.Outputs) {
		check("output "+name, tpl.Outputs[name])
	}
}

// tableVariable is how code names the environment variable that holds a
// table name.
var tableVariable = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_TABLE$`)

// tableVariablesIn lists the table variable names that the non-test Go
// files of a directory mention as string literals. Test files are left out:
// they are not deployed and may name variables on purpose to test missing
// configuration.
func tableVariablesIn(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && tableVariable.MatchString(s) {
				found[s] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return found
}

func TestTableVariablesAreDeclared(t *testing.T) {
	tpl := realTemplate(t)
	for _, fn := range tpl.Functions {
		dir, err := PackageDir(fn.LogicalID)
		if err != nil {
			t.Error(err)
			continue
		}
		vars := tableVariablesIn(t, filepath.Join(repoRoot, dir))
		for _, name := range sortedKeys(vars) {
			v, ok := fn.Environment[name]
			if !ok {
				t.Errorf("%s: %s reads %s but the function's Environment does not declare it", vars[name], fn.LogicalID, name)
				continue
			}
			ref, ok := v.Ref()
			if !ok {
				t.Errorf("%s: %s is %s, want !Ref to a DynamoDB table", fn.LogicalID, name, v)
				continue
			}
			if typ := tpl.Resources[ref].Type; typ != TypeTable && typ != TypeSimpleTable {
				t.Errorf("%s: %s is !Ref %s of type %q, want a DynamoDB table", fn.LogicalID, name, ref, typ)
			}
		}
	}
}

func TestTableVariableScan(t *testing.T) {
	dir := t.TempDir()
	src := "package main\n\nconst a = \"CUSTOMERS_TABLE\"\n\nvar b = []string{`ITEMS_TABLE`, \"NOT_A_TABLE_NAME\", \"lower_TABLE\", \"X_TABLES\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte("package main\n\nconst c = \"TEST_ONLY_TABLE\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := tableVariablesIn(t, dir)
	if len(got) != 2 || got["CUSTOMERS_TABLE"] == "" || got["ITEMS_TABLE"] == "" {
		t.Errorf("found %v, want CUSTOMERS_TABLE and ITEMS_TABLE only", got)
	}
}
