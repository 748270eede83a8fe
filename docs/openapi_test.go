package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"tailor/docs"
	"tailor/shared/local/samtemplate"
	"tailor/shared/platform/auth"
)

// requiredScope is the extension that names an operation's scope.
const requiredScope = "x-required-scope"

// load parses and validates one form of the document.
func load(t *testing.T, src []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(src)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

// TestDocumentIsValid: the YAML and its JSON form load, validate (examples
// included) as OpenAPI 3.1 and say the same.
func TestDocumentIsValid(t *testing.T) {
	doc := load(t, docs.OpenAPIYAML())
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	js, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js) {
		t.Fatal("OpenAPIJSON is not JSON")
	}
	again, err := docs.OpenAPIJSON()
	if err != nil || !bytes.Equal(js, again) {
		t.Fatalf("a second call answers differently (%v)", err)
	}
	fromJSON := load(t, js)
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Fatal("the JSON form loads into another document than the YAML")
	}
	if !bytes.HasPrefix(js, []byte("{\n  \"openapi\": \"3.1.0\",\n  \"info\"")) {
		t.Errorf("the JSON form does not keep the YAML's key order: %.60s", js)
	}
}

// operation is one operation of the document under its template route key.
type operation struct {
	key string
	op  *openapi3.Operation
}

// operations lists the document's operations by route key, the path
// spelled as template.yaml spells it: the dashboard's greedy {proxy+} is
// {proxy} in OpenAPI, which has no greedy parameters.
func operations(doc *openapi3.T) []operation {
	var out []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, operation{key: method + " " + templatePath(path), op: op})
		}
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.key, b.key) })
	return out
}

func templatePath(path string) string {
	if rest, ok := strings.CutSuffix(path, "/{proxy}"); ok {
		return rest + "/{proxy+}"
	}
	return path
}

func templateRoutes(t *testing.T) []samtemplate.Route {
	t.Helper()
	tpl, err := samtemplate.Parse("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

// TestOperationsAreTheTemplateRoutes: the document describes exactly the
// routes of template.yaml, no more and no fewer.
func TestOperationsAreTheTemplateRoutes(t *testing.T) {
	doc := load(t, docs.OpenAPIYAML())
	inDoc := map[string]bool{}
	for _, o := range operations(doc) {
		inDoc[o.key] = true
	}
	inTemplate := map[string]bool{}
	for _, r := range templateRoutes(t) {
		inTemplate[r.Key()] = true
		if !inDoc[r.Key()] {
			t.Errorf("route %s of %s is not in docs/openapi.yaml", r.Key(), r.FunctionID)
		}
	}
	for k := range inDoc {
		if !inTemplate[k] {
			t.Errorf("docs/openapi.yaml describes %s, which template.yaml does not route", k)
		}
	}
	t.Logf("%d operations", len(inDoc))
}

// TestScopesAreTheRouteTable: every operation's x-required-scope (and its
// description) is the scope package auth requires, and the operations
// without security are exactly the public routes: those with no
// authorizer in the template and public in package auth.
func TestScopesAreTheRouteTable(t *testing.T) {
	doc := load(t, docs.OpenAPIYAML())
	if len(doc.Security) != 1 || doc.Security[0]["apiKey"] == nil {
		t.Fatalf("the document's default security is %v, want the apiKey scheme", doc.Security)
	}
	open := map[string]bool{}
	for _, r := range templateRoutes(t) {
		if r.Authorizer == "" {
			open[r.Key()] = true
		}
	}
	for _, k := range auth.PublicRoutes() {
		if !open[k] {
			t.Errorf("package auth serves %s without a key, but template.yaml puts an authorizer on it", k)
		}
	}
	for _, o := range operations(doc) {
		public := o.op.Security != nil && len(*o.op.Security) == 0
		scope, hasScope := o.op.Extensions[requiredScope]
		switch {
		case public != open[o.key] || public != auth.IsPublic(o.key):
			t.Errorf("%s: public in the document %v, without authorizer in the template %v, public in package auth %v",
				o.key, public, open[o.key], auth.IsPublic(o.key))
		case public && hasScope:
			t.Errorf("%s is public but names the scope %v", o.key, scope)
		case public:
		case o.op.Security != nil:
			t.Errorf("%s overrides the document's security: %v", o.key, *o.op.Security)
		default:
			want, declared := auth.RequiredScope(o.key)
			if !declared {
				t.Errorf("%s: package auth declares no scope for it", o.key)
				continue
			}
			if scope != string(want) {
				t.Errorf("%s: %s is %v, package auth requires %s", o.key, requiredScope, scope, want)
			}
			if !strings.Contains(o.op.Description, fmt.Sprintf("Scope: `%s`", want)) {
				t.Errorf("%s: the description does not say \"Scope: `%s`\"", o.key, want)
			}
			for _, status := range []int{401, 403} {
				if o.op.Responses.Status(status) == nil {
					t.Errorf("%s: no %d response", o.key, status)
				}
			}
		}
	}
}

// TestOperationsAreNamedAndTagged: the generated client's method names
// come from operation ids, and the document's sections from tags.
func TestOperationsAreNamedAndTagged(t *testing.T) {
	doc := load(t, docs.OpenAPIYAML())
	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	for _, o := range operations(doc) {
		if o.op.OperationID == "" || o.op.Summary == "" {
			t.Errorf("%s has no operationId or summary", o.key)
		}
		if len(o.op.Tags) != 1 || !tags[o.op.Tags[0]] {
			t.Errorf("%s: tags %v, want one of the document's", o.key, o.op.Tags)
		}
	}
}
