package portal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// kiosk is a device as the tests drive it by hand: its key, and once
// enrolled its id and token.
type kiosk struct {
	key       ed25519.PrivateKey
	id, token string
}

func newKiosk() *kiosk {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	return &kiosk{key: key}
}

// enrollment is k's signed enrollment at portal s with code, claiming
// k's id if it has one, signed at at.
func (k *kiosk) enrollment(s *Server, code string, at time.Time) portalapi.EnrollRequest {
	er := portalapi.EnrollRequest{DeviceName: "kiosk", DeviceID: k.id, Code: code,
		PublicKey: portalapi.EncodePublicKey(k.key.Public().(ed25519.PublicKey)), SignedAt: at}
	er.Signature = portalapi.Sign(k.key, portalapi.EnrollMessage(s.Instance(), er))
	return er
}

// post sends body as JSON to path, unsigned and as given, and decodes the
// answer into out.
func post(t *testing.T, url, path, token string, header http.Header, body any, out any) (int, http.Header) {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest("POST", url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(rb, out)
	}
	return resp.StatusCode, resp.Header
}

// enroll enrolls k with a code or none, and returns the status and error.
func (k *kiosk) enroll(t *testing.T, s *Server, url, code string) (int, portalapi.Error) {
	t.Helper()
	var raw json.RawMessage
	status, _ := post(t, url, portalapi.PathEnroll, "", nil, k.enrollment(s, code, time.Now()), &raw)
	var perr portalapi.Error
	if status == http.StatusCreated {
		var er portalapi.EnrollResponse
		json.Unmarshal(raw, &er)
		k.id, k.token = er.DeviceID, er.Token
	} else {
		json.Unmarshal(raw, &perr)
	}
	return status, perr
}

// closedPortal is a portal that asks every kiosk for a code, on a clock
// the test moves.
func closedPortal(t *testing.T, cfg Config) (*Server, string, *atomic.Int64) {
	t.Helper()
	var later atomic.Int64
	cfg.DataDir = t.TempDir()
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return s, srv.URL, &later
}

// A kiosk enrolls only with a one-time code the operator made: none, one
// the portal never made, one used, and one expired are refused, each with
// a message saying which; a fresh one enrolls the kiosk for the code's
// agency, whose file codes its filings then get.
func TestEnrollmentNeedsAFreshOneTimeCode(t *testing.T) {
	ctx := context.Background()
	s, url, later := closedPortal(t, Config{})
	code, _, err := s.CreateEnrollCode(ctx, "000.00.07.H29", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	expiring, _, err := s.CreateEnrollCode(ctx, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, code, want string }{
		{"no code", "", "code is required"},
		{"a code the portal never made", "ABCD-EFGH-JKMN-PQRS", "not one this portal made"},
	} {
		if status, perr := newKiosk().enroll(t, s, url, tt.code); status != http.StatusForbidden ||
			perr.Code != portalapi.CodeEnrollCode || !strings.Contains(perr.Message, tt.want) {
			t.Errorf("%s: %d %+v, want 403 %s saying %q", tt.name, status, perr, portalapi.CodeEnrollCode, tt.want)
		}
	}
	k := newKiosk()
	// Typed as a person would: lower case, the dashes left out.
	if status, perr := k.enroll(t, s, url, strings.ToLower(strings.ReplaceAll(code, "-", ""))); status != http.StatusCreated {
		t.Fatalf("enroll with a fresh code: %d %+v", status, perr)
	}
	if status, perr := newKiosk().enroll(t, s, url, code); status != http.StatusForbidden || !strings.Contains(perr.Message, "was used") {
		t.Errorf("a used code: %d %+v, want 403 saying it was used", status, perr)
	}
	later.Store(int64(2 * time.Minute))
	if status, perr := newKiosk().enroll(t, s, url, expiring); status != http.StatusForbidden || !strings.Contains(perr.Message, "expired") {
		t.Errorf("an expired code: %d %+v, want 403 saying it expired", status, perr)
	}
	// The kiosk files under the code's agency.
	m := []byte(manifest("key-00000001"))
	var rc portalapi.Receipt
	status, _ := post(t, url, portalapi.PathSubmissions, k.token,
		http.Header{portalapi.HeaderSignature: {portalapi.Sign(k.key, portalapi.ManifestMessage(k.id, "key-00000001", m))}}, m, &rc)
	if status != http.StatusCreated || !strings.HasPrefix(rc.FileCode, "000.00.07.H29-") {
		t.Errorf("filing of a kiosk enrolled for agency 000.00.07.H29: %d %+v", status, rc)
	}
}

// Open enrollment (motcua run's own portal, tests) is for loopback
// clients only: one from another address still needs a code.
func TestOpenEnrollmentIsForLoopbackOnly(t *testing.T) {
	s, _, _ := closedPortal(t, Config{OpenEnrollment: true})
	for _, tt := range []struct {
		remote string
		want   int
	}{{"192.0.2.7:40000", http.StatusForbidden}, {"127.0.0.1:40000", http.StatusCreated}, {"[::1]:40000", http.StatusCreated}} {
		b, _ := json.Marshal(newKiosk().enrollment(s, "", time.Now()))
		req := httptest.NewRequest("POST", portalapi.PathEnroll, bytes.NewReader(b))
		req.RemoteAddr = tt.remote
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("open enrollment from %s: %d %s, want %d", tt.remote, rec.Code, rec.Body, tt.want)
		}
	}
}

