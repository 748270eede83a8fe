package config

import (
	"testing"
	"time"
)

func TestEnvReportsEveryProblem(t *testing.T) {
	e := FromMap(map[string]string{"A": "x", "N": "seven", "D": "2h", "EMPTY": ""})
	if e.Required("A") != "x" || e.Duration("D", 0) != 2*time.Hour || e.Int("UNSET", 5) != 5 {
		t.Fatal("values")
	}
	if e.Err() != nil {
		t.Fatalf("early error %v", e.Err())
	}
	e.Required("B")
	e.Required("EMPTY")
	e.Int("N", 0)
	want := `configuration: B is not set; EMPTY is not set; N must be an integer, got "seven"`
	if err := e.Err(); err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
}
