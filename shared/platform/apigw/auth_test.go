package apigw

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"tailor/shared/platform/auth"
	"tailor/shared/platform/errs"
)

// TestRouterEnforcesScopes checks the router's decision before any
// handler: 401 without a valid key, 403 without the route's scope or for a
// route with no declared scope, and the handler sees the principal.
func TestRouterEnforcesScopes(t *testing.T) {
	var logs bytes.Buffer
	rt := NewRouter(slog.New(slog.NewJSONHandler(&logs, nil)))
	ran := map[string]auth.Principal{}
	ok := func(ctx context.Context, r *Request) (*Response, error) {
		ran[r.Event.RouteKey] = r.Principal
		return JSON(200, map[string]string{"ok": "yes"}), nil
	}
	rt.Handle("GET /v1/customers/{id}", ok)
	rt.Handle("DELETE /v1/customers/{id}", ok)
	rt.Handle("GET /v1/undeclared", ok)

	reader := auth.Principal{KeyID: "aaaaaaaaaaaaaaaa", Scopes: []auth.Scope{auth.CustomersRead}, Valid: true}
	admin := auth.Principal{KeyID: "bbbbbbbbbbbbbbbb", Scopes: []auth.Scope{auth.Admin}, Valid: true}
	revoked := auth.Principal{KeyID: "cccccccccccccccc", Reason: auth.Revoked}
	ev := func(route string, p *auth.Principal) events.APIGatewayV2HTTPRequest {
		e := events.APIGatewayV2HTTPRequest{RouteKey: route}
		e.RequestContext.RequestID = "req-1"
		if p != nil {
			e = WithPrincipal(e, *p)
		}
		return e
	}
	for _, tc := range []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		ran    bool
	}{
		{"scope held", ev("GET /v1/customers/{id}", &reader), 200, true},
		{"admin implies all", ev("DELETE /v1/customers/{id}", &admin), 200, true},
		{"scope missing", ev("DELETE /v1/customers/{id}", &reader), 403, false},
		{"no authorizer context", ev("GET /v1/customers/{id}", nil), 401, false},
		{"refused key", ev("GET /v1/customers/{id}", &revoked), 401, false},
		{"undeclared route, admin", ev("GET /v1/undeclared", &admin), 403, false},
		{"undeclared route, no key", ev("GET /v1/undeclared", nil), 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clear(ran)
			out, err := rt.Serve(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", out.StatusCode, tc.status, out.Body)
			}
			if _, did := ran[tc.ev.RouteKey]; did != tc.ran {
				t.Fatalf("handler ran: %v, want %v", did, tc.ran)
			}
			if tc.status == 200 {
				if p := ran[tc.ev.RouteKey]; p.KeyID != PrincipalOf(tc.ev).KeyID || !p.Valid {
					t.Fatalf("handler saw principal %+v", p)
				}
				return
			}
			var p Problem
			if err := json.Unmarshal([]byte(out.Body), &p); err != nil || out.Headers["Content-Type"] != "application/problem+json" {
				t.Fatalf("not problem JSON: %v %q", out.Headers, out.Body)
			}
			if p.Status != tc.status || p.Instance != "req-1" || p.Type != map[int]string{401: "/problems/unauthorized", 403: "/problems/forbidden"}[tc.status] {
				t.Fatalf("problem %+v", p)
			}
			if got := out.Headers["WWW-Authenticate"]; (tc.status == 401) != (got != "") {
				t.Fatalf("WWW-Authenticate %q on %d", got, tc.status)
			}
		})
	}
	if !strings.Contains(logs.String(), `"route has no declared scope; add it to package auth"`) {
		t.Error("an undeclared route was not logged as an error")
	}
	if !strings.Contains(logs.String(), `"reason":"revoked"`) || !strings.Contains(logs.String(), `"keyId":"cccccccccccccccc"`) {
		t.Error("a refused key's id and reason are not in the log")
	}
}

type memKeys map[string]auth.Record

func (m memKeys) Get(_ context.Context, id string) (auth.Record, error) {
	if r, ok := m[id]; ok {
		return r, nil
	}
	return auth.Record{}, errs.E(errs.NotFound, "no key")
}

type brokenKeys struct{}

func (brokenKeys) Get(context.Context, string) (auth.Record, error) {
	return auth.Record{}, errors.New("dial tcp: i/o timeout")
}

func TestAuthorizerPassesAVerdict(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec, key, err := auth.NewKey(rand.Reader, "storefront", []auth.Scope{auth.EventsWrite, auth.RecommendationsRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &Authorizer{Keys: memKeys{rec.ID: rec}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	req := func(h string) AuthorizerRequest {
		return AuthorizerRequest{Version: "2.0", Type: "REQUEST", RouteKey: "POST /v1/events",
			IdentitySource: []string{h}, Headers: map[string]string{"authorization": h}}
	}
	res, err := a.Handle(context.Background(), req("Bearer "+key))
	if err != nil || !res.IsAuthorized {
		t.Fatalf("good key: %+v %v", res, err)
	}
	p := PrincipalOf(withAuthorizerContext(res.Context))
	if !p.Valid || p.KeyID != rec.ID || !p.Has(auth.EventsWrite) || p.Has(auth.CustomersRead) {
		t.Fatalf("good key principal %+v", p)
	}
	for _, h := range []string{"Bearer nonsense", "Bearer " + key[:len(key)-1] + "2", key} {
		res, err := a.Handle(context.Background(), req(h))
		if err != nil || !res.IsAuthorized {
			t.Fatalf("%q: %+v %v (bad keys pass with a verdict, so the function can answer 401 problem JSON)", h, res, err)
		}
		if p := PrincipalOf(withAuthorizerContext(res.Context)); p.Valid || len(p.Scopes) > 0 {
			t.Fatalf("%q: principal %+v", h, p)
		}
	}
	// Only the identity source is present (no headers map): still read.
	r := req("Bearer " + key)
	r.Headers = nil
	if res, _ := a.Handle(context.Background(), r); PrincipalOf(withAuthorizerContext(res.Context)).KeyID != rec.ID {
		t.Fatalf("identity source not read: %+v", res)
	}
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), key[21:]) {
		t.Fatal("the key's secret reached the log")
	}
	b := &Authorizer{Keys: brokenKeys{}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	if _, err := b.Handle(context.Background(), req("Bearer "+key)); err == nil {
		t.Fatal("a failed lookup must fail the authorizer (API Gateway answers 500 and caches nothing)")
	}
}

// withAuthorizerContext makes an event carrying an authorizer context as API Gateway
// would pass it on.
func withAuthorizerContext(m map[string]any) Event {
	var ev Event
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: m}
	return ev
}
