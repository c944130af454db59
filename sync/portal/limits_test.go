package portal

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// zeros is a reader of n zero bytes that allocates nothing, so that the
// memory a test measures is the portal's, not the client's.
type zeros struct{ n int64 }

func (z *zeros) Read(b []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > z.n {
		b = b[:z.n]
	}
	clear(b)
	z.n -= int64(len(b))
	return len(b), nil
}

// zeroSum is the Upload-Checksum of n zero bytes.
func zeroSum(n int64) string {
	h := sha256.New()
	io.Copy(h, &zeros{n})
	return "sha256 " + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// checksummedPatch sends n zero bytes with their checksum to url and
// returns the status, or 0 if the portal closed the connection before
// answering (which it may do after refusing a body it did not read).
func (p *testPortal) checksummedPatch(url string, offset, n int64, sum string) int {
	req, _ := http.NewRequest("PATCH", url, &zeros{n})
	req.ContentLength = n
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Checksum", sum)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// allocated runs f and returns the bytes the process allocated meanwhile.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The attack: 20 checksummed 50 MB PATCHes to an upload that does
// not exist took the portal from 32 MB to 1.9 GB, because each chunk was
// read whole into memory before anything was checked. They are now refused
// with 404 before a byte of body is read.
func TestChecksummedPatchesToMissingUploadDoNotExhaustMemory(t *testing.T) {
	p := newPortal(t)
	const n = MaxUploadSize
	sum := zeroSum(n)
	codes := make([]int, 20)
	alloc := allocated(func() {
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				codes[i] = p.checksummedPatch(p.url+portalapi.PathUploads+"dev-0000000000000000-nothing-"+strconv.Itoa(i), 0, n, sum)
			})
		}
		wg.Wait()
	})
	for i, code := range codes {
		if code != 0 && code != http.StatusNotFound {
			t.Errorf("PATCH %d to a missing upload: %d, want 404", i, code)
		}
	}
	if alloc > 32<<20 {
		t.Fatalf("20 checksummed 50 MB PATCHes to a missing upload allocated %d MB, want under 32 MB", alloc>>20)
	}
}

// A checksummed chunk larger than what is left of its upload is refused
// with 413 before it is read.
func TestChecksummedChunkLargerThanUploadIsRefusedUnread(t *testing.T) {
	p := newPortal(t)
	loc := p.abs(p.upload("key-0000000d", make([]byte, 1000), 0))
	var code int
	alloc := allocated(func() { code = p.checksummedPatch(loc, 0, MaxUploadSize, zeroSum(MaxUploadSize)) })
	if code != 0 && code != http.StatusRequestEntityTooLarge {
		t.Fatalf("checksummed chunk of 50 MB to a 1000-byte upload: %d, want 413", code)
	}
	if alloc > 32<<20 {
		t.Fatalf("refusing a 50 MB chunk allocated %d MB", alloc>>20)
	}
	if off := p.offset(loc); off != 0 {
		t.Fatalf("offset %d after a refused chunk", off)
	}
}

// A legitimate 50 MB checksummed chunk is verified without being held in
// memory: it streams through the hash into a spool file, and only then
// into the upload.
func TestChecksummedChunkIsStreamedNotBuffered(t *testing.T) {
	p := newPortal(t)
	const n = MaxUploadSize
	loc := p.abs(p.createUpload("key-0000000e", n))
	var code int
	alloc := allocated(func() { code = p.checksummedPatch(loc, 0, n, zeroSum(n)) })
	if code != http.StatusNoContent {
		t.Fatalf("good 50 MB checksummed chunk: %d, want 204", code)
	}
	if off := p.offset(loc); off != n {
		t.Fatalf("offset %d after a good 50 MB chunk, want %d", off, n)
	}
	if alloc > 32<<20 {
		t.Fatalf("a 50 MB checksummed chunk allocated %d MB, want under 32 MB", alloc>>20)
	}
	// The wrong checksum is still refused, and the spool file is gone.
	loc = p.abs(p.createUpload("key-0000000f", n))
	if code := p.checksummedPatch(loc, 0, n, zeroSum(n-1)); code != statusChecksumMismatch {
		t.Fatalf("bad checksum: %d, want 460", code)
	}
	if off := p.offset(loc); off != 0 {
		t.Fatalf("offset %d after a bad chunk", off)
	}
	if left, _ := os.ReadDir(p.spoolDir); len(left) != 0 {
		t.Fatalf("spool holds %d files after the chunks were answered", len(left))
	}
}

// createUpload creates an empty tus upload of size bytes and returns its
// location.
func (p *testPortal) createUpload(key string, size int64) string {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, key, portalapi.MetaUploadName, key+"-1"))
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		p.t.Fatalf("create upload: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// abs makes an upload location absolute.
func (p *testPortal) abs(loc string) string {
	if strings.HasPrefix(loc, "http") {
		return loc
	}
	return p.url + loc
}