// Two kiosks racing to enroll with one code: exactly one gets it.
func TestTwoEnrollmentsRacingOneCodeOneWins(t *testing.T) {
	s, url, _ := closedPortal(t, Config{})
	code, _, err := s.CreateEnrollCode(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var wg sync.WaitGroup
	var won, refused atomic.Int32
	start := make(chan struct{})
	for range racers {
		wg.Go(func() {
			k := newKiosk()
			<-start
			switch status, perr := k.enroll(t, s, url, code); {
			case status == http.StatusCreated:
				won.Add(1)
			case status == http.StatusForbidden && perr.Code == portalapi.CodeEnrollCode:
				refused.Add(1)
			default:
				t.Errorf("racer: %d %+v", status, perr)
			}
		})
	}
	close(start)
	wg.Wait()
	if won.Load() != 1 || refused.Load() != racers-1 {
		t.Fatalf("%d enrolled and %d were refused with one code, want 1 and %d", won.Load(), refused.Load(), racers-1)
	}
}

// A revoked device's token no longer works: its manifests, its uploads and
// its status pulls are refused, naming the revocation, and it cannot
// enroll again by its key.
func TestRevokedDeviceIsRefused(t *testing.T) {
	s, url, _ := closedPortal(t, Config{OpenEnrollment: true})
	k := newKiosk()
	if status, perr := k.enroll(t, s, url, ""); status != http.StatusCreated {
		t.Fatalf("enroll: %d %+v", status, perr)
	}
	if err := s.Revoke(context.Background(), k.id); err != nil {
		t.Fatal(err)
	}
	m := []byte(manifest("key-00000001"))
	sig := http.Header{portalapi.HeaderSignature: {portalapi.Sign(k.key, portalapi.ManifestMessage(k.id, "key-00000001", m))}}
	var perr portalapi.Error
	if status, _ := post(t, url, portalapi.PathSubmissions, k.token, sig, m, &perr); status != http.StatusUnauthorized ||
		!strings.Contains(perr.Message, k.id+" is revoked") {
		t.Errorf("manifest of a revoked device: %d %+v", status, perr)
	}
	req, _ := http.NewRequest("POST", url+portalapi.PathUploads, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "10")
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, "key-00000002", portalapi.MetaUploadName, "key-00000002-1"))
	req.Header.Set("Authorization", "Bearer "+k.token)
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upload of a revoked device: %d", resp.StatusCode)
	}
	if status, perr := k.enroll(t, s, url, ""); status != http.StatusForbidden || perr.Code != portalapi.CodeRevoked {
		t.Errorf("re-enrollment of a revoked device by its key: %d %+v, want 403 %s", status, perr, portalapi.CodeRevoked)
	}
	if subs, _ := s.List(context.Background()); len(subs) != 0 {
		t.Errorf("a revoked device filed %+v", subs)
	}
	if err := s.Revoke(context.Background(), "dev-0000000000000000"); err == nil {
		t.Error("revoking a device the portal never enrolled succeeded")
	}
}

