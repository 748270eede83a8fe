package lambdahost

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"tailor/shared/local/samtemplate"
)

func testRoute(t *testing.T, method, path string) *route {
	t.Helper()
	rt := &route{Route: samtemplate.Route{Method: method, Path: path, FunctionID: method + " " + path}, catchAll: path == "$default"}
	if !rt.catchAll {
		var err error
		if rt.segs, err = parseRoutePath(path); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

func TestRouteSelection(t *testing.T) {
	var g gateway
	for _, r := range [][2]string{
		{"ANY", "$default"},
		{"ANY", "/{proxy+}"},
		{"GET", "/"},
		{"GET", "/a/b"},
		{"GET", "/a/{x}"},
		{"ANY", "/a/{x}"},
		{"GET", "/a/{x}/c"},
		{"GET", "/a/b/{proxy+}"},
		{"POST", "/a/{x}/{y}"},
	} {
		g.routes = append(g.routes, testRoute(t, r[0], r[1]))
	}
	tests := []struct {
		method, path string
		want         string
		params       map[string]string
	}{
		{"GET", "/", "GET /", nil},
		{"GET", "/a/b", "GET /a/b", nil},
		{"GET", "/a/z", "GET /a/{x}", map[string]string{"x": "z"}},
		{"PUT", "/a/z", "ANY /a/{x}", map[string]string{"x": "z"}},
		{"GET", "/a/z/c", "GET /a/{x}/c", map[string]string{"x": "z"}},
		{"GET", "/a/b/c", "GET /a/b/{proxy+}", map[string]string{"proxy": "c"}},
		{"POST", "/a/b/c", "POST /a/{x}/{y}", map[string]string{"x": "b", "y": "c"}},
		{"GET", "/a/z/q", "ANY /{proxy+}", map[string]string{"proxy": "a/z/q"}},
		{"GET", "/a/%2F/c", "GET /a/{x}/c", map[string]string{"x": "/"}},
		{"POST", "/", "ANY $default", nil},
		{"DELETE", "/a", "ANY /{proxy+}", map[string]string{"proxy": "a"}},
	}
	for _, tc := range tests {
		rt, params := g.find(tc.method, tc.path)
		if rt == nil {
			t.Errorf("%s %s: no route", tc.method, tc.path)
			continue
		}
		if rt.FunctionID != tc.want || fmt.Sprint(params) != fmt.Sprint(tc.params) {
			t.Errorf("%s %s: %s %v, want %s %v", tc.method, tc.path, rt.FunctionID, params, tc.want, tc.params)
		}
	}

	g.routes = []*route{testRoute(t, "GET", "/a/{x}")}
	for _, p := range []string{"/a", "/a/", "/a/b/c", "/b/c"} {
		if rt, _ := g.find("GET", p); rt != nil {
			t.Errorf("GET %s matched %s", p, rt.FunctionID)
		}
	}
	if _, err := parseRoutePath("/a/{proxy+}/b"); err == nil {
		t.Error("a greedy variable before the end was accepted")
	}
}

func TestQueryParameters(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string]string
	}{
		{"", nil},
		{"a=1", map[string]string{"a": "1"}},
		{"a=1&a=2&a=3", map[string]string{"a": "1,2,3"}},
		{"q=a+b&r=%26%3D", map[string]string{"q": "a b", "r": "&="}},
		{"flag&x=", map[string]string{"flag": "", "x": ""}},
		{"&&", nil},
		{"bad=%zz", map[string]string{"bad": "%zz"}},
	}
	for _, tc := range tests {
		if got := queryParameters(tc.raw); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("queryParameters(%q) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestIsTextContent(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"application/problem+json":          true,
		"Application/JSON; charset=utf-8":   true,
		"text/csv":                          true,
		"application/xml":                   true,
		"application/atom+xml":              true,
		"application/x-www-form-urlencoded": true,
		"application/octet-stream":          false,
		"multipart/form-data; boundary=x":   false,
		"image/jpeg":                        false,
		"":                                  false,
	} {
		if got := isTextContent(ct); got != want {
			t.Errorf("isTextContent(%q) = %v", ct, got)
		}
	}
}

func TestWriteFunctionResponse(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		status  int
		body    string
		ctype   string
		wantErr bool
	}{
		{"structured", `{"statusCode":204,"headers":{"x-a":"1"}}`, 204, "", "", false},
		{"structured body", `{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"hi"}`, 200, "hi", "text/plain", false},
		{"base64", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, 200, "hi", "", false},
		{"object without statusCode", `{"a":1}`, 200, `{"a":1}`, "application/json", false},
		{"array", `[1,2]`, 200, `[1,2]`, "application/json", false},
		{"null", `null`, 200, `null`, "application/json", false},
		{"number", `42`, 200, `42`, "application/json", false},
		{"not JSON", `hello`, 0, "", "", true},
		{"status out of range", `{"statusCode":42}`, 0, "", "", true},
		{"status as text", `{"statusCode":"200"}`, 0, "", "", true},
		{"bad base64", `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, 0, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := writeFunctionResponse(rec, []byte(tc.payload))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if rec.Code != tc.status || rec.Body.String() != tc.body || rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("got %d %q type %q, want %d %q type %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"), tc.status, tc.body, tc.ctype)
			}
		})
	}
}

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	sink := &logSink{out: &out}
	w := sink.writer("XFunction")
	for _, chunk := range []string{"one\ntw", "o\r\n", "\nthr", "ee"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	w.Close()
	want := "[XFunction] one\n[XFunction] two\n[XFunction] \n[XFunction] three\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	out.Reset()
	w = sink.writer("YFunction")
	long := strings.Repeat("x", maxLogLine+10)
	w.Write([]byte(long))
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) != len("[YFunction] ")+maxLogLine {
		t.Errorf("long line split into %d lines", len(lines))
	}
}

func TestSplitLogLine(t *testing.T) {
	tests := []struct {
		line, fn, text string
		ok             bool
	}{
		{`[EchoFunction] {"level":"INFO"}`, "EchoFunction", `{"level":"INFO"}`, true},
		{"[EchoFunction] ", "EchoFunction", "", true},
		{"[EchoFunction] a] b", "EchoFunction", "a] b", true},
		{"EchoFunction hello", "", "", false},
		{"[] x", "", "", false},
		{"[Two Words] x", "", "", false},
	}
	for _, tc := range tests {
		fn, text, ok := SplitLogLine(tc.line)
		if fn != tc.fn || text != tc.text || ok != tc.ok {
			t.Errorf("SplitLogLine(%q) = %q %q %v", tc.line, fn, text, ok)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	arn := "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/v1/x"
	for pattern, want := range map[string]bool{
		arn: true,
		"arn:aws:execute-api:us-east-1:123456789012:api/*": true,
		"arn:aws:execute-api:*:*:api/$default/GET/*":       true,
		"arn:aws:execute-api:*:*:api/$default/POST/*":      false,
		"*": true,
		"arn:aws:execute-api:us-east-1:123456789012:api/$default/G?T/v1/x": true,
		"arn:aws:execute-api:us-east-1:123456789012:api":                   false,
	} {
		if got := globMatch(pattern, arn); got != want {
			t.Errorf("globMatch(%q) = %v", pattern, got)
		}
	}
}

func TestIAMPolicyDecision(t *testing.T) {
	a := &authorizer{}
	arn := "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/v1/x"
	policy := func(stmts string) []byte {
		return []byte(`{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":[` + stmts + `]},"context":{"k":"v"}}`)
	}
	allow := `{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["arn:aws:execute-api:*:*:api/*"]}`
	deny := `{"Action":"execute-api:Invoke","Effect":"Deny","Resource":["` + arn + `"]}`
	other := `{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["arn:aws:execute-api:*:*:other/*"]}`
	tests := []struct {
		name    string
		payload []byte
		allowed bool
	}{
		{"allow", policy(allow), true},
		{"deny wins", policy(allow + "," + deny), false},
		{"other API", policy(other), false},
		{"empty", policy(""), false},
		{"lists and strings", policy(`{"Action":["execute-api:*"],"Effect":"Allow","Resource":"` + arn + `"}`), true},
	}
	for _, tc := range tests {
		d, err := a.decide(tc.payload, arn)
		if err != nil || d.allowed != tc.allowed {
			t.Errorf("%s: %+v, %v", tc.name, d, err)
		}
		if d.context["k"] != "v" {
			t.Errorf("%s: context %v", tc.name, d.context)
		}
	}
	a.simple = true
	if _, err := a.decide([]byte(`{"context":{}}`), arn); err == nil {
		t.Error("simple response without isAuthorized accepted")
	}
}
