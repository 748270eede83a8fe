package ddb

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxCursor bounds the size of a decoded cursor; real ones are far smaller.
const maxCursor = 2048

// SealCursor renders a page position as an opaque token for next_cursor:
// URL-safe base64 of its JSON. Callers check what they get back with
// OpenCursor, so a cursor is never trusted as a raw key.
func SealCursor(v any) string {
	b, _ := json.Marshal(v) // cursor structs hold only strings
	return base64.RawURLEncoding.EncodeToString(b)
}

// OpenCursor decodes a token made by SealCursor into v. It reports false
// for anything else: bad base64, oversized, malformed JSON or unknown
// fields. The caller then checks the fields belong to its own query.
func OpenCursor(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > maxCursor {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}
