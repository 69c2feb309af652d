package sqlite

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// sealPrefix versions the sealed format, so a later key rotation or
// cipher can tell old values from new ones.
const sealPrefix = "v1:"

// sealer encrypts secrets with AES-256-GCM before they are written. The
// additional data names the column and the row, so a sealed value copied
// into another row or column does not open.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("opening database: the seal key has %d bytes; it needs 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("making seal cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("making seal cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// sealValue returns plain encrypted, as printable text.
func (s *sealer) sealValue(plain []byte, where string) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce) // crypto/rand never fails on supported platforms.
	out := s.aead.Seal(nonce, nonce, plain, []byte(where))
	return sealPrefix + base64.StdEncoding.EncodeToString(out)
}

// openValue reverses sealValue.
func (s *sealer) openValue(sealed, where string) ([]byte, error) {
	b64, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, fmt.Errorf("opening sealed %s: unknown format", where)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("opening sealed %s: %w", where, err)
	}
	n := s.aead.NonceSize()
	if len(raw) < n {
		return nil, fmt.Errorf("opening sealed %s: value too short", where)
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(where))
	if err != nil {
		return nil, fmt.Errorf("opening sealed %s (is the seal key the one it was written with?): %w", where, err)
	}
	return plain, nil
}
