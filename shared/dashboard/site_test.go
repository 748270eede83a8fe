package dashboard

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/apigw"
)

func serve(t *testing.T, s *Site, routeKey, proxy string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	r := apigw.NewRouter(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	s.Register(r)
	ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, Headers: headers}
	if proxy != "" {
		ev.PathParameters = map[string]string{"proxy": proxy}
	}
	res, err := r.Serve(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func body(t *testing.T, res events.APIGatewayV2HTTPResponse) []byte {
	t.Helper()
	b := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			t.Fatal(err)
		}
	}
	if res.Headers["Content-Encoding"] == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestEmbeddedPagesServeWithoutAKey(t *testing.T) {
	s, err := New([]byte(`{"openapi":"3.1.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	// No principal at all: the public routes need none.
	res := serve(t, s, "GET /dashboard/{proxy+}", "index.html", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Headers["Content-Type"], "text/html") ||
		!strings.Contains(string(body(t, res)), "app.js") {
		t.Fatalf("index.html: %d %v %q", res.StatusCode, res.Headers, res.Body)
	}
	if res.Headers["Cache-Control"] != "no-cache" || !strings.Contains(res.Headers["Content-Security-Policy"], "default-src 'self'") ||
		res.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Errorf("index.html headers: %v", res.Headers)
	}
	for _, name := range []string{"app.js", "app.css"} {
		if res := serve(t, s, "GET /dashboard/{proxy+}", name, nil); res.StatusCode != http.StatusOK || len(body(t, res)) == 0 {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	// /dashboard/ (empty proxy) is the page itself; /dashboard redirects
	// relative to the stage.
	if res := serve(t, s, "GET /dashboard/{proxy+}", "", nil); res.StatusCode != http.StatusOK {
		t.Errorf("/dashboard/: %d", res.StatusCode)
	}
	if res := serve(t, s, "GET /dashboard", "", nil); res.StatusCode != http.StatusPermanentRedirect || res.Headers["Location"] != "dashboard/" {
		t.Errorf("/dashboard: %d %v", res.StatusCode, res.Headers)
	}
	spec := serve(t, s, "GET /openapi.json", "", nil)
	if spec.StatusCode != http.StatusOK || spec.Headers["Content-Type"] != "application/json" || string(body(t, spec)) != `{"openapi":"3.1.0"}` {
		t.Errorf("openapi.json: %d %v %q", spec.StatusCode, spec.Headers, spec.Body)
	}
}

func TestMissingFilesAreProblems(t *testing.T) {
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nope.js", "../site.go", "vendor/../../site.go"} {
		res := serve(t, s, "GET /dashboard/{proxy+}", name, nil)
		if res.StatusCode != http.StatusNotFound || res.Headers["Content-Type"] != "application/problem+json" {
			t.Errorf("%s: %d %v", name, res.StatusCode, res.Headers)
		}
	}
}

func TestGzipAndETag(t *testing.T) {
	big := strings.Repeat("function chart() { return 1; }\n", 400)
	s, err := newSite(fstest.MapFS{"web/index.html": {Data: []byte("<!doctype html>")}, "web/app.js": {Data: []byte(big)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := serve(t, s, "GET /dashboard/{proxy+}", "app.js", nil)
	if plain.Headers["Content-Encoding"] != "" || string(body(t, plain)) != big || !strings.HasPrefix(plain.Headers["Content-Type"], "text/javascript") {
		t.Fatalf("plain: %v", plain.Headers)
	}
	gz := serve(t, s, "GET /dashboard/{proxy+}", "app.js", map[string]string{"accept-encoding": "br, gzip;q=0.8"})
	if gz.Headers["Content-Encoding"] != "gzip" || !gz.IsBase64Encoded || len(gz.Body) >= len(big) || string(body(t, gz)) != big {
		t.Fatalf("gzip: %v, %d bytes", gz.Headers, len(gz.Body))
	}
	if off := serve(t, s, "GET /dashboard/{proxy+}", "app.js", map[string]string{"accept-encoding": "gzip;q=0"}); off.Headers["Content-Encoding"] != "" {
		t.Errorf("gzip;q=0 still compressed")
	}
	etag := plain.Headers["ETag"]
	if etag == "" || gz.Headers["ETag"] != etag {
		t.Fatalf("ETags %q and %q", etag, gz.Headers["ETag"])
	}
	if nm := serve(t, s, "GET /dashboard/{proxy+}", "app.js", map[string]string{"if-none-match": `"other", ` + etag}); nm.StatusCode != http.StatusNotModified || nm.Body != "" {
		t.Errorf("If-None-Match: %d %q", nm.StatusCode, nm.Body)
	}
}

func TestANoIndexSiteIsRefused(t *testing.T) {
	if _, err := newSite(fstest.MapFS{"web/app.js": {Data: []byte("x")}}, nil); err == nil {
		t.Fatal("a site without index.html was accepted")
	}
}
