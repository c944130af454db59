//go:build load

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/motcua/motcua/internal/s3test"
)

// loadS3 sizes the load test's weed: 16 GB in volumes of 256 MB, room for
// a full 1000 x 20 run (1.29 GB of uploads) many times over, where the unit
// tests' small volumes fill up one by one under a thousand kiosks.
var loadS3 = s3test.Options{VolumeSizeMB: 256, Volumes: 64}

// startS3 starts a SeaweedFS S3 server (internal/s3test) with a fresh
// bucket for the uploads, puts its identity in this process's AWS
// environment (which the portals inherit), and returns the server, the
// portals' --uploads URL and the weed process's id.
func startS3(ctx context.Context) (*s3test.Server, string, string, int, error) {
	srv, err := s3test.StartWith(ctx, loadS3)
	if err != nil {
		return nil, "", "", 0, err
	}
	bucket, err := srv.NewBucket(ctx)
	if err != nil {
		srv.Stop()
		return nil, "", "", 0, err
	}
	srv.SetEnv()
	pid, err := childNamed("weed")
	if err != nil {
		srv.Stop()
		return nil, "", "", 0, err
	}
	return srv, bucket, srv.UploadsURL(bucket), pid, nil
}

// childNamed finds this process's child whose command is name.
func childNamed(name string) (int, error) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	me := os.Getpid()
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		f := strings.Fields(s[rp+1:])
		if s[lp+1:rp] != name || len(f) < 2 || f[1] != strconv.Itoa(me) {
			continue
		}
		return strconv.Atoi(strings.Fields(s)[0])
	}
	return 0, fmt.Errorf("no child process %s", name)
}

// bucketSize adds up the sizes of the objects in bucket, -1 when it
// cannot.
func bucketSize(ctx context.Context, srv *s3test.Server, bucket string) int64 {
	var n int64
	p := s3.NewListObjectsV2Paginator(srv.Client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return -1
		}
		for _, o := range page.Contents {
			n += aws.ToInt64(o.Size)
		}
	}
	return n
}
