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
