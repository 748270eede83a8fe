package jsonerr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	Email string `json:"email"`
}

type promoted struct {
	Promoted string
	Shadowed string `json:"name"`
}

type probe struct {
	Name    string           `json:"name"`
	N       int              `json:"n"`
	Profile inner            `json:"profile"`
	Ptr     *inner           `json:"ptr"`
	List    []inner          `json:"list"`
	ByKey   map[string]inner `json:"byKey"`
	Raw     json.RawMessage  `json:"raw"`
	Any     any              `json:"any"`
	When    time.Time        `json:"when"`
	Skip    string           `json:"-"`
	hidden  string
	promoted
	Plain string
}

// twice embeds two structs that both bring a field named X at the same
// depth: encoding/json keeps neither.
type twice struct {
	A
	B
}

// A is embedded by twice.
type A struct{ X int }

// B is embedded by twice.
type B struct{ X int }

func TestUnknownFieldAgreesWithEncodingJSON(t *testing.T) {
	cases := []struct {
		into any
		doc  string
		want string // "" for none
	}{
		{&probe{}, `{"name":"a","n":1}`, ""},
		{&probe{}, `{"nmae":"a"}`, "nmae"},
		{&probe{}, `{"NAME":"a","Plain":"p","plain":"q"}`, ""},
		{&probe{}, `{"profile":{"emial":"x"}}`, "emial"},
		{&probe{}, `{"ptr":{"email":"x","zz":1}}`, "zz"},
		{&probe{}, `{"list":[{"email":"x"},{"bad":1}]}`, "bad"},
		{&probe{}, `{"byKey":{"anything":{"email":"x","oops":1}}}`, "oops"},
		{&probe{}, `{"raw":{"whatever":1},"any":{"x":{"y":1}},"when":"2026-01-01T00:00:00Z"}`, ""},
		{&probe{}, `{"Skip":"x"}`, "Skip"},
		{&probe{}, `{"hidden":"x"}`, "hidden"},
		{&probe{}, `{"Promoted":"x","Shadowed":"y"}`, "Shadowed"},
		{&probe{}, `{"name":"a","later":{"x":1},"first":2}`, "later"},
		{&twice{}, `{"X":1}`, "X"},
		{&map[string]probe{}, `{"k":{"profile":{"nope":true}}}`, "nope"},
		{&[]probe{}, `[{"name":"a"},{"n":2,"extra":[]}]`, "extra"},
	}
	for _, c := range cases {
		dec := json.NewDecoder(bytes.NewReader([]byte(c.doc)))
		dec.DisallowUnknownFields()
		var stdWant string
		if err := dec.Decode(c.into); err != nil {
			// Only this test reads encoding/json's text, to prove that
			// UnknownField finds the field encoding/json names.
			stdWant = err.Error()
		}
		got, ok := UnknownField([]byte(c.doc), reflect.TypeOf(c.into))
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("%T %s: UnknownField = %q, want %q", c.into, c.doc, got, c.want)
		}
		if c.want == "" && stdWant != "" {
			t.Errorf("%T %s: encoding/json failed: %s", c.into, c.doc, stdWant)
		}
		if c.want != "" && stdWant != fmt.Sprintf("json: unknown field %q", c.want) {
			t.Errorf("%T %s: encoding/json says %q", c.into, c.doc, stdWant)
		}
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		doc, want string
	}{
		{`{"name":`, "the body is not valid JSON (it ends too early)"},
		{`{"name" "a"}`, "the body is not valid JSON (at byte 9)"},
		{`{"nmae":"a"}`, `unknown field "nmae"`},
		{`{"profile":{"emial":"a"}}`, `unknown field "emial"`},
		{`{"n":"one"}`, `field "n" must be of type int`},
		{`[1]`, "the body must be a JSON jsonerr.probe"},
		{``, "the body is empty"},
	}
	for _, c := range cases {
		var p probe
		dec := json.NewDecoder(bytes.NewReader([]byte(c.doc)))
		dec.DisallowUnknownFields()
		err := dec.Decode(&p)
		if err == nil {
			t.Fatalf("%s decoded", c.doc)
		}
		if got := Describe(err, []byte(c.doc), &p, "the body"); got != c.want {
			t.Errorf("%s: Describe = %q, want %q", c.doc, got, c.want)
		}
	}
}

func TestDescribeNeverEchoesTheDocument(t *testing.T) {
	doc := `{"name":"secret@example.com" "n":1}`
	var p probe
	err := json.Unmarshal([]byte(doc), &p)
	if got := Describe(err, []byte(doc), &p, "the body"); bytes.Contains([]byte(got), []byte("secret")) {
		t.Errorf("Describe echoed the body: %q", got)
	}
}
