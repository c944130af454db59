package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// NormalizePortalURL is the form in which two spellings of one portal URL
// compare equal: scheme and host in lower case, the scheme's default port
// dropped, no trailing slash, and localhost, 127.0.0.1 and ::1 all the
// loopback address 127.0.0.1.
func NormalizePortalURL(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || host == "::1" {
		host = "127.0.0.1"
	}
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// samePortalURL reports whether the stored portal URL is base, however
// spelled.
func samePortalURL(stored string, base *url.URL) bool {
	u, err := url.Parse(stored)
	return err == nil && stored != "" && NormalizePortalURL(u) == NormalizePortalURL(base)
}

// health asks the portal's health check, which names its instance.
func (w *Worker) health(ctx context.Context) (portalapi.Health, error) {
	var h portalapi.Health
	req, err := w.request(ctx, http.MethodGet, w.endpoint(portalapi.PathHealth), nil)
	if err != nil {
		return h, err
	}
	req.Header.Del("Authorization")
	resp, err := w.do(req)
	if err != nil {
		return h, err
	}
	if resp.StatusCode != http.StatusOK {
		return h, w.statusError(resp, "health check")
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h)
	resp.Body.Close()
	if err != nil {
		return h, &linkError{fmt.Errorf("health check: unreadable answer: %w", err)}
	}
	return h, nil
}

// ErrNotEnrolled is returned (wrapped) when the portal refuses to enroll
// the kiosk without a one-time code, or has revoked it.
var ErrNotEnrolled = errors.New("this kiosk is not enrolled with the portal")

// enrollment is what the store remembers of the kiosk's enrollment.
type enrollment struct {
	portal, token, device, instance, publicKey, signedAt string
}

func (w *Worker) enrollment(ctx context.Context) (enrollment, error) {
	var e enrollment
	for _, s := range []struct {
		key string
		dst *string
	}{{settingPortal, &e.portal}, {settingToken, &e.token}, {settingDevice, &e.device}, {settingInstance, &e.instance},
		{settingPublicKey, &e.publicKey}, {settingSignedAt, &e.signedAt}} {
		v, err := w.cfg.Store.Setting(ctx, s.key)
		if err != nil {
			return e, err
		}
		*s.dst = v
	}
	return e, nil
}

// enroll makes sure the worker has a device token for the portal that
// answers now. Which portal that is, the portal's instance id says, not its
// URL: another spelling of the same portal's URL keeps the enrollment, and
// a portal whose records were made anew at the same URL is a new portal,
// whose files the kiosk delivers again (portalChanged). A portal too old to
// name its instance is told by its URL.
func (w *Worker) enroll(ctx context.Context) error {
	st := w.cfg.Store
	e, err := w.enrollment(ctx)
	if err != nil {
		return err
	}
	h, err := w.health(ctx)
	if err != nil {
		return err
	}
	w.instance = h.Instance
	known := e.token != "" && e.device != ""
	sameURL := samePortalURL(e.portal, w.base)
	switch {
	case e.instance != "" && h.Instance != "" && e.instance != h.Instance:
		if err := w.portalChanged(ctx, e, h.Instance); err != nil {
			return err
		}
		known, e.device = false, ""
	case e.instance != "" && h.Instance != "":
		// The same portal, however its URL is spelled.
	case known && sameURL && e.instance == "" && h.Instance != "":
		// Enrolled before portals had instance ids: its files are this
		// portal's.
		if err := st.AdoptPortalInstance(ctx, h.Instance); err != nil {
			return err
		}
		if err := st.SetSetting(ctx, settingInstance, h.Instance); err != nil {
			return err
		}
	case !sameURL:
		// Another URL, and no instance to tell whether it is the same
		// portal.
		known, e.device = false, ""
	}
	if known && !w.reclaim {
		key, err := w.deviceKey()
		if err != nil {
			return err
		}
		if e.publicKey != portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey)) {
			// Enrolled before keys, or the key was made anew: enroll
			// again, with the token, to register this key.
			return w.enrollAgain(ctx, e)
		}
		if e.portal != w.base.String() {
			if err := st.SetSetting(ctx, settingPortal, w.base.String()); err != nil {
				return err
			}
			w.log.Info("the portal's URL changed; same portal, same enrollment", "was", e.portal, "now", w.base.String())
		}
		w.token, w.deviceID = e.token, e.device
		return nil
	}
	return w.enrollAgain(ctx, e)
}

