package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"io"
	"strings"
	"time"

	"tailor/shared/platform/errs"
)

// Key format: "tlr_" + key id + "_" + secret, for example
//
//	tlr_mfrggzdfmztwq2lk_<52 characters>
//
// The id (10 random bytes, 16 base32 characters) names the record, so the
// authorizer finds it with one GetItem and no scan. The secret is 32 bytes
// from crypto/rand (52 base32 characters). The prefix makes a leaked key easy
// to recognise for people and secret scanners. Lower-case base32 keeps the
// key free of characters that need quoting in shells, URLs or headers.
const (
	// KeyPrefix starts every key.
	KeyPrefix = "tlr_"
	// SecretBytes is the entropy of a key's secret part.
	SecretBytes = 32
	idBytes     = 10
)

var (
	b32       = base32.StdEncoding.WithPadding(base32.NoPadding)
	idLen     = b32.EncodedLen(idBytes)
	secretLen = b32.EncodedLen(SecretBytes)
	// KeyLen is the length of every well-formed key.
	KeyLen = len(KeyPrefix) + idLen + 1 + secretLen
)

// Record is a stored API key: everything but the secret, of which only a
// hash is kept.
type Record struct {
	ID     string  `dynamodbav:"key_id"`
	Name   string  `dynamodbav:"name"`
	Scopes []Scope `dynamodbav:"scopes"`
	// Hash is SHA-256 of the whole key. A fast hash is enough because the
	// key carries 256 random bits: slow password hashes (bcrypt, scrypt,
	// Argon2) exist to make guessing low-entropy human passwords expensive,
	// and no amount of hashing speed makes a 2^256 search feasible. A slow
	// hash would only add tens of milliseconds to every uncached request
	// and give attackers a way to burn the authorizer's CPU.
	Hash      []byte    `dynamodbav:"hash"`
	CreatedAt time.Time `dynamodbav:"created_at"`
	// RevokedAt is nil while the key is in force.
	RevokedAt *time.Time `dynamodbav:"revoked_at,omitempty"`
}

// Revoked reports whether the key has been revoked.
func (r Record) Revoked() bool { return r.RevokedAt != nil }

// NewKey makes a key with the given name and scopes from the random source
// (crypto/rand.Reader outside tests). It returns the record to store and
// the key itself, which must be shown to its owner once and never stored.
func NewKey(random io.Reader, name string, scopes []Scope, now time.Time) (Record, string, error) {
	var v errs.Validator
	name = strings.TrimSpace(name)
	v.Check(name != "" && len(name) <= 100, "name", "must be 1 to 100 characters")
	v.Check(len(scopes) > 0, "scopes", "at least one scope is required")
	for _, s := range scopes {
		v.Check(s.Valid(), "scopes", "unknown scope %q", s)
	}
	if err := v.Err(); err != nil {
		return Record{}, "", err
	}
	buf := make([]byte, idBytes+SecretBytes)
	if _, err := io.ReadFull(random, buf); err != nil {
		return Record{}, "", fmt.Errorf("new key: read random bytes: %w", err)
	}
	id := strings.ToLower(b32.EncodeToString(buf[:idBytes]))
	secret := strings.ToLower(b32.EncodeToString(buf[idBytes:]))
	key := KeyPrefix + id + "_" + secret
	return Record{ID: id, Name: name, Scopes: append([]Scope(nil), scopes...), Hash: HashKey(key), CreatedAt: now.UTC()}, key, nil
}

// HashKey returns the SHA-256 of a key, the only form in which keys are
// stored.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// ParseKey checks a key's shape and returns its id. It does not say whether
// the key exists; it lets malformed keys be refused without a database read.
func ParseKey(key string) (id string, ok bool) {
	if len(key) != KeyLen || !strings.HasPrefix(key, KeyPrefix) {
		return "", false
	}
	rest := key[len(KeyPrefix):]
	if rest[idLen] != '_' {
		return "", false
	}
	id, secret := rest[:idLen], rest[idLen+1:]
	if !isBase32(id) || !isBase32(secret) {
		return "", false
	}
	return id, true
}

// ValidKeyID reports whether id has the shape of a key id.
func ValidKeyID(id string) bool { return len(id) == idLen && isBase32(id) }

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// BearerToken extracts the credentials of an "Authorization: Bearer <key>"
// header (RFC 6750; the scheme is case-insensitive). ok is false for any
// other shape.
func BearerToken(header string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(rest)
	return token, token != "" && !strings.ContainsAny(token, " \t")
}

// matches compares the key's hash with the stored one in constant time, so
// response timing says nothing about how much of a guess was right.
func (r Record) matches(key string) bool {
	return len(r.Hash) == sha256.Size && subtle.ConstantTimeCompare(HashKey(key), r.Hash) == 1
}
