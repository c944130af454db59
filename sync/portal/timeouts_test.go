package portal

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// pipeListener is a net.Listener of in-memory connections (net.Pipe),
// whose deadlines follow a synctest bubble's fake clock.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// openAfter reports whether c is still open after d: a read that times out
// means open, EOF means the portal closed it.
func openAfter(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.ReadAll(c)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// The portal's timeouts judge connections by progress, not total time:
// headers must arrive within ReadHeaderTimeout, a body may never pause for
// NetworkTimeout, a kept-alive connection may idle for IdleTimeout; a slow
// body that keeps sending, uploads included, takes as long as it needs.
// Time is synctest's fake clock, so the test waits for nothing.
func TestTimeoutsJudgeProgressNotTotalTime(t *testing.T) {
	const (
		header  = 30 * time.Second
		idle    = 2 * time.Minute
		network = 60 * time.Second
		pause   = 50 * time.Second // under network
	)
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dir, ReadHeaderTimeout: header, IdleTimeout: idle, NetworkTimeout: network})
		if err != nil {
			t.Fatal(err)
		}
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- s.Serve(ctx, ln) }()
		defer func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
			s.Close()
			// tusd keeps each request's context for its graceful
			// completion timeout (10 s) after the request.
			time.Sleep(time.Minute)
		}()

		// request sends head, then each part of the body after a pause,
		// and returns the answer.
		request := func(c net.Conn, head string, parts ...string) (*http.Response, error) {
			go func() {
				io.WriteString(c, head)
				for _, p := range parts {
					time.Sleep(pause)
					io.WriteString(c, p)
				}
			}()
			// The deadline only keeps a failing test from running on.
			c.SetReadDeadline(time.Now().Add(time.Hour))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		slowly := func(body string, n int) []string {
			var parts []string
			for i := range n {
				parts = append(parts, body[i*len(body)/n:(i+1)*len(body)/n])
			}
			return parts
		}

		// step runs one case (t.Run is not allowed in a bubble).
		step := func(name string, f func()) {
			t.Helper()
			t.Log(name)
			f()
		}
		step("silent", func() {
			c := ln.dial()
			defer c.Close()
			if !openAfter(c, header-time.Second) || openAfter(c, 2*time.Second) {
				t.Fatalf("a silent connection is not closed at ReadHeaderTimeout (%v)", header)
			}
		})
		step("half a header", func() {
			c := ln.dial()
			defer c.Close()
			go io.WriteString(c, "GET /v1/health HTTP/1.1\r\nHost: portal\r\n")
			if !openAfter(c, header-time.Second) || openAfter(c, 2*time.Second) {
				t.Fatalf("half a header is not cut at ReadHeaderTimeout (%v)", header)
			}
		})
		step("idle after a request", func() {
			c := ln.dial()
			defer c.Close()
			resp, err := request(c, "GET /v1/health HTTP/1.1\r\nHost: portal\r\n\r\n")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("health: %v %v", resp, err)
			}
			if !openAfter(c, idle-time.Second) || openAfter(c, 2*time.Second) {
				t.Fatalf("an idle connection is not closed at IdleTimeout (%v)", idle)
			}
		})

		var token string
		step("slow body", func() {
			c := ln.dial()
			defer c.Close()
			body := enrollBody(t, s, "kiosk-slow")
			start := time.Now()
			resp, err := request(c, fmt.Sprintf("POST /v1/enroll HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n", len(body)), slowly(body, 8)...)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("enroll sent over %v in pauses of %v: %v %v", time.Since(start), pause, resp, err)
			}
			// Read the token with a second, quick enrollment.
			c2 := ln.dial()
			defer c2.Close()
			quick := enrollBody(t, s, "k-2")
			go fmt.Fprintf(c2, "POST /v1/enroll HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n%s", len(quick), quick)
			resp, err = http.ReadResponse(bufio.NewReader(c2), nil)
			if err != nil {
				t.Fatal(err)
			}
			var enrolled portalapi.EnrollResponse
			json.NewDecoder(resp.Body).Decode(&enrolled)
			resp.Body.Close()
			token = enrolled.Token
		})
		step("half a body", func() {
			c := ln.dial()
			defer c.Close()
			go io.WriteString(c, "POST /v1/enroll HTTP/1.1\r\nHost: portal\r\nContent-Length: 100\r\n\r\n{\"device_name\":")
			start := time.Now()
			c.SetReadDeadline(start.Add(time.Hour))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusRequestTimeout || time.Since(start) != network {
				t.Fatalf("a body that stops: %v %v after %v, want 408 after %v", resp, err, time.Since(start), network)
			}
		})

		content := strings.Repeat("0123456789abcdef", 1024)
		sum := sha256.Sum256([]byte(content))
		for _, tc := range []struct{ name, checksum string }{
			{"slow upload", ""},
			{"slow checksummed upload", "Upload-Checksum: sha256 " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"},
		} {
			step(tc.name, func() {
				c := ln.dial()
				defer c.Close()
				name := strings.ReplaceAll(tc.name, " ", "-")
				resp, err := request(c, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: portal\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer %s\r\n"+
					"Upload-Length: %d\r\nUpload-Metadata: %s\r\n\r\n", portalapi.PathUploads, token, len(content),
					meta(portalapi.MetaIdempotencyKey, "key-"+name, portalapi.MetaUploadName, name)))
				if err != nil || resp.StatusCode != http.StatusCreated {
					t.Fatalf("create: %v %v", resp, err)
				}
				loc := resp.Header.Get("Location")
				path := loc[strings.Index(loc, portalapi.PathUploads):]
				start := time.Now()
				resp, err = request(c, fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: portal\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer %s\r\n"+
					"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n%s\r\n",
					path, token, len(content), tc.checksum), slowly(content, 16)...)
				if err != nil || resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != fmt.Sprint(len(content)) {
					t.Fatalf("PATCH sent over %v in pauses of %v: %v %v", time.Since(start), pause, resp, err)
				}
			})
		}
	})
}

