package customers

import (
	"errors"
	"slices"
	"testing"
	"time"

	"tailor/shared/platform/errs"
)

var (
	t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func ptr[T any](v T) *T { return &v }

func fields(err error) []string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestReplaceValidatesEveryField(t *testing.T) {
	cases := []struct {
		name string
		r    Replacement
		bad  []string
	}{
		{"empty is fine", Replacement{}, nil},
		{"full", Replacement{Profile: Profile{Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+447700900123",
			BirthYear: 1990, Gender: "female", City: "London", Country: "GB", SignupChannel: "web"},
			Consent: map[string]bool{"email": true}, Tags: []string{"vip"}}, nil},
		{"bad email", Replacement{Profile: Profile{Email: "ada at example"}}, []string{"profile.email"}},
		{"email without dot in domain", Replacement{Profile: Profile{Email: "ada@localhost"}}, []string{"profile.email"}},
		{"email with display name", Replacement{Profile: Profile{Email: "Ada <ada@example.com>"}}, []string{"profile.email"}},
		{"bad phone", Replacement{Profile: Profile{Phone: "07700 900123"}}, []string{"profile.phone"}},
		{"future birth year", Replacement{Profile: Profile{BirthYear: 2027}}, []string{"profile.birth_year"}},
		{"gender", Replacement{Profile: Profile{Gender: "F"}}, []string{"profile.gender"}},
		{"country", Replacement{Profile: Profile{Country: "UK "}}, []string{"profile.country"}},
		{"lower country", Replacement{Profile: Profile{Country: "gb"}}, []string{"profile.country"}},
		{"channel", Replacement{Profile: Profile{SignupChannel: "fax"}}, []string{"profile.signup_channel"}},
		{"control chars", Replacement{Profile: Profile{Name: "a\x00b"}}, []string{"profile.name"}},
		{"consent purpose", Replacement{Consent: map[string]bool{"post": true}}, []string{"consent.post"}},
		{"tag charset", Replacement{Tags: []string{"VIP"}}, []string{"tags"}},
		{"several at once", Replacement{Profile: Profile{Email: "x", Phone: "1"}}, []string{"profile.email", "profile.phone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Replace("c-1", nil, c.r, t0)
			if got := fields(err); !slices.Equal(got, c.bad) {
				t.Fatalf("invalid fields %v, want %v (err %v)", got, c.bad, err)
			}
		})
	}
}

func TestReplaceStampsConsentOnlyOnChange(t *testing.T) {
	first, err := Replace("c-1", nil, Replacement{Consent: map[string]bool{"email": true, "sms": false}, Tags: []string{"b", "a", "b"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 || !first.CreatedAt.Equal(t0) || !slices.Equal(first.Tags, []string{"a", "b"}) {
		t.Fatalf("first %+v", first)
	}
	second, err := Replace("c-1", first, Replacement{Consent: map[string]bool{"email": true, "sms": true}}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if second.Version != 2 || !second.CreatedAt.Equal(t0) || !second.UpdatedAt.Equal(t1) {
		t.Fatalf("second %+v", second)
	}
	if !second.Consent["email"].UpdatedAt.Equal(t0) {
		t.Error("unchanged email consent must keep its time")
	}
	if s := second.Consent["sms"]; !s.Granted || !s.UpdatedAt.Equal(t1) {
		t.Errorf("sms consent %+v", s)
	}
	if len(second.Tags) != 0 || second.Tags == nil {
		t.Errorf("PUT replaces tags: %v", second.Tags)
	}
	if first.Version != 1 || first.Consent["sms"].Granted {
		t.Error("Replace changed its input")
	}
}

func TestApplyPatch(t *testing.T) {
	cur := &Customer{ID: "c-1", Version: 4, CreatedAt: t0, Tags: []string{"a", "b"},
		Profile: Profile{Name: "Ada", City: "London"}, Consent: map[string]ConsentState{"email": {true, t0}}}
	next, err := Apply(cur, Patch{
		Profile: &ProfilePatch{City: ptr(""), Country: ptr("GB")},
		Consent: map[string]bool{"email": false},
		Tags:    &TagsPatch{Add: []string{"c", "a"}, Remove: []string{"b"}},
	}, t1)
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: "Ada", Country: "GB"}
	if next.Profile != want || next.Version != 5 || !slices.Equal(next.Tags, []string{"a", "c"}) {
		t.Fatalf("next %+v", next)
	}
	if c := next.Consent["email"]; c.Granted || !c.UpdatedAt.Equal(t1) {
		t.Fatalf("consent %+v", c)
	}
	if cur.Profile.City != "London" || len(cur.Tags) != 2 || !cur.Consent["email"].Granted {
		t.Fatal("Apply changed its input")
	}
	if _, err := Apply(cur, Patch{}, t1); fields(err) == nil {
		t.Fatal("empty patch accepted")
	}
	if _, err := Apply(cur, Patch{Profile: &ProfilePatch{Email: ptr("nope")}}, t1); !slices.Equal(fields(err), []string{"profile.email"}) {
		t.Fatalf("bad patch: %v", err)
	}
	many := make([]string, MaxTags)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if _, err := Apply(cur, Patch{Tags: &TagsPatch{Add: many}}, t1); !slices.Equal(fields(err), []string{"tags"}) {
		t.Fatalf("tag limit: %v", err)
	}
}

func TestValidateID(t *testing.T) {
	if ValidateID("c-1") != nil || ValidateID("bad id") == nil {
		t.Fatal("ValidateID")
	}
}
