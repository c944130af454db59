package uplink

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DeviceKeyFile is the name of the kiosk's Ed25519 key in its data
// directory: made at the first enrollment, readable by its owner only. The
// portal keeps the public key and checks every manifest against it.
const DeviceKeyFile = "device.key"

// LoadOrCreateDeviceKey reads the device key at path (PKCS #8, PEM), or
// makes one there (mode 0600) when there is none. A key file readable by
// others is made private again.
func LoadOrCreateDeviceKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createDeviceKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("device key %s is readable by others and cannot be made private: %w", path, err)
		}
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("device key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("device key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("device key %s: not an Ed25519 key", path)
	}
	return key, nil
}

// createDeviceKey writes a new key to path, whole or not at all: written
// to a private temporary file, synced, then renamed.
func createDeviceKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".device.key-*")
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		err = pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, not rename: a key another process made meanwhile is kept.
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateDeviceKey(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("device key %s: %w", path, err)
	}
	return key, nil
}
