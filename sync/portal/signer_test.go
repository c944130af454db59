package portal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// signAsKiosks makes the tests' requests (through http.DefaultClient) those
// of a kiosk with a key: an enrollment registers a key made for the device,
// and each manifest is signed by its device, as sync/uplink does. Tests of
// the signatures themselves send with rawClient. TestMain calls it.
func signAsKiosks() {
	http.DefaultClient.Transport = kiosks
}

// rawClient sends requests as they are, unsigned.
var rawClient = &http.Client{Transport: http.DefaultTransport}

var kiosks = &signingTransport{base: http.DefaultTransport, tokens: map[string]string{}, keys: map[string]ed25519.PrivateKey{}}

// signingTransport signs what a kiosk signs, for the devices it enrolled.
type signingTransport struct {
	base   http.RoundTripper
	mu     sync.Mutex
	tokens map[string]string             // token -> device id
	keys   map[string]ed25519.PrivateKey // device id -> key
}

// device returns the device and key whose token req carries.
func (s *signingTransport) device(req *http.Request) (string, ed25519.PrivateKey) {
	token, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.tokens[token]
	return id, s.keys[id]
}

func (s *signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodPost && req.URL.Path == portalapi.PathEnroll:
		return s.enroll(req)
	case req.Method == http.MethodPost && req.URL.Path == portalapi.PathSubmissions && req.Header.Get(portalapi.HeaderSignature) == "":
		id, key := s.device(req)
		if key != nil && req.Body != nil {
			body, _ := io.ReadAll(req.Body)
			var m struct {
				Key string `json:"idempotency_key"`
			}
			json.Unmarshal(body, &m)
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.Header.Set(portalapi.HeaderSignature, portalapi.Sign(key, portalapi.ManifestMessage(id, m.Key, body)))
		}
	case req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads && req.Header.Get("Upload-Metadata") != "":
		id, key := s.device(req)
		meta := map[string]string{}
		for _, kv := range strings.Split(req.Header.Get("Upload-Metadata"), ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), " ")
			b, _ := base64.StdEncoding.DecodeString(v)
			meta[k] = string(b)
		}
		if _, signed := meta[portalapi.MetaSignature]; key == nil || signed {
			break
		}
		var signed []byte
		if m, ok := meta[portalapi.MetaManifest]; ok {
			signed = []byte(m)
		} else if n, err := strconv.Atoi(meta[portalapi.MetaManifests]); err == nil && req.Body != nil {
			body, _ := io.ReadAll(req.Body)
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
			signed = body[:min(n, len(body))]
		} else {
			break
		}
		req = req.Clone(req.Context())
		req.Header.Set("Upload-Metadata", req.Header.Get("Upload-Metadata")+","+portalapi.MetaSignature+" "+
			base64.StdEncoding.EncodeToString([]byte(portalapi.Sign(key, portalapi.ManifestMessage(id, meta[portalapi.MetaIdempotencyKey], signed)))))
	}
	return s.base.RoundTrip(req)
}

// enroll completes an enrollment with a key and its signature: the key of
// the device whose token the request carries, else a new one.
func (s *signingTransport) enroll(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	var er portalapi.EnrollRequest
	if json.Unmarshal(body, &er) != nil || er.PublicKey != "" {
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		return s.base.RoundTrip(req)
	}
	id, key := s.device(req)
	if key == nil || id != er.DeviceID {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	var h portalapi.Health
	hreq, _ := http.NewRequest(http.MethodGet, req.URL.Scheme+"://"+req.URL.Host+portalapi.PathHealth, nil)
	if resp, err := s.base.RoundTrip(hreq); err == nil {
		json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
	}
	er.PublicKey = portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey))
	er.SignedAt = time.Now()
	er.Signature = portalapi.Sign(key, portalapi.EnrollMessage(h.Instance, er))
	body, _ = json.Marshal(er)
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := s.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		return resp, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	var got portalapi.EnrollResponse
	if json.Unmarshal(answer, &got) == nil {
		s.mu.Lock()
		s.tokens[got.Token], s.keys[got.DeviceID] = got.DeviceID, key
		s.mu.Unlock()
	}
	return resp, nil
}

// sign signs a manifest sent under idempotency key as the device whose
// token is token does.
func (s *signingTransport) sign(token, key string, manifest []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.tokens[token]
	return portalapi.Sign(s.keys[id], portalapi.ManifestMessage(id, key, manifest))
}

// enrollBody is the JSON of a signed enrollment of a new device named name
// at portal s, with a code s made, for tests that write requests by hand.
func enrollBody(t *testing.T, s *Server, name string) string {
	t.Helper()
	body, _ := enrollBodyAndKey(t, s, name)
	return body
}
