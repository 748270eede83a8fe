// Package pii protects personal data at the application layer: envelope
// encryption of personal fields (AES-256-GCM under a data key that a master
// key wraps), a keyed hash for look-ups by email, and the masking rules for
// callers who may not see personal data.
//
// It is pure: it imports no AWS package and does no I/O of its own. The
// master key lives behind KeyService (AWS KMS in the cloud, see package
// kmskey; LocalKeys from a key file in development and tests).
package pii

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// DataKey is a fresh 256-bit data key: Plaintext encrypts, Wrapped is the
// same key encrypted under the master key KeyID, stored with every
// ciphertext.
type DataKey struct {
	KeyID     string
	Plaintext []byte
	Wrapped   []byte
}

// KeyService makes and unwraps data keys. Implementations must be safe for
// concurrent use.
type KeyService interface {
	// GenerateDataKey returns a new 256-bit data key, plain and wrapped.
	GenerateDataKey(ctx context.Context) (DataKey, error)
	// Decrypt unwraps a data key that GenerateDataKey made under keyID.
	Decrypt(ctx context.Context, keyID string, wrapped []byte) ([]byte, error)
}

// ErrCorrupt says an envelope is malformed, was made for other associated
// data (another record), or was changed.
var ErrCorrupt = errors.New("pii: envelope is malformed or does not belong to this record")

const (
	version   = 1
	nonceSize = 12
	// MaxDataKeyUses bounds the envelopes one data key seals. Random 96-bit
	// nonces stay far from collision (NIST SP 800-38D asks for at most 2^32
	// per key); a long-lived execution environment takes a new data key
	// after this many.
	MaxDataKeyUses = 1 << 24
	// decryptCacheSize bounds the unwrapped data keys kept in memory.
	decryptCacheSize = 1024
)

// Sealer encrypts and decrypts envelopes. It asks the KeyService for one
// data key when it first seals (once per execution environment, so once
// per Lambda cold start) and caches unwrapped keys by their wrapped blob,
// so reading many records sealed by the same environment costs one
// Decrypt call. It is safe for concurrent use.
type Sealer struct {
	keys KeyService

	mu      sync.Mutex
	current *sealKey
	opened  map[[32]byte]cipher.AEAD
}

type sealKey struct {
	header []byte // version, key id and wrapped key: the envelope's prefix
	aead   cipher.AEAD
	uses   int
}

// NewSealer returns a Sealer over keys.
func NewSealer(keys KeyService) *Sealer {
	return &Sealer{keys: keys, opened: map[[32]byte]cipher.AEAD{}}
}

// Seal encrypts plaintext for the record named by aad (for example
// "customer/c-123"): opening it with any other aad fails. The envelope is
//
//	version (1 byte) | len(key id) (1) | key id | len(wrapped) (2, big endian) | wrapped data key |
//	nonce (12) | AES-256-GCM ciphertext and tag
//
// and the GCM associated data is the header followed by aad, so neither the
// key reference nor the record binding can be changed undetected.
func (s *Sealer) Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	k, err := s.sealKey(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(k.header), len(k.header)+nonceSize+len(plaintext)+k.aead.Overhead())
	copy(out, k.header)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("pii: nonce: %w", err)
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, associated(k.header, aad)), nil
}

// Open decrypts an envelope made by Seal with the same aad.
func (s *Sealer) Open(ctx context.Context, envelope, aad []byte) ([]byte, error) {
	h, err := parseHeader(envelope)
	if err != nil {
		return nil, err
	}
	aead, err := s.openKey(ctx, h)
	if err != nil {
		return nil, err
	}
	body := envelope[h.size:]
	if len(body) < nonceSize+aead.Overhead() {
		return nil, ErrCorrupt
	}
	plain, err := aead.Open(nil, body[:nonceSize], body[nonceSize:], associated(envelope[:h.size], aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// KeyID returns the id of the master key that wrapped the envelope's data
// key, so records under an old key can be found and re-encrypted.
func KeyID(envelope []byte) (string, error) {
	h, err := parseHeader(envelope)
	return h.keyID, err
}

func associated(header, aad []byte) []byte {
	return append(bytes.Clone(header), aad...)
}

func (s *Sealer) sealKey(ctx context.Context) (*sealKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil && s.current.uses < MaxDataKeyUses {
		s.current.uses++
		return s.current, nil
	}
	dk, err := s.keys.GenerateDataKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("pii: generate data key: %w", err)
	}
	if len(dk.KeyID) == 0 || len(dk.KeyID) > 255 || len(dk.Wrapped) == 0 || len(dk.Wrapped) > 0xffff {
		return nil, fmt.Errorf("pii: key service returned a key id of %d bytes and a wrapped key of %d bytes", len(dk.KeyID), len(dk.Wrapped))
	}
	aead, err := newAEAD(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	header := []byte{version, byte(len(dk.KeyID))}
	header = append(header, dk.KeyID...)
	header = binary.BigEndian.AppendUint16(header, uint16(len(dk.Wrapped)))
	header = append(header, dk.Wrapped...)
	s.current = &sealKey{header: header, aead: aead, uses: 1}
	s.opened[sha256.Sum256(dk.Wrapped)] = aead
	return s.current, nil
}

func (s *Sealer) openKey(ctx context.Context, h header) (cipher.AEAD, error) {
	id := sha256.Sum256(h.wrapped)
	s.mu.Lock()
	aead, ok := s.opened[id]
	s.mu.Unlock()
	if ok {
		return aead, nil
	}
	plain, err := s.keys.Decrypt(ctx, h.keyID, h.wrapped)
	if err != nil {
		return nil, fmt.Errorf("pii: decrypt data key: %w", err)
	}
	aead, err = newAEAD(plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.opened) >= decryptCacheSize {
		// Dropping everything is crude but bounded; in practice a function
		// reads keys of a few hundred execution environments at most.
		clear(s.opened)
		if s.current != nil {
			s.opened[sha256.Sum256(s.current.wrapped())] = s.current.aead
		}
	}
	s.opened[id] = aead
	s.mu.Unlock()
	return aead, nil
}

func (k *sealKey) wrapped() []byte {
	h, _ := parseHeader(k.header)
	return h.wrapped
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("pii: data key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	return cipher.NewGCM(block)
}

type header struct {
	keyID   string
	wrapped []byte
	size    int
}

func parseHeader(b []byte) (header, error) {
	if len(b) < 2 || b[0] != version {
		return header{}, ErrCorrupt
	}
	n := int(b[1])
	if len(b) < 2+n+2 {
		return header{}, ErrCorrupt
	}
	h := header{keyID: string(b[2 : 2+n])}
	w := int(binary.BigEndian.Uint16(b[2+n:]))
	start := 2 + n + 2
	if len(b) < start+w {
		return header{}, ErrCorrupt
	}
	h.wrapped = b[start : start+w]
	h.size = start + w
	return h, nil
}
