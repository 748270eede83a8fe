// Package dashboard serves the marketing dashboard's static files and the
// API's OpenAPI document. The files hold no data: every page asks the
// public API for its numbers with the API key the user pasted (kept in the
// browser tab's session storage), so scopes apply to the dashboard exactly
// as to any other client. The files are embedded in the binary, so the
// dashboard works offline and deploys with the stack.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"tailor/shared/platform/apigw"
	"tailor/shared/platform/errs"
)

// web holds the pages. web/vendor/ is filled by make (the pinned charting
// library from npm) and is not in the repository.
//
//go:embed web
var web embed.FS

// asset is one file ready to send: its bytes, their gzip form when that is
// smaller, its media type and a strong ETag.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// Site answers the dashboard's routes from files loaded once per cold
// start.
type Site struct {
	files map[string]*asset
	spec  *asset
}

// securityHeaders go on every file: no framing, no sniffing, no referrer,
// and scripts, styles and requests only from the API's own origin.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// New loads the embedded files and the OpenAPI document (JSON).
func New(openAPIJSON []byte) (*Site, error) {
	return newSite(web, openAPIJSON)
}

func newSite(files fs.FS, openAPIJSON []byte) (*Site, error) {
	s := &Site{files: map[string]*asset{}, spec: newAsset(openAPIJSON, "application/json")}
	err := fs.WalkDir(files, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		s.files[strings.TrimPrefix(p, "web/")] = newAsset(b, ctype)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard files: %w", err)
	}
	if s.files["index.html"] == nil {
		return nil, fmt.Errorf("dashboard files: no index.html")
	}
	return s, nil
}

func newAsset(b []byte, ctype string) *asset {
	sum := sha256.Sum256(b)
	a := &asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	if zw.Close() == nil && buf.Len() < len(b)*9/10 {
		a.gz = buf.Bytes()
	}
	return a
}

// Register adds the dashboard's routes.
func (s *Site) Register(r *apigw.Router) {
	r.Handle("GET /dashboard", s.root)
	r.Handle("GET /dashboard/{proxy+}", s.file)
	r.Handle("GET /openapi.json", s.openAPI)
}

// root sends /dashboard to /dashboard/, so the pages' relative links
// resolve under it. The Location is relative: in AWS the stage name
// prefixes every path.
func (s *Site) root(_ context.Context, _ *apigw.Request) (*apigw.Response, error) {
	return apigw.Bytes(http.StatusPermanentRedirect, "text/plain; charset=utf-8", []byte("see /dashboard/\n")).
		WithHeader("Location", "dashboard/"), nil
}

func (s *Site) file(_ context.Context, r *apigw.Request) (*apigw.Response, error) {
	name := r.PathParam("proxy")
	if name == "" {
		name = "index.html"
	}
	a := s.files[name]
	if a == nil || strings.Contains(name, "..") {
		return nil, errs.E(errs.NotFound, fmt.Sprintf("the dashboard has no file %q", name))
	}
	// The page itself is checked on every load, so a deployment shows at
	// once; the files it names are cached briefly and revalidated by ETag.
	cache := "public, max-age=300"
	if strings.HasSuffix(name, ".html") {
		cache = "no-cache"
	}
	return send(r, a, cache), nil
}

func (s *Site) openAPI(_ context.Context, r *apigw.Request) (*apigw.Response, error) {
	return send(r, s.spec, "public, max-age=300").WithHeader("Access-Control-Allow-Origin", "*"), nil
}

// send answers a with its ETag: 304 when the client holds it, gzip when
// the client accepts it.
func send(r *apigw.Request, a *asset, cache string) *apigw.Response {
	var resp *apigw.Response
	switch {
	case matchesETag(r.Header("If-None-Match"), a.etag):
		resp = apigw.Bytes(http.StatusNotModified, a.ctype, []byte{})
	case a.gz != nil && acceptsGzip(r.Header("Accept-Encoding")):
		resp = apigw.Bytes(http.StatusOK, a.ctype, a.gz).WithHeader("Content-Encoding", "gzip")
	default:
		resp = apigw.Bytes(http.StatusOK, a.ctype, a.body)
	}
	resp.WithHeader("ETag", a.etag).WithHeader("Cache-Control", cache).WithHeader("Vary", "Accept-Encoding")
	for k, v := range securityHeaders {
		resp.WithHeader(k, v)
	}
	return resp
}

func matchesETag(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, _ := strings.Cut(p, "="); strings.TrimSpace(k) == "q" {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
