//go:build dynamodb

package dynamo_test

import (
	"bytes"
	"context"
	"testing"

	"tailor/shared/platform/ddb/ddbtest"
	"tailor/shared/platform/errs"
	segmentsdb "tailor/shared/segments/dynamo"
)

// TestSegmentRunBlobs: a blob larger than one item is stored in chunks and
// deleted by prefix with all of them.
func TestSegmentRunBlobs(t *testing.T) {
	env := ddbtest.New(t)
	runs := &segmentsdb.SegmentRuns{DB: env.DB, Table: env.Table("ModelsTable")}
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789"), 50_000) // several chunks
	for name, data := range map[string][]byte{"summary/0000": big, "summary/0001": []byte("b"), "state": []byte("s")} {
		if err := runs.PutBlob(ctx, "2011-12-10", name, data); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := runs.GetBlob(ctx, "2011-12-10", "summary/0000"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("chunked blob: %d bytes, %v", len(got), err)
	}
	if err := runs.DeleteBlobs(ctx, "2011-12-10", "summary/"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"summary/0000", "summary/0001"} {
		if _, err := runs.GetBlob(ctx, "2011-12-10", name); !errs.Is(err, errs.NotFound) {
			t.Fatalf("%s after delete: %v", name, err)
		}
	}
	if got, err := runs.GetBlob(ctx, "2011-12-10", "state"); err != nil || string(got) != "s" {
		t.Fatalf("state must survive: %q %v", got, err)
	}
	if err := runs.DeleteBlobs(ctx, "2011-12-10", "summary/"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
}
