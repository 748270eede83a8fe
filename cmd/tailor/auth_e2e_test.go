//go:build dynamodb

package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"tailor/shared/local/samtemplate"
	"tailor/shared/platform/auth"
)

// samplePath fills a route path's variables so that the route matches.
func samplePath(path string) string {
	if path == "$default" {
		return "/matrix/default"
	}
	segs := strings.Split(path, "/")
	for i, sg := range segs {
		switch {
		case strings.HasSuffix(sg, "+}"):
			segs[i] = "matrix/rest"
		case strings.HasPrefix(sg, "{"):
			segs[i] = "matrix-1"
		}
	}
	return strings.Join(segs, "/")
}

func sampleMethod(r samtemplate.Route) string {
	if r.Method == "ANY" {
		return http.MethodGet
	}
	return r.Method
}

// sampleBody is an empty JSON object for methods that carry a body: enough
// to get past the gateway, whatever the handler then says about it.
func sampleBody(method string) any {
	switch method {
	case http.MethodPut, http.MethodPatch, http.MethodPost:
		return "{}"
	}
	return nil
}

// TestRouteScopeMatrix calls every route of template.yaml, through tailor
// serve and the real authorizer, with a key for each single scope, with no
// key and with each kind of bad key. It reads the routes from the template
// and the scopes from package auth, so routes added later are covered
// without touching this test.
func TestRouteScopeMatrix(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	routes, err := s.Srv.Template().Routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 8 {
		t.Fatalf("only %d routes in the template", len(routes))
	}

	scopeKeys := map[auth.Scope]string{}
	for _, sc := range auth.AllScopes {
		scopeKeys[sc] = s.newKey("only "+string(sc), sc)
	}
	revoked := s.newKey("revoked before use", auth.Admin)
	revokedID, _ := auth.ParseKey(revoked)
	if _, err := s.keys().Revoke(ctx, revokedID, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, unknown, _ := auth.NewKey(rand.Reader, "never stored", []auth.Scope{auth.Admin}, time.Now())
	wrongSecret := s.AdminKey[:len(s.AdminKey)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(s.AdminKey, "a")]
	badKeys := map[string]string{
		"unknown key":         unknown,
		"wrong secret":        wrongSecret,
		"revoked key":         revoked,
		"not a Tailor key":    "nonsense",
		"key without Bearer":  "",
		"truncated admin key": s.AdminKey[:40],
	}

	for _, r := range routes {
		method, path := sampleMethod(r), samplePath(r.Path)
		if auth.IsPublic(r.Key()) {
			// Served to anyone: no key, a bad one or any scope is let
			// through to the function, whatever it then answers.
			for name, key := range map[string]string{"no key": "", "an unknown key": unknown, "a catalog:read key": scopeKeys[auth.CatalogRead]} {
				if status, _, body := s.as(key).call(method, path, sampleBody(method)); status == 401 || status == 403 {
					t.Errorf("public route %s with %s: %d %v, want it let through", r.Key(), name, status, body)
				}
			}
			continue
		}
		need, declared := auth.RequiredScope(r.Key())
		if !declared {
			t.Errorf("route %s of %s has no scope in shared/auth/routes.go, so every key is refused", r.Key(), r.FunctionID)
			continue
		}
		for _, sc := range auth.AllScopes {
			status, hdr, body := s.as(scopeKeys[sc]).call(method, path, sampleBody(method))
			allowed := sc == need || sc == auth.Admin
			switch {
			case allowed && (status == 401 || status == 403):
				t.Errorf("%s with %s: %d %v, want it let through (the route needs %s)", r.Key(), sc, status, body, need)
			case !allowed && (status != 403 || body["type"] != "/problems/forbidden" || hdr.Get("Content-Type") != "application/problem+json"):
				t.Errorf("%s with %s: %d %v, want 403 problem JSON (the route needs %s)", r.Key(), sc, status, body, need)
			}
		}

		// No Authorization header: API Gateway answers before any function
		// runs, with its own body.
		status, hdr, body := s.as("").call(method, path, sampleBody(method))
		if status != 401 || body["message"] != "Unauthorized" || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s without a key: %d %v %v, want API Gateway's 401", r.Key(), status, hdr, body)
		}
		for name, key := range badKeys {
			c := s.as("")
			header := "Bearer " + key
			if name == "key without Bearer" {
				header = s.AdminKey
			}
			status, hdr, body := c.call(method, path, sampleBody(method), "Authorization", header)
			if status != 401 || body["type"] != "/problems/unauthorized" || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with %s: %d %v, want 401 problem JSON", r.Key(), name, status, body)
			}
		}
	}

	// No key secret reaches any log line: the authorizer and functions log
	// key ids only.
	logs := s.logs.String()
	for sc, k := range scopeKeys {
		if strings.Contains(logs, k[len(auth.KeyPrefix)+17:]) {
			t.Errorf("the secret of the %s key is in the logs", sc)
		}
	}
	if !strings.Contains(logs, `"reason":"revoked"`) || !strings.Contains(logs, `"reason":"mismatch"`) {
		t.Error("refusals are not logged with their reason")
	}
}

// TestRevocationWaitsForTheCache pins the documented revocation delay: API
// Gateway reuses an authorizer answer for ReauthorizeEvery seconds per
// Authorization header value, so a key revoked after use keeps working from
// the cache, and a request with a header not seen before is checked afresh.
func TestRevocationWaitsForTheCache(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	key := s.newKey("revoked after use", auth.CatalogRead)
	c := s.as(key).api()
	if got, err := c.GetItemWithResponse(ctx, "sku-1"); err != nil || got.ApplicationproblemJSON404 == nil {
		t.Fatalf("before revocation: %v %s", err, answered(got))
	}
	id, _ := auth.ParseKey(key)
	if _, err := s.keys().Revoke(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetItemWithResponse(ctx, "sku-1"); err != nil || got.ApplicationproblemJSON404 == nil {
		t.Fatalf("within the cache lifetime the cached answer stands: %v %s", err, answered(got))
	}
	// The same key with the scheme spelled differently (a header the
	// client would not send) is another cache entry, checked against the
	// table: refused.
	if status, _, body := s.as("").call("GET", "/v1/items/sku-1", nil, "Authorization", "bearer "+key); status != 401 || body["type"] != "/problems/unauthorized" {
		t.Fatalf("fresh check of a revoked key: %d %v", status, body)
	}
	tpl := s.Srv.Template()
	api, _ := tpl.HTTPAPI("HttpApi")
	if ttl := api.Auth.Authorizers[api.Auth.DefaultAuthorizer].ReauthorizeEvery; ttl != 300 {
		t.Fatalf("authorizer cache TTL %d s; docs/security.md promises 300 s", ttl)
	}
}
