package speech

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cache keeps rendered prompts as WAV files in a directory, each named by
// a hash of what makes its sound: the engine's ID, the voice, the rate and
// volume steps and the normalised text. A prompt rendered once is played
// from its file from then on, without running the engine; a changed
// setting or a new engine renders it anew. Only fixed prompts belong in
// the cache: names and numbers a citizen gave are rendered live and never
// kept.
type Cache struct {
	dir   string
	synth Synthesizer
}

// NewCache returns a cache in dir, creating it, rendering with synth.
func NewCache(dir string, synth Synthesizer) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("prompt cache: %w", err)
	}
	// Renderings cut short by a crash are never renamed into place.
	left, _ := filepath.Glob(filepath.Join(dir, "render-*.tmp"))
	for _, f := range left {
		os.Remove(f)
	}
	return &Cache{dir: dir, synth: synth}, nil
}

// Path is where the rendering of text (normalised) with s is kept.
func (c *Cache) Path(text string, s Settings) string {
	h := sha256.New()
	for _, part := range []string{c.synth.ID(), string(s.Voice), strconv.Itoa(int(s.Rate)), strconv.Itoa(int(s.Volume)), text} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return filepath.Join(c.dir, hex.EncodeToString(h.Sum(nil))[:32]+".wav")
}

// Get returns the file of text (normalised) spoken with s, rendering it
// first unless the cache has it; hit says whether it had. A rendering is
// written to a temporary file and renamed into place, so a file under its
// name is always whole.
func (c *Cache) Get(ctx context.Context, text string, s Settings) (path string, hit bool, err error) {
	path = c.Path(text, s)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > wavHeaderSize {
		// Mark it used, for Prune.
		now := time.Now()
		os.Chtimes(path, now, now)
		return path, true, nil
	}
	tmp, err := os.CreateTemp(c.dir, "render-*.tmp")
	if err != nil {
		return "", false, fmt.Errorf("prompt cache: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := c.synth.Synthesize(ctx, text, s, tmp.Name()); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", false, fmt.Errorf("prompt cache: %w", err)
	}
	return path, false, nil
}

// Prune removes the least recently used renderings until the cache holds
// at most limit bytes, and returns how many it removed. Renderings for a
// voice or speed no one chooses any more go first.
func (c *Cache) Prune(limit int64) (int, error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("prompt cache: %w", err)
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".wav") {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, file{filepath.Join(c.dir, e.Name()), fi.Size(), fi.ModTime()})
		total += fi.Size()
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	removed := 0
	for _, f := range files {
		if total <= limit {
			break
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("prompt cache: %w", err)
		}
		total -= f.size
		removed++
	}
	return removed, nil
}

// DefaultCacheLimit bounds the prompt cache: about 1,300 prompts of 7 s.
const DefaultCacheLimit = 400 << 20

// wavHeaderSize is the size of a canonical WAV header: a file no larger
// holds no sound.
const wavHeaderSize = 44
