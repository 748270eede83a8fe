package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"tailor/shared/local/lambdahost"
	"tailor/shared/platform/kmskey"
)

func init() {
	register("serve", "serve the API locally through the real function binaries (no Docker)", runServe)
}

// paramFlags collects repeated --param Key=Value flags.
type paramFlags map[string]string

func (p paramFlags) String() string {
	parts := make([]string, 0, len(p))
	for k, v := range p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Key=Value, got %q", s)
	}
	p[k] = v
	return nil
}

func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	tpl := fs.String("template", "template.yaml", "SAM template with the functions and routes")
	bin := fs.String("bin", ".build/local", "directory of built functions, as <name>/bootstrap")
	addr := fs.String("addr", envOr("TAILOR_ADDR", "127.0.0.1:3000"), "address to listen on")
	prefix := fs.String("table-prefix", envOr("TAILOR_TABLE_PREFIX", "tailor-local-"), "table name prefix; a table is named <prefix><LogicalId>")
	maxConc := fs.Int("max-concurrency", lambdahost.DefaultMaxConcurrency, "runtime processes per function at most")
	piiKeyFile := fs.String("pii-key-file", envOr("TAILOR_PII_KEY_FILE", ".local/pii.key"),
		"local key file for personal data, created when missing; given to every function as PII_KEY_FILE in place of KMS")
	params := paramFlags{}
	fs.Var(params, "param", "template parameter override Key=Value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	keyFile, err := kmskey.EnsureFile(*piiKeyFile)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv, err := lambdahost.New(lambdahost.Config{
		Env:            map[string]string{"PII_KEY_FILE": keyFile},
		Template:       *tpl,
		BinDir:         *bin,
		TablePrefix:    *prefix,
		Params:         params,
		Logs:           os.Stderr,
		Logger:         logger,
		MaxConcurrency: *maxConc,
		Addr:           *addr,
		Prewarm:        true,
	})
	if err != nil {
		return err
	}
	// Close kills every runtime process whichever way we leave.
	defer srv.Close()
	if err := srv.Start(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return fmt.Errorf("start: %w", err)
	}

	routes, err := srv.Template().Routes()
	if err != nil {
		return err
	}
	fmt.Printf("Tailor local API on %s\n", srv.URL())
	for _, r := range routes {
		auth := ""
		if r.Authorizer != "" {
			auth = "  (authorizer " + r.Authorizer + ")"
		}
		fmt.Printf("  %-40s -> %s%s\n", r.Key(), r.FunctionID, auth)
	}
	fmt.Printf("  %-40s -> direct invoke\n", "POST /2015-03-31/functions/{LogicalId}/invocations")

	<-ctx.Done()
	logger.Info("stopping local API")
	return srv.Close()
}
