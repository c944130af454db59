// Package s3uploads keeps the reference portal's tus uploads in an
// S3-compatible bucket through tusd's s3store, sealed: no clear byte of an
// upload, and none of its metadata, reaches the bucket (sealedapi.go), and
// s3store's temporary part files are kept in memory (/dev/shm), not on a
// disk. The portal (sync/portal) composes it as its tus store when
// `motcua portal --uploads s3://...` is given.
package s3uploads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// Sentinel errors.
var (
	// ErrSealed is wrapped by the errors of sealed objects that do not open.
	ErrSealed = errors.New("sealed upload data cannot be opened")
	// ErrURL is wrapped by the errors of an uploads URL that is not one.
	ErrURL = errors.New("bad uploads URL")
)

// Sealer seals what goes to the bucket and opens what comes back, bound to
// a place (the portal's data keys, agent/seal). SealAppend appends the
// sealed bytes to dst, as append does.
type Sealer interface {
	SealAppend(dst, plain []byte, place ...string) []byte
	Open(sealed []byte, place ...string) ([]byte, error)
}

// Part sizes: the smallest part S3 takes but the last, and the part size
// aimed at. A part is held whole in memory while it is sealed and sent.
const (
	minPartSize = 5 << 20
	partSize    = 6 << 20
	// maxSegment bounds the sealed segment a reader accepts.
	maxSegment = 64 << 20
)

// probePrefix holds the health check's probe objects.
const probePrefix = ".health/"

// Config configures a Store.
type Config struct {
	// URL is s3://BUCKET?endpoint=http://host:8333&region=REGION; endpoint
	// and region are optional (AWS S3, and the region of the AWS
	// environment). Credentials come from the standard AWS environment
	// variables or configuration files, never from the URL.
	URL    string
	Sealer Sealer
	Logger *slog.Logger
	// ClientOptions adjust the S3 client (tests: its HTTP client, its
	// retries).
	ClientOptions []func(*s3.Options)
}

// Location is what an uploads URL names.
type Location struct {
	Bucket, Endpoint, Region string
}

// ParseURL reads an uploads URL, naming what is wrong with one that is not.
func ParseURL(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the URL, which may hold a secret.
		return Location{}, fmt.Errorf("%w: not a URL", ErrURL)
	}
	if u.Scheme != "s3" {
		return Location{}, fmt.Errorf("%w: %q: the scheme must be s3://", ErrURL, u.Redacted())
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("%w: credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", ErrURL)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return Location{}, fmt.Errorf("%w: %q: want s3://BUCKET with optional endpoint and region parameters", ErrURL, u.Redacted())
	}
	loc := Location{Bucket: u.Host}
	for k, v := range u.Query() {
		switch k {
		case "endpoint":
			e, err := url.Parse(v[0])
			if err != nil {
				return Location{}, fmt.Errorf("%w: the endpoint is not a URL", ErrURL)
			}
			if (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" || e.User != nil {
				return Location{}, fmt.Errorf("%w: endpoint %q must be an http:// or https:// URL without credentials", ErrURL, e.Redacted())
			}
			loc.Endpoint = v[0]
		case "region":
			loc.Region = v[0]
		default:
			return Location{}, fmt.Errorf("%w: unknown parameter %q (known: endpoint, region)", ErrURL, k)
		}
	}
	return loc, nil
}

// Store is the portal's uploads in a bucket.
type Store struct {
	loc    Location
	client *s3.Client
	api    *sealedAPI
	tus    s3store.S3Store
	tmpDir string
	log    *slog.Logger
}

// Open connects to the bucket cfg.URL names and checks that it answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	loc, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Sealer == nil {
		return nil, errors.New("s3uploads: no sealer")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var opts []func(*config.LoadOptions) error
	if loc.Region != "" {
		opts = append(opts, config.WithRegion(loc.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("uploads bucket %s: AWS configuration: %w", loc.Bucket, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, append([]func(*s3.Options){func(o *s3.Options) {
		if loc.Endpoint != "" {
			o.BaseEndpoint = aws.String(loc.Endpoint)
			o.UsePathStyle = true
		}
		// S3-compatible servers differ on the newer streamed checksums.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.Retryer = newRetryer()
		o.HTTPClient = newHTTPClient()
	}}, cfg.ClientOptions...)...)
	// A listing, not HeadBucket: its errors have a body, which names the
	// fault (and lets the SDK correct a clock skew).
	if _, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), MaxKeys: aws.Int32(1)}); err != nil {
		return nil, fmt.Errorf("uploads bucket %s at %s: %w", loc.Bucket, endpointName(loc), err)
	}
	mem := memoryDir()
	if mem == "/dev/shm" {
		removeStaleTemp(mem, cfg.Logger)
	}
	tmp, err := os.MkdirTemp(mem, tmpPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("uploads bucket %s: temporary directory: %w", loc.Bucket, err)
	}
	if !strings.HasPrefix(tmp, "/dev/shm/") {
		cfg.Logger.Warn("no /dev/shm: the parts of uploads in transit wait in a temporary directory on disk, in clear", "dir", tmp)
	}
	s := &Store{loc: loc, client: client, api: &sealedAPI{Client: client, sealer: cfg.Sealer},
		tmpDir: tmp, log: cfg.Logger}
	s.tus = s3store.New(loc.Bucket, s.api)
	s.tus.TemporaryDirectory = tmp
	s.tus.MinPartSize = minPartSize
	s.tus.PreferredPartSize = partSize
	s.tus.MaxBufferedParts = 1
	s.tus.SetConcurrentPartUploads(concurrentParts)
	return s, nil
}