// A manifest is filed only with its own device's signature over its very
// bytes: unsigned, signed by another enrolled device, or changed after
// signing, it is refused with 422 bad_signature naming the application,
// the device and its key, and nothing is filed. The same for a manifest an
// upload carries and for an upload's manifest block.
func TestManifestWithBadSignatureIsRefused(t *testing.T) {
	s, url, _ := closedPortal(t, Config{OpenEnrollment: true})
	k, other := newKiosk(), newKiosk()
	for _, kk := range []*kiosk{k, other} {
		if status, perr := kk.enroll(t, s, url, ""); status != http.StatusCreated {
			t.Fatalf("enroll: %d %+v", status, perr)
		}
	}
	m := []byte(manifest("key-00000001"))
	good := portalapi.Sign(k.key, portalapi.ManifestMessage(k.id, "key-00000001", m))
	fp := portalapi.KeyFingerprint(k.key.Public().(ed25519.PublicKey))
	for _, tt := range []struct {
		name string
		sig  string
		body []byte
	}{
		{"unsigned", "", m},
		{"signed by another device", portalapi.Sign(other.key, portalapi.ManifestMessage(k.id, "key-00000001", m)), m},
		{"signed for another device id", portalapi.Sign(k.key, portalapi.ManifestMessage(other.id, "key-00000001", m)), m},
		{"changed after signing", good, bytes.Replace(m, []byte("Nguyễn Minh Khang"), []byte("Nguyễn Minh Khanh"), 1)},
		{"not base64", "not a signature", m},
	} {
		var perr portalapi.Error
		status, _ := post(t, url, portalapi.PathSubmissions, k.token, http.Header{portalapi.HeaderSignature: {tt.sig}}, tt.body, &perr)
		if status != http.StatusUnprocessableEntity || perr.Code != portalapi.CodeBadSignature ||
			!strings.Contains(perr.Message, "key-00000001") || !strings.Contains(perr.Message, k.id) || !strings.Contains(perr.Message, fp) {
			t.Errorf("%s: %d %+v, want 422 %s naming key-00000001, %s and %s", tt.name, status, perr, portalapi.CodeBadSignature, k.id, fp)
		}
	}

	// In an upload's metadata: refused at creation, before a byte is kept.
	content := []byte("scan of the birth certificate")
	um := manifest("key-00000002", portalapi.AttachmentRef{EvidenceKey: "birth_certificate", Name: "gcs.jpg", MediaType: "image/jpeg",
		Size: int64(len(content)), SHA256: hexSum(content)})
	forged := portalapi.Sign(other.key, portalapi.ManifestMessage(k.id, "key-00000002", []byte(um)))
	req, _ := http.NewRequest("POST", url+portalapi.PathUploads, bytes.NewReader(content))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "29")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Metadata", meta(portalapi.MetaIdempotencyKey, "key-00000002", portalapi.MetaUploadName, "key-00000002-1",
		portalapi.MetaManifest, um)+","+portalapi.MetaSignature+" "+base64.StdEncoding.EncodeToString([]byte(forged)))
	req.Header.Set("Authorization", "Bearer "+k.token)
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), portalapi.CodeBadSignature) ||
		!strings.Contains(string(b), k.id) {
		t.Errorf("upload whose manifest another device signed: %d %s", resp.StatusCode, b)
	}
	if subs, _ := s.List(context.Background()); len(subs) != 0 {
		t.Errorf("filed despite a bad signature: %+v", subs)
	}
	// With the right signature the same manifest is filed.
	var rc portalapi.Receipt
	if status, _ := post(t, url, portalapi.PathSubmissions, k.token, http.Header{portalapi.HeaderSignature: {good}}, m, &rc); status != http.StatusCreated {
		t.Errorf("the manifest signed by its device: %d", status)
	}
}

