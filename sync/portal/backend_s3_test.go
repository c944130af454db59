package portal

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/motcua/motcua/internal/s3test"
)

// When the run asks for it (MOTCUA_TEST_PORTAL_UPLOADS=s3), every portal a
// test opens without an UploadsURL keeps its uploads in a fresh bucket of
// a throwaway SeaweedFS server (internal/s3test): one bucket per data
// directory, so a portal opened again on the same directory finds its
// uploads. TestMain stops the server (stopS3Uploads) after the run.

// s3Buckets maps a data directory to its bucket's uploads URL.
var s3Buckets = struct {
	sync.Mutex
	byDir map[string]string
}{byDir: map[string]string{}}

func init() {
	if !s3test.Wanted() {
		return
	}
	// Each portal's own transport, without kept-alive connections, so that
	// no connection made in a synctest bubble outlives it or is shared with
	// the world outside (synctest forbids both). In a bubble the clock is
	// fake (from the year 2000): the SDK corrects its signatures' time
	// after the server's answer, retrying, and as the fake clock runs on
	// it does again: its retries are not rationed.
	testS3Options = func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.RateLimiter = ratelimit.None })
	}
	prev := testBackend
	testBackend = func(cfg *Config) {
		if prev != nil {
			prev(cfg)
		}
		if cfg.UploadsURL == "" {
			cfg.UploadsURL = s3UploadsFor(cfg.DataDir)
		}
	}
}

// s3UploadsFor returns the uploads URL of dataDir's bucket, made on first
// use. A server that does not start fails the run: it asked for S3.
func s3UploadsFor(dataDir string) string {
	s3Buckets.Lock()
	defer s3Buckets.Unlock()
	if u, ok := s3Buckets.byDir[dataDir]; ok {
		return u
	}
	srv, err := s3test.Shared()
	if err == nil {
		var bucket string
		if bucket, err = srv.NewBucket(context.Background()); err == nil {
			s3Buckets.byDir[dataDir] = srv.UploadsURL(bucket)
			return s3Buckets.byDir[dataDir]
		}
	}
	fmt.Fprintf(os.Stderr, "%s=s3 but the S3 server does not start: %v\n", s3test.EnvUploads, err)
	os.Exit(2)
	return ""
}

// stopS3Uploads stops the S3 server, if the run started one.
func stopS3Uploads() { s3test.StopShared() }