// concurrentParts is how many uploads' parts s3store takes at once. It
// takes a slot before it reads a part from the request's body, so each
// PATCH or creation whose body is still arriving holds one: with its
// default of 10, ten kiosks on slow links (or whose link stopped, until the
// network timeout) held every slot and every other upload waited behind
// them. As many as the portal's connections (DefaultMaxConns, 512), and
// more: a slot holds at most one part file in memory, and most uploads
// are one small part.
const concurrentParts = 1024

// Retries: each request is tried up to retryAttempts times, with the
// SDK's jittered exponential backoff up to retryMaxBackoff.
const (
	retryAttempts   = 5
	retryMaxBackoff = 5 * time.Second
)

// newRetryer returns the S3 client's retryer: the SDK's standard one
// without its retry quota. The quota is a token bucket shared by every
// request of the client (500 tokens, 5 spent per retry, 1 back per
// success): under a thousand kiosks a busy minute of the bucket's server
// emptied it, and from then on no request was retried, so each passing
// fault became a failed upload ("retry quota exceeded"). Retries stay
// bounded by attempts and backoff.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryAttempts
		o.MaxBackoff = retryMaxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// Connections to the bucket's server: as many idle ones are kept as
// requests run at once, so a portal receiving from a thousand kiosks does
// not open (and leave in TIME_WAIT) a connection per request, as the SDK's
// default of 10 idle connections per host did; a server that takes a
// request and never answers it is given up on after responseTimeout, and
// the request retried.
const (
	maxIdleConns    = 512
	responseTimeout = 2 * time.Minute
)

// newHTTPClient returns the S3 client's HTTP client.
func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = maxIdleConns
		t.MaxIdleConnsPerHost = maxIdleConns
		t.ResponseHeaderTimeout = responseTimeout
	})
}

func endpointName(loc Location) string {
	if loc.Endpoint == "" {
		return "AWS S3"
	}
	return loc.Endpoint
}

// memoryDir is where s3store's part files wait: memory, where there is
// /dev/shm.
func memoryDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// tmpPrefix starts the name of a store's temporary directory:
// motcua-s3-PID-RANDOM.
const tmpPrefix = "motcua-s3-"

// removeStaleTemp removes from dir the temporary directories of processes
// that are gone: a portal killed or crashed leaves its directory, with the
// clear bytes of the parts it was receiving.
func removeStaleTemp(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tmpPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, named := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !named || err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			log.Warn("a dead portal's temporary directory could not be removed", "dir", e.Name(), "err", err)
		} else {
			log.Info("a dead portal's temporary directory was removed", "dir", e.Name())
		}
	}
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.loc.Bucket }

// Client returns the S3 client, which reads the bucket raw (tests).
func (s *Store) Client() *s3.Client { return s.client }

// Close removes the store's temporary directory.
func (s *Store) Close() error { return os.RemoveAll(s.tmpDir) }

// validID reports whether id can name an upload's objects.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "+/") && !strings.HasPrefix(id, ".")
}

// upload is an upload of s3store under the portal's id (s3store's own is
// ID+MULTIPARTID).
type upload struct {
	tushandler.Upload
	s  *Store
	id string
}

// GetInfo returns the upload's info under the portal's id.
func (u *upload) GetInfo(ctx context.Context) (tushandler.FileInfo, error) {
	info, err := u.Upload.GetInfo(ctx)
	info.ID = u.id
	return info, err
}

