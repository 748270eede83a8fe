package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The masking rules, for callers without pii:read (docs/security.md):
//
//	email  first character of the local part, "***@", the domain    ada@example.com -> a***@example.com
//	phone  "+", the first two digits, one * per hidden digit, the last two   +447700900123 -> +44*******23
//	name   the initial of each word, each followed by "."            Ada Lovelace -> A. L.
//
// Birth year and city are left out altogether: a masked year or town says
// little to a CRM screen and much to someone re-identifying a person.

// MaskEmail masks an email address.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(email)
	return string(r) + "***" + email[at:]
}

// MaskPhone masks an E.164 phone number.
func MaskPhone(phone string) string {
	digits := strings.TrimPrefix(phone, "+")
	if len(digits) < 6 {
		return "+***"
	}
	return "+" + digits[:2] + strings.Repeat("*", len(digits)-4) + digits[len(digits)-2:]
}

// MaskName reduces a name to its initials.
func MaskName(name string) string {
	var parts []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '-' }) {
		r, _ := utf8.DecodeRuneInString(w)
		parts = append(parts, string(unicode.ToUpper(r))+".")
	}
	return strings.Join(parts, " ")
}
