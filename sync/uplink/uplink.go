// Package uplink is the outbox worker: it delivers queued applications to
// the portal over weak links, never losing or doubling one, and pulls their
// status back.
//
// An application is delivered in two steps. Its attachments go first as tus
// uploads that resume from the portal's offset after a cut or a restart (the
// upload URL and the confirmed offset are kept in the store); then its
// manifest, carrying the idempotency key fixed at capture, so a repeated
// manifest gets the same file code. Smaller applications go first. One the
// portal refuses for good is quarantined with the portal's reason, and one
// it asks to wait (429) is held; neither blocks the others, though a
// second held in one pass shows the limit is the device's and ends the
// pass. The worker follows no redirect and believes no upload offset the
// kiosk could not have sent.
package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/portalurl"
	"github.com/motcua/motcua/sync/portalapi"
)

// Settings keys in the store.
const (
	settingPortal = "uplink.portal"
	settingToken  = "uplink.token"
	settingCursor = "uplink.status_cursor"
	// settingSeen is the latest status event a receipt of the portal
	// named (portalapi.Receipt.Seq): the portal holds it, whether or not
	// the status pull has reached it.
	settingSeen   = "uplink.status_seen"
	settingDevice = "uplink.device_id"
	// settingInstance is the instance id of the portal the kiosk is
	// enrolled with (portalapi.Health).
	settingInstance = "uplink.portal_instance"
	// settingPublicKey is the public key the portal has for this device
	// (portalapi.EncodePublicKey), settingSignedAt when the kiosk signed
	// its last enrollment, and settingAgency the agency code the portal
	// gave.
	settingPublicKey = "uplink.public_key"
	settingSignedAt  = "uplink.enroll_signed_at"
	settingAgency    = "uplink.agency_code"
)

// ErrBadPortalURL is returned (wrapped) for a portal URL the worker refuses.
var ErrBadPortalURL = portalurl.ErrBad

// ErrRedirect is returned (wrapped) when the portal answers with a
// redirect: the uplink follows none, so an application never goes to a host
// or a scheme other than the portal's.
var ErrRedirect = errors.New("the portal redirected the request; redirects are not followed")

// Config configures a Worker.
type Config struct {
	// Portal is the portal's base URL.
	Portal string
	// Insecure allows plain http to a host other than loopback.
	Insecure bool
	Store    *store.Store
	// DeviceName names this kiosk when it enrolls.
	DeviceName string
	// EnrollCode is the one-time code (motcua portal enroll-code) the
	// kiosk enrolls with as a new device; without one only a portal that
	// lets loopback clients enroll freely (motcua run's own) takes it.
	EnrollCode string
	// KeyFile is the device's Ed25519 key, made there at the first
	// enrollment; "" means DeviceKeyFile beside the store's database.
	KeyFile string
	// PortalCA, when set, is a PEM file of the CA certificates the portal's
	// TLS certificate must chain to: the kiosk then trusts only those, not
	// the system's.
	PortalCA string
	// Client is the HTTP client; nil means one with sensible timeouts.
	Client *http.Client
	Logger *slog.Logger
	// MaxBackoff caps the wait between delivery rounds; 0 means 60 s.
	MaxBackoff time.Duration
	// ProbeInterval is how often the link is probed while waiting, so that
	// delivery resumes within seconds of the link's return; 0 means 2 s.
	ProbeInterval time.Duration
	// StallTimeout cancels a transfer that makes no progress; 0 means 30 s.
	StallTimeout time.Duration
	// Sleep waits for d or until ctx is done; nil means a real timer. Tests
	// inject it to run retry logic without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DailyBudget caps the upload bytes sent per day (Vietnam time) on a
	// metered link; 0 means no cap. An application that does not fit waits
	// for the next day.
	DailyBudget int64
	// MaxServerErrors is how many server errors (5xx other than 502, 503
	// and 504) one upload may get before it starts again from zero under a
	// new name; 0 means DefaultMaxServerErrors.
	MaxServerErrors int
	// QuarantineAfter is how long the portal may answer an application's
	// delivery with nothing but server errors (link failures aside) before
	// it is quarantined with the last one as the reason; 0 means
	// DefaultQuarantineAfter.
	QuarantineAfter time.Duration
	// Status, if set, is told the state of delivery as status.Uplink
	// events: online or not after each contact, the applications waiting,
	// the one being sent and how far. Publishing never changes delivery.
	Status status.Publisher
}

