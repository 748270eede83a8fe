package lambdahost

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// dropIdle kills a function's idle runtimes and waits until they are
// reaped, so the next invocation is a cold start.
func dropIdle(p *pool) {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	for _, sb := range idle {
		sb.state = stateGone
		p.total--
	}
	p.mu.Unlock()
	for _, sb := range idle {
		sb.kill()
		<-sb.exited
	}
}

// BenchmarkColdStart measures process start to first answer: each
// iteration starts a fresh runtime and invokes it once.
func BenchmarkColdStart(b *testing.B) {
	ts := startServer(b, nil)
	p := ts.functions["EchoFunction"].pool
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		dropIdle(p)
		b.StartTimer()
		res, err := ts.Invoke(ctx, "EchoFunction", []byte(`{"mode":"raw"}`))
		if err != nil || res.Outcome != Success {
			b.Fatalf("invoke: %+v %v", res, err)
		}
	}
}

// BenchmarkWarmDirectInvoke measures one invocation of a warm runtime
// through the Runtime API, without HTTP in front.
func BenchmarkWarmDirectInvoke(b *testing.B) {
	ts := startServer(b, nil)
	ctx := context.Background()
	payload := []byte(`{"mode":"raw"}`)
	if _, err := ts.Invoke(ctx, "EchoFunction", payload); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := ts.Invoke(ctx, "EchoFunction", payload)
		if err != nil || res.Outcome != Success {
			b.Fatalf("invoke: %+v %v", res, err)
		}
	}
}

// BenchmarkWarmInvoke measures a whole API request on a warm runtime:
// HTTP in, routing, the format 2.0 event, the invocation and the response
// mapping.
func BenchmarkWarmInvoke(b *testing.B) {
	ts := startServer(b, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	get := func() {
		resp, err := client.Get(ts.url + "/items/abc?x=1")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get()
	for b.Loop() {
		get()
	}
}

// BenchmarkWarmInvokeParallel is BenchmarkWarmInvoke from many clients at
// once, up to the default of 8 runtimes.
func BenchmarkWarmInvokeParallel(b *testing.B) {
	ts := startServer(b, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(ts.url + "/items/abc?x=1")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
