package auth

import (
	"path/filepath"
	"testing"

	"tailor/shared/samtemplate"
)

// TestEveryTemplateRouteHasAScope keeps the route table and template.yaml in
// step: a route added to the template without a scope here would be denied
// to every key, so it fails here first, with the line to add.
func TestEveryTemplateRouteHasAScope(t *testing.T) {
	tpl, err := samtemplate.Parse(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) == 0 {
		t.Fatal("template.yaml has no routes")
	}
	for _, r := range routes {
		if _, ok := RequiredScope(r.Key()); !ok {
			t.Errorf("route %s (%s) has no scope: add %q: <Scope> to routeScopes in shared/auth/routes.go", r.Key(), r.FunctionID, r.Key())
		}
		if r.Authorizer == "" {
			t.Errorf("route %s (%s) is not behind the API key authorizer", r.Key(), r.FunctionID)
		}
	}
}
