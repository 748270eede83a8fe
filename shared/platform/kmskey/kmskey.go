// Package kmskey provides the master keys behind package pii: AWS KMS in
// the cloud (a symmetric key for data keys, an HMAC key for look-up
// hashes), or a local key file in development and tests. Which one a
// function uses is configuration, read once at cold start:
//
//	PII_KEY_FILE=<path>                       the local key file (tailor serve and the tests set it)
//	PII_KMS_KEY_ID, PII_INDEX_KEY_ID          the KMS keys (template.yaml: !Ref PiiKey, !Ref PiiIndexKey)
//
// A key file wins when both are set, so the local runner can override the
// template's KMS references.
package kmskey

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"tailor/shared/platform/awsenv"
	"tailor/shared/platform/boot"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"tailor/shared/platform/pii"
)

// Keys is what a function needs to protect personal data. Index is nil
// when no index key is configured.
type Keys struct {
	Sealer *pii.Sealer
	Index  *pii.Index
}

// Settings are the environment variables that choose the keys.
type Settings struct {
	KeyFile    string // PII_KEY_FILE
	KMSKeyID   string // PII_KMS_KEY_ID
	IndexKeyID string // PII_INDEX_KEY_ID
}

// Open returns the keys the settings name. It makes no KMS call: data keys
// are generated on the first write and unwrapped on the first read.
func Open(ctx context.Context, s Settings) (*Keys, error) {
	if s.KeyFile != "" {
		l, err := LoadFile(s.KeyFile)
		if err != nil {
			return nil, err
		}
		return &Keys{Sealer: pii.NewSealer(l), Index: pii.NewIndex(l)}, nil
	}
	if s.KMSKeyID == "" {
		return nil, errors.New("personal data keys: set PII_KMS_KEY_ID (and PII_INDEX_KEY_ID where look-ups are made), or PII_KEY_FILE for a local key file")
	}
	cfg, err := awsenv.Config(ctx, 5)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	client := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = awsenv.Endpoint("KMS") })
	k := &KMS{Client: client, KeyID: s.KMSKeyID, IndexKeyID: s.IndexKeyID}
	keys := &Keys{Sealer: pii.NewSealer(k)}
	if s.IndexKeyID != "" {
		// A function that only seals (ingest) has no index key.
		keys.Index = pii.NewIndex(k)
	}
	return keys, nil
}

// API is the part of the KMS client the adapter calls.
type API interface {
	GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error)
	GenerateMac(context.Context, *kms.GenerateMacInput, ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

// KMS is a pii.KeyService and pii.Indexer over AWS KMS.
type KMS struct {
	Client API
	// KeyID is the symmetric encryption key that wraps data keys.
	KeyID string
	// IndexKeyID is the HMAC_256 key of look-up hashes.
	IndexKeyID string
}

// encryptionContext binds wrapped data keys to their purpose; KMS logs it
// in CloudTrail with every Decrypt, and it must match to decrypt.
var encryptionContext = map[string]string{"purpose": "tailor-pii"}

// GenerateDataKey asks KMS for an AES-256 data key.
func (k *KMS) GenerateDataKey(ctx context.Context) (pii.DataKey, error) {
	out, err := k.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &k.KeyID, KeySpec: types.DataKeySpecAes256,
		EncryptionContext: encryptionContext})
	if err != nil {
		return pii.DataKey{}, fmt.Errorf("kms generate data key: %w", err)
	}
	return pii.DataKey{KeyID: aws.ToString(out.KeyId), Plaintext: out.Plaintext, Wrapped: out.CiphertextBlob}, nil
}

// Decrypt asks KMS to unwrap a data key. Naming the key id makes KMS
// refuse blobs of any other key.
func (k *KMS) Decrypt(ctx context.Context, keyID string, wrapped []byte) ([]byte, error) {
	out, err := k.Client.Decrypt(ctx, &kms.DecryptInput{KeyId: &keyID, CiphertextBlob: wrapped, EncryptionContext: encryptionContext})
	if err != nil {
		return nil, fmt.Errorf("kms decrypt: %w", err)
	}
	return out.Plaintext, nil
}

// MAC asks KMS for HMAC-SHA-256 of data under the index key.
func (k *KMS) MAC(ctx context.Context, data []byte) ([]byte, error) {
	out, err := k.Client.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: &k.IndexKeyID, Message: data,
		MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		return nil, fmt.Errorf("kms generate mac: %w", err)
	}
	return out.Mac, nil
}

// file is the local key file: wrapping keys, current first, and the index
// key, each 32 bytes in standard base64.
type file struct {
	Wrapping []string `json:"wrapping_keys"`
	Index    string   `json:"index_key"`
}

// LoadFile reads a local key file.
func LoadFile(path string) (*pii.LocalKeys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read PII key file: %w", err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("PII key file %s is not valid JSON", path)
	}
	var wrapping [][]byte
	for _, s := range f.Wrapping {
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("PII key file %s: a wrapping key is not base64", path)
		}
		wrapping = append(wrapping, k)
	}
	index, err := base64.StdEncoding.DecodeString(f.Index)
	if err != nil {
		return nil, fmt.Errorf("PII key file %s: the index key is not base64", path)
	}
	l, err := pii.NewLocalKeys(wrapping, index)
	if err != nil {
		return nil, fmt.Errorf("PII key file %s: %w", path, err)
	}
	return l, nil
}

// EnsureFile creates a local key file with fresh random keys (mode 0600)
// unless one exists, and returns its absolute path. Only one process
// should call it (tailor serve, a test), before starting the functions.
func EnsureFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err == nil {
		return abs, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	key := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	b, _ := json.MarshalIndent(file{Wrapping: []string{key()}, Index: key()}, "", "  ")
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return abs, nil
	}
	if err != nil {
		return "", fmt.Errorf("create PII key file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("write PII key file: %w", err)
	}
	return abs, f.Close()
}

// MustOpen returns the keys of personal data d's environment names
// (PII_KEY_FILE, or PII_KMS_KEY_ID and PII_INDEX_KEY_ID). Only a
// function's main calls it: it exits when they cannot be set up, since a
// function that handles personal data must never fall back to storing it
// in plaintext. It lives here rather than in boot so that functions that
// handle no personal data do not link the KMS client.
func MustOpen(ctx context.Context, d *boot.Deps) *Keys {
	s := Settings{KeyFile: d.Env.Optional("PII_KEY_FILE"), KMSKeyID: d.Env.Optional("PII_KMS_KEY_ID"),
		IndexKeyID: d.Env.Optional("PII_INDEX_KEY_ID")}
	keys, err := Open(ctx, s)
	if err != nil {
		d.Log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	return keys
}
