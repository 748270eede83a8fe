package dataset

import (
	"strings"
	"testing"
	"time"
)

func TestReadInteractions(t *testing.T) {
	in := "user,item,timestamp,weight\n" +
		"u1,i1,2011-01-02T03:04:05Z,2.5\n" +
		"u1,i2,2011-01-02 03:04:05\n" +
		"u2,i1,2011-01-02,\n" +
		"u2,i3,1293937445\n"
	var got []Interaction
	if err := ReadInteractions(strings.NewReader(in), func(it Interaction) error {
		got = append(got, it)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2011, 1, 2, 3, 4, 5, 0, time.UTC)
	want := []Interaction{
		{Line: 2, User: "u1", Item: "i1", Time: ts, Weight: 2.5},
		{Line: 3, User: "u1", Item: "i2", Time: ts, Weight: 1},
		{Line: 4, User: "u2", Item: "i1", Time: time.Date(2011, 1, 2, 0, 0, 0, 0, time.UTC), Weight: 1},
		{Line: 5, User: "u2", Item: "i3", Time: time.Unix(1293937445, 0).UTC(), Weight: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadInteractionsErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"bad timestamp after the first line", "u,i,2011-01-01\nu,i,yesterday\n"},
		{"too few columns", "u,i\n"},
		{"bad weight", "u,i,2011-01-01,heavy\n"},
		{"empty user", ",i,2011-01-01\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ReadInteractions(strings.NewReader(tt.in), func(Interaction) error { return nil })
			if err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
