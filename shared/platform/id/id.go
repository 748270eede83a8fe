// Package id holds the one rule for identifiers that clients choose
// (customer, anonymous, item, order and event ids), so every function accepts
// and rejects the same ids.
package id

// MaxLen is the longest identifier accepted, in bytes.
const MaxLen = 128

// Rule describes Valid for error messages and documentation.
const Rule = "1 to 128 characters from A-Z a-z 0-9 . _ : - starting with a letter or digit"

// Valid reports whether s is an acceptable identifier. The charset keeps
// ids safe inside DynamoDB keys ("#" is the key separator), URLs and logs.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}
