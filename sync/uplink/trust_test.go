package uplink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
)

// testCA makes a CA and a certificate for 127.0.0.1 and localhost that it
// signs, as PEM files in a new directory: the CA's certificate, the
// server's certificate and the server's key.
func testCA(t *testing.T, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	write := func(file, typ string, der []byte) string {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "portal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return write("ca.pem", "CERTIFICATE", caDER), write("portal.pem", "CERTIFICATE", leafDER), write("portal.key", "PRIVATE KEY", keyDER)
}

// servePortal serves a portal configured by cfg on a loopback port and
// returns it and its address.
func servePortal(t *testing.T, cfg portal.Config) (*portal.Server, string) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	p, err := portal.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return p, ln.Addr().String()
}

// A portal serving TLS with a certificate of a CA the kiosk pins gets the
// kiosk's applications; one whose certificate another CA signed (a
// stranger in the middle, with a certificate the system might well trust)
// gets nothing, and the error names the pinned CA. The applications stay
// queued.
func TestTLSWithPinnedCA(t *testing.T) {
	ca, cert, key := testCA(t, "motcua")
	otherCA, _, _ := testCA(t, "stranger")
	p, addr := servePortal(t, portal.Config{OpenEnrollment: true, TLSCertFile: cert, TLSKeyFile: key})

	r := newRig(t)
	a := r.queue("key-tls-00000001", 20<<10)
	wrong, err := New(Config{Portal: "https://" + addr, Store: r.store, PortalCA: otherCA, Now: r.now,
		Sleep: func(ctx context.Context, d time.Duration) error { return errors.New("no retry") }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Once(context.Background())
	if !errors.Is(err, ErrUntrustedPortal) || !strings.Contains(err.Error(), otherCA) {
		t.Fatalf("a portal whose certificate another CA signed: %v, want %v naming %s", err, ErrUntrustedPortal, otherCA)
	}
	t.Logf("refused: %v", err)
	if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Queued {
		t.Fatalf("after the refused portal the application is %s, want queued", got.State)
	}

	w, err := New(Config{Portal: "https://" + addr, Store: r.store, PortalCA: ca})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 1 {
		t.Fatalf("with the pinned CA: %+v, %v", sum, err)
	}
	if subs, _ := p.List(context.Background()); len(subs) != 1 || subs[0].IdempotencyKey != a.IdempotencyKey {
		t.Fatalf("the portal has %+v", subs)
	}
	if _, err := New(Config{Portal: "https://" + addr, Store: r.store, PortalCA: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}

// A kiosk that was never enrolled cannot enroll itself with a portal that
// asks for a code: the pass fails naming motcua enroll, nothing is sent,
// and with the operator's code (motcua enroll) it enrolls, once, and
// delivers.
func TestKioskEnrollsOnlyWithACode(t *testing.T) {
	r := newRig(t)
	p, addr := servePortal(t, portal.Config{})
	a := r.queue("key-code-00000001")
	url := "http://" + addr
	w, err := New(Config{Portal: url, Store: r.store})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Pass(context.Background())
	if !errors.Is(err, ErrNotEnrolled) || !strings.Contains(err.Error(), "motcua enroll --portal "+url) {
		t.Fatalf("a pass without enrollment: %v, want %v naming motcua enroll", err, ErrNotEnrolled)
	}
	code, _, err := p.CreateEnrollCode(context.Background(), "000.00.09.H29", 0)
	if err != nil {
		t.Fatal(err)
	}
	staff, err := New(Config{Portal: url, Store: r.store, EnrollCode: code})
	if err != nil {
		t.Fatal(err)
	}
	got, err := staff.Enroll(context.Background())
	if err != nil || got.AgencyCode != "000.00.09.H29" || !strings.HasPrefix(got.DeviceID, "dev-") {
		t.Fatalf("Enroll = %+v, %v", got, err)
	}
	if u, _ := EnrolledPortal(context.Background(), r.store); u != url {
		t.Errorf("EnrolledPortal = %q, want %q", u, url)
	}
	fi, err := os.Stat(filepath.Join(filepath.Dir(r.store.Path()), DeviceKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("device key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	// The worker, without the code, delivers as the enrolled device; the
	// portal's filing carries the code's agency.
	sum, err := w.Once(context.Background())
	if err != nil || sum.Delivered != 1 {
		t.Fatalf("after enrolling: %+v, %v", sum, err)
	}
	if got, _ := r.store.Get(context.Background(), a.ID); !strings.HasPrefix(got.FileCode, "000.00.09.H29-") {
		t.Errorf("file code %q, want one of agency 000.00.09.H29", got.FileCode)
	}
	// Enrolled again (after a lost token): the key keeps the device.
	if err := r.store.SetSetting(context.Background(), settingToken, "lost"); err != nil {
		t.Fatal(err)
	}
	again, err := New(Config{Portal: url, Store: r.store})
	if err != nil {
		t.Fatal(err)
	}
	r.queue("key-code-00000002")
	if sum, err := again.Once(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("after losing the token: %+v, %v", sum, err)
	}
	if dev, _ := r.store.Setting(context.Background(), settingDevice); dev != got.DeviceID {
		t.Errorf("after losing the token the kiosk is device %s, want %s kept by its key", dev, got.DeviceID)
	}
}

// A device the portal revoked delivers nothing more: its pass fails naming
// the revocation and its applications stay queued, unfiled.
func TestRevokedKioskDeliversNothing(t *testing.T) {
	r := newRig(t)
	r.queue("key-revoke-00000001")
	if sum, err := r.worker().Once(context.Background()); err != nil || sum.Delivered != 1 {
		t.Fatalf("before revocation: %+v, %v", sum, err)
	}
	dev, _ := r.store.Setting(context.Background(), settingDevice)
	if err := r.portal.Revoke(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	a := r.queue("key-revoke-00000002", 10<<10)
	// The first pass meets the refused token (401), the next enrolls
	// again and is refused.
	w := r.worker()
	_, err := w.Pass(context.Background())
	if !strings.Contains(err.Error(), dev+" is revoked") {
		t.Errorf("first pass of a revoked kiosk: %v, want the portal's 401 naming %s", err, dev)
	}
	_, err = w.Pass(context.Background())
	if !errors.Is(err, ErrNotEnrolled) || !strings.Contains(err.Error(), dev+" is revoked") {
		t.Fatalf("a revoked kiosk's pass: %v, want %v naming %s", err, ErrNotEnrolled, dev)
	}
	if got, _ := r.store.Get(context.Background(), a.ID); got.State != application.Queued {
		t.Errorf("the revoked kiosk's application is %s, want queued", got.State)
	}
	if subs, _ := r.portal.List(context.Background()); len(subs) != 1 {
		t.Errorf("the portal filed %d applications, want only the one before revocation", len(subs))
	}
}

// badSigner spoils every signature a kiosk sends, as a device with the
// wrong key would.
type badSigner struct{ base http.RoundTripper }

func (b badSigner) RoundTrip(req *http.Request) (*http.Response, error) {
	forged := base64.StdEncoding.EncodeToString(make([]byte, 64))
	if req.Header.Get(portalapi.HeaderSignature) != "" {
		req = req.Clone(req.Context())
		req.Header.Set(portalapi.HeaderSignature, forged)
	}
	if m := req.Header.Get("Upload-Metadata"); strings.Contains(m, portalapi.MetaSignature+" ") {
		req = req.Clone(req.Context())
		var parts []string
		for _, kv := range strings.Split(m, ",") {
			if strings.HasPrefix(kv, portalapi.MetaSignature+" ") {
				kv = portalapi.MetaSignature + " " + base64.StdEncoding.EncodeToString([]byte(forged))
			}
			parts = append(parts, kv)
		}
		req.Header.Set("Upload-Metadata", strings.Join(parts, ","))
	}
	return b.base.RoundTrip(req)
}

// A manifest whose signature the portal does not accept is refused for
// good: the application is quarantined with the portal's reason, which
// names the application and the device, and nothing is filed.
func TestBadSignatureQuarantinesNamingTheDevice(t *testing.T) {
	r := newRig(t)
	alone := r.queue("key-badsig-00000001", 500<<10)
	small := r.queue("key-badsig-00000002")
	w, err := New(Config{Portal: r.srv.URL, Store: r.store, Client: &http.Client{Transport: badSigner{http.DefaultTransport}}})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := w.Once(context.Background())
	dev, _ := r.store.Setting(context.Background(), settingDevice)
	if sum.Quarantined != 2 {
		t.Errorf("Once = %+v, want 2 quarantined", sum)
	}
	for _, a := range []*application.Application{alone, small} {
		got, _ := r.store.Get(context.Background(), a.ID)
		if got.State != application.Quarantined || !strings.Contains(got.LastError, portalapi.CodeBadSignature) ||
			!strings.Contains(got.LastError, a.IdempotencyKey) || !strings.Contains(got.LastError, dev) {
			t.Errorf("%s: %s, %q; want quarantined naming %s and %s", a.IdempotencyKey, got.State, got.LastError, a.IdempotencyKey, dev)
		}
	}
	if subs, _ := r.portal.List(context.Background()); len(subs) != 0 {
		t.Errorf("filed despite bad signatures: %+v", subs)
	}
}
