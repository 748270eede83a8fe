package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"tailor/shared/replay"
)

func init() {
	register("load", "replay the Online Retail data set through the API (items, then events)", runLoad)
}

// Data files: the full set next to the project, and the subset shipped in
// the repository for the demo (see testdata/demo/README.md for credit).
const (
	retailFile = "../shared/data/online_retail.csv.gz"
	demoFile   = "testdata/demo/online_retail_demo.csv.gz"
)

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	url := fs.String("url", envOr("TAILOR_URL", "http://127.0.0.1:3000"), "base URL of the API")
	file := fs.String("file", retailFile, "Online Retail CSV (gzip or plain)")
	demo := fs.Bool("demo", false, "load the small demo subset shipped in "+demoFile)
	key := fs.String("key", os.Getenv("TAILOR_API_KEY"), "API key with events:write and catalog:write (or TAILOR_API_KEY)")
	keyFile := fs.String("key-file", "", "read the API key from this file (make run writes .local/admin.key)")
	batch := fs.Int("batch", 500, "events per request (at most 500)")
	senders := fs.Int("senders", 4, "concurrent requests")
	wait := fs.Duration("wait", 0, "wait up to this long for the API to answer before loading")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *demo {
		*file = demoFile
	}
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		*key = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat(*file); err != nil {
		return fmt.Errorf("data file: %w (the full set lives in ../shared/data; --demo uses the subset in the repository)", err)
	}
	if *wait > 0 {
		if err := waitFor(ctx, *url, *wait); err != nil {
			return err
		}
	}
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = nil
	}
	l := &replay.Loader{Send: &replay.HTTP{Base: *url, Key: *key}, Batch: *batch, Senders: *senders, Progress: progress}
	fmt.Fprintf(os.Stderr, "loading %s into %s\n", *file, *url)
	rep, err := l.Retail(ctx, func() (io.ReadCloser, error) { return os.Open(*file) })
	fmt.Print(rep)
	return err
}

// waitFor polls base until any HTTP answer comes back.
func waitFor(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/popular", nil)
		if err != nil {
			return err
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API at %s did not answer within %s", base, limit)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), fmt.Errorf("waiting for %s", base))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
