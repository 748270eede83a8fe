package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	customersdb "tailor/shared/customers/dynamo"
	"tailor/shared/local/apiclient"
)

func init() {
	register("bench", "measure API latency through a running tailor serve next to direct DynamoDB reads", runBench)
}

// runBench times GET requests through the API and, in the same run,
// interleaved with them and on the same record, direct GetItem calls to
// DynamoDB, so the figures can be compared on a noisy machine.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	url := fs.String("url", "http://"+envOr("TAILOR_ADDR", "127.0.0.1:3000"), "base URL of the API")
	var paths pathList
	fs.Var(&paths, "path", "GET this path instead of a customer created for the run; repeat to measure several paths in one run")
	n := fs.Int("n", 1000, "requests per measurement")
	prefix := fs.String("table-prefix", envOr("TAILOR_TABLE_PREFIX", "tailor-local-"), "local table name prefix")
	key := fs.String("key", localKey(), "API key to send (default TAILOR_API_KEY, else .local/admin.key as make run writes it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	api, err := apiclient.NewClient(*url, apiclient.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}), apiclient.WithKey(*key))
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		country, tags := "GB", []apiclient.Tag{"bench"}
		resp, err := api.PutCustomer(ctx, "bench-customer", nil,
			apiclient.CustomerReplacement{Profile: &apiclient.ProfileInput{Country: &country}, Tags: &tags})
		if err != nil {
			return fmt.Errorf("create the bench customer: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("create the bench customer: status %d", resp.StatusCode)
		}
		paths = pathList{"/v1/customers/bench-customer"}
	}
	db, err := dynamoClient(ctx)
	if err != nil {
		return err
	}
	customers := &customersdb.Customers{DB: db, Table: *prefix + "CustomersTable"}
	// The first path under /v1/customers/<id> names the customer whose
	// record is read directly, so GET .../recommendations sits next to its
	// own GetItem.
	who := "bench-customer"
	for _, target := range paths {
		if rest, ok := strings.CutPrefix(target, "/v1/customers/"); ok {
			who, _, _ = strings.Cut(rest, "/")
			who, _, _ = strings.Cut(who, "?")
			break
		}
	}
	calls := make([]func() error, 0, len(paths)+1)
	for _, target := range paths {
		calls = append(calls, func() error {
			resp, err := api.GetPath(ctx, target)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: status %d", target, resp.StatusCode)
			}
			return nil
		})
	}
	calls = append(calls, func() error {
		_, err := customers.Get(ctx, who)
		if err != nil {
			return fmt.Errorf("direct GetItem: %w", err)
		}
		return nil
	})
	all, err := measure(*n, calls...)
	if err != nil {
		return err
	}
	results, direct := all[:len(paths)], all[len(paths)]
	width := len("DynamoDB GetItem (consistent) direct")
	for _, p := range paths {
		width = max(width, len("GET "+p+" via API"))
	}
	fmt.Printf("%-*s %8s %8s %8s %8s %9s %9s\n", width, "what", "n", "p50", "p99", "mean", "p50/Get", "p99/Get")
	for i, p := range paths {
		r := results[i]
		fmt.Printf("%-*s %8d %8s %8s %8s %8.2fx %8.2fx\n", width, "GET "+p+" via API", *n, r.p50, r.p99, r.mean,
			float64(r.p50)/float64(direct.p50), float64(r.p99)/float64(direct.p99))
	}
	fmt.Printf("%-*s %8d %8s %8s %8s\n", width, "DynamoDB GetItem (consistent) direct", *n, direct.p50, direct.p99, direct.mean)
	return nil
}

// pathList is a repeatable --path flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

type latency struct{ p50, p99, mean time.Duration }

// measure runs each of fs n times, after 20 warm-up rounds, taking turns
// (f1, f2, ..., f1, f2, ...) so that every measurement sees the same
// machine: a noisy neighbour slows all of them, not just the one that
// happened to run then. It summarises each one's latencies.
func measure(n int, fs ...func() error) ([]latency, error) {
	for range 20 {
		for _, f := range fs {
			if err := f(); err != nil {
				return nil, err
			}
		}
	}
	ds := make([][]time.Duration, len(fs))
	totals := make([]time.Duration, len(fs))
	for i := range fs {
		ds[i] = make([]time.Duration, n)
	}
	for r := range n {
		for i, f := range fs {
			start := time.Now()
			if err := f(); err != nil {
				return nil, err
			}
			ds[i][r] = time.Since(start)
			totals[i] += ds[i][r]
		}
	}
	out := make([]latency, len(fs))
	for i := range fs {
		slices.Sort(ds[i])
		q := func(p float64) time.Duration {
			return ds[i][min(len(ds[i])-1, int(p*float64(len(ds[i]))))].Round(time.Microsecond)
		}
		out[i] = latency{p50: q(0.50), p99: q(0.99), mean: (totals[i] / time.Duration(n)).Round(time.Microsecond)}
	}
	return out, nil
}

// localKey is the API key tailor bench sends unless --key says otherwise.
func localKey() string {
	if k := os.Getenv("TAILOR_API_KEY"); k != "" {
		return k
	}
	b, _ := os.ReadFile(filepath.Join(".local", "admin.key"))
	return strings.TrimSpace(string(b))
}
