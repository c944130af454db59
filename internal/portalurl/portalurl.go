// Package portalurl checks the portal URL a kiosk is configured with. It is a
// leaf, so that the configuration can check a URL without the uplink.
package portalurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrBad is returned (wrapped) for a portal URL that Check refuses.
var ErrBad = errors.New("bad portal URL")

// Check parses a portal URL: http or https only, and plain http only to a
// loopback address unless insecure.
func Check(raw string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an absolute URL like https://portal.example.vn", ErrBad, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure && !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: plain http to %s would send citizens' data unencrypted; use https, or --insecure for a trusted network",
				ErrBad, u.Hostname())
		}
	default:
		return nil, fmt.Errorf("%w: scheme %q: only http and https are supported", ErrBad, u.Scheme)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
