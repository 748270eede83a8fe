// Package errs defines the kinds of failure Tailor distinguishes and an error
// type that carries one. Domain and storage code return these; only the
// transport (package apigw) turns a kind into an HTTP status, so the mapping
// lives in one place.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, from the caller's point of view.
const (
	Other        Kind = iota // unexpected; a bug or an outage
	Invalid                  // the request is malformed or fails validation
	NotFound                 // the named thing does not exist
	Conflict                 // the request conflicts with the current state
	Precondition             // a conditional request (If-Match) did not hold
	TooLarge                 // the request exceeds a documented size limit
	Unsupported              // the media type is not accepted
	Unauthorized             // no valid credentials
	Forbidden                // valid credentials without permission
	Transient                // a temporary failure; retrying may succeed
)

var kindNames = [...]string{"other", "invalid", "not found", "conflict", "precondition failed",
	"too large", "unsupported media type", "unauthorized", "forbidden", "transient"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// FieldError names one invalid field of a request and says what is wrong.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a failure with a kind. Op says what was being done; Detail is a
// message safe to show to the caller; Fields lists field-level problems.
type Error struct {
	Op     string
	Kind   Kind
	Detail string
	Fields []FieldError
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error of kind k with a caller-safe detail message.
func E(k Kind, detail string) *Error { return &Error{Kind: k, Detail: detail} }

// Wrap returns err with op prepended, keeping its kind.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// KindOf returns the kind of the first *Error in err's chain, or Other.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Other
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Validator collects field errors so that a request is checked completely
// and the caller learns every problem at once.
type Validator struct {
	fields []FieldError
}

// Add records a problem with field.
func (v *Validator) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records a problem with field when ok is false.
func (v *Validator) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Len reports how many problems were recorded.
func (v *Validator) Len() int { return len(v.fields) }

// Err returns an Invalid error listing every recorded problem, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Detail: "the request has invalid fields", Fields: v.fields}
}
