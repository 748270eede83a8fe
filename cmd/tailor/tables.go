package main

import (
	"context"
	"flag"
	"fmt"

	"tailor/shared/local/samtemplate"
	tables "tailor/shared/local/tables"
)

func init() {
	register("tables", "create the template's DynamoDB tables (for DynamoDB Local)", runTables)
}

func runTables(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tables", flag.ContinueOnError)
	tpl := fs.String("template", "template.yaml", "SAM template that declares the tables")
	prefix := fs.String("prefix", envOr("TAILOR_TABLE_PREFIX", "tailor-local-"), "table name prefix; a table is named <prefix><LogicalId>")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := samtemplate.Parse(*tpl)
	if err != nil {
		return err
	}
	db, err := dynamoClient(ctx)
	if err != nil {
		return err
	}
	if err := tables.CreateTables(ctx, db, t.Tables, *prefix); err != nil {
		return err
	}
	for _, tb := range t.Tables {
		fmt.Printf("table %s%s ready\n", *prefix, tb.LogicalID)
	}
	return nil
}
