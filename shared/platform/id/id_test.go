package id

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	cases := map[string]bool{
		"c-123": true, "17850": true, "sku_42.b:v2": true, "A": true,
		strings.Repeat("x", MaxLen): true, strings.Repeat("x", MaxLen+1): false,
		"": false, "-lead": false, "has space": false, "a#b": false, "a/b": false,
		"é": false, "a@b.com": false, "x\n": false,
	}
	for s, want := range cases {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