// TestStalledManifestIsNotRefusedAsMalformed pins a manifest whose body
// stops half way on a weak link for NetworkTimeout, the link still up: the
// portal cut the read and answered 422 malformed, which the uplink takes
// as a refusal for good and quarantines a sound application for staff.
// The portal answers 408 timeout instead, which the uplink retries; a body
// that arrives whole but is not JSON is still 422 malformed.
func TestStalledManifestIsNotRefusedAsMalformed(t *testing.T) {
	const network = 60 * time.Second
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: dir, NetworkTimeout: network})
		if err != nil {
			t.Fatal(err)
		}
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- s.Serve(ctx, ln) }()
		defer func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
			s.Close()
			time.Sleep(time.Minute)
		}()
		// send writes a request and reads the answer.
		send := func(req string) (*http.Response, portalapi.Error) {
			c := ln.dial()
			defer c.Close()
			go io.WriteString(c, req)
			c.SetReadDeadline(time.Now().Add(time.Hour))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			var perr portalapi.Error
			json.NewDecoder(resp.Body).Decode(&perr)
			resp.Body.Close()
			return resp, perr
		}
		enroll := enrollBody(t, s, "kiosk-weak-link")
		c := ln.dial()
		go io.WriteString(c, fmt.Sprintf("POST /v1/enroll HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n%s", len(enroll), enroll))
		c.SetReadDeadline(time.Now().Add(time.Hour))
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || r.StatusCode != http.StatusCreated {
			t.Fatalf("enroll: %v %v", r, err)
		}
		var enrolled portalapi.EnrollResponse
		json.NewDecoder(r.Body).Decode(&enrolled)
		r.Body.Close()
		c.Close()
		token := enrolled.Token

		body := manifest("key-weak-link-01")
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: portal\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			portalapi.PathSubmissions, token, len(body))
		start := time.Now()
		resp, perr := send(head + body[:len(body)/2])
		if resp.StatusCode != http.StatusRequestTimeout || perr.Code != portalapi.CodeTimeout || time.Since(start) != network {
			t.Errorf("a manifest that stops half way: %d %q after %v, want 408 %q after %v", resp.StatusCode, perr.Code,
				time.Since(start), portalapi.CodeTimeout, network)
		}
		garbage := strings.Repeat("x", len(body))
		if resp, perr := send(head + garbage); resp.StatusCode != http.StatusUnprocessableEntity || perr.Code != portalapi.CodeMalformed {
			t.Errorf("a manifest that is not JSON: %d %q, want 422 %q", resp.StatusCode, perr.Code, portalapi.CodeMalformed)
		}
	})
}