// A kiosk that lost its token keeps its device id by signing with its key;
// the same signed enrollment sent again (captured and replayed) does not
// take the device.
func TestReenrollmentByKeyKeepsTheDeviceButIsNotReplayable(t *testing.T) {
	s, url, _ := closedPortal(t, Config{})
	code, _, _ := s.CreateEnrollCode(context.Background(), "", 0)
	k := newKiosk()
	if status, perr := k.enroll(t, s, url, code); status != http.StatusCreated {
		t.Fatalf("enroll: %d %+v", status, perr)
	}
	id := k.id
	again := k.enrollment(s, "", time.Now())
	var er portalapi.EnrollResponse
	if status, _ := post(t, url, portalapi.PathEnroll, "", nil, again, &er); status != http.StatusCreated || er.DeviceID != id {
		t.Fatalf("re-enrollment signed by the device's key: %d %+v, want device %s", status, er, id)
	}
	var perr portalapi.Error
	if status, _ := post(t, url, portalapi.PathEnroll, "", nil, again, &perr); status != http.StatusForbidden || perr.Code != portalapi.CodeEnrollCode {
		t.Errorf("the same enrollment replayed: %d %+v, want 403 (a new device, which needs a code)", status, perr)
	}
	// Another key claiming the id gets nothing either.
	thief := newKiosk()
	thief.id = id
	if status, _ := thief.enroll(t, s, url, ""); status == http.StatusCreated {
		t.Error("another key took the device by its id")
	}
}

// A flood of enrollments from one address is answered 429 with
// Retry-After once past the burst, and so is a flood of bad tokens.
// Tokens are compared with subtle.ConstantTimeCompare (tokenDevice in
// enroll.go): a test cannot time that, the code says it.
func TestFloodOfEnrollmentsAndBadTokensGets429(t *testing.T) {
	s, url, _ := closedPortal(t, Config{EnrollBurst: 3, EnrollInterval: time.Hour, AuthFailBurst: 4, AuthFailInterval: time.Hour})
	var codes []int
	var retry string
	for range 5 {
		status, h := post(t, url, portalapi.PathEnroll, "", nil, newKiosk().enrollment(s, "", time.Now()), nil)
		codes = append(codes, status)
		retry = h.Get("Retry-After")
	}
	if want := []int{403, 403, 403, 429, 429}; !equalInts(codes, want) || retry == "" {
		t.Errorf("enrollment flood: %v, Retry-After %q; want %v with Retry-After", codes, retry, want)
	}
	codes = codes[:0]
	for range 6 {
		req, _ := http.NewRequest("GET", url+portalapi.PathStatus, nil)
		req.Header.Set("Authorization", "Bearer guess-"+randomHex(8))
		resp, err := rawClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		retry = resp.Header.Get("Retry-After")
	}
	if want := []int{401, 401, 401, 401, 429, 429}; !equalInts(codes, want) || retry == "" {
		t.Errorf("bad token flood: %v, Retry-After %q; want %v with Retry-After", codes, retry, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A device enrolled before devices had keys (a portal.db migrated to
// 0006: its row has a token and no key) is asked to enroll again, and
// registers its key by its current token, keeping its id; from then on
// its key, not its token, is what keeps its id.
func TestDeviceEnrolledBeforeKeysRegistersItsKeyWithItsToken(t *testing.T) {
	s, url, _ := closedPortal(t, Config{})
	ctx := context.Background()
	token := randomHex(32)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO devices (id, name, token_hash, created_at) VALUES (?, 'old kiosk', ?, ?)`,
		"dev-00000000000000aa", hashToken(token), formatTime(time.Now())); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", url+portalapi.PathStatus, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "no enrolled key") {
		t.Fatalf("a device without a key: %d %s, want 401 asking it to enroll again", resp.StatusCode, b)
	}
	k := newKiosk()
	k.id = "dev-00000000000000aa"
	var er portalapi.EnrollResponse
	if status, _ := post(t, url, portalapi.PathEnroll, token, nil, k.enrollment(s, "", time.Now()), &er); status != http.StatusCreated ||
		er.DeviceID != k.id {
		t.Fatalf("enrollment with the token and a key: %d %+v, want device %s kept", status, er, k.id)
	}
	// The key is now the device's: another key with a stolen token gets
	// nothing.
	thief := newKiosk()
	thief.id = k.id
	if status, _ := post(t, url, portalapi.PathEnroll, er.Token, nil, thief.enrollment(s, "", time.Now()), nil); status == http.StatusCreated {
		t.Error("a token and another key took a device that has a key")
	}
}
