// Package config reads a function's settings from environment variables
// once, at cold start, and reports everything missing in one error.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables and remembers which required ones were missing or
// malformed.
type Env struct {
	lookup   func(string) (string, bool)
	problems []string
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads m, for tests.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// Required returns the variable's value and records it as missing when it
// is unset or empty.
func (e *Env) Required(name string) string {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		e.problems = append(e.problems, name+" is not set")
	}
	return v
}

// Optional returns the variable's value, "" when unset.
func (e *Env) Optional(name string) string {
	v, _ := e.lookup(name)
	return v
}

// Int returns the variable as an integer, def when unset.
func (e *Env) Int(name string, def int) int {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s must be an integer, got %q", name, v))
	}
	return n
}

// Duration returns the variable as a Go duration ("400h"), def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v, ok := e.lookup(name)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.problems = append(e.problems, fmt.Sprintf("%s must be a duration such as 24h, got %q", name, v))
	}
	return d
}

// Err lists every problem found so far, or returns nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.problems, "; "))
}
