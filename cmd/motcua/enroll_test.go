package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"github.com/motcua/motcua/sync/portal"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// enrollDevice enrolls a device named name with the portal at portalURL as
// a kiosk does (a key of its own, the enrollment signed), with code if
// given, and returns the portal's answer and the device's key.
func enrollDevice(t *testing.T, client *http.Client, portalURL, name, code string) (portalapi.EnrollResponse, ed25519.PrivateKey, int) {
	t.Helper()
	resp, err := client.Get(portalURL + portalapi.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	var h portalapi.Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	er := portalapi.EnrollRequest{DeviceName: name, Code: code, PublicKey: portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey)),
		SignedAt: time.Now()}
	er.Signature = portalapi.Sign(key, portalapi.EnrollMessage(h.Instance, er))
	b, _ := json.Marshal(er)
	resp, err = client.Post(portalURL+portalapi.PathEnroll, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var enrolled portalapi.EnrollResponse
	json.NewDecoder(resp.Body).Decode(&enrolled)
	return enrolled, key, resp.StatusCode
}

// testCA writes, in a new directory, a CA's certificate and a certificate
// for 127.0.0.1 it signs, with its key, as PEM files.
func testCA(t *testing.T) (caFile, certFile, keyFile string) {
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
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "motcua test CA"},
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
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return write("ca.pem", "CERTIFICATE", caDER), write("portal.pem", "CERTIFICATE", leafDER), write("portal.key", "PRIVATE KEY", keyDER)
}

// As staff do it: the operator runs a portal over TLS and makes a code;
// a kiosk that was never enrolled cannot deliver, enrolls with the code
// (pinning the portal's CA), and then syncs to the portal it enrolled with
// without naming it again; its files get the code's agency. Revoked, the
// kiosk delivers nothing more.
func TestEnrollWithCodeOverTLSThenSyncThenRevoke(t *testing.T) {
	ca, cert, key := testCA(t)
	portalDir := t.TempDir()
	portalURL, _ := runClosedPortal(t, "127.0.0.1:0", portalDir, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(portalURL, "https://") {
		t.Fatalf("the portal serves %s, want https", portalURL)
	}
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--timeout", "20s", "--portal", portalURL, "--portal-ca", ca); r.code != exitFail ||
		!strings.Contains(r.stderr, "motcua enroll --portal") {
		t.Fatalf("sync before enrolling: exit %d\n%s", r.code, r.stderr)
	}
	r := cli(t, portalDir, "", "portal", "--data-dir", portalDir, "enroll-code", "--agency", "000.00.05.H29")
	if r.code != 0 {
		t.Fatalf("enroll-code: %d %s", r.code, r.stderr)
	}
	code := strings.SplitN(r.stdout, "\n", 2)[0]
	if r := cli(t, data, "", "enroll", "--portal", portalURL, "--code", code); r.code != exitFail || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("enroll without pinning the portal's CA: exit %d\n%s", r.code, r.stderr)
	}
	r = cli(t, data, "", "enroll", "--portal", portalURL, "--code", code, "--portal-ca", ca)
	if r.code != 0 || !strings.Contains(r.stdout, "agency 000.00.05.H29") {
		t.Fatalf("enroll: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(data, "device.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the device key: %v %v, want mode 0600", fi, err)
	}
	// The portal and its CA are those of the enrollment.
	if r := cli(t, data, "", "sync", "--once"); r.code != 0 {
		t.Fatalf("sync to the enrolled portal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 || rows[0].State != "received" || !strings.HasPrefix(rows[0].FileCode, "000.00.05.H29-") {
		t.Fatalf("after sync: %+v", rows)
	}
	device := regexp.MustCompile(`device (dev-[0-9a-f]{16})`).FindStringSubmatch(r.stdout)
	if device == nil {
		t.Fatalf("enroll named no device: %s", r.stdout)
	}
	// The operator sees the device with the key the kiosk printed: what an
	// inspector checks the kiosk's signed audit exports against.
	var devs []portal.Device
	mustJSON(t, cli(t, portalDir, "", "portal", "--data-dir", portalDir, "devices", "--json").stdout, &devs)
	printed := regexp.MustCompile(`key (ed25519:[0-9a-f]{16})`).FindStringSubmatch(r.stdout)
	if len(devs) != 1 || printed == nil || devs[0].ID != device[1] || devs[0].Key != printed[1] || devs[0].Agency != "000.00.05.H29" ||
		len(devs[0].PublicKey) != 64 || !devs[0].Revoked.IsZero() {
		t.Fatalf("portal devices: %+v; enroll printed %s", devs, r.stdout)
	}
	if r := cli(t, portalDir, "", "portal", "--data-dir", portalDir, "revoke", device[1]); r.code != 0 {
		t.Fatalf("revoke: %d %s", r.code, r.stderr)
	}
	mustJSON(t, cli(t, portalDir, "", "portal", "--data-dir", portalDir, "devices", "--json").stdout, &devs)
	if len(devs) != 1 || devs[0].Revoked.IsZero() {
		t.Errorf("portal devices after revoke: %+v", devs)
	}
	if r := cli(t, portalDir, "", "portal", "--data-dir", portalDir, "devices"); r.code != 0 || !strings.Contains(r.stdout, device[1]) ||
		!strings.Contains(r.stdout, printed[1]) {
		t.Errorf("portal devices: exit %d\n%s", r.code, r.stdout)
	}
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := cli(t, data, "", "sync", "--once", "--timeout", "20s"); r.code == 0 || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("sync of a revoked kiosk: exit %d\n%s", r.code, r.stderr)
	}
}

// Open enrollment lets anyone who reaches the portal enroll: it is refused
// on an address other than loopback.
func TestOpenEnrollmentRefusedOffLoopback(t *testing.T) {
	r := cli(t, t.TempDir(), "", "portal", "--listen", "0.0.0.0:0", "--open-enrollment")
	if r.code != exitUsage || !strings.Contains(r.stderr, "loopback") {
		t.Errorf("--open-enrollment on 0.0.0.0: exit %d, %q", r.code, r.stderr)
	}
}

// `make run` needs no human: with no portal configured, run's own local
// reference portal lets its kiosk enroll without a code (loopback only)
// and the queued application is delivered.
func TestRunEnrollsWithItsOwnLocalPortalWithoutACode(t *testing.T) {
	data := t.TempDir()
	form := writeFile(t, t.TempDir(), "f.json", cli(t, data, "", "procedures", "example", "1.001193").stdout)
	if r := cli(t, data, "", "submit", "--procedure", "1.001193", "--form", form); r.code != 0 {
		t.Fatal(r.stderr)
	}
	a := startAgent(t, data, "--devices", "sim")
	a.waitLog(t, `msg="device enrolled"`, "kept_id=false")
	a.waitLog(t, `msg="delivery pass"`, "delivered=1")
	a.stop(t)
	var rows []queueRow
	mustJSON(t, cli(t, data, "", "queue", "--json").stdout, &rows)
	if len(rows) != 1 || rows[0].State != "received" {
		t.Fatalf("after run: %+v", rows)
	}
}
