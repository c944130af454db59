package portal

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"

	"github.com/motcua/motcua/sync/s3uploads"
)

// uploadStore is where the portal keeps its tus uploads, their bytes
// sealed at rest: on local disk (diskUploads, DATADIR/uploads, the
// default) or in an S3-compatible bucket (sync/s3uploads, when
// Config.UploadsURL is set). The portal composes it as tusd's core store
// and asks it for what the expiry sweeper, the health check and key
// rotation need; the policy (what is stale, what is an orphan, the locks)
// stays in the portal.
type uploadStore interface {
	// NewUpload and GetUpload are tusd's core store: uploads named by the
	// portal's ids (DEVICE-NAME), their bytes sealed as they arrive and
	// opened by GetReader. GetUpload answers tushandler.ErrNotFound for an
	// upload that does not exist.
	NewUpload(ctx context.Context, info tushandler.FileInfo) (tushandler.Upload, error)
	GetUpload(ctx context.Context, id string) (tushandler.Upload, error)
	// Remove removes whatever is kept of upload id (it may be half made or
	// an orphan): its info, its bytes, their sealed form.
	Remove(ctx context.Context, id string) error
	// Uploads returns every upload (those with their info) with when it
	// last received bytes.
	Uploads(ctx context.Context) (map[string]time.Time, error)
	// Leftovers returns, by upload id, what a crash left of uploads without
	// their info, with when it last changed.
	Leftovers(ctx context.Context) (map[string]time.Time, error)
	// LastWrite tells whether upload id has its info and when what is kept
	// of it last changed; the zero time when nothing is kept.
	LastWrite(ctx context.Context, id string) (last time.Time, hasInfo bool, err error)
	// Check writes and removes a probe.
	Check(ctx context.Context) error
	// Reseal seals upload id's info again, once meta has rewritten its
	// metadata, and its bytes once it is complete, under the current data
	// key. The caller holds the upload's lock.
	Reseal(ctx context.Context, id string, meta func(tushandler.MetaData) error) error
	Close() error
}

var (
	_ uploadStore = (*diskUploads)(nil)
	_ uploadStore = (*s3uploads.Store)(nil)
)

// openUploads opens the uploads Config names: the bucket of UploadsURL, or
// DATADIR/uploads.
func (s *Server) openUploads(ctx context.Context) (uploadStore, error) {
	if s.cfg.UploadsURL == "" {
		return openDiskUploads(ctx, s)
	}
	cfg := s3uploads.Config{URL: s.cfg.UploadsURL, Sealer: portalSealer{s}, Logger: s.log}
	if testS3Options != nil {
		cfg.ClientOptions = append(cfg.ClientOptions, testS3Options)
	}
	st, err := s3uploads.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("uploads: %w", err)
	}
	return st, nil
}

// testS3Options, set only by the package's tests, adjusts the S3 client
// of each portal's bucket.
var testS3Options func(*s3.Options)

// portalSealer seals with the portal's data keys.
type portalSealer struct{ s *Server }

func (p portalSealer) SealAppend(dst, plain []byte, place ...string) []byte {
	return p.s.keyring().SealAppend(dst, plain, place...)
}

func (p portalSealer) Open(sealed []byte, place ...string) ([]byte, error) {
	return p.s.openSealed(sealed, place...)
}
