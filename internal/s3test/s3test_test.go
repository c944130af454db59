package s3test

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// A bucket of the shared server takes an object and gives it back, and
// each call gives a bucket of its own.
func TestBucketStoresAndReturnsAnObject(t *testing.T) {
	a, b := Bucket(t), Bucket(t)
	if a == b || !strings.HasPrefix(a, "s3://") || !strings.Contains(a, "endpoint=") {
		t.Fatalf("buckets %q and %q", a, b)
	}
	srv := For(t)
	bucket := strings.TrimPrefix(a[:strings.Index(a, "?")], "s3://")
	ctx := context.Background()
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		Body: bytes.NewReader([]byte("hello"))}); err != nil {
		t.Fatal(err)
	}
	out, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") != srv.AccessKey {
		t.Errorf("the shared server's key is not in the environment")
	}
}

// A load test's server must hold a full run (1.29 GB of uploads for
// 1000 x 20): StartWith gives weed the volumes asked for, where every
// server had the unit tests' storage.
func TestLoadServerHasRoomForAFullRun(t *testing.T) {
	For(t) // skips without weed
	opts := Options{VolumeSizeMB: 256, Volumes: 64}
	if got := opts.CapacityMB(); got < 2*1290 {
		t.Fatalf("capacity %d MB", got)
	}
	srv, err := StartWith(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	args := strings.Join(srv.Args, " ")
	for _, want := range []string{"-master.volumeSizeLimitMB=256", "-volume.max=64"} {
		if !strings.Contains(args, want) {
			t.Errorf("weed started without %s: %s", want, args)
		}
	}
	if got := (Options{}).CapacityMB(); got != DefaultVolumeSizeMB*DefaultVolumes {
		t.Errorf("default capacity %d MB", got)
	}
}