// Worker delivers the outbox to one portal.
type Worker struct {
	cfg      Config
	base     *url.URL
	client   *http.Client
	log      *slog.Logger
	token    string
	deviceID string
	// sent counts upload bytes put on the wire, for measurements and the
	// data budget; manifestsSent the part of them that were the manifests
	// an upload of several applications starts with.
	sent          atomic.Int64
	manifestsSent atomic.Int64
	// reaches bounds, by upload URL, the bytes this worker sent to each
	// upload: a portal claiming more is not believed.
	reachMu sync.Mutex
	reaches map[string]int64
	// unrecorded holds, by budget key, bytes sent whose record in the store
	// failed: they still count against the day's budget.
	budgetMu   sync.Mutex
	unrecorded map[string]int64
	// instance is the portal's instance id, as its health check said at
	// the start of the pass.
	instance string
	// reclaim is set when the portal refused the device token: the next
	// pass enrolls again, asking to keep the device id.
	reclaim bool
	// changed says, for the pass's summary, that the portal changed
	// identity and what was queued again.
	changed string
	// board publishes the state of delivery to cfg.Status.
	board board
	// gate holds back the filings of the pass until the portal is
	// confirmed, when that is checked beside them; nil otherwise.
	gate *gate
	// key is the device's signing key, loaded at first use.
	keyMu sync.Mutex
	key   ed25519.PrivateKey
	// unseen is set when a receipt of the pass named no status event
	// the kiosk could keep (settingSeen): the status pull then goes after
	// the deliveries, so that the cursor passes its filing.
	unseen bool
}

// CheckPortalURL parses a portal URL: http or https only, and plain http
// only to a loopback address unless insecure. It is portalurl.Check.
func CheckPortalURL(raw string, insecure bool) (*url.URL, error) {
	return portalurl.Check(raw, insecure)
}

// New returns a Worker for cfg.
func New(cfg Config) (*Worker, error) {
	base, err := CheckPortalURL(cfg.Portal, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	if cfg.Store == nil {
		return nil, errors.New("uplink: no store")
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 60 * time.Second
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 2 * time.Second
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = 30 * time.Second
	}
	if cfg.MaxServerErrors <= 0 {
		cfg.MaxServerErrors = DefaultMaxServerErrors
	}
	if cfg.QuarantineAfter <= 0 {
		cfg.QuarantineAfter = DefaultQuarantineAfter
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DeviceName == "" {
		cfg.DeviceName = "motcua kiosk"
	}
	var client *http.Client
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	} else {
		// No overall timeout: a 300 KB page takes minutes at 4 KB/s. Dials,
		// handshakes and replies are bounded; transfers by StallTimeout.
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 15 * time.Second}).DialContext,
			TLSHandshakeTimeout:   20 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			IdleConnTimeout:       60 * time.Second,
			MaxIdleConnsPerHost:   2,
		}}
	}
	if cfg.PortalCA != "" {
		if client, err = pinCA(client, cfg.PortalCA); err != nil {
			return nil, err
		}
	}
	// No redirect is followed, even one a given client would follow: a 307
	// would re-send the form to another host, and take its receipt, and an
	// https portal's redirect to http would send it in clear. do turns the
	// redirect into an ErrRedirect.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Worker{cfg: cfg, base: base, client: client, log: cfg.Logger,
		board: board{pub: cfg.Status, now: cfg.Now}}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deviceKey returns the device's signing key, made at first use.
func (w *Worker) deviceKey() (ed25519.PrivateKey, error) {
	w.keyMu.Lock()
	defer w.keyMu.Unlock()
	if w.key != nil {
		return w.key, nil
	}
	path := w.cfg.KeyFile
	if path == "" {
		path = filepath.Join(filepath.Dir(w.cfg.Store.Path()), DeviceKeyFile)
	}
	key, err := LoadOrCreateDeviceKey(path)
	if err != nil {
		return nil, err
	}
	w.key = key
	return key, nil
}

// sign signs a manifest's bytes as sent under idempotency key, for the
// device the worker is enrolled as.
func (w *Worker) sign(key string, manifest []byte) (string, error) {
	k, err := w.deviceKey()
	if err != nil {
		return "", fmt.Errorf("sign manifest %s: %w", key, err)
	}
	return portalapi.Sign(k, portalapi.ManifestMessage(w.deviceID, key, manifest)), nil
}

