package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func TestNewKeyShapeAndHash(t *testing.T) {
	rec, key, err := NewKey(rand.Reader, "storefront", []Scope{EventsWrite, RecommendationsRead}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, KeyPrefix+rec.ID+"_") || len(key) != KeyLen || KeyLen != 73 {
		t.Fatalf("key %q (len %d) does not start with %s%s_ or has the wrong length", key, len(key), KeyPrefix, rec.ID)
	}
	id, ok := ParseKey(key)
	if !ok || id != rec.ID || !ValidKeyID(id) {
		t.Fatalf("ParseKey(%q) = %q, %v; want %q", key, id, ok, rec.ID)
	}
	if !bytes.Equal(rec.Hash, HashKey(key)) || len(rec.Hash) != 32 || !rec.matches(key) {
		t.Fatal("the record's hash is not SHA-256 of the key")
	}
	if bytes.Contains(rec.Hash, []byte(key)) || rec.Name != "storefront" || !rec.CreatedAt.Equal(now) || rec.Revoked() {
		t.Fatalf("record %+v", rec)
	}
	// The secret part alone, or the key with one character changed, does
	// not match.
	secret := key[len(KeyPrefix)+len(rec.ID)+1:]
	if rec.matches(secret) || rec.matches(key[:len(key)-1]+flip(key[len(key)-1])) {
		t.Fatal("a wrong key matched")
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestNewKeyIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		rec, key, err := NewKey(rand.Reader, "k", []Scope{Admin}, now)
		if err != nil {
			t.Fatal(err)
		}
		if seen[rec.ID] || seen[key] {
			t.Fatal("repeated key or id")
		}
		seen[rec.ID], seen[key] = true, true
	}
	// The same random bytes give the same key: nothing but the reader
	// decides it.
	src := bytes.Repeat([]byte{7}, 42)
	_, k1, _ := NewKey(bytes.NewReader(src), "k", []Scope{Admin}, now)
	_, k2, _ := NewKey(bytes.NewReader(src), "k", []Scope{Admin}, now)
	if k1 != k2 {
		t.Fatal("key does not come from the reader alone")
	}
	if _, _, err := NewKey(bytes.NewReader(src[:20]), "k", []Scope{Admin}, now); err == nil {
		t.Fatal("a short random source must fail, not make a weak key")
	}
}

func TestNewKeyValidates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []Scope
	}{
		{"", []Scope{Admin}},
		{strings.Repeat("x", 101), []Scope{Admin}},
		{"ok", nil},
		{"ok", []Scope{"root"}},
	} {
		if _, _, err := NewKey(rand.Reader, tc.name, tc.scopes, now); !errs.Is(err, errs.Invalid) {
			t.Errorf("NewKey(%q, %v): %v, want invalid", tc.name, tc.scopes, err)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	_, good, _ := NewKey(rand.Reader, "k", []Scope{Admin}, now)
	for _, bad := range []string{
		"",
		"tlr_",
		good[:len(good)-1],
		good + "a",
		"tlx_" + good[4:],
		strings.ToUpper(good),
		strings.Replace(good, "_", "-", 2),
		good[:10] + "!" + good[11:],
		good[:len(KeyPrefix)+16] + "a" + good[len(KeyPrefix)+17:], // separator replaced
		good[:30] + "1" + good[31:],                               // 1 is not base32
	} {
		if id, ok := ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) accepted, id %q", bad, id)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"abc", "", false},
		{"Bearer a b", "", false},
		{"", "", false},
	} {
		token, ok := BearerToken(tc.header)
		if ok != tc.ok || (ok && token != tc.token) {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, token, ok, tc.token, tc.ok)
		}
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes("pii:read, customers:read,customers:read admin")
	if err != nil || JoinScopes(got) != "admin customers:read pii:read" {
		t.Fatalf("ParseScopes = %v, %v", got, err)
	}
	for _, bad := range []string{"", " , ", "customers:read,root", "Admin"} {
		if _, err := ParseScopes(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseScopes(%q): %v, want invalid", bad, err)
		}
	}
}

func TestGrants(t *testing.T) {
	for _, s := range AllScopes {
		if !Grants([]Scope{Admin}, s) {
			t.Errorf("admin does not grant %s", s)
		}
		if !Grants([]Scope{s}, s) {
			t.Errorf("%s does not grant itself", s)
		}
	}
	if Grants([]Scope{CustomersWrite}, CustomersRead) || Grants([]Scope{CustomersRead}, PIIRead) || Grants(nil, EventsWrite) {
		t.Error("a scope granted another one")
	}
	if Grants([]Scope{Admin}, "") {
		t.Error("an empty requirement must not be met")
	}
}

type fakeKeys map[string]Record

func (f fakeKeys) Get(_ context.Context, id string) (Record, error) {
	if id == "brokenaaaaaaaaaa" {
		return Record{}, errors.New("connection reset")
	}
	r, ok := f[id]
	if !ok {
		return Record{}, errs.E(errs.NotFound, "no key")
	}
	return r, nil
}

