package s3uploads

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/agent/seal"
	"github.com/motcua/motcua/internal/s3test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.StopShared()
	os.Exit(code)
}

func TestParseURLNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want Location
		err  string
	}{
		{"s3://uploads", Location{Bucket: "uploads"}, ""},
		{"s3://uploads?endpoint=http://127.0.0.1:8333&region=ap-southeast-1",
			Location{Bucket: "uploads", Endpoint: "http://127.0.0.1:8333", Region: "ap-southeast-1"}, ""},
		{"https://uploads", Location{}, "scheme"},
		{"s3://", Location{}, "BUCKET"},
		{"s3://uploads/folder", Location{}, "BUCKET"},
		{"s3://key:secret@uploads", Location{}, "AWS_ACCESS_KEY_ID"},
		{"s3://uploads?endpoint=127.0.0.1:8333", Location{}, "endpoint"},
		{"s3://uploads?endpoint=http://key:secret@127.0.0.1:8333", Location{}, "endpoint"},
		{"s3://uploads?acl=public", Location{}, `"acl"`},
	} {
		got, err := ParseURL(tc.url)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		case tc.err != "" && (!errors.Is(err, ErrURL) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseURL(%q) error %v; want ErrURL naming %s", tc.url, err, tc.err)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("ParseURL(%q) error shows the secret: %v", tc.url, err)
		}
	}
}

// openStore opens a store on a fresh bucket of the test server.
func openStore(t *testing.T, sealer Sealer, opts ...func(*s3.Options)) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{URL: s3test.Bucket(t), Sealer: sealer, ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rawObjects reads every object of the store's bucket as stored.
func rawObjects(t *testing.T, st *Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	list, err := st.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(st.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		obj, err := st.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(st.Bucket()), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		out[aws.ToString(o.Key)] = b
	}
	return out
}

// checkNoClear fails t if any object of the bucket holds a 32-byte run
// of content, or the secret metadata value.
func checkNoClear(t *testing.T, st *Store, content []byte, secret string) {
	t.Helper()
	objects := rawObjects(t, st)
	if len(objects) == 0 {
		t.Fatal("no object in the bucket")
	}
	for key, b := range objects {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("object %s holds the metadata in clear", key)
		}
		for at := 0; at+32 <= len(content); at += 4096 {
			if bytes.Contains(b, content[at:at+32]) {
				t.Errorf("object %s holds the upload's bytes from %d in clear", key, at)
				break
			}
		}
	}
}

// No clear byte of an upload, and none of its metadata, reaches the
// bucket: not while it is in progress (the incomplete part, the parts of
// its multipart upload), not once it is finished; and what comes back
// opens to the bytes sent, with the offset in clear bytes.
func TestNoClearByteOfAnUploadReachesTheBucket(t *testing.T) {
	st := openStore(t, seal.Ephemeral())
	ctx := context.Background()
	content := make([]byte, 7<<20) // a whole part and the rest
	rand.Read(content)
	const secret = "Nguyễn Văn An 001095012345"
	up, err := st.NewUpload(ctx, tushandler.FileInfo{ID: "dev-1-key-1", Size: int64(len(content)),
		MetaData: tushandler.MetaData{"manifest": secret}})
	if err != nil {
		t.Fatal(err)
	}
	// A chunk shorter than a part waits as the incomplete part.
	if n, err := up.WriteChunk(ctx, 0, bytes.NewReader(content[:1<<20])); err != nil || n != 1<<20 {
		t.Fatalf("first chunk: %d, %v", n, err)
	}
	checkNoClear(t, st, content[:1<<20], secret)
	// Read again from the bucket, the offset counts clear bytes.
	again, err := st.GetUpload(ctx, "dev-1-key-1")
	if err != nil {
		t.Fatal(err)
	}
	info, err := again.GetInfo(ctx)
	if err != nil || info.Offset != 1<<20 || info.ID != "dev-1-key-1" || info.MetaData["manifest"] != secret {
		t.Fatalf("info after the first chunk: %+v, %v", info, err)
	}
	if n, err := again.WriteChunk(ctx, 1<<20, bytes.NewReader(content[1<<20:])); err != nil || n != int64(len(content))-1<<20 {
		t.Fatalf("the rest: %d, %v", n, err)
	}
	if info, _ := again.GetInfo(ctx); info.Offset != int64(len(content)) {
		t.Fatalf("offset %d after the rest, want %d", info.Offset, len(content))
	}
	if err := again.FinishUpload(ctx); err != nil {
		t.Fatal(err)
	}
	checkNoClear(t, st, content, secret)
	done, err := st.GetUpload(ctx, "dev-1-key-1")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := done.GetReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	rd.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back %d of %d bytes, %v", len(got), len(content), err)
	}
}

// A finished upload's object copied over another's does not open there:
// each segment is bound to its upload and part.
func TestUploadObjectMovedToAnotherUploadDoesNotOpen(t *testing.T) {
	st := openStore(t, seal.Ephemeral())
	ctx := context.Background()
	for _, id := range []string{"dev-1-a", "dev-1-b"} {
		up, err := st.NewUpload(ctx, tushandler.FileInfo{ID: id, Size: 3000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.WriteChunk(ctx, 0, bytes.NewReader(bytes.Repeat([]byte(id), 600))); err != nil {
			t.Fatal(err)
		}
		if err := up.FinishUpload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a := rawObjects(t, st)["dev-1-a"]
	if _, err := st.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(st.Bucket()), Key: aws.String("dev-1-b"),
		Body: bytes.NewReader(a)}); err != nil {
		t.Fatal(err)
	}
	up, err := st.GetUpload(ctx, "dev-1-b")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := up.GetReader(ctx)
	if err == nil {
		_, err = io.ReadAll(rd)
		rd.Close()
	}
	if !errors.Is(err, ErrSealed) || !errors.Is(err, seal.ErrBroken) || !strings.Contains(err.Error(), "dev-1-b") {
		t.Fatalf("reading another upload's object: %v", err)
	}
}

// failInfo is a transport that refuses to write uploads' .info objects,
// as a bucket that fails between the two writes of a creation.
type failInfo struct{ base http.RoundTripper }

func (f failInfo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".info") {
		return nil, errors.New("injected: the bucket is unreachable")
	}
	return f.base.RoundTrip(r)
}

