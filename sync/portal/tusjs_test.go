package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// tusJSClient installs the pinned tus-js-client of testdata/tusjs with
// npm ci into a cache directory outside the repository, once per version
// of its package-lock.json, and returns that directory. It skips the test
// when node or npm is missing (packaging/install-deps.sh installs them).
func tusJSClient(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packaging/install-deps.sh installs it): %v", tool, err)
		}
	}
	lock, err := os.ReadFile(filepath.Join("testdata", "tusjs", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := os.ReadFile(filepath.Join("testdata", "tusjs", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory for node_modules: %v", err)
	}
	sum := sha256.Sum256(append(append([]byte{}, pkg...), lock...))
	dir := filepath.Join(cache, "motcua-test", "tusjs-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "tus-js-client", "package.json")); err == nil {
		return dir
	}
	// Install beside the final place and rename, so that two test runs
	// never see a half-installed directory.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci of testdata/tusjs: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dir); serr != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tus-js-client, written independently of the uplink, uploads an
// application to a real portal over real HTTP: it is cut after its first
// chunk, resumes from the portal's offset, and the last chunk files the
// application; the portal holds exactly the bytes sent.
func TestTusJSClientUploadsToPortal(t *testing.T) {
	modules := tusJSClient(t)
	s, addr := servedPortal(t, Config{OpenEnrollment: true})
	base := "http://" + addr
	resp, err := http.Post(base+portalapi.PathEnroll, "application/json", strings.NewReader(`{"device_name":"kiosk-js"}`))
	if err != nil {
		t.Fatal(err)
	}
	var enrolled portalapi.EnrollResponse
	json.NewDecoder(resp.Body).Decode(&enrolled)
	resp.Body.Close()

	content := make([]byte, 300<<10)
	rand.Read(content)
	file := filepath.Join(t.TempDir(), "scan.jpg")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "key-000000a1"
	m := manifest(key, portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "scan.jpg", MediaType: "image/jpeg",
		Size: int64(len(content)), SHA256: hexSum(content)})
	script, err := filepath.Abs(filepath.Join("testdata", "tusjs", "upload.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, base+portalapi.PathUploads, enrolled.Token, file, key, m, kiosks.sign(enrolled.Token, key, []byte(m)))
	cmd.Dir = modules
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node upload.cjs: %v\n%s", err, stderr.Bytes())
	}
	var got struct {
		URL     string `json:"url"`
		Offset  int    `json:"offset"`
		Receipt string `json:"receipt"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	if got.Offset <= 0 || got.Offset >= len(content) {
		t.Fatalf("cut at offset %d of %d: the resume was not tested", got.Offset, len(content))
	}
	var rc portalapi.Receipt
	if err := json.Unmarshal([]byte(got.Receipt), &rc); err != nil || rc.FileCode == "" {
		t.Fatalf("no receipt from the completing answer: %q", got.Receipt)
	}
	t.Logf("tus-js-client was cut at %d of %d bytes, resumed, and got file code %s", got.Offset, len(content), rc.FileCode)
	stored, err := s.uploadBytes(uploadID(got.URL))
	if err != nil || !bytes.Equal(stored, content) {
		t.Fatalf("the portal holds %d bytes (%v), not the %d sent", len(stored), err, len(content))
	}
	list, err := s.List(context.Background())
	if err != nil || len(list) != 1 || list[0].FileCode != rc.FileCode || list[0].Attachments[0].SHA256Received != hexSum(content) {
		t.Fatalf("filed: %+v %v", list, err)
	}
}
