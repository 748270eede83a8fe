package pii

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
)

// Indexer computes HMAC-SHA-256 under a key kept apart from the
// encryption keys (a KMS HMAC key in AWS). Implementations must be safe for
// concurrent use.
type Indexer interface {
	MAC(ctx context.Context, data []byte) ([]byte, error)
}

// NormalEmail is the form of an email address that look-ups compare:
// trimmed and lower-cased (the local part too: retailers' customers type
// their addresses in every case, and no mainstream provider tells
// Ada@example.com from ada@example.com).
func NormalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Index turns values into keyed hashes for exact-match look-ups, so a
// table can be searched by email without holding the email. It caches the
// hashes it computed (bounded), because a KMS GenerateMac call costs a
// round trip. It is safe for concurrent use.
type Index struct {
	mac   Indexer
	mu    sync.Mutex
	cache map[string]string
}

const indexCacheSize = 4096

// NewIndex returns an Index over mac.
func NewIndex(mac Indexer) *Index { return &Index{mac: mac, cache: map[string]string{}} }

// Email returns the look-up hash of an email address: "e1." and the
// base64url HMAC-SHA-256 of its normal form. The prefix names the scheme,
// so a change of key or normalisation can live next to the old one.
func (x *Index) Email(ctx context.Context, email string) (string, error) {
	n := "email:" + NormalEmail(email)
	x.mu.Lock()
	h, ok := x.cache[n]
	x.mu.Unlock()
	if ok {
		return h, nil
	}
	sum, err := x.mac.MAC(ctx, []byte(n))
	if err != nil {
		return "", fmt.Errorf("pii: keyed hash: %w", err)
	}
	h = "e1." + base64.RawURLEncoding.EncodeToString(sum)
	x.mu.Lock()
	if len(x.cache) >= indexCacheSize {
		clear(x.cache)
	}
	x.cache[n] = h
	x.mu.Unlock()
	return h, nil
}