// WriteChunk writes the chunk and notes when.
func (u *upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	n, err := u.Upload.WriteChunk(ctx, offset, src)
	if n > 0 {
		if terr := u.s.touch(context.WithoutCancel(ctx), u.id); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	return n, err
}

// NewUpload creates upload info.ID, or removes what it made of it and
// fails.
func (s *Store) NewUpload(ctx context.Context, info tushandler.FileInfo) (tushandler.Upload, error) {
	if !validID(info.ID) {
		return nil, fmt.Errorf("s3uploads: %q cannot name an upload", info.ID)
	}
	up, err := s.tus.NewUpload(ctx, info)
	if err == nil {
		err = s.touch(ctx, info.ID)
	}
	if err != nil {
		if rerr := s.Remove(context.WithoutCancel(ctx), info.ID); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("create upload %s: %w", info.ID, err)
	}
	return &upload{Upload: up, s: s, id: info.ID}, nil
}

// GetUpload returns upload id; handler.ErrNotFound if it has no info.
func (s *Store) GetUpload(ctx context.Context, id string) (tushandler.Upload, error) {
	if !validID(id) {
		return nil, tushandler.ErrNotFound
	}
	info, err := s.readInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	up, err := s.tus.GetUpload(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	return &upload{Upload: up, s: s, id: id}, nil
}

// readInfo reads upload id's info as s3store wrote it.
func (s *Store) readInfo(ctx context.Context, id string) (tushandler.FileInfo, error) {
	var info tushandler.FileInfo
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id + suffixInfo)})
	if notFound(err) {
		return info, tushandler.ErrNotFound
	}
	if err != nil {
		return info, fmt.Errorf("upload %s: %w", id, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return info, fmt.Errorf("upload %s: its info: %w", id, err)
	}
	if !strings.HasPrefix(info.ID, id+"+") {
		return info, fmt.Errorf("upload %s: its info names upload %q", id, info.ID)
	}
	return info, nil
}

// notFound reports whether err says an object does not exist.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"))
}

// touch notes that upload id received bytes now, by this machine's clock
// as a file's modification time would be: the expiry sweeper judges it,
// and S3's own times are the server's.
func (s *Store) touch(ctx context.Context, id string) error {
	return s.SetLastWrite(ctx, id, time.Now())
}

// SetLastWrite records t as when upload id last received bytes.
func (s *Store) SetLastWrite(ctx context.Context, id string, t time.Time) error {
	body := []byte(t.UTC().Format(time.RFC3339Nano))
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id + suffixTouched),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return fmt.Errorf("upload %s: note its last write: %w", id, err)
	}
	return nil
}

// Remove removes upload id: its info first (then no request reaches it),
// its multipart upload, its finished object, its incomplete part and its
// last write. What a failure leaves is swept as leftovers.
func (s *Store) Remove(ctx context.Context, id string) error {
	if !validID(id) {
		return fmt.Errorf("remove upload %q: not an upload id", id)
	}
	bucket := aws.String(s.loc.Bucket)
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(id + suffixInfo)}); err != nil {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	ids, err := s.multipartUploads(ctx, id)
	if err != nil {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	var errs []error
	for _, mu := range ids {
		if aws.ToString(mu.Key) != id {
			continue
		}
		if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: mu.Key, UploadId: mu.UploadId}); err != nil {
			errs = append(errs, err)
		}
	}
	for _, key := range []string{id, id + suffixPart, id + suffixTouched} {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	return nil
}

// multipartUploads lists the bucket's multipart uploads in progress whose
// key starts with prefix.
func (s *Store) multipartUploads(ctx context.Context, prefix string) ([]types.MultipartUpload, error) {
	var out []types.MultipartUpload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.loc.Bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads: %w", err)
		}
		out = append(out, page.Uploads...)
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// Uploads returns every upload (every id with an info) with when it last
// received bytes.
func (s *Store) Uploads(ctx context.Context) (map[string]time.Time, error) {
	ups, _, err := s.scan(ctx)
	return ups, err
}

// Leftovers returns what a crash left of uploads without their info (an
// incomplete part, a finished object, a multipart upload, a last write),
// by upload id, with when it last changed.
func (s *Store) Leftovers(ctx context.Context) (map[string]time.Time, error) {
	_, left, err := s.scan(ctx)
	return left, err
}