// BytesSent returns the attachment bytes this worker has put on the wire.
func (w *Worker) BytesSent() int64 { return w.sent.Load() - w.manifestsSent.Load() }

func (w *Worker) request(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	return req, nil
}

func (w *Worker) do(req *http.Request) (*http.Response, error) {
	resp, err := w.client.Do(req)
	if err != nil {
		w.board.unreachable(req.Context())
		if u := w.untrusted(err); u != nil {
			err = u
		}
		return nil, &linkError{err}
	}
	w.board.answered(resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		drain(resp)
		to := resp.Header.Get("Location")
		if loc, err := req.URL.Parse(to); err == nil {
			to = loc.Redacted()
		}
		return nil, fmt.Errorf("%s %s: %w (answer %d to %q)", req.Method, req.URL.Redacted(), ErrRedirect, resp.StatusCode, to)
	}
	return resp, nil
}

// linkError is a failure to reach the portal at all.
type linkError struct{ err error }

func (e *linkError) Error() string { return "portal unreachable: " + e.err.Error() }
func (e *linkError) Unwrap() error { return e.err }

// httpError is an error answer from the portal.
type httpError struct {
	op         string
	status     int
	body       portalapi.Error
	retryAfter time.Duration
	// held is set when retryAfter holds back one application only (a 429
	// to its delivery), not the whole portal.
	held bool
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("%s: portal answered %d", e.op, e.status)
	if e.body.Code == "" {
		msg += " " + http.StatusText(e.status)
	} else {
		msg += " " + e.body.Code + ": " + e.body.Message
		for _, f := range e.body.Fields {
			msg += "; " + f.Field + ": " + f.Message
		}
	}
	return msg
}

// statusError reads an error answer. A body that is not a protocol error
// (a proxy's page, garbage, a cut) is ignored: the status still counts.
func (w *Worker) statusError(resp *http.Response, op string) error {
	e := &httpError{op: op, status: resp.StatusCode}
	if b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); err == nil {
		// A body that is not a protocol error leaves e.body empty.
		_ = json.Unmarshal(b, &e.body)
	}
	resp.Body.Close()
	e.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), w.cfg.Now())
	return e
}

// MaxRetryAfter caps the wait a portal's Retry-After can ask for: a huge
// value, by mistake or by malice, does not stop delivery for days.
const MaxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After header, delta-seconds or an HTTP
// date, as a wait from now. A wait over MaxRetryAfter is MaxRetryAfter; a
// value that is unreadable, negative or in the past is no wait.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(h, "0123456789") == "" {
		secs, err := strconv.ParseUint(h, 10, 64)
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter // all digits, but too many
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// refused reports whether err is the portal refusing an application for
// good: retrying cannot change the answer, so the application is
// quarantined with the portal's reason for staff to see. The statuses are
// classified explicitly (docs/protocol.md): 401 enrolls again; 404 on an
// upload creates it again (see transfer) and on a manifest is retried, as
// are 407, 408, 409, 421, 423, 425, 429 and every 5xx; a corrupt upload
// (422 checksum_mismatch) is sent again under a new name. Every other 4xx,
// among them 400, 403, 410, 413, 414, 415 and 422, is a refusal.
func refused(err error) bool {
	var he *httpError
	if !errors.As(err, &he) || he.status < 400 || he.status >= 500 {
		return false
	}
	if he.status == http.StatusUnprocessableEntity && he.body.Code == portalapi.CodeChecksumMismatch {
		return false
	}
	switch he.status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusProxyAuthRequired, http.StatusRequestTimeout,
		http.StatusConflict, http.StatusMisdirectedRequest, http.StatusLocked, http.StatusTooEarly,
		http.StatusTooManyRequests:
		return false
	}
	return true
}

// retryAfter is the wait the portal asked of the whole worker with err: a
// Retry-After that held back one application only asks nothing.
func retryAfter(err error) time.Duration {
	var he *httpError
	if errors.As(err, &he) && !he.held {
		return he.retryAfter
	}
	return 0
}

