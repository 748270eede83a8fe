package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOfThroughWrapping(t *testing.T) {
	base := E(NotFound, "customer c-1 does not exist")
	wrapped := fmt.Errorf("get customer c-1: %w", Wrap("store", base))
	if got := KindOf(wrapped); got != NotFound {
		t.Fatalf("KindOf = %v, want %v", got, NotFound)
	}
	if !Is(wrapped, NotFound) || Is(wrapped, Conflict) {
		t.Fatal("Is does not follow the chain")
	}
	if KindOf(errors.New("plain")) != Other {
		t.Fatal("a plain error must be Other")
	}
	if Is(nil, Other) {
		t.Fatal("nil is no error of any kind")
	}
}

func TestValidatorCollectsEveryField(t *testing.T) {
	var v Validator
	if v.Err() != nil {
		t.Fatal("empty validator must give nil")
	}
	v.Check(true, "ok", "never")
	v.Check(false, "email", "must contain @")
	v.Add("country", "must be an ISO 3166-1 alpha-2 code, got %q", "UK")
	err := v.Err()
	var e *Error
	if !errors.As(err, &e) || e.Kind != Invalid || len(e.Fields) != 2 {
		t.Fatalf("got %#v", err)
	}
	if e.Fields[1].Message != `must be an ISO 3166-1 alpha-2 code, got "UK"` {
		t.Fatalf("message %q", e.Fields[1].Message)
	}
}
