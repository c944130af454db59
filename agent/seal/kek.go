package seal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/motcua/motcua/agent/i18n"
)

// KeySize is the size of every key: AES-256.
const KeySize = 32

// Sentinel errors.
var (
	// ErrKeyFile is wrapped by the errors of a KEK file (or its directory)
	// that others could read or that belongs to another user: the key is
	// refused, not used.
	ErrKeyFile = errors.New("key file refused")
	// ErrNoKEK is wrapped when the KEK file does not exist and may not be
	// made (a read-only open).
	ErrNoKEK = errors.New("no key-encryption key")
	// ErrWrongKEK is wrapped when the KEK does not open the data keys it
	// should: another kiosk's key file, or one restored from elsewhere.
	ErrWrongKEK = errors.New("the key-encryption key does not open the data keys")
)

// Error code of the *i18n.Error for a refused key file.
const CodeKeyFile = "key_file_refused"

// KEK is a key-encryption key and the file it was read from.
type KEK struct {
	key  []byte
	path string
}

// KEKPath returns where the KEK of dataDir is kept.
func KEKPath(dataDir string) string { return filepath.Join(dataDir, "keys", "kek") }

// Path returns the KEK's file.
func (k *KEK) Path() string { return k.path }

// ID returns a short public fingerprint of the KEK, recorded with the data
// keys it wraps: it tells a wrong KEK from a damaged wrapped key.
func (k *KEK) ID() string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("motcua key-encryption key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// LoadKEK reads the KEK at path, after checking that the file and its
// directory are this user's and closed to others. When create is true and
// the file does not exist, a new random KEK is written (the directory
// made 0700, the file 0600).
func LoadKEK(path string, create bool) (*KEK, error) {
	dir := filepath.Dir(path)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNoKEK, path)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("make key directory: %w", err)
		}
		if err := checkPrivate(dir, true); err != nil {
			return nil, err
		}
		key := make([]byte, KeySize)
		rand.Read(key)
		if err := WriteKEK(path, key); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	if err := checkPrivate(dir, true); err != nil {
		return nil, err
	}
	if err := checkPrivate(path, false); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %s holds %d bytes, not a %d-byte key", ErrKeyFile, path, len(key), KeySize)
	}
	return &KEK{key: key, path: path}, nil
}

// NewKEK returns a new random KEK to be written at path.
func NewKEK(path string) *KEK {
	key := make([]byte, KeySize)
	rand.Read(key)
	return &KEK{key: key, path: path}
}

// WriteKEK writes key to path, 0600, failing with fs.ErrExist if the
// file exists: a KEK is never overwritten in place. The key is written and
// synced under a temporary name first and then linked into place, so that
// another process making the first KEK at the same moment reads either
// none or a whole one, never an empty file.
func WriteKEK(path string, key []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".kek-*")
	if err != nil {
		return fmt.Errorf("write key-encryption key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(key); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write key-encryption key: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// Write writes k to its path (which must not exist).
func (k *KEK) Write() error { return WriteKEK(k.path, k.key) }

// WriteTo writes k to path (which must not exist).
func (k *KEK) WriteTo(path string) error { return WriteKEK(path, k.key) }

// checkPrivate refuses path when it belongs to another user or when group
// or others have any access to it.
func checkPrivate(path string, isDir bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	what, whatVI := "file", "tệp"
	if isDir {
		what, whatVI = "directory", "thư mục"
	}
	refuse := func(err error, vi, en string) error {
		return &i18n.Error{Code: CodeKeyFile, Err: fmt.Errorf("%w: %w", ErrKeyFile, err), Msg: i18n.T(vi, en)}
	}
	if fi.Mode()&fs.ModeSymlink != 0 || fi.IsDir() != isDir {
		return refuse(fmt.Errorf("%s is not a plain %s", path, what),
			fmt.Sprintf("Khoá bị từ chối: %s không phải là %s thật (liên kết hoặc loại khác)", path, whatVI),
			fmt.Sprintf("Key refused: %s is not a plain %s (a link or something else)", path, what))
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return refuse(fmt.Errorf("%s has mode %04o", path, perm),
			fmt.Sprintf("Khoá bị từ chối: %s %s có quyền %04o, người khác truy cập được; chỉ người dùng của motcua được phép (chmod %s %s)",
				whatVI, path, perm, privateMode(isDir), path),
			fmt.Sprintf("Key refused: the %s %s has mode %04o, which lets others in; only motcua's user may (chmod %s %s)",
				what, path, perm, privateMode(isDir), path))
	}
	// root may use the key of the data directory's owner (maintenance
	// with sudo); anyone else only their own.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && os.Getuid() != 0 {
		return refuse(fmt.Errorf("%s belongs to uid %d, not %d", path, st.Uid, os.Getuid()),
			fmt.Sprintf("Khoá bị từ chối: %s %s thuộc người dùng %d, không phải người dùng chạy motcua (%d)",
				whatVI, path, st.Uid, os.Getuid()),
			fmt.Sprintf("Key refused: the %s %s belongs to uid %d, not to the user motcua runs as (%d)",
				what, path, st.Uid, os.Getuid()))
	}
	return nil
}

func privateMode(isDir bool) string {
	if isDir {
		return "700"
	}
	return "600"
}

// wrapPlace is the additional data of a wrapped data key.
func wrapPlace(version uint32) []string { return []string{"data key", Place(int64(version))} }

// Wrap seals data key version v under the KEK.
func (k *KEK) Wrap(v uint32, dataKey []byte) []byte {
	aead, _ := newAEAD(k.key)
	return sealWith(aead, 0, dataKey, wrapPlace(v))
}

// Unwrap opens data key version v wrapped under the KEK.
func (k *KEK) Unwrap(v uint32, wrapped []byte) ([]byte, error) {
	if !Sealed(wrapped) {
		return nil, fmt.Errorf("data key %d: %w", v, ErrBroken)
	}
	aead, _ := newAEAD(k.key)
	dk, err := openWith(aead, 0, wrapped, wrapPlace(v))
	if err != nil {
		return nil, fmt.Errorf("data key %d: %w", v, err)
	}
	return dk, nil
}
