// Package s3test starts a throwaway SeaweedFS S3 server (`weed server -s3`)
// for tests: in a temporary directory, on free loopback ports, with one
// access key made for it. Tests take a fresh bucket each (Bucket), so they
// share one server per test binary (Shared), which the binary's TestMain
// stops (StopShared).
//
// A test that needs S3 is skipped, saying why, when no weed binary is found
// and the run did not ask for S3 (MOTCUA_TEST_PORTAL_UPLOADS unset); when
// the run asked for it (MOTCUA_TEST_PORTAL_UPLOADS=s3), a server that
// cannot start fails the test.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// EnvUploads is the environment variable by which a test run asks for the
// portal's uploads in S3 ("s3").
const EnvUploads = "MOTCUA_TEST_PORTAL_UPLOADS"

// EnvWeed names the weed binary to run; empty means "weed" on PATH, then
// /usr/local/bin/weed.
const EnvWeed = "MOTCUA_TEST_WEED"

// Region is the region the server is addressed with (SeaweedFS takes any).
const Region = "us-east-1"

// ErrNoWeed is returned by Start when no weed binary is found.
var ErrNoWeed = errors.New("no weed binary (SeaweedFS): run packaging/install-deps.sh or set " + EnvWeed)

// startTimeout bounds the wait for a started server to answer S3.
const startTimeout = 90 * time.Second

// masterTOML makes the master grow one volume at a time for a collection
// (a bucket), not seven: tests make many small buckets.
const masterTOML = `[master.volume_growth]
copy_1 = 1
copy_2 = 2
copy_3 = 3
copy_other = 1
`

// Server is a running SeaweedFS S3 server.
type Server struct {
	// Endpoint is the S3 API's base URL (http://127.0.0.1:PORT).
	Endpoint string
	// AccessKey and SecretKey are the one identity the server knows.
	AccessKey, SecretKey string
	// Client is an S3 client for the server, signed with that identity.
	Client *s3.Client
	// Args are weed's arguments.
	Args []string

	dir  string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// Wanted reports whether the test run asked for the uploads in S3.
func Wanted() bool { return os.Getenv(EnvUploads) == "s3" }

// Weed returns the path of the weed binary, or ErrNoWeed.
func Weed() (string, error) {
	if p := os.Getenv(EnvWeed); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %w", ErrNoWeed, EnvWeed, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/local/bin/weed"); err == nil {
		return "/usr/local/bin/weed", nil
	}
	return "", ErrNoWeed
}

// Options size a server's storage: weed keeps objects in volumes, each
// full at VolumeSizeMB, and makes at most Volumes of them, so a server
// holds about VolumeSizeMB x Volumes MB, after which every write fails
// ("No writable volumes and no free volumes left").
type Options struct {
	// VolumeSizeMB is the size at which a volume is full; 0 means 32.
	VolumeSizeMB int
	// Volumes is how many volumes the server may make; 0 means 1000.
	Volumes int
}

// Defaults for Options: small volumes, since tests make many small
// buckets and each bucket has volumes of its own.
const (
	DefaultVolumeSizeMB = 32
	DefaultVolumes      = 1000
)

// withDefaults returns o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	if o.VolumeSizeMB <= 0 {
		o.VolumeSizeMB = DefaultVolumeSizeMB
	}
	if o.Volumes <= 0 {
		o.Volumes = DefaultVolumes
	}
	return o
}

// CapacityMB is about how many megabytes a server started with o holds.
func (o Options) CapacityMB() int {
	o = o.withDefaults()
	return o.VolumeSizeMB * o.Volumes
}

// Start starts a server in a new temporary directory and waits until its
// S3 API answers, with the default Options.
func Start(ctx context.Context) (*Server, error) {
	return StartWith(ctx, Options{})
}

