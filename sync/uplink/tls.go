package uplink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// ErrUntrustedPortal is returned (wrapped) when the portal's TLS
// certificate does not chain to the CA the kiosk pins (Config.PortalCA).
var ErrUntrustedPortal = errors.New("the portal's TLS certificate is not signed by the pinned CA")

// pinCA returns a copy of client that trusts only the CA certificates in
// the PEM file caFile for the portal's TLS certificate.
func pinCA(client *http.Client, caFile string) (*http.Client, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("portal CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("portal CA %s: no PEM certificate in it", caFile)
	}
	var tr *http.Transport
	switch t := client.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("portal CA %s: the HTTP client's transport is not an *http.Transport", caFile)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = pool
	tr.TLSClientConfig.MinVersion = tls.VersionTLS12
	c := *client
	c.Transport = tr
	return &c, nil
}

// untrusted turns a TLS handshake's verdict on the portal's certificate
// into ErrUntrustedPortal, naming the pinned CA, or returns nil for any
// other error.
func (w *Worker) untrusted(err error) error {
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown), errors.As(err, &verify), errors.As(err, &hostname), errors.As(err, &invalid):
	default:
		return nil
	}
	pinned := "the system's CAs"
	if w.cfg.PortalCA != "" {
		pinned = "the CA in " + w.cfg.PortalCA
	}
	return fmt.Errorf("%w (%s): %v", ErrUntrustedPortal, pinned, err)
}

// PinnedClient returns an HTTP client that trusts only the CA certificates
// in the PEM file caFile for the portal's TLS certificate, as a Worker with
// Config.PortalCA does; "" means http.DefaultClient.
func PinnedClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	return pinCA(&http.Client{}, caFile)
}