// Summary says what a delivery pass did.
type Summary struct {
	Delivered   int `json:"delivered"`
	Quarantined int `json:"quarantined"`
	Failed      int `json:"failed"`
	// Remaining is how many applications still wait in the queue.
	Remaining int `json:"remaining"`
	// StatusUpdates is how many portal status changes were applied.
	StatusUpdates int    `json:"status_updates"`
	LastError     string `json:"last_error,omitempty"`
	// Held is how many of the remaining applications wait out the portal's
	// Retry-After (429) before they are sent again.
	Held int `json:"held,omitempty"`
	// heldUntil is when the first of them may be sent.
	heldUntil time.Time
	// uncounted is set when the store could not count Remaining.
	uncounted bool
	// PortalChanged says, in plain words for staff, that the portal is no
	// longer the one this kiosk delivered to and what was queued again.
	PortalChanged string `json:"portal_changed,omitempty"`
}

// count sets Remaining from the store. When the store cannot say, the
// summary is marked uncounted: an unknown remainder is never taken as an
// empty queue.
func (s *Summary) count(ctx context.Context, w *Worker) error {
	n, err := w.remaining(ctx)
	s.Remaining, s.uncounted = n, err != nil
	if err != nil {
		return fmt.Errorf("count the queue: %w", err)
	}
	return nil
}

// hold counts an application held until until.
func (s *Summary) hold(until time.Time) {
	s.Held++
	if s.heldUntil.IsZero() || until.Before(s.heldUntil) {
		s.heldUntil = until
	}
}

// Recover puts back in the queue the applications left "sending" by a
// worker that died mid-delivery; their uploads resume where they were. Only
// the one worker of a store may call it (Once and Run do): beside a live
// worker it would queue again what that worker is sending, and both would
// send it. cmd/motcua holds the data directory's delivery lock
// (internal/dirlock) for as long as its worker runs.
func (w *Worker) Recover(ctx context.Context) error {
	list, err := w.cfg.Store.List(ctx, store.ListOptions{States: []application.State{application.Sending}})
	if err != nil {
		return err
	}
	for _, a := range list {
		if err := w.cfg.Store.Transition(ctx, a.ID, application.Queued, store.Change{Actor: "uplink",
			Detail: "delivery interrupted; queued again", LastError: "interrupted"}); err != nil {
			return err
		}
	}
	return nil
}

