package portal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/motcua/motcua/internal/s3test"
	"github.com/motcua/motcua/sync/s3uploads"
)

// What the tests do to the stored uploads directly, on either back end:
// on disk to the files in DATADIR/uploads and uploads-sealed, in a bucket
// to its objects, read and written raw (not through the sealing layer).

// onS3 reports whether s keeps its uploads in a bucket.
func (s *Server) onS3() bool {
	_, ok := s.uploads.(*s3uploads.Store)
	return ok
}

// uploadKept reports whether anything is kept of upload id.
func (s *Server) uploadKept(t *testing.T, id string) bool {
	t.Helper()
	last, _, err := s.uploads.LastWrite(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return !last.IsZero()
}

// setLastWrite makes upload id look last written at at.
func (s *Server) setLastWrite(t *testing.T, id string, at time.Time) {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		for _, p := range []string{filepath.Join(u.dir, id), filepath.Join(u.dir, id+".info")} {
			if err := os.Chtimes(p, at, at); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		}
	case *s3uploads.Store:
		if err := u.SetLastWrite(context.Background(), id, at); err != nil {
			t.Fatal(err)
		}
	}
}

// dropInfo removes upload id's info, as a crash between making its bytes
// and its info would leave it.
func (s *Server) dropInfo(t *testing.T, id string) {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		if err := os.Remove(filepath.Join(u.dir, id+".info")); err != nil {
			t.Fatal(err)
		}
	case *s3uploads.Store:
		if _, err := u.Client().DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(u.Bucket()),
			Key: aws.String(id + ".info")}); err != nil {
			t.Fatal(err)
		}
	}
}

// rawSealed returns complete upload id's sealed bytes as they are stored.
func (s *Server) rawSealed(t *testing.T, id string) []byte {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		b, err := os.ReadFile(u.sealedPath(id))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case *s3uploads.Store:
		out, err := u.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(u.Bucket()), Key: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return nil
}

// writeRawSealed replaces complete upload id's sealed bytes by b.
func (s *Server) writeRawSealed(t *testing.T, id string, b []byte) {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		if err := os.WriteFile(u.sealedPath(id), b, 0o600); err != nil {
			t.Fatal(err)
		}
	case *s3uploads.Store:
		if _, err := u.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(u.Bucket()), Key: aws.String(id),
			Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))}); err != nil {
			t.Fatal(err)
		}
	}
}

// rawObjects returns every object of the uploads bucket, raw, by key; nil
// on disk.
func (s *Server) rawObjects(t *testing.T) map[string][]byte {
	t.Helper()
	u, ok := s.uploads.(*s3uploads.Store)
	if !ok {
		return nil
	}
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(u.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(u.Bucket())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			obj, err := u.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(u.Bucket()), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToString(o.Key)] = b
		}
	}
	return out
}

// scanUploads fails t for any personal data of the citizen in clear in
// the bucket's objects, or in their multipart uploads' parts, read raw;
// scanDir covers a data directory.
func (s *Server) scanUploads(t *testing.T) {
	t.Helper()
	needles := append([]string{string(scanBytes[:40]), scanName}, citizenValues...)
	for key, b := range s.rawObjects(t) {
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("personal data in clear in object %s: %q", key, n)
			}
		}
		for _, n := range needles[2:] {
			if strings.Contains(key, n) {
				t.Errorf("personal data in clear in an object's name %s", key)
			}
		}
	}
}

// spoilUploads makes the uploads unwritable: on disk, a file where the
// directory was; in S3, the bucket removed.
func (s *Server) spoilUploads(t *testing.T) {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		if err := os.RemoveAll(u.dir); err != nil {
			t.Fatal(err)
		}
		// Tests run as root, who writes in any directory: a file where the
		// directory should be is not writable for anyone.
		if err := os.WriteFile(u.dir, []byte("not a directory"), 0o600); err != nil {
			t.Fatal(err)
		}
	case *s3uploads.Store:
		ctx := context.Background()
		for key := range s.rawObjects(t) {
			u.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(u.Bucket()), Key: aws.String(key)})
		}
		if _, err := u.Client().DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(u.Bucket())}); err != nil {
			t.Fatal(err)
		}
	}
}

// skipIfS3 skips a test that is about the disk layout itself when the run
// keeps the uploads in S3.
func skipIfS3(t *testing.T, why string) {
	t.Helper()
	if s3test.Wanted() {
		t.Skip("uploads in S3: " + why)
	}
}

// spoilInfo makes upload id's info unreadable, as a full disk or a crash
// leaves it: an empty file, an object that does not open.
func (s *Server) spoilInfo(t *testing.T, id string) {
	t.Helper()
	switch u := s.uploads.(type) {
	case *diskUploads:
		if err := os.WriteFile(filepath.Join(u.dir, id+".info"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	case *s3uploads.Store:
		if _, err := u.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(u.Bucket()),
			Key: aws.String(id + ".info"), Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)}); err != nil {
			t.Fatal(err)
		}
	}
}

// diskSize is the size of upload id's file on disk (its offset).
func (s *Server) diskSize(t *testing.T, id string) int64 {
	t.Helper()
	st, err := os.Stat(filepath.Join(s.uploads.(*diskUploads).dir, id))
	if err != nil {
		return -1
	}
	return st.Size()
}
