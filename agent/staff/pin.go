package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters for a PIN hash.
type Params struct {
	Time    uint32 // passes over the memory
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultParams cost about a fifth of a second on a 2-core PC and 64 MiB
// while a PIN is checked (docs/benchmarks.md): a PIN has few digits, so
// the hash, not the PIN, is what makes a stolen database slow to try.
var DefaultParams = Params{Time: 3, Memory: 64 << 10, Threads: 2}

// maxParams bound what a stored hash may ask for, so that a hash written
// into the database by someone else cannot make each login take minutes
// or gigabytes.
var maxParams = Params{Time: 16, Memory: 1 << 20, Threads: 16}

const (
	saltSize = 16
	keySize  = 32
	// MinPINDigits and MaxPINDigits bound a PIN's length.
	MinPINDigits = 6
	MaxPINDigits = 12
)

// ErrWeakPIN is returned (wrapped) for a PIN that is not 6 to 12 digits.
var ErrWeakPIN = errors.New("a PIN is 6 to 12 digits")

// errBadHash is a stored hash that cannot be read.
var errBadHash = errors.New("not an argon2id PIN hash")

// CheckPIN returns an error wrapping ErrWeakPIN unless pin is 6 to 12
// ASCII digits, not all the same and not a run such as 123456.
func CheckPIN(pin string) error {
	if len(pin) < MinPINDigits || len(pin) > MaxPINDigits {
		return fmt.Errorf("%w: it has %d characters", ErrWeakPIN, len(pin))
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return fmt.Errorf("%w: it holds a character that is not a digit", ErrWeakPIN)
		}
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && (d == 1 || d == -9)
		down = down && (d == -1 || d == 9)
	}
	if same || up || down {
		return fmt.Errorf("%w: it is one digit repeated or a run of digits, the first a stranger tries", ErrWeakPIN)
	}
	return nil
}

// HashPIN returns pin's argon2id hash under p with a fresh random salt,
// encoded as "$argon2id$v=19$m=65536,t=3,p=2$SALT$KEY" (base64 without
// padding), the form other argon2 tools read.
func HashPIN(pin string, p Params) (string, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("PIN salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, keySize)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPIN reports whether pin matches encoded, a hash HashPIN made,
// comparing the keys in constant time. An encoded hash that cannot be
// read, or asks for more than a login may spend, is an error.
func VerifyPIN(encoded, pin string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters %q: %w", errBadHash, parts[3], err)
	}
	if p.Time < 1 || p.Memory < 8*uint32(max(p.Threads, 1)) || p.Threads < 1 ||
		p.Time > maxParams.Time || p.Memory > maxParams.Memory || p.Threads > maxParams.Threads {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of bounds", errBadHash, parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("%w: key", errBadHash)
	}
	return p, salt, key, nil
}