// scan lists the bucket: the uploads and the leftovers, with their last
// writes (recorded by the portal's clock where there is one, otherwise
// the server's time of the latest object).
func (s *Store) scan(ctx context.Context) (uploads, leftovers map[string]time.Time, err error) {
	type entry struct {
		info, touched bool
		last          time.Time
	}
	seen := map[string]*entry{}
	get := func(id string) *entry {
		if seen[id] == nil {
			seen[id] = &entry{}
		}
		return seen[id]
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.loc.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list the uploads bucket %s: %w", s.loc.Bucket, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasPrefix(key, ".") {
				continue // health probes
			}
			id, suffix := objectKind(key)
			e := get(id)
			switch suffix {
			case suffixInfo:
				e.info = true
			case suffixTouched:
				e.touched = true
			}
			if t := aws.ToTime(o.LastModified); t.After(e.last) {
				e.last = t
			}
		}
	}
	mus, err := s.multipartUploads(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	for _, mu := range mus {
		e := get(aws.ToString(mu.Key))
		if t := aws.ToTime(mu.Initiated); t.After(e.last) {
			e.last = t
		}
	}
	uploads, leftovers = map[string]time.Time{}, map[string]time.Time{}
	for id, e := range seen {
		if e.touched {
			if t, err := s.lastWrite(ctx, id); err == nil {
				e.last = t
			} else if !notFound(err) {
				return nil, nil, err
			}
		}
		if e.info {
			uploads[id] = e.last
		} else {
			leftovers[id] = e.last
		}
	}
	return uploads, leftovers, nil
}

// lastWrite reads when upload id last received bytes.
func (s *Store) lastWrite(ctx context.Context, id string) (time.Time, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id + suffixTouched)})
	if err != nil {
		return time.Time{}, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 100))
	if err != nil {
		return time.Time{}, fmt.Errorf("upload %s: its last write: %w", id, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("upload %s: its last write %q: %w", id, b, err)
	}
	return t, nil
}

// Check lists the bucket, writes a probe object to it and removes it (a
// server may make a bucket that is gone again on a write).
func (s *Store) Check(ctx context.Context) error {
	key := aws.String(probePrefix + fmt.Sprintf("probe-%d", time.Now().UnixNano()))
	bucket := aws.String(s.loc.Bucket)
	if _, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1)}); err != nil {
		return fmt.Errorf("list the uploads bucket %s: %w", s.loc.Bucket, err)
	}
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte("ok")),
		ContentLength: aws.Int64(2)}); err != nil {
		return fmt.Errorf("write to the uploads bucket %s: %w", s.loc.Bucket, err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}); err != nil {
		return fmt.Errorf("remove a probe from the uploads bucket %s: %w", s.loc.Bucket, err)
	}
	return nil
}

// Reseal seals upload id's info again (after meta has rewritten its
// metadata) and, once the upload is finished, its bytes, under the
// sealer's current key. An upload still receiving keeps its parts as they
// are: they still open.
func (s *Store) Reseal(ctx context.Context, id string, meta func(tushandler.MetaData) error) error {
	info, err := s.readInfo(ctx, id)
	if errors.Is(err, tushandler.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if meta != nil {
		if err := meta(info.MetaData); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(info)
	if _, err := s.api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id + suffixInfo),
		Body: bytes.NewReader(b)}); err != nil {
		return fmt.Errorf("upload %s: write its info: %w", id, err)
	}
	up, err := s.GetUpload(ctx, id)
	if err != nil {
		return err
	}
	if cur, err := up.GetInfo(ctx); err != nil || cur.Offset < cur.Size {
		return err
	}
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id)})
	if notFound(err) {
		return nil // its last bytes arrived but it is not finished yet
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", id, err)
	}
	plain, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return err
	}
	body := s.api.sealObject(id, plain, partSize)
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(id),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
		return fmt.Errorf("upload %s: write its bytes: %w", id, err)
	}
	return nil
}

// LastWrite tells whether upload id has its info and when what is kept of
// it last changed (its recorded last write, otherwise the server's time of
// its latest object); the zero time when nothing is kept.
func (s *Store) LastWrite(ctx context.Context, id string) (last time.Time, hasInfo bool, err error) {
	if !validID(id) {
		return time.Time{}, false, nil
	}
	touched := false
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.loc.Bucket), Prefix: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("upload %s: %w", id, err)
		}
		for _, o := range page.Contents {
			oid, suffix := objectKind(aws.ToString(o.Key))
			if oid != id {
				continue // another upload whose id starts with id
			}
			hasInfo = hasInfo || suffix == suffixInfo
			touched = touched || suffix == suffixTouched
			if t := aws.ToTime(o.LastModified); t.After(last) {
				last = t
			}
		}
	}
	mus, err := s.multipartUploads(ctx, id)
	if err != nil {
		return time.Time{}, false, err
	}
	for _, mu := range mus {
		if aws.ToString(mu.Key) == id && aws.ToTime(mu.Initiated).After(last) {
			last = aws.ToTime(mu.Initiated)
		}
	}
	if touched {
		t, err := s.lastWrite(ctx, id)
		if err == nil {
			return t, hasInfo, nil
		}
		if !notFound(err) {
			return time.Time{}, false, err
		}
	}
	return last, hasInfo, nil
}
