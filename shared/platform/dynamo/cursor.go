package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxCursor bounds the size of a decoded cursor; real ones are far smaller.
const maxCursor = 2048

// sealCursor renders a page position as an opaque token for next_cursor:
// URL-safe base64 of its JSON. Callers check what they get back with
// openCursor, so a cursor is never trusted as a raw key.
func sealCursor(v any) string {
	b, _ := json.Marshal(v) // cursor structs hold only strings
	return base64.RawURLEncoding.EncodeToString(b)
}

// openCursor decodes a token made by sealCursor into v. It reports false
// for anything else: bad base64, oversized, malformed JSON or unknown
// fields. The caller then checks the fields belong to its own query.
func openCursor(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > maxCursor {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}