// StartWith is Start with storage sized by opts (a load test's server
// holds more than a unit test's).
func StartWith(ctx context.Context, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	weed, err := Weed()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, fmt.Errorf("s3test: %w", err)
	}
	s := &Server{dir: dir, AccessKey: "s3test" + randomHex(7), SecretKey: randomHex(20), done: make(chan error, 1)}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	conf, _ := json.Marshal(map[string]any{"identities": []any{map[string]any{
		"name":        "s3test",
		"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}})
	// Each bucket is a collection of its own volumes: grow one at a time
	// (weed reads master.toml from its working directory).
	if err := os.WriteFile(filepath.Join(dir, "master.toml"), []byte(masterTOML), 0o600); err != nil {
		return fail(fmt.Errorf("s3test: %w", err))
	}
	confPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return fail(fmt.Errorf("s3test: %w", err))
	}
	ports, err := freePorts(8)
	if err != nil {
		return fail(fmt.Errorf("s3test: free ports: %w", err))
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return fail(fmt.Errorf("s3test: %w", err))
	}
	args := []string{"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=" + data,
		"-master.port=" + strconv.Itoa(ports[0]), "-master.port.grpc=" + strconv.Itoa(ports[1]),
		"-master.volumeSizeLimitMB=" + strconv.Itoa(opts.VolumeSizeMB), "-master.telemetry=false",
		"-volume.port=" + strconv.Itoa(ports[2]), "-volume.port.grpc=" + strconv.Itoa(ports[3]),
		"-volume.max=" + strconv.Itoa(opts.Volumes), "-volume.preStopSeconds=0",
		"-filer", "-filer.port=" + strconv.Itoa(ports[4]), "-filer.port.grpc=" + strconv.Itoa(ports[5]),
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3", "-s3.port=" + strconv.Itoa(ports[6]), "-s3.port.grpc=" + strconv.Itoa(ports[7]),
		"-s3.port.iceberg=0", "-s3.config=" + confPath,
		// As AWS: a write to a bucket that is gone fails.
		"-s3.autoCreateBucket=false",
	}
	s.log, err = os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return fail(fmt.Errorf("s3test: %w", err))
	}
	s.Args = args
	s.cmd = exec.Command(weed, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Its own process group, so that Stop ends whatever it started; it
	// dies with the test binary if no TestMain stops it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("s3test: start %s: %w", weed, err))
	}
	go func() { s.done <- s.cmd.Wait() }()
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(ports[6])
	s.Client = s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		// No kept-alive connections: a test in a synctest bubble may make a
		// bucket, and no connection may cross a bubble's boundary.
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	})
	if err := s.waitReady(ctx); err != nil {
		return fail(err)
	}
	// The first write grows the server's first volumes, which takes
	// seconds: done here, a test's first write (a portal's health probe
	// with its 2 s bound) is quick.
	warm, err := s.NewBucket(ctx)
	if err == nil {
		_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(warm), Key: aws.String("warm"), Body: strings.NewReader("warm")})
	}
	if err != nil {
		return fail(fmt.Errorf("s3test: first write: %w; weed's log: %s", err, s.logTail()))
	}
	return s, nil
}

// waitReady waits until the server lists its buckets.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last error
	for {
		req, rcancel := context.WithTimeout(ctx, 5*time.Second)
		_, last = s.Client.ListBuckets(req, &s3.ListBucketsInput{})
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("s3test: weed exited: %v; its log: %s", err, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("s3test: S3 at %s did not answer within %v: %w; weed's log: %s", s.Endpoint, startTimeout, last, s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logTail returns the end of weed's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "weed.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop stops the server and removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	if s.log != nil {
		s.log.Close()
	}
	if s.dir != "" {
		err = os.RemoveAll(s.dir)
	}
	return err
}

// NewBucket creates a bucket with a fresh name and returns the name.
func (s *Server) NewBucket(ctx context.Context) (string, error) {
	name := "t" + randomHex(10)
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return "", fmt.Errorf("s3test: create bucket %s: %w", name, err)
	}
	return name, nil
}

// UploadsURL is the portal's uploads URL for bucket on this server.
func (s *Server) UploadsURL(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + url.QueryEscape(s.Endpoint) + "&region=" + Region
}

// Env is the environment a process needs to reach the server with the
// standard AWS variables.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey, "AWS_REGION=" + Region}
}

// SetEnv sets the test process's standard AWS variables to reach the
// server (processes it starts inherit them).
func (s *Server) SetEnv() {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Shared returns the test binary's one server, started on first use. Its
// identity is set in the process's AWS environment variables.
func Shared() (*Server, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = Start(context.Background())
		if shared.err == nil {
			shared.srv.SetEnv()
		}
	}
	return shared.srv, shared.err
}

// StopShared stops the shared server, if one was started; a TestMain
// calls it after m.Run.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.Stop()
		shared.srv = nil
	}
}

// Bucket returns the uploads URL (s3://...) of a fresh bucket on the
// shared server. It skips t when weed is missing and the run did not ask
// for S3, and fails it when the server cannot start.
func Bucket(t testing.TB) string {
	t.Helper()
	srv := For(t)
	name, err := srv.NewBucket(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return srv.UploadsURL(name)
}

// For returns the shared server, skipping or failing t as Bucket does.
func For(t testing.TB) *Server {
	t.Helper()
	if _, err := Weed(); err != nil && !Wanted() {
		t.Skipf("S3 tests skipped: %v (set %s=s3 to make this a failure)", err, EnvUploads)
	}
	srv, err := Shared()
	if err != nil {
		t.Fatalf("%s=s3 but the S3 server does not start: %v", EnvUploads, err)
	}
	return srv
}

// freePorts returns n distinct loopback ports free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
