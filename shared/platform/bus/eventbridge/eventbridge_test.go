package eventbridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"tailor/shared/platform/bus"
	"tailor/shared/platform/errs"
)

// flaky is an EventBridge that fails entries as told: fail returns the
// error code for an entry's detail each time it is sent, "" to accept it.
type flaky struct {
	mu       sync.Mutex
	calls    int
	sizes    []int
	accepted []string
	fail     func(detail string) string
	err      error // returned by every call when set
}

func (f *flaky) PutEvents(_ context.Context, in *sdk.PutEventsInput, _ ...func(*sdk.Options)) (*sdk.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.sizes = append(f.sizes, len(in.Entries))
	if f.err != nil {
		return nil, f.err
	}
	out := &sdk.PutEventsOutput{Entries: make([]types.PutEventsResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		if aws.ToString(e.EventBusName) != "tailor-dev-events" {
			return nil, fmt.Errorf("entry for bus %q", aws.ToString(e.EventBusName))
		}
		if code := f.fail(aws.ToString(e.Detail)); code != "" {
			out.Entries[i] = types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("no")}
			out.FailedEntryCount++
			continue
		}
		f.accepted = append(f.accepted, aws.ToString(e.Detail))
		out.Entries[i] = types.PutEventsResultEntry{EventId: aws.String(fmt.Sprint(len(f.accepted)))}
	}
	return out, nil
}

func events(n int) []bus.Event {
	out := make([]bus.Event, n)
	for i := range out {
		out[i] = bus.Event{ID: fmt.Sprintf("t.e:%d", i), Source: "tailor.test", DetailType: "t.e",
			Detail: struct{}{}, Time: time.Unix(1e9, 0)}
	}
	return out
}

func detail(i int) string { return fmt.Sprintf(`{"event_id":"t.e:%d"}`, i) }

func TestResendsOnlyRetryableFailures(t *testing.T) {
	// Entries 3 and 14 are throttled twice, entry 7 fails internally once.
	tries := map[string]int{}
	f := &flaky{fail: func(d string) string {
		tries[d]++
		switch {
		case (d == detail(3) || d == detail(14)) && tries[d] <= 2:
			return "ThrottlingException"
		case d == detail(7) && tries[d] == 1:
			return "InternalFailure"
		}
		return ""
	}}
	p := &Publisher{API: f, Bus: "tailor-dev-events", Backoff: time.Millisecond}
	if err := p.Publish(context.Background(), events(15)...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, d := range f.accepted {
		seen[d]++
	}
	for i := range 15 {
		if seen[detail(i)] != 1 {
			t.Errorf("entry %d accepted %d times", i, seen[detail(i)])
		}
	}
	// 10 then the two failures of the first batch twice, then 5 and its
	// one failure twice.
	if want := []int{10, 2, 1, 5, 1, 1}; fmt.Sprint(f.sizes) != fmt.Sprint(want) {
		t.Errorf("calls of %v entries, want %v", f.sizes, want)
	}
}

func TestGivesUpAfterAttempts(t *testing.T) {
	f := &flaky{fail: func(d string) string {
		if d == detail(1) {
			return "ThrottlingException"
		}
		return ""
	}}
	p := &Publisher{API: f, Bus: "tailor-dev-events", Attempts: 3, Backoff: time.Millisecond}
	err := p.Publish(context.Background(), events(2)...)
	if !errs.Is(err, errs.Transient) {
		t.Fatalf("got %v, want a transient error", err)
	}
	if f.calls != 3 || len(f.accepted) != 1 {
		t.Errorf("%d calls, %d accepted; want 3 calls and the one good entry", f.calls, len(f.accepted))
	}
}

func TestNonRetryableFailureStops(t *testing.T) {
	f := &flaky{fail: func(string) string { return "NotAuthorizedForSourceException" }}
	p := &Publisher{API: f, Bus: "tailor-dev-events", Backoff: time.Millisecond}
	err := p.Publish(context.Background(), events(12)...)
	if err == nil || errs.Is(err, errs.Transient) || f.calls != 1 {
		t.Errorf("got %v after %d calls, want one call and a non-transient error", err, f.calls)
	}
}

func TestCallErrorsHaveKinds(t *testing.T) {
	tests := []struct {
		err  error
		kind errs.Kind
	}{
		{&smithy.GenericAPIError{Code: "ValidationException"}, errs.Invalid},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, errs.Forbidden},
		{&smithy.GenericAPIError{Code: "InternalException"}, errs.Transient},
		{errors.New("connection refused"), errs.Transient},
	}
	for _, tc := range tests {
		p := &Publisher{API: &flaky{err: tc.err}, Bus: "tailor-dev-events"}
		err := p.Publish(context.Background(), events(1)...)
		if !errs.Is(err, tc.kind) || !errors.Is(err, tc.err) {
			t.Errorf("%v: got %v, want kind %s wrapping it", tc.err, err, tc.kind)
		}
	}
}

func TestBackoffStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flaky{fail: func(string) string { cancel(); return "ThrottlingException" }}
	p := &Publisher{API: f, Bus: "tailor-dev-events", Backoff: time.Hour}
	if err := p.Publish(ctx, events(1)...); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
