package portal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// heldBody holds the first read of a request's body until open is
// closed, then reads the rest in small pieces, as a portal busy with
// other work reads what had already arrived.
type heldBody struct {
	io.ReadCloser
	open <-chan struct{}
}

func (b *heldBody) Read(p []byte) (int, error) {
	<-b.open
	time.Sleep(time.Millisecond)
	return b.ReadCloser.Read(p[:min(len(p), 500)])
}

// The flake of TestHealthCheckRefusedBesideTheUploadFilesNothingAndResumes
// (sync/uplink): a kiosk gave up its creation one byte short of its end (a
// health check refused beside the upload) and, in its next pass, asked
// the upload's offset at once. Its HEAD reached the portal while the
// creation's request still held the upload's lock and had not yet read
// the bytes that had arrived: the HEAD interrupted it, those bytes were
// dropped, the HEAD answered offset 0, and the kiosk sent every byte
// again. A request still reading its body is given drainGrace to read
// what arrived before it is interrupted: the HEAD gets the offset of
// every byte that reached the portal.
func TestOffsetAskedRightAfterAGivenUpCreationCountsItsArrivedBytes(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	s, err := Open(context.Background(), Config{OpenEnrollment: true, DataDir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == portalapi.PathUploads {
			r.Body = &heldBody{ReadCloser: r.Body, open: open}
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); s.Close() })
	p := (&testPortal{Server: s, url: srv.URL, t: t}).enrollAnother("kiosk-drain")

	const size = 6000
	content := bytes.Repeat([]byte("d"), size)
	m := portalapi.Manifest{IdempotencyKey: "key-drain-0001", ProcedureID: "birth-registration", CatalogVersion: "2026.11.1",
		CapturedAt: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), Form: exampleForm(), Attachments: []portalapi.AttachmentRef{
			{EvidenceKey: "birth_certificate", Name: "a", MediaType: "image/jpeg", Size: size, SHA256: hexSum(content)},
		}}
	mj, _ := json.Marshal(m)
	create, _ := http.NewRequest("POST", p.url+portalapi.PathUploads, nil)
	create.Header.Set("Authorization", "Bearer "+p.token)
	device, key := kiosks.device(create)
	metadata := meta(portalapi.MetaIdempotencyKey, m.IdempotencyKey, portalapi.MetaUploadName, "key-drain-0001-1",
		portalapi.MetaManifest, string(mj), portalapi.MetaSignature, portalapi.Sign(key, portalapi.ManifestMessage(device, m.IdempotencyKey, mj)))
	id := p.device + "-key-drain-0001-1"

	// The creation, as the kiosk sends it: every byte but the last, then
	// the connection closed.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Length: %d\r\nUpload-Metadata: %s\r\n"+
		"Content-Type: application/offset+octet-stream\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
		portalapi.PathUploads, srv.Listener.Addr(), size, metadata, p.token, size)
	req.Write(content[:size-1])
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- err.Error()
			return
		}
		answered <- resp.Status
	}()
	// The creation holds the upload's lock before it reads its body.
	deadline := time.Now().Add(10 * time.Second)
	for !s.locks.heldHere(id) {
		if time.Now().After(deadline) {
			t.Fatal("the creation never took its upload's lock")
		}
		time.Sleep(time.Millisecond)
	}
	conn.(*net.TCPConn).CloseWrite()

	// The kiosk's HEAD waits for the lock: only then does the creation
	// read what arrived.
	lockWaitHook = func(waited string) {
		if waited == id {
			select {
			case <-open:
			default:
				close(open)
			}
		}
	}
	t.Cleanup(func() { lockWaitHook = nil })
	resp, _ := p.send("HEAD", p.url+portalapi.PathUploads+id, nil, nil)
	t.Logf("creation answered %s", <-answered)
	conn.Close()
	if got, want := resp.Header.Get("Upload-Offset"), fmt.Sprint(size-1); resp.StatusCode != http.StatusOK || got != want {
		t.Fatalf("HEAD right after the given-up creation: %d, offset %q; want 200 and offset %s, every byte that arrived",
			resp.StatusCode, got, want)
	}
}
