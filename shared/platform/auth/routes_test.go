package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tailor/shared/local/samtemplate"
)

// TestEveryTemplateRouteHasAScope keeps the route table and template.yaml in
// step: a route added to the template without a scope here would be denied
// to every key, so it fails here first, with the line to add.
func TestEveryTemplateRouteHasAScope(t *testing.T) {
	tpl, err := samtemplate.Parse(filepath.Join("..", "..", "..", "template.yaml"))
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
	public := map[string]bool{}
	for _, r := range routes {
		if IsPublic(r.Key()) {
			public[r.Key()] = true
			if r.Authorizer != "" {
				t.Errorf("public route %s (%s) must have Authorizer: NONE in template.yaml", r.Key(), r.FunctionID)
			}
			if _, ok := RequiredScope(r.Key()); ok {
				t.Errorf("route %s is both public and scoped", r.Key())
			}
			continue
		}
		if _, ok := RequiredScope(r.Key()); !ok {
			t.Errorf("route %s (%s) has no scope: add %q: <Scope> to routeScopes in shared/platform/auth/routes.go", r.Key(), r.FunctionID, r.Key())
		}
		if r.Authorizer == "" {
			t.Errorf("route %s (%s) is not behind the API key authorizer (only the public routes of package auth may be)", r.Key(), r.FunctionID)
		}
	}
	for _, k := range PublicRoutes() {
		if !public[k] {
			t.Errorf("public route %s is not in template.yaml", k)
		}
	}
}

// TestRouteScopesAreDocumented keeps docs/security.md's route table equal
// to the code's.
func TestRouteScopesAreDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(b), "\n## Which route needs which scope\n")
	if !found {
		t.Fatal(`docs/security.md has no section "## Which route needs which scope"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]Scope{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		route, scope := strings.Trim(strings.TrimSpace(cells[1]), "`"), strings.Trim(strings.TrimSpace(cells[2]), "`")
		documented[route] = Scope(scope)
	}
	for route, scope := range RouteScopes() {
		if got, ok := documented[route]; !ok || got != scope {
			t.Errorf("docs/security.md: route %s should be listed with `%s` (found %q)", route, scope, got)
		}
	}
	for route := range documented {
		if _, ok := RequiredScope(route); !ok {
			t.Errorf("docs/security.md lists %s, which has no scope in routes.go", route)
		}
	}
}
