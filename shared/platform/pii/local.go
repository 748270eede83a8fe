package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// LocalKeys is a KeyService and Indexer over master keys held in memory,
// read from a key file in development and tests (see package kmskey). The
// first wrapping key wraps new data keys; the others still unwrap, so a
// local key can rotate the way a KMS key does.
type LocalKeys struct {
	current string
	wrap    map[string]cipher.AEAD
	index   []byte
}

// wrapAAD binds wrapped data keys to their purpose.
var wrapAAD = []byte("tailor/pii/data-key")

// NewLocalKeys returns local keys: wrapping keys (32 bytes each, the first
// is current) and a separate 32-byte index key for keyed hashes. A key's id
// is "local:" and the first 12 hex digits of SHA-256 of the key.
func NewLocalKeys(wrapping [][]byte, index []byte) (*LocalKeys, error) {
	if len(wrapping) == 0 || len(index) != 32 {
		return nil, fmt.Errorf("pii: local keys need at least one wrapping key and a 32-byte index key")
	}
	l := &LocalKeys{wrap: map[string]cipher.AEAD{}, index: append([]byte(nil), index...)}
	for i, k := range wrapping {
		if len(k) != 32 {
			return nil, fmt.Errorf("pii: wrapping key %d is %d bytes, want 32", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("pii: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("pii: %w", err)
		}
		id := LocalKeyID(k)
		if i == 0 {
			l.current = id
		}
		l.wrap[id] = aead
	}
	return l, nil
}

// LocalKeyID names a local wrapping key without revealing it.
func LocalKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return "local:" + hex.EncodeToString(sum[:6])
}

// GenerateDataKey makes a random data key wrapped under the current key.
func (l *LocalKeys) GenerateDataKey(context.Context) (DataKey, error) {
	plain := make([]byte, 32)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(plain); err != nil {
		return DataKey{}, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return DataKey{}, err
	}
	wrapped := l.wrap[l.current].Seal(nonce, nonce, plain, wrapAAD)
	return DataKey{KeyID: l.current, Plaintext: plain, Wrapped: wrapped}, nil
}

// Decrypt unwraps a data key wrapped under keyID.
func (l *LocalKeys) Decrypt(_ context.Context, keyID string, wrapped []byte) ([]byte, error) {
	aead, ok := l.wrap[keyID]
	if !ok {
		return nil, fmt.Errorf("pii: no local key %s in the key file", keyID)
	}
	if len(wrapped) < nonceSize {
		return nil, ErrCorrupt
	}
	plain, err := aead.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], wrapAAD)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// MAC is HMAC-SHA-256 of data under the index key.
func (l *LocalKeys) MAC(_ context.Context, data []byte) ([]byte, error) {
	m := hmac.New(sha256.New, l.index)
	m.Write(data)
	return m.Sum(nil), nil
}