// A creation that fails once the multipart upload is made leaves nothing:
// no multipart upload, no object. Left, it would be an orphan no request
// reaches.
func TestS3UploadsFailedCreationLeavesNothing(t *testing.T) {
	st := openStore(t, seal.Ephemeral(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: failInfo{base: http.DefaultTransport}}
		o.RetryMaxAttempts = 1
	})
	ctx := context.Background()
	if _, err := st.NewUpload(ctx, tushandler.FileInfo{ID: "dev-1-c", Size: 100}); err == nil {
		t.Fatal("creation succeeded though its info could not be written")
	}
	mus, err := st.multipartUploads(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mus) != 0 || len(rawObjects(t, st)) != 0 {
		t.Fatalf("left after a failed creation: %d multipart uploads, objects %v", len(mus), rawObjects(t, st))
	}
	if _, err := st.GetUpload(ctx, "dev-1-c"); !errors.Is(err, tushandler.ErrNotFound) {
		t.Fatalf("GetUpload after a failed creation: %v, want not found", err)
	}
}

// A portal killed while receiving leaves its temporary directory, with
// clear bytes of a part, in /dev/shm: the next store opened removes those
// of processes that are gone, and leaves those of live ones.
func TestTemporaryDirectoriesOfDeadPortalsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, tmpPrefix+strconv.Itoa(gone.Process.Pid)+"-1")
	live := filepath.Join(dir, tmpPrefix+strconv.Itoa(os.Getppid())+"-2")
	mine := filepath.Join(dir, tmpPrefix+strconv.Itoa(os.Getpid())+"-3")
	other := filepath.Join(dir, "other-1")
	unnamed := filepath.Join(dir, tmpPrefix+"12345") // no pid in its name
	for _, d := range []string{dead, live, mine, other, unnamed} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "tusd-s3-tmp-1"), []byte("clear bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleTemp(dir, slog.New(slog.DiscardHandler))
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the directory of a process that is gone is left: %v", err)
	}
	for _, d := range []string{live, mine, other, unnamed} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(d), err)
		}
	}
}

// outage is a transport that answers 503 Slow Down to every request while
// down, and to the next fail requests after, as a bucket under more load
// than it takes.
type outage struct {
	base       http.RoundTripper
	down       atomic.Bool
	fail       atomic.Int32
	unanswered atomic.Int32
}

func (o *outage) RoundTrip(r *http.Request) (*http.Response, error) {
	if o.down.Load() || o.fail.Add(-1) >= 0 {
		o.unanswered.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Slow Down",
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	return o.base.RoundTrip(r)
}

// The AWS SDK's standard retryer spends a token bucket on retries (500
// tokens, 5 a retry) and refills it one token per success: a busy minute
// of the bucket's server empties it, and from then on no request is ever
// retried ("retry quota exceeded"), so every passing fault of a thousand
// kiosks' traffic became a 500. The store's retries are bounded by
// attempts and backoff only.
func TestS3RetryQuotaExceededAfterOutageFailsLaterRequests(t *testing.T) {
	tr := &outage{base: http.DefaultTransport}
	st := openStore(t, seal.Ephemeral(), func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: tr}
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond)
	})
	ctx := context.Background()
	tr.down.Store(true)
	for range 80 {
		if err := st.Check(ctx); err == nil {
			t.Fatal("Check succeeded with the bucket down")
		}
	}
	tr.down.Store(false)
	for i := range 20 {
		tr.fail.Store(1) // one passing fault, which a retry gets past
		if err := st.Check(ctx); err != nil {
			t.Fatalf("Check %d after the outage, with one passing fault: %v", i, err)
		}
	}
}

// tusd's s3store takes one of its part-upload slots (10 by default, for
// the whole store) before it reads a part from the request's body, so ten
// kiosks whose bodies trickle in (or stop, until the network timeout) held
// every slot, and every other upload of a thousand kiosks waited behind
// them: the load test's stall, uploads stuck in flight. The store takes
// as many bodies at once as the portal has kiosks sending.
func TestStalledBodiesHoldEveryUploadSlot(t *testing.T) {
	st := openStore(t, seal.Ephemeral())
	ctx := context.Background()
	var stalled []*io.PipeWriter
	t.Cleanup(func() {
		for _, w := range stalled {
			w.CloseWithError(errors.New("the kiosk went away"))
		}
	})
	for i := range 2 * 10 {
		id := "dev-1-stalled-" + strconv.Itoa(i)
		up, err := st.NewUpload(ctx, tushandler.FileInfo{ID: id, Size: 1000})
		if err != nil {
			t.Fatal(err)
		}
		r, w := io.Pipe()
		stalled = append(stalled, w)
		go up.WriteChunk(ctx, 0, r) // its body sends nothing yet
	}
	up, err := st.NewUpload(ctx, tushandler.FileInfo{ID: "dev-1-quick", Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := up.WriteChunk(ctx, 0, strings.NewReader("hello"))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a bound on a hang, not a measure
		t.Fatal("an upload whose body is all there waited 30 s behind uploads whose bodies stalled")
	}
}
