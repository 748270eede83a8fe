package replay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"tailor/shared/local/replay"
)

// TestHTTPSendsThroughTheOperations: each path a load posts to reaches the
// API as the document's operation (method, path, media type, key), the
// answer comes back as it was, and a path no operation takes is refused
// before anything is sent.
func TestHTTPSendsThroughTheOperations(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, strings.Join([]string{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"),
			r.Header.Get("Authorization"), string(b)}, " "))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	h := &replay.HTTP{Base: srv.URL + "/", Key: "tlr_k"}
	ctx := context.Background()
	cases := []struct{ path, body, want string }{
		{"/v1/events", `{"events":[]}`, `POST /v1/events application/json Bearer tlr_k {"events":[]}`},
		{"/v1/items:batch", `{"items":[]}`, `POST /v1/items:batch application/json Bearer tlr_k {"items":[]}`},
		{"/v1/campaigns", `{}`, `POST /v1/campaigns application/json Bearer tlr_k {}`},
		{"/v1/campaigns/cmp-1/launch", `{"as_of":"2011-10-01"}`, `POST /v1/campaigns/cmp-1/launch application/json Bearer tlr_k {"as_of":"2011-10-01"}`},
		{"/v1/campaigns/cmp-1/report", ``, `POST /v1/campaigns/cmp-1/report  Bearer tlr_k `},
	}
	for _, c := range cases {
		got = nil
		status, body, err := h.Post(ctx, c.path, []byte(c.body))
		if err != nil || status != http.StatusTeapot || string(body) != `{"ok":true}` {
			t.Errorf("POST %s: %d %s %v", c.path, status, body, err)
		}
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("POST %s sent %q, want %q", c.path, got, c.want)
		}
	}
	got = nil
	for _, path := range []string{"/v1/customers/c-1", "/v1/campaigns/cmp-1/stop", "/v1/campaigns/cmp-1/report"} {
		body := ""
		if strings.HasSuffix(path, "/report") {
			body = "{}"
		}
		if _, _, err := h.Post(ctx, path, []byte(body)); err == nil {
			t.Errorf("POST %s %q: no error", path, body)
		}
	}
	if len(got) != 0 {
		t.Errorf("refused posts reached the server: %q", got)
	}
}
