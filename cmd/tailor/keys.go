package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"tailor/shared/platform/audit"
	auditdb "tailor/shared/platform/audit/dynamo"
	"tailor/shared/platform/auth"
	keysdb "tailor/shared/platform/auth/dynamo"
)

func init() {
	register("keys", "create, list and revoke API keys (create|list|revoke)", runKeys)
}

const keysUsage = `usage:
  tailor keys create --name NAME --scopes SCOPE[,SCOPE...] [--out FILE]
  tailor keys list
  tailor keys revoke KEY_ID

Each takes --table NAME (or TAILOR_KEYS_TABLE), the key table of a
deployed stack (output KeysTableName), or else --table-prefix (default
tailor-local-) for the local table <prefix>KeysTable. create and revoke
record an audit entry in --audit-table (or TAILOR_AUDIT_TABLE; output
AuditTableName), by default <prefix>AuditTable. DynamoDB is reached
through the usual AWS configuration; AWS_ENDPOINT_URL_DYNAMODB points it at
DynamoDB Local.

scopes: ` + "%s" + ` (admin implies all)
`

// runKeys manages API keys. A new key is printed once, on the last line of
// the output, and never stored: only its SHA-256 is.
func runKeys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(os.Stderr, keysUsage, auth.JoinScopes(auth.AllScopes))
		return errors.New("missing subcommand")
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	table := fs.String("table", os.Getenv("TAILOR_KEYS_TABLE"), "key table name of a deployed stack")
	prefix := fs.String("table-prefix", envOr("TAILOR_TABLE_PREFIX", "tailor-local-"), "local table name prefix, used when --table is not set")
	auditTable := fs.String("audit-table", os.Getenv("TAILOR_AUDIT_TABLE"), "audit table name of a deployed stack")
	var name, scopes, out *string
	if sub == "create" {
		name = fs.String("name", "", "who or what the key is for, e.g. storefront-eu")
		scopes = fs.String("scopes", "", "comma-separated scopes: "+auth.JoinScopes(auth.AllScopes))
		out = fs.String("out", "", "also write the key to this file (mode 0600)")
	}
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	if (sub == "create" || sub == "revoke") && *table != "" && *auditTable == "" {
		return errors.New("--audit-table (stack output AuditTableName) is required with --table: key changes are audited")
	}
	if *table == "" {
		*table = *prefix + "KeysTable"
	}
	if *auditTable == "" {
		*auditTable = *prefix + "AuditTable"
	}
	db, err := dynamoClient(ctx)
	if err != nil {
		return err
	}
	keys := &keyAdmin{Keys: &keysdb.Keys{DB: db, Table: *table}, audit: &auditdb.Audit{DB: db, Table: *auditTable}}

	switch sub {
	case "create":
		if len(positional) > 0 {
			return fmt.Errorf("unexpected arguments: %s", strings.Join(positional, " "))
		}
		return createKey(ctx, os.Stdout, keys, *name, *scopes, *out)
	case "list":
		if len(positional) > 0 {
			return fmt.Errorf("unexpected arguments: %s", strings.Join(positional, " "))
		}
		return listKeys(ctx, os.Stdout, keys)
	case "revoke":
		if len(positional) != 1 {
			return errors.New("revoke takes exactly one key id")
		}
		return revokeKey(ctx, os.Stdout, keys, positional[0])
	}
	fmt.Fprintf(os.Stderr, keysUsage, auth.JoinScopes(auth.AllScopes))
	return fmt.Errorf("unknown subcommand %q", sub)
}

// parseInterspersed parses flags that may come before or after positional
// arguments (tailor keys revoke ID --table T).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// keyAdmin changes keys and records each change in the audit trail, as
// the operator (no API key is involved).
type keyAdmin struct {
	*keysdb.Keys
	audit *auditdb.Audit
}

func (k *keyAdmin) record(ctx context.Context, action audit.Action, keyID string) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	err := k.audit.Record(ctx, audit.Entry{At: time.Now().UTC(), KeyID: audit.Operator, Action: action,
		Target: audit.KeyTarget(keyID), RequestID: "cli-" + hex.EncodeToString(b)})
	if err != nil {
		return fmt.Errorf("record the key change in the audit trail (table %s): %w", k.audit.Table, err)
	}
	return nil
}

func createKey(ctx context.Context, w io.Writer, keys *keyAdmin, name, scopeList, out string) error {
	scopes, err := auth.ParseScopes(scopeList)
	if err != nil {
		return fmt.Errorf("--scopes: %w", err)
	}
	rec, key, err := auth.NewKey(rand.Reader, name, scopes, time.Now())
	if err != nil {
		return err
	}
	// Audited first: a key must never exist without its trail entry.
	if err := keys.record(ctx, audit.KeyCreate, rec.ID); err != nil {
		return err
	}
	if err := keys.Create(ctx, rec); err != nil {
		return fmt.Errorf("%w (table %s)", err, keys.Table)
	}
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(out, []byte(key+"\n"), 0o600); err != nil {
			return fmt.Errorf("write the key to %s: %w", out, err)
		}
	}
	fmt.Fprintf(w, "created key %s (%s) with scopes %s in %s\n", rec.ID, rec.Name, auth.JoinScopes(rec.Scopes), keys.Table)
	fmt.Fprintln(w, "the key is shown only this once; only its SHA-256 is stored:")
	fmt.Fprintln(w, key)
	return nil
}

func listKeys(ctx context.Context, w io.Writer, keys *keyAdmin) error {
	recs, err := keys.List(ctx)
	if err != nil {
		return fmt.Errorf("%w (table %s)", err, keys.Table)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tREVOKED")
	for _, r := range recs {
		revoked := "-"
		if r.Revoked() {
			revoked = r.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, strings.ReplaceAll(auth.JoinScopes(r.Scopes), " ", ","),
			r.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}

func revokeKey(ctx context.Context, w io.Writer, keys *keyAdmin, id string) error {
	if !auth.ValidKeyID(id) {
		return fmt.Errorf("%q is not a key id (16 characters a-z, 2-7; see tailor keys list)", id)
	}
	if err := keys.record(ctx, audit.KeyRevoke, id); err != nil {
		return err
	}
	r, err := keys.Revoke(ctx, id, time.Now())
	if err != nil {
		return fmt.Errorf("%w (table %s)", err, keys.Table)
	}
	fmt.Fprintf(w, "revoked key %s (%s) at %s; API Gateway may accept it for up to 300 s more from its authorizer cache\n",
		r.ID, r.Name, r.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}
