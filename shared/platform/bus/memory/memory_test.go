package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"tailor/shared/platform/bus"
	"tailor/shared/platform/bus/contract"
	"tailor/shared/platform/bus/memory"
)

func TestContract(t *testing.T) {
	contract.Run(t, func(*testing.T) contract.Bus {
		b := &memory.Bus{}
		return contract.Bus{Publisher: b, Published: func(*testing.T) []bus.Entry { return b.Entries() }}
	})
}

func TestFailNext(t *testing.T) {
	ctx := context.Background()
	ev := bus.Event{ID: "a.b:1", Source: "tailor.test", DetailType: "a.b", Detail: struct{}{}, Time: time.Unix(0, 0)}
	lost := errors.New("answer lost")
	var b memory.Bus
	b.FailNext(lost, false)
	b.FailNext(lost, true)
	if err := b.Publish(ctx, ev); !errors.Is(err, lost) {
		t.Fatalf("first call: %v", err)
	}
	if n := len(b.Entries()); n != 0 {
		t.Fatalf("a failure without delivery kept %d entries", n)
	}
	if err := b.Publish(ctx, ev); !errors.Is(err, lost) {
		t.Fatalf("second call: %v", err)
	}
	if err := b.Publish(ctx, ev); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if got := b.OfType("a.b"); len(got) != 2 {
		t.Fatalf("kept %d entries, want 2: the delivered failure's and the success's", len(got))
	}
}
