//go:build dynamodb

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"tailor/docs"
	"tailor/shared/local/apiclient"
)

// The end-to-end tests hold the API to its document: every answer of an
// API route that a test receives, whatever it asserts itself, is checked
// against docs/openapi.yaml (status, media type, headers, body), and a
// mismatch fails the test.

// contract is the loaded document and what the tests have checked.
type contract struct {
	doc    *openapi3.T
	router routers.Router

	mu sync.Mutex
	// seen counts checked answers by operation id and status.
	seen map[string]map[int]int
}

var (
	contractOnce sync.Once
	theContract  *contract
	contractErr  error
)

// loadContract reads the document once per test binary.
func loadContract() (*contract, error) {
	contractOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(docs.OpenAPIYAML())
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			contractErr = fmt.Errorf("docs/openapi.yaml: %w", err)
			return
		}
		// The router matches the document's paths against the stack's
		// URLs: no server, so any host and port; and the dashboard's
		// greedy {proxy+} (OpenAPI's {proxy}) as gorilla/mux spells it.
		route := *doc
		route.Servers = nil
		route.Paths = openapi3.NewPaths()
		for path, item := range doc.Paths.Map() {
			if rest, ok := strings.CutSuffix(path, "/{proxy}"); ok {
				path = rest + "/{proxy:.+}"
			}
			route.Paths.Set(path, item)
		}
		router, err := gorillamux.NewRouter(&route)
		if err != nil {
			contractErr = fmt.Errorf("route docs/openapi.yaml: %w", err)
			return
		}
		theContract = &contract{doc: doc, router: router, seen: map[string]map[int]int{}}
	})
	return theContract, contractErr
}

// check validates one answer to req. Requests to no route of the document
// (the gateway's 404 for unknown paths, the Lambda Invoke API) are not the
// API's and pass.
func (c *contract) check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	err = openapi3filter.ValidateResponse(req.Context(), in)
	if err == nil {
		c.mu.Lock()
		id := route.Operation.OperationID
		if c.seen[id] == nil {
			c.seen[id] = map[int]int{}
		}
		c.seen[id][status]++
		c.mu.Unlock()
	}
	return err
}

// checkedTransport checks every answer it carries against the contract.
type checkedTransport struct {
	t    testing.TB
	c    *contract
	next http.RoundTripper
}

// checked returns a transport that fails t when an answer breaks the
// document.
func checked(t testing.TB, next http.RoundTripper) http.RoundTripper {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return &checkedTransport{t: t, c: c, next: next}
}

// RoundTrip implements http.RoundTripper. It reports a mismatch with
// t.Errorf, which is safe from the goroutines of concurrent requests.
func (ct *checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := ct.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := ct.c.check(req, resp.StatusCode, resp.Header, body); err != nil {
		shown := body
		if len(shown) > 2000 {
			shown = shown[:2000]
		}
		ct.t.Errorf("contract: %s %s answered %d %q, which docs/openapi.yaml does not allow:\n%v\nbody: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, resp.Header.Get("Content-Type"), err, shown)
	}
	return resp, nil
}

// TestMain runs the tests, then says which operations of the document
// they checked answers of and which none exercised (seen with -v).
func TestMain(m *testing.M) {
	code := m.Run()
	if c := theContract; c != nil {
		c.mu.Lock()
		var all, missing []string
		for _, item := range c.doc.Paths.Map() {
			for _, op := range item.Operations() {
				all = append(all, op.OperationID)
				if c.seen[op.OperationID] == nil {
					missing = append(missing, op.OperationID)
				}
			}
		}
		slices.Sort(all)
		slices.Sort(missing)
		fmt.Printf("contract: answers of %d of %d operations checked against docs/openapi.yaml\n", len(all)-len(missing), len(all))
		for _, id := range all {
			if st := c.seen[id]; st != nil {
				var parts []string
				for _, code := range slices.Sorted(maps.Keys(st)) {
					parts = append(parts, fmt.Sprintf("%d×%d", code, st[code]))
				}
				fmt.Printf("  %-24s %s\n", id, strings.Join(parts, " "))
			}
		}
		if len(missing) > 0 {
			fmt.Printf("contract: not exercised: %s\n", strings.Join(missing, ", "))
		}
		c.mu.Unlock()
	}
	os.Exit(code)
}

// TestPublicRoutes: without a key, GET /openapi.json answers the document
// as package docs holds it, with an ETag that then answers 304; the
// dashboard's root redirects to its pages, which are HTML; a file it lacks,
// at any depth, is 404 problem JSON.
func TestPublicRoutes(t *testing.T) {
	s := startStack(t)
	api, ctx := s.as("").api(), t.Context()
	want, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := api.GetOpenAPIWithResponse(ctx, nil)
	if err != nil || doc.StatusCode() != http.StatusOK || !bytes.Equal(doc.Body, want) {
		t.Fatalf("GET /openapi.json: %v %d, %d bytes; want the %d bytes of docs.OpenAPIJSON", err, doc.StatusCode(), len(doc.Body), len(want))
	}
	etag := doc.HTTPResponse.Header.Get("ETag")
	if same, err := api.GetOpenAPIWithResponse(ctx, &apiclient.GetOpenAPIParams{IfNoneMatch: &etag}); err != nil || same.StatusCode() != http.StatusNotModified {
		t.Fatalf("GET /openapi.json with If-None-Match %s: %v %s", etag, err, answered(same))
	}
	root, err := api.GetDashboardRootWithResponse(ctx)
	if err != nil || root.StatusCode() != http.StatusPermanentRedirect || root.HTTPResponse.Header.Get("Location") != "dashboard/" {
		t.Fatalf("GET /dashboard: %v %s", err, answered(root))
	}
	page, err := api.GetDashboardFileWithResponse(ctx, "index.html", nil)
	if mt, _, _ := mime.ParseMediaType(page.HTTPResponse.Header.Get("Content-Type")); err != nil || page.StatusCode() != http.StatusOK || mt != "text/html" {
		t.Fatalf("GET /dashboard/index.html: %v %s", err, answered(page))
	}
	for _, name := range []string{"no-such-file.txt", "deeper/no-such-file.txt"} {
		if missing, err := api.GetDashboardFileWithResponse(ctx, name, nil); err != nil || missing.ApplicationproblemJSON404 == nil {
			t.Errorf("GET /dashboard/%s: %v %s", name, err, answered(missing))
		}
	}
}