func TestAuthenticate(t *testing.T) {
	good, goodKey, _ := NewKey(rand.Reader, "good", []Scope{CustomersRead}, now)
	gone, goneKey, _ := NewKey(rand.Reader, "gone", []Scope{Admin}, now)
	revokedAt := now.Add(time.Hour)
	gone.RevokedAt = &revokedAt
	_, unknownKey, _ := NewKey(rand.Reader, "unknown", []Scope{Admin}, now)
	keys := fakeKeys{good.ID: good, gone.ID: gone}
	wrongSecret := goodKey[:len(goodKey)-4] + "aaaa"
	if wrongSecret == goodKey {
		wrongSecret = goodKey[:len(goodKey)-4] + "bbbb"
	}
	for _, tc := range []struct {
		header string
		valid  bool
		reason Reason
		keyID  string
	}{
		{"Bearer " + goodKey, true, "", good.ID},
		{"Bearer " + goneKey, false, Revoked, gone.ID},
		{"Bearer " + unknownKey, false, Unknown, unknownKey[4:20]},
		{"Bearer " + wrongSecret, false, Mismatch, good.ID},
		{goodKey, false, Malformed, ""},
		{"Bearer nonsense", false, Malformed, ""},
		{"Basic " + goodKey, false, Malformed, ""},
	} {
		p, err := Authenticate(context.Background(), keys, tc.header)
		if err != nil {
			t.Fatal(err)
		}
		if p.Valid != tc.valid || p.Reason != tc.reason || p.KeyID != tc.keyID {
			t.Errorf("%.20s...: %+v, want valid %v reason %q key %q", tc.header, p, tc.valid, tc.reason, tc.keyID)
		}
		if !p.Valid && len(p.Scopes) > 0 {
			t.Errorf("an invalid principal holds scopes: %+v", p)
		}
	}
	// A store failure is an error, not a refusal that would be cached.
	if _, err := Authenticate(context.Background(), keys, "Bearer tlr_brokenaaaaaaaaaa_"+strings.Repeat("a", 52)); err == nil {
		t.Fatal("a failed lookup must be an error")
	}
}

func TestPrincipalContextRoundTrip(t *testing.T) {
	p := Principal{KeyID: "aaaaaaaaaaaaaaaa", Scopes: []Scope{CustomersRead, PIIRead}, Valid: true}
	got := PrincipalFromContext(p.Context())
	if !got.Valid || got.KeyID != p.KeyID || JoinScopes(got.Scopes) != "customers:read pii:read" {
		t.Fatalf("round trip: %+v", got)
	}
	for _, v := range p.Context() {
		if _, ok := v.(string); !ok {
			t.Fatalf("context value %v is not a string", v)
		}
	}
	bad := PrincipalFromContext(Principal{KeyID: "aaaaaaaaaaaaaaaa", Reason: Revoked}.Context())
	if bad.Valid || bad.Reason != Revoked || len(bad.Scopes) > 0 {
		t.Fatalf("refused key: %+v", bad)
	}
	// Whatever did not come from the authorizer is refused.
	for _, m := range []map[string]any{
		nil,
		{},
		{"keyId": "aaaaaaaaaaaaaaaa", "scopes": "admin"},
		{"keyId": "aaaaaaaaaaaaaaaa", "scopes": "admin", "valid": "yes"},
		{"keyId": "not a key id", "scopes": "admin", "valid": "true"},
		{"scopes": "admin", "valid": true},
	} {
		if p := PrincipalFromContext(m); p.Valid || p.Has(Admin) {
			t.Errorf("context %v gave a valid principal", m)
		}
	}
	if p := PrincipalFromContext(map[string]any{"keyId": "aaaaaaaaaaaaaaaa", "scopes": "admin root", "valid": true}); !p.Has(Admin) || len(p.Scopes) != 1 {
		t.Errorf("unknown scopes must be dropped: %+v", p)
	}
}

func TestCheck(t *testing.T) {
	reader := Principal{KeyID: "aaaaaaaaaaaaaaaa", Scopes: []Scope{CustomersRead}, Valid: true}
	admin := Principal{KeyID: "bbbbbbbbbbbbbbbb", Scopes: []Scope{Admin}, Valid: true}
	for _, tc := range []struct {
		p     Principal
		route string
		want  errs.Kind
	}{
		{reader, "GET /v1/customers/{id}", -1},
		{reader, "PUT /v1/customers/{id}", errs.Forbidden},
		{reader, "DELETE /v1/customers/{id}", errs.Forbidden},
		{admin, "DELETE /v1/customers/{id}", -1},
		{Principal{Reason: Unknown}, "GET /v1/customers/{id}", errs.Unauthorized},
		{Principal{}, "GET /v1/undeclared", errs.Unauthorized},
		{admin, "GET /v1/undeclared", errs.Forbidden},
		// Public routes need no key at all.
		{Principal{}, "GET /dashboard/{proxy+}", -1},
		{Principal{Reason: Unknown}, "GET /openapi.json", -1},
	} {
		err := Check(tc.p, tc.route)
		switch {
		case tc.want == -1 && err != nil:
			t.Errorf("%s by %v: %v, want allowed", tc.route, tc.p.Scopes, err)
		case tc.want != -1 && !errs.Is(err, tc.want):
			t.Errorf("%s by %v: %v, want %v", tc.route, tc.p.Scopes, err, tc.want)
		}
	}
	if err := Check(admin, "GET /v1/undeclared"); !errors.Is(err, ErrNoScopeDeclared) {
		t.Errorf("undeclared route: %v", err)
	}
}

func TestRouteTableNamesKnownScopes(t *testing.T) {
	for route, s := range RouteScopes() {
		if !s.Valid() {
			t.Errorf("route %s needs unknown scope %q", route, s)
		}
		if method, path, ok := strings.Cut(route, " "); !ok || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
			t.Errorf("route key %q is not METHOD /path", route)
		}
	}
}

// BenchmarkAuthenticate is the authorizer's own CPU work for one uncached
// request, the store lookup aside: parse the header, hash the key, compare.
func BenchmarkAuthenticate(b *testing.B) {
	rec, key, _ := NewKey(rand.Reader, "bench", []Scope{Admin}, now)
	keys := fakeKeys{rec.ID: rec}
	header := "Bearer " + key
	ctx := context.Background()
	for b.Loop() {
		if p, err := Authenticate(ctx, keys, header); err != nil || !p.Valid {
			b.Fatal(p, err)
		}
	}
}
