// Command tailor operates a Tailor installation locally: it serves the API
// through the real function binaries, creates tables, loads data, and runs
// the offline evaluation and segmentation tools.
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"tailor/shared/platform/ddb"
)

// command is one subcommand of tailor.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand lives in its own file and
// registers itself from init.
func register(name, summary string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("tailor: duplicate command " + name)
	}
	commands[name] = command{name: name, summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tailor <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	localCredentials()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "tailor %s: %v\n", cmd.name, err)
		os.Exit(1)
	}
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// dynamoClient is the DynamoDB client of the CLI. Unlike a function's
// (ddb.NewClient, which reads only the Lambda environment to keep bootstraps
// small), it uses the SDK's whole credential chain, so an operator's
// profile or SSO session works against a deployed stack;
// AWS_ENDPOINT_URL_DYNAMODB still points it at DynamoDB Local.
func dynamoClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 })
	}))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return ddb.NewClientFromConfig(cfg), nil
}

// localCredentials gives the AWS SDK dummy credentials and a region when
// DynamoDB is a local server and none are configured: DynamoDB Local
// accepts any, and without them the SDK would go looking for an instance
// role. A real AWS endpoint is left to the normal credential chain.
func localCredentials() {
	u, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "eu-west-1"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
}