// Pass tries once to deliver every queued application, smallest first, and
// pulls status and the catalog. A link failure ends the pass early: the
// others would fail the same way. The health check that confirms the
// portal and the pulls run beside the upload when the kiosk is enrolled
// (gate, pullAside), so they add no round trip to the pass.
func (w *Worker) Pass(ctx context.Context) (Summary, error) {
	var sum Summary
	list := func() ([]store.Summary, error) {
		return w.cfg.Store.List(ctx, store.ListOptions{States: []application.State{application.Queued}, SmallestFirst: true})
	}
	queued, err := list()
	if err != nil {
		return sum, err
	}
	// A kiosk enrolled with the portal at this URL sends at once, and
	// checks beside the upload that the portal is still that one (gate);
	// any other enrolls first.
	g, err := w.confirmBeside(ctx, len(queued) > 0)
	if err == nil && g == nil {
		if err = w.enroll(ctx); err == nil {
			queued, err = list()
		}
	}
	sum.PortalChanged, w.changed = w.changed, ""
	if err != nil {
		err = errors.Join(err, sum.count(ctx, w))
		sum.LastError = err.Error()
		return sum, err
	}
	w.gate = g
	defer func() { w.gate = nil }()
	w.countWaiting(ctx)
	holds, err := w.cfg.Store.DeliveryHolds(ctx, w.cfg.Now())
	if err != nil {
		return sum, err
	}
	// The status and catalog pulls run beside the deliveries, so that
	// they add no round trip to the pass; what could race a delivery they
	// leave to a pull after it.
	var aside <-chan pulled
	w.unseen = false
	if len(queued) > 0 {
		aside = w.pullAside(ctx, queued, g)
	}
	// Small applications go first, several to an upload; the loop below
	// sends the others, and those the portal did not file with the rest.
	// limited counts the applications the portal answered 429 in this
	// pass.
	queued, limited, batchErr := w.sendBatches(ctx, queued, holds, &sum)
	var lastErr error
	for _, a := range queued {
		if ctx.Err() != nil {
			break
		}
		if until, ok := holds[a.ID]; ok {
			// The portal asked this one to wait; the others go on.
			sum.hold(until)
			continue
		}
		err := w.deliver(ctx, a.ID)
		w.countWaiting(ctx)
		var he *httpError
		switch {
		case err == nil:
			sum.Delivered++
		case refused(err), errors.Is(err, ErrServerErrors), errors.Is(err, store.ErrAttachmentDamaged),
			errors.Is(err, store.ErrPersonalDataDamaged):
			sum.Quarantined++
		default:
			sum.Failed++
			lastErr = err
			if errors.As(err, &he) && he.held {
				sum.hold(w.cfg.Now().Add(he.retryAfter))
			}
			if he != nil && he.status == http.StatusTooManyRequests {
				if limited++; limited > 1 {
					// A second application asked to wait: the limit is
					// the device's (the portal's filing rate, or a
					// proxy's), not one application's, and every other
					// would be refused too. The pass stops, and the next
					// waits out its Retry-After.
					he.held = false
				}
			}
		}
		if limited > 1 {
			break
		}
		var le *linkError
		if errors.As(err, &le) || retryAfter(err) > 0 || errors.Is(err, ErrBudgetSpent) || errors.Is(err, ErrRedirect) ||
			errors.Is(err, errUnconfirmed) {
			break
		}
	}
	if batchErr != nil && lastErr == nil {
		lastErr = batchErr
	}
	again := true
	var p pulled
	if aside != nil {
		p = <-aside
	}
	if p.unconfirmed {
		// Nothing was filed: the gate held every filing back.
		lastErr, again = p.err, false
		if errors.Is(p.err, errOtherInstance) {
			// The enrollment handles the other portal; the next pass
			// delivers to it.
			if err := w.enroll(ctx); err != nil {
				lastErr = errors.Join(lastErr, err)
			}
		}
	} else if aside != nil {
		sum.StatusUpdates = p.updates
		// The status pull goes again after the deliveries when it left
		// events to them, when a receipt named no status event, or when a
		// delivery failed: the portal may have filed one whose answer was
		// lost, and its status tells. One that failed itself is not tried
		// again in the pass.
		again = p.deferred || p.err == nil && (w.unseen || sum.Failed > 0 || lastErr != nil)
		if p.err != nil && lastErr == nil {
			lastErr = p.err
		}
	}
	if again {
		n, err := w.PullStatus(ctx)
		sum.StatusUpdates += n
		if err != nil && lastErr == nil {
			lastErr = err
		}
	}
	if w.changed != "" {
		sum.PortalChanged, w.changed = w.changed, ""
	}
	if aside == nil {
		if err := w.PullCatalog(ctx); err != nil {
			w.log.Warn("catalog pull failed", "err", err)
		}
	}
	if err := sum.count(ctx, w); err != nil {
		lastErr = errors.Join(lastErr, err)
	}
	if lastErr != nil {
		sum.LastError = lastErr.Error()
	}
	var he *httpError
	if errors.As(lastErr, &he) && he.status == http.StatusUnauthorized {
		// The portal no longer knows this token (revoked, or its records
		// were made anew, which the next health check tells): enroll again
		// on the next pass, asking to keep the device id.
		w.log.Warn("the portal refused the device token; enrolling again", "device", w.deviceID)
		w.reclaim = true
	}
	return sum, lastErr
}

// remaining counts the applications waiting for delivery, and publishes
// the count with their bytes.
func (w *Worker) remaining(ctx context.Context) (int, error) {
	list, err := w.cfg.Store.List(ctx, store.ListOptions{States: []application.State{application.Queued, application.Sending}})
	if err != nil {
		return 0, err
	}
	var size int64
	for _, a := range list {
		size += a.PayloadBytes
	}
	w.board.waiting(len(list), size)
	return len(list), nil
}