// enrollAgain enrolls with the portal. When the kiosk had a device id there
// it asks to keep it, showing its token: the portal keeps the id only for
// that device's current token, so a kiosk whose token it revoked becomes a
// new device, and says so, since the status of the files filed under the
// old id will not reach it.
func (w *Worker) enrollAgain(ctx context.Context, e enrollment) error {
	st := w.cfg.Store
	key, err := w.deviceKey()
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	// Signed after the last enrollment signed, whatever the clock did.
	signedAt := w.cfg.Now().UTC()
	if last, err := time.Parse(time.RFC3339Nano, e.signedAt); err == nil && !signedAt.After(last) {
		signedAt = last.Add(time.Millisecond)
	}
	er0 := portalapi.EnrollRequest{DeviceName: w.cfg.DeviceName, DeviceID: e.device, Code: w.cfg.EnrollCode,
		PublicKey: portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey)), SignedAt: signedAt}
	er0.Signature = portalapi.Sign(key, portalapi.EnrollMessage(w.instance, er0))
	body, _ := json.Marshal(er0)
	req, err := w.request(ctx, http.MethodPost, w.endpoint(portalapi.PathEnroll), strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Del("Authorization")
	if e.device != "" && e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		err := w.statusError(resp, "enroll")
		var he *httpError
		if errors.As(err, &he) && (he.body.Code == portalapi.CodeEnrollCode || he.body.Code == portalapi.CodeRevoked) {
			return fmt.Errorf("%w: %w (staff enroll this kiosk with `motcua enroll --portal %s --code CODE`, the code from the portal's operator)",
				ErrNotEnrolled, err, w.base.String())
		}
		return err
	}
	var er portalapi.EnrollResponse
	err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&er)
	resp.Body.Close()
	if err != nil || er.Token == "" || er.DeviceID == "" {
		return fmt.Errorf("enroll: unreadable answer from the portal: %v", err)
	}
	if er.Instance == "" {
		er.Instance = w.instance
	}
	kept := er.DeviceID == e.device
	// The portal last: a cut between the writes enrolls again, and the
	// token written first is the one it asks to keep the id with.
	settings := [][2]string{{settingToken, er.Token}, {settingDevice, er.DeviceID},
		{settingPublicKey, er0.PublicKey}, {settingSignedAt, signedAt.Format(time.RFC3339Nano)}, {settingAgency, er.AgencyCode}}
	if !kept {
		settings = append(settings, [2]string{settingCursor, "0"}, [2]string{settingSeen, "0"})
	}
	settings = append(settings, [2]string{settingInstance, er.Instance}, [2]string{settingPortal, w.base.String()})
	for _, kv := range settings {
		if err := st.SetSetting(ctx, kv[0], kv[1]); err != nil {
			return err
		}
	}
	w.token, w.deviceID, w.reclaim = er.Token, er.DeviceID, false
	switch {
	case kept:
		w.log.Info("enrolled again with the portal, same device", "portal", w.base.String(), "device", er.DeviceID)
	case e.device != "":
		w.log.Warn("the portal did not let this kiosk keep its device id: the status of files filed under the old id will not arrive",
			"portal", w.base.String(), "old_device", e.device, "device", er.DeviceID)
		if err := st.RecordPortalEvent(ctx, "uplink", fmt.Sprintf("enrolled as new device %s at portal %s; device %s was refused, the status of its files will not arrive",
			er.DeviceID, er.Instance, e.device)); err != nil {
			return err
		}
	default:
		w.log.Info("enrolled with the portal", "portal", w.base.String(), "device", er.DeviceID, "instance", er.Instance)
	}
	return nil
}

// portalChanged handles a portal that is not the one the kiosk delivered
// to: its records were made anew, or another portal answers at the URL.
// The files the old portal had and had not finished go back to the queue,
// their old file codes kept; staff are told in the log, the audit log and
// the pass's summary.
func (w *Worker) portalChanged(ctx context.Context, e enrollment, now string) error {
	st := w.cfg.Store
	w.log.Warn("the portal changed identity: it is not the portal this kiosk delivered to; files it does not have are queued again",
		"portal", w.base.String(), "was", e.instance, "now", now)
	lost, err := st.RequeueLost(ctx, now, "uplink")
	if err != nil {
		return fmt.Errorf("portal changed identity: %w", err)
	}
	var codes []string
	for _, f := range lost {
		codes = append(codes, f.FileCode)
		w.log.Warn("queued again for the new portal; its old file code is kept in its history",
			"id", f.ID, "old_file_code", f.FileCode, "old_instance", f.Instance, "was", f.State)
	}
	msg := fmt.Sprintf("the portal at %s changed identity (was %s, now %s): %d unfinished file(s) queued again", w.base.String(),
		e.instance, now, len(lost))
	if len(codes) > 0 {
		msg += "; old file codes " + strings.Join(codes, ", ") + " are no longer valid there"
	}
	if err := st.RecordPortalEvent(ctx, "uplink", msg); err != nil {
		return err
	}
	w.changed = msg
	return nil
}

