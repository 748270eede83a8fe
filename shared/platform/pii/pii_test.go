package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingKeys counts the calls a Sealer makes to its key service.
type countingKeys struct {
	*LocalKeys
	generated, decrypted atomic.Int64
}

func (c *countingKeys) GenerateDataKey(ctx context.Context) (DataKey, error) {
	c.generated.Add(1)
	return c.LocalKeys.GenerateDataKey(ctx)
}

func (c *countingKeys) Decrypt(ctx context.Context, id string, w []byte) ([]byte, error) {
	c.decrypted.Add(1)
	return c.LocalKeys.Decrypt(ctx, id, w)
}

func randKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newKeys(t testing.TB, wrapping ...[]byte) *countingKeys {
	t.Helper()
	if len(wrapping) == 0 {
		wrapping = [][]byte{randKey(t)}
	}
	l, err := NewLocalKeys(wrapping, randKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return &countingKeys{LocalKeys: l}
}

func TestSealOpenRoundTripAndBinding(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	s := NewSealer(keys)
	secret := []byte(`{"email":"ada@example.com"}`)
	env, err := s.Seal(ctx, secret, []byte("customer/c-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, secret) || bytes.Contains(env, []byte("ada@")) {
		t.Fatal("the envelope holds the plaintext")
	}
	got, err := s.Open(ctx, env, []byte("customer/c-1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(ctx, env, []byte("customer/c-2")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("opened with another record's associated data: %v", err)
	}
	for i := range env {
		bad := bytes.Clone(env)
		bad[i] ^= 1
		if _, err := s.Open(ctx, bad, []byte("customer/c-1")); err == nil {
			t.Fatalf("a change at byte %d went unnoticed", i)
		}
	}
	if _, err := s.Open(ctx, env[:len(env)-1], []byte("customer/c-1")); err == nil {
		t.Fatal("a truncated envelope opened")
	}
	if id, err := KeyID(env); err != nil || id != keys.current || !strings.HasPrefix(id, "local:") {
		t.Fatalf("KeyID = %q, %v", id, err)
	}
}

func TestOneDataKeyPerEnvironmentAndCachedDecrypt(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	writer := NewSealer(keys)
	var envs [][]byte
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := writer.Seal(ctx, []byte{byte(i)}, []byte("r"))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			envs = append(envs, e)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := keys.generated.Load(); n != 1 {
		t.Fatalf("%d GenerateDataKey calls for 50 seals, want 1", n)
	}
	// Another environment (a new Sealer) opens them all with one Decrypt.
	reader := NewSealer(keys)
	for _, e := range envs {
		if _, err := reader.Open(ctx, e, []byte("r")); err != nil {
			t.Fatal(err)
		}
	}
	if n := keys.decrypted.Load(); n != 1 {
		t.Fatalf("%d Decrypt calls for 50 envelopes of one data key, want 1", n)
	}
	// The writer never asks to unwrap its own key.
	if _, err := writer.Open(ctx, envs[0], []byte("r")); err != nil || keys.decrypted.Load() != 1 {
		t.Fatalf("writer opened its own envelope with a Decrypt call: %v", err)
	}
}

func TestRotationKeepsOldEnvelopesReadable(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := randKey(t), randKey(t)
	before := NewSealer(newKeys(t, oldKey))
	env, err := before.Seal(ctx, []byte("x"), []byte("r"))
	if err != nil {
		t.Fatal(err)
	}
	after := NewSealer(newKeys(t, newKey, oldKey))
	if got, err := after.Open(ctx, env, []byte("r")); err != nil || string(got) != "x" {
		t.Fatalf("an envelope of the old key: %q, %v", got, err)
	}
	fresh, _ := after.Seal(ctx, []byte("y"), []byte("r"))
	if id, _ := KeyID(fresh); id != LocalKeyID(newKey) {
		t.Fatalf("new envelopes use %s, want the new key", id)
	}
	if _, err := NewSealer(newKeys(t, newKey)).Open(ctx, env, []byte("r")); err == nil {
		t.Fatal("an envelope opened after its key was removed")
	}
}

func TestEmailIndex(t *testing.T) {
	ctx := context.Background()
	keys := newKeys(t)
	x := NewIndex(keys)
	a, _ := x.Email(ctx, "Ada@Example.com ")
	b, _ := x.Email(ctx, "ada@example.com")
	c, _ := x.Email(ctx, "ada@example.org")
	if a != b || a == c || !strings.HasPrefix(a, "e1.") || strings.Contains(a, "ada") {
		t.Fatalf("index values %q %q %q", a, b, c)
	}
	other, _ := NewIndex(newKeys(t)).Email(ctx, "ada@example.com")
	if other == a {
		t.Fatal("the hash does not depend on the key")
	}
}

func TestMasks(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{MaskEmail("ada@example.com"), "a***@example.com"},
		{MaskEmail("x@y.io"), "x***@y.io"},
		{MaskEmail("nonsense"), "***"},
		{MaskPhone("+447700900123"), "+44********23"},
		{MaskPhone("+12025550143"), "+12*******43"},
		{MaskName("Ada Lovelace"), "A. L."},
		{MaskName("jean-luc  picard"), "J. L. P."},
		{MaskName("Éowyn"), "É."},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// BenchmarkSealOpen is the CPU cost of encrypting and decrypting one
// customer's personal fields (about 120 bytes of JSON) with a cached data
// key: what a profile write and a profile read add.
func BenchmarkSealOpen(b *testing.B) {
	ctx := context.Background()
	s := NewSealer(newKeys(b))
	plain := []byte(`{"name":"Ada Lovelace","email":"ada@example.com","phone":"+447700900123","birth_year":1990,"city":"London"}`)
	aad := []byte("customer/c-123")
	b.Run("seal", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Seal(ctx, plain, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
	env, _ := s.Seal(ctx, plain, aad)
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Open(ctx, env, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
	x := NewIndex(newKeys(b))
	b.Run("email-index-uncached", func(b *testing.B) {
		for b.Loop() {
			clear(x.cache)
			if _, err := x.Email(ctx, "ada@example.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