// Once delivers until the queue is empty or ctx ends, backing off between
// passes. It returns the last pass's summary.
func (w *Worker) Once(ctx context.Context) (Summary, error) {
	if err := w.Recover(ctx); err != nil {
		return Summary{}, err
	}
	b := w.newBackoff()
	var total Summary
	for {
		sum, err := w.Pass(ctx)
		total.Delivered += sum.Delivered
		total.Quarantined += sum.Quarantined
		total.Failed += sum.Failed
		total.StatusUpdates += sum.StatusUpdates
		total.Remaining, total.LastError, total.Held = sum.Remaining, sum.LastError, sum.Held
		if sum.PortalChanged != "" {
			total.PortalChanged = sum.PortalChanged
		}
		if sum.Remaining == 0 && !sum.uncounted && err == nil {
			return total, nil
		}
		if sum.Remaining == 0 && !sum.uncounted && ctx.Err() == nil {
			// Only the status pull failed; nothing waits to be sent.
			return total, nil
		}
		if errors.Is(err, ErrNotEnrolled) {
			// Only staff can change that (motcua enroll): waiting won't.
			return total, fmt.Errorf("gave up with %d application(s) undelivered: %w", total.Remaining, err)
		}
		werr := error(nil)
		if sum.Held > 0 && sum.Held >= sum.Remaining && retryAfter(err) == 0 {
			// Nothing can go before the first hold ends: wait for it.
			werr = w.cfg.Sleep(ctx, max(sum.heldUntil.Sub(w.cfg.Now()), time.Second))
		} else {
			werr = w.wait(ctx, b, err)
		}
		if werr != nil {
			if err != nil {
				// Wrapped, so that the caller can explain its cause (a
				// full disk, a data directory it cannot write).
				return total, fmt.Errorf("gave up with %d application(s) undelivered: %w", total.Remaining, err)
			}
			return total, fmt.Errorf("gave up with %d application(s) undelivered: %s", total.Remaining, total.LastError)
		}
	}
}

// Run delivers for as long as ctx lasts: a pass, then a wait that is short
// while the link works and backs off to MaxBackoff while it does not.
func (w *Worker) Run(ctx context.Context, idle time.Duration) error {
	if err := w.Recover(ctx); err != nil {
		return err
	}
	b := w.newBackoff()
	for ctx.Err() == nil {
		sum, err := w.Pass(ctx)
		if sum.Delivered > 0 || sum.StatusUpdates > 0 {
			w.log.Info("delivery pass", "delivered", sum.Delivered, "quarantined", sum.Quarantined,
				"remaining", sum.Remaining, "status_updates", sum.StatusUpdates)
		}
		if err == nil {
			b.Reset()
			if w.cfg.Sleep(ctx, idle) != nil {
				break
			}
			continue
		}
		w.log.Warn("delivery pass failed", "remaining", sum.Remaining, "err", err)
		if w.wait(ctx, b, err) != nil {
			break
		}
	}
	return nil
}

func (w *Worker) newBackoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.MaxInterval = w.cfg.MaxBackoff
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	b.Reset()
	return b
}

// wait sleeps before the next pass: the backoff delay, at least the
// portal's Retry-After. While waiting after a link failure it probes the
// portal every ProbeInterval and returns as soon as the link answers.
func (w *Worker) wait(ctx context.Context, b *backoff.ExponentialBackOff, cause error) error {
	d := b.NextBackOff()
	if ra := retryAfter(cause); ra > d {
		d = ra
	}
	var le *linkError
	if !errors.As(cause, &le) || retryAfter(cause) > 0 {
		return w.cfg.Sleep(ctx, d)
	}
	for waited := time.Duration(0); waited < d; waited += w.cfg.ProbeInterval {
		if err := w.cfg.Sleep(ctx, min(w.cfg.ProbeInterval, d-waited)); err != nil {
			return err
		}
		ok, ra := w.probe(ctx)
		if ok {
			b.Reset()
			return nil
		}
		if ra > 0 {
			// The portal is back but asks the whole worker to wait.
			return w.cfg.Sleep(ctx, ra)
		}
	}
	return nil
}

// probe reports whether the portal answers its health check, and the wait
// a 503 from it asks with Retry-After.
func (w *Worker) probe(ctx context.Context) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := w.request(ctx, http.MethodGet, w.endpoint(portalapi.PathHealth), nil)
	if err != nil {
		return false, 0
	}
	resp, err := w.client.Do(req)
	if err != nil {
		w.board.unreachable(ctx)
		return false, 0
	}
	drain(resp)
	w.board.answered(resp.StatusCode)
	if resp.StatusCode == http.StatusServiceUnavailable {
		return false, parseRetryAfter(resp.Header.Get("Retry-After"), w.cfg.Now())
	}
	return resp.StatusCode == http.StatusOK, 0
}