// EnrolledInstance returns the instance id of the portal the kiosk whose
// store is st is enrolled with, or "" when it has none.
func EnrolledInstance(ctx context.Context, st *store.Store) (string, error) {
	return st.Setting(ctx, settingInstance)
}

// receiptInstance is the instance of the portal that issued rc: the one it
// names, or, from a portal too old to name it, the one its health check
// named. A receipt naming another instance than the health check did means
// the portal changed in between; the next pass's check handles it.
func (w *Worker) receiptInstance(rc portalapi.Receipt) string {
	if rc.Instance == "" {
		return w.instance
	}
	if rc.Instance != w.instance {
		w.log.Warn("a receipt names another portal instance than the health check did", "receipt", rc.Instance, "health", w.instance)
	}
	return rc.Instance
}

// statusPage fetches one page of status events after cursor.
func (w *Worker) statusPage(ctx context.Context, cursor int64) (portalapi.StatusPage, error) {
	var page portalapi.StatusPage
	req, err := w.request(ctx, http.MethodGet, w.endpoint(portalapi.PathStatus)+"?cursor="+strconv.FormatInt(cursor, 10), nil)
	if err != nil {
		return page, err
	}
	resp, err := w.do(req)
	if err != nil {
		return page, err
	}
	if resp.StatusCode != http.StatusOK {
		return page, w.statusError(resp, "pull status")
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&page)
	resp.Body.Close()
	if err != nil {
		return page, fmt.Errorf("pull status: unreadable answer: %w", err)
	}
	return page, nil
}

// rolledBack reports whether a status page shows a portal whose latest
// event for this device is before seen, the latest it told of: in a status
// page (the cursor) or a receipt (settingSeen). A portal that names no
// instance may not report Last.
func (w *Worker) rolledBack(page portalapi.StatusPage, seen int64) bool {
	return w.instance != "" && page.Last < seen
}

// recoverForgotten checks a status page against seen, the latest event
// the portal told of (rolledBack). A portal whose latest event for this
// device is before it no longer has status it sent: its records were
// rolled back (restored from an older backup, same instance). The files it
// filed and no longer knows go back to the queue, their old codes kept, and
// the cursor starts again from zero; it reports whether it did so.
func (w *Worker) recoverForgotten(ctx context.Context, page portalapi.StatusPage, seen int64) (bool, error) {
	if !w.rolledBack(page, seen) {
		return false, nil
	}
	st := w.cfg.Store
	w.log.Warn("the portal no longer has status it sent: its records were rolled back; files it no longer has are queued again",
		"portal", w.base.String(), "seen", seen, "portal_last", page.Last)
	known := map[string]bool{}
	for c := int64(0); ; {
		p, err := w.statusPage(ctx, c)
		if err != nil {
			return false, err
		}
		for _, e := range p.Events {
			known[e.IdempotencyKey] = true
		}
		if !p.More || len(p.Events) == 0 || p.Cursor <= c {
			break
		}
		c = p.Cursor
	}
	lost, err := st.RequeueMissing(ctx, w.instance, known, "uplink")
	if err != nil {
		return false, fmt.Errorf("portal rolled back: %w", err)
	}
	var codes []string
	for _, f := range lost {
		codes = append(codes, f.FileCode)
		w.log.Warn("queued again: the portal no longer has it; its old file code is kept in its history",
			"id", f.ID, "old_file_code", f.FileCode, "was", f.State)
	}
	msg := fmt.Sprintf("the portal at %s rolled back its records (it had told of event %d, its latest is now %d): %d unfinished file(s) queued again",
		w.base.String(), seen, page.Last, len(lost))
	if len(codes) > 0 {
		msg += "; old file codes " + strings.Join(codes, ", ") + " may name other files there"
	}
	if err := st.RecordPortalEvent(ctx, "uplink", msg); err != nil {
		return false, err
	}
	for _, k := range []string{settingSeen, settingCursor} {
		if err := st.SetSetting(ctx, k, "0"); err != nil {
			return false, err
		}
	}
	w.changed = msg
	return true, nil
}
