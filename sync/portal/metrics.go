package portal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/motcua/motcua/sync/portalapi"
)

// metrics are the portal's operational counters, in a registry of its own
// so that several portals in one process do not collide. No label carries
// a device id, file code or upload id: each label has a small fixed set of
// values.
type metrics struct {
	reg      *prometheus.Registry
	inFlight prometheus.Gauge
	received prometheus.Counter
	filings  *prometheus.CounterVec
	refusals *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// latencyBuckets span a fast LAN request (10 ms) to a chunk crawling over
// a weak link (two minutes).
var latencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Filing kinds: an application filed on its own (a manifest posted, or
// carried by its upload) or one of several sharing an upload.
const (
	filingSingle = "single"
	filingShared = "shared"
)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "motcua_portal_uploads_in_flight",
			Help: "Upload requests carrying bytes (tus PATCH, or a creating POST with a body) in progress.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "motcua_portal_received_bytes_total",
			Help: "Request body bytes the portal has read.",
		}),
		filings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "motcua_portal_filings_total",
			Help: "Applications filed (duplicates not counted), by kind: single or shared (several in one upload).",
		}, []string{"kind"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "motcua_portal_refusals_total",
			Help: "Requests and applications refused, by the protocol's error code (or http_STATUS when it has none).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "motcua_portal_request_duration_seconds",
			Help:    "Time to answer a request, by route.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.inFlight, m.received, m.filings, m.refusals, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// knownCodes are the error codes counted under their own name; any other
// refusal is counted as http_STATUS, so a label value never comes from
// what a client sent.
var knownCodes = map[string]bool{
	portalapi.CodeMalformed: true, portalapi.CodeUnauthorized: true, portalapi.CodeUploadIncomplete: true,
	portalapi.CodeChecksumMismatch: true, portalapi.CodeConflict: true, portalapi.CodeRateLimited: true,
	portalapi.CodeUnavailable: true, portalapi.CodeNotFound: true, portalapi.CodeUploadExists: true,
	portalapi.CodeTimeout: true, portalapi.CodeBadSignature: true, portalapi.CodeEnrollCode: true,
	portalapi.CodeRevoked: true, codeTooLarge: true, "internal": true,
}

// refused counts a refusal with the given error code and HTTP status.
func (m *metrics) refused(code string, status int) {
	switch {
	case knownCodes[code]:
	case status == http.StatusTooManyRequests:
		code = portalapi.CodeRateLimited
	default:
		code = "http_" + strconv.Itoa(status)
	}
	m.refusals.WithLabelValues(code).Inc()
}

// filed counts an application filed.
func (m *metrics) filed(kind string) { m.filings.WithLabelValues(kind).Inc() }

// MetricsHandler serves the portal's metrics in the Prometheus text
// format. It reveals operational data, so it is not on the portal's
// Handler: serve it on a listener of its own that only operators reach
// (motcua portal --metrics-listen).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}

// routeClass names the route of a request for the latency histogram.
func routeClass(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, portalapi.PathUploads) || p == strings.TrimSuffix(portalapi.PathUploads, "/"):
		switch r.Method {
		case http.MethodPatch:
			return "upload_patch"
		case http.MethodPost:
			return "upload_post"
		case http.MethodHead:
			return "upload_head"
		}
		return "upload_other"
	case p == portalapi.PathSubmissions:
		return "submissions"
	case p == portalapi.PathStatus:
		return "status"
	case p == portalapi.PathEnroll:
		return "enroll"
	case strings.HasPrefix(p, portalapi.PathTrack):
		return "track"
	case p == portalapi.PathHealth:
		return "health"
	case p == portalapi.PathCatalog:
		return "catalog"
	}
	return "other"
}

// instrumented measures each request: its latency by route, the bytes of
// its body, the uploads in flight, and the error code of a refusal.
func (s *Server) instrumented(next http.Handler) http.Handler {
	m := s.metrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := routeClass(r)
		// An upload's bytes come in a PATCH, or in the POST that creates
		// it (several applications in one upload).
		if route == "upload_patch" || (route == "upload_post" && r.ContentLength != 0) {
			m.inFlight.Inc()
			defer m.inFlight.Dec()
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, c: m.received}
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
		if rec.status >= 400 {
			m.refused(errorCode(rec.head), rec.status)
		}
	})
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	c prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.Add(float64(n))
	return n, err
}

// statusRecorder keeps a response's status and, for an error, the head of
// its body, where the JSON error's code is. It unwraps for
// http.ResponseController, which tusd and the portal use for deadlines.
type statusRecorder struct {
	http.ResponseWriter
	status int
	head   []byte
}

// maxErrorHead is how much of an error body is kept to find its code.
const maxErrorHead = 128

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= 400 && len(r.head) < maxErrorHead {
		r.head = append(r.head, b[:min(len(b), maxErrorHead-len(r.head))]...)
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() { http.NewResponseController(r.ResponseWriter).Flush() }

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// codeField finds the code of a portalapi.Error, which writeJSON puts
// first.
var codeField = regexp.MustCompile(`^\{"error"\s*:\s*"([a-z_]{1,40})"`)

// errorCode returns the error code at the head of an error body, or "".
func errorCode(head []byte) string {
	if m := codeField.FindSubmatch(head); m != nil {
		return string(m[1])
	}
	return ""
}

// ServeMetrics serves MetricsHandler on ln, a listener apart from the
// portal's, until ctx is done. Nothing else is served there, and no
// device token is asked: whoever reaches ln reads the metrics.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}
