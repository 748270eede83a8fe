// Package blob stores a value as gzip-compressed JSON: compact binary
// attributes for values read and written whole (history pages, the
// intermediate results of fanned-out jobs).
package blob

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
)

// Encode returns v as gzip-compressed JSON.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode reads gzip-compressed JSON made by Encode into v.
func Decode(b []byte, v any) error {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
