package blob_test

import (
	"bytes"
	"reflect"
	"testing"

	"tailor/shared/platform/blob"
)

func TestRoundTripAndCorruption(t *testing.T) {
	in := map[string][]int{"a": {1, 2, 3}, "b": nil}
	b, err := blob.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"a"`)) {
		t.Fatal("not compressed")
	}
	var out map[string][]int
	if err := blob.Decode(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("%v %v", out, err)
	}
	if err := blob.Decode([]byte("not gzip"), &out); err == nil {
		t.Fatal("corrupt input decoded")
	}
}
