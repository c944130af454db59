package uplink

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// deliver sends application id: queued -> sending -> received, or back to
// queued with the error, or quarantined with the portal's reason when the
// portal refuses it for good.
func (w *Worker) deliver(ctx context.Context, id int64) error {
	st := w.cfg.Store
	need, err := w.remainingBytes(ctx, id)
	if err != nil {
		return err
	}
	// The bytes are booked against the day's budget before any leaves: a
	// failed write sends nothing.
	bk, err := w.book(ctx, id, need)
	if err != nil {
		return err
	}
	start := w.sent.Load()
	// The outcome is recorded even when ctx ended, so nothing stays
	// "sending" behind a clean stop.
	bg := context.WithoutCancel(ctx)
	fails, err := st.DeliveryFailures(ctx, id)
	if err != nil {
		return errors.Join(err, w.settleBudget(bg, bk, 0))
	}
	// A retry stays queued while it is tried: its failures update a counter
	// (RecordDeliveryFailure), and only its outcome is an audit event, so a
	// portal failing for days does not grow the audit log.
	retry := fails.Attempts > 0
	if !retry {
		if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
			return errors.Join(err, w.settleBudget(bg, bk, 0))
		}
	}
	err = w.send(ctx, id)
	if berr := w.settleBudget(bg, bk, w.sent.Load()-start); berr != nil {
		w.log.Error("the data budget could not be recorded", "id", id, "err", berr)
		err = errors.Join(err, berr)
	}
	topic := string(application.Queued)
	if err == nil {
		return errors.Join(st.Settle(bg, id, topic), st.ClearDeliveryFailures(bg, id))
	}
	if a, gerr := st.Get(bg, id); gerr == nil && a.State == application.Received {
		// Filed, and known here; only a write after it failed.
		return errors.Join(err, st.Settle(bg, id, topic), st.ClearDeliveryFailures(bg, id))
	}
	to, detail := application.Queued, "delivery failed; will retry"
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusTooManyRequests && he.retryAfter > 0 {
		// The portal asked this application to wait: the others go on.
		until := w.cfg.Now().Add(he.retryAfter)
		if herr := st.HoldDelivery(bg, id, until); herr != nil {
			err = errors.Join(err, herr)
		} else {
			he.held = true
			detail = "the portal asked it to wait until " + until.UTC().Format(time.RFC3339)
		}
	}
	fails, stuck, cerr := w.countFailure(bg, id, fails, err)
	switch {
	case errors.Is(err, store.ErrAttachmentDamaged), errors.Is(err, store.ErrPersonalDataDamaged):
		// Sending it would leave a corrupt copy at the portal at every
		// pass, and a form whose sealed bytes changed never opens again;
		// only staff can get the evidence again.
		to, detail = application.Quarantined, "staff must check it: "+err.Error()
	case refused(err):
		to, detail = application.Quarantined, "the portal refused it; staff must check it: "+err.Error()
	case stuck:
		err = fmt.Errorf("%w for %s (%d attempts): %w", ErrServerErrors, w.cfg.QuarantineAfter, fails.Attempts, err)
		to, detail = application.Quarantined, "staff must check it: "+err.Error()
	}
	err = errors.Join(err, cerr)
	if to == application.Quarantined {
		if terr := st.TransitionVia(bg, id, to, store.Change{Actor: "uplink", Detail: detail, LastError: err.Error()}); terr != nil {
			return errors.Join(err, terr)
		}
		w.log.Warn("delivery failed", "id", id, "to", to, "err", err)
		return errors.Join(err, st.Settle(bg, id, topic), st.ClearDeliveryFailures(bg, id))
	}
	if !retry {
		if terr := st.Transition(bg, id, to, store.Change{Actor: "uplink", Detail: detail, LastError: err.Error()}); terr != nil {
			return errors.Join(err, terr)
		}
	}
	fails.LastError = err.Error()
	oerr := st.RecordDeliveryFailure(bg, id, topic, fails)
	w.log.Warn("delivery failed", "id", id, "to", to, "attempts", fails.Attempts, "err", err)
	return errors.Join(err, oerr)
}

func (w *Worker) send(ctx context.Context, id int64) error {
	st := w.cfg.Store
	a, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	// The attachments travel back to back in one upload; the manifest names
	// each by its offset.
	m := portalapi.Manifest{IdempotencyKey: a.IdempotencyKey, ProcedureCode: a.ProcedureCode, ProcedureID: a.ProcedureID,
		CatalogVersion: a.CatalogVersion, CapturedAt: a.CreatedAt, Form: a.Form,
		Attachments: make([]portalapi.AttachmentRef, len(a.Attachments))}
	// The chain's head goes with it, for the portal to keep.
	if seq, hash, err := st.AuditHead(ctx); err != nil {
		return err
	} else if seq > 0 {
		m.AuditHead = &portalapi.AuditHead{Seq: seq, Hash: hex.EncodeToString(hash)}
	}
	var content []byte
	for i, att := range a.Attachments {
		b, err := st.AttachmentContent(ctx, att.ID)
		if err != nil {
			return err
		}
		m.Attachments[i] = portalapi.AttachmentRef{EvidenceKey: att.EvidenceKey, Name: att.Name, MediaType: att.MediaType,
			Size: att.Size, SHA256: att.SHA256, Offset: int64(len(content))}
		content = append(content, b...)
	}
	var rc portalapi.Receipt
	if len(content) == 0 {
		rc, err = w.postManifest(ctx, &m)
	} else {
		rc, err = w.upload(ctx, a, &m, content)
	}
	if err != nil {
		return err
	}
	detail := "due " + rc.DueAt.Format("2006-01-02")
	if rc.Duplicate {
		detail += "; the portal had it already"
	}
	if err := st.TransitionVia(context.WithoutCancel(ctx), id, application.Received,
		store.Change{Actor: "uplink", FileCode: rc.FileCode, Instance: w.receiptInstance(rc), Detail: detail}); err != nil {
		return err
	}
	w.log.Info("application received by the portal", "id", id, "file_code", rc.FileCode)
	w.sawReceipts(context.WithoutCancel(ctx), rc)
	return nil
}

// maxResumes bounds the immediate resumptions of an upload within a pass;
// each must have made progress, so a link that cuts every few hundred KB
// still gets the application through without waiting for the backoff.
const maxResumes = 64

// upload sends the application's content as one tus upload that carries its
// manifest, resuming any upload started before (even by a process that was
// killed), and returns the portal's receipt.
func (w *Worker) upload(ctx context.Context, a *application.Application, m *portalapi.Manifest, content []byte) (portalapi.Receipt, error) {
	st := w.cfg.Store
	up, found, err := st.Upload(ctx, a.ID)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	if found && up.Generation == 0 && up.Complete && up.URL != "" {
		// All its bytes are at the portal in an upload shared with others
		// that did not file it then: its manifest alone names them.
		return w.fileShared(ctx, a, m, up)
	}
	if !found || up.Generation == 0 {
		// Generation 0 is the record of an upload shared with others, not
		// this application's own.
		up = store.Upload{Generation: 1}
	}
	// A new upload, or a new generation's: nothing was ever sent under its
	// name, so it is created without asking its offset.
	fresh := up.URL == ""
	name := fmt.Sprintf("%s-%d", a.IdempotencyKey, up.Generation)
	up.URL = w.endpoint(portalapi.PathUploads) + w.deviceID + "-" + name
	// The URL is known, and kept, before a byte is sent: after a cut that
	// lost the answer, or a restart, the upload is asked for by name.
	if err := st.SaveUpload(ctx, a.ID, up); err != nil {
		return portalapi.Receipt{}, err
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	sig, err := w.sign(a.IdempotencyKey, manifest)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	meta := map[string]string{
		portalapi.MetaIdempotencyKey: a.IdempotencyKey,
		portalapi.MetaUploadName:     name,
		portalapi.MetaManifest:       string(manifest),
		portalapi.MetaSignature:      sig,
	}
	size := int64(len(content))
	if fresh {
		w.reached(up.URL, 0)
	}
	w.board.sending(a.ID, up.Confirmed, size)
	defer w.board.sent()
	// known is true when up.Confirmed was just read from the portal, so the
	// next PATCH needs no HEAD first.
	known := false
	var result sent
	for attempt := 0; ; attempt++ {
		if attempt > maxResumes {
			// A portal that answers in circles (gone, then exists, then
			// another offset) does not hold the worker: the next pass tries
			// again.
			return portalapi.Receipt{}, fmt.Errorf("upload: no progress after %d requests at offset %d of %d", attempt, up.Confirmed, size)
		}
		before := up.Confirmed
		switch {
		case up.Complete:
			result = sent{offset: size}
		case fresh:
			result, err = w.sendUpload(ctx, up.URL, 0, content, meta)
			fresh = false
		default:
			off := up.Confirmed
			err = nil
			if !known {
				off, err = w.checkedOffset(ctx, up.URL, size)
			}
			known = false
			if err == nil {
				up.Confirmed = off
				if off < size {
					result, err = w.sendUpload(ctx, up.URL, off, content, nil)
				} else {
					result = sent{offset: size}
				}
			}
		}
		if err == nil && result.offset > w.reach(up.URL, size) {
			err = fmt.Errorf("%w: the portal answered offset %d, but at most %d bytes were sent", errBadOffset, result.offset, w.reach(up.URL, size))
		}
		switch {
		case err == nil:
		case errors.Is(err, errUnconfirmed):
			return portalapi.Receipt{}, err
		case errors.Is(err, errBadOffset):
			return portalapi.Receipt{}, w.restartUpload(ctx, a, &up, err)
		case errors.Is(err, errUploadGone):
			fresh = true
			continue
		case errors.Is(err, errUploadExists), errors.Is(err, errOffsetMismatch):
			continue
		default:
			// A cut, or an error answer: remember how far the portal got,
			// and go on at once if it got further, unless the answer asks
			// to wait or refuses (a 429, 503 or 422 to the request that
			// completed the upload, whose bytes the portal kept): the
			// manifest sent at once would meet the same answer.
			off, herr := w.checkedOffset(ctx, up.URL, size)
			if errors.Is(herr, errBadOffset) {
				return portalapi.Receipt{}, w.restartUpload(ctx, a, &up, errors.Join(err, herr))
			}
			if herr == nil {
				up.Confirmed, up.Complete = off, off == size
				if serr := st.SaveUpload(ctx, a.ID, up); serr != nil {
					return portalapi.Receipt{}, errors.Join(err, serr)
				}
				if off > before && attempt < maxResumes && ctx.Err() == nil && !asksToWait(err) {
					known = true
					continue
				}
			}
			return portalapi.Receipt{}, errors.Join(err, w.checksumFailed(ctx, a, &up, err))
		}
		up.Confirmed, up.Complete = result.offset, result.offset == size
		if err := st.SaveUpload(ctx, a.ID, up); err != nil {
			return portalapi.Receipt{}, err
		}
		if result.receipt != nil {
			return *result.receipt, nil
		}
		if up.Complete {
			// Complete, but the answer with the receipt was lost, or the
			// upload was finished by an earlier run: ask for it by manifest.
			for i := range m.Attachments {
				m.Attachments[i].UploadURL = up.URL
			}
			rc, err := w.postManifest(ctx, m)
			if err != nil {
				err = errors.Join(err, w.checksumFailed(ctx, a, &up, err), w.notComplete(ctx, a, &up, err))
			}
			return rc, err
		}
		if result.offset <= before || attempt >= maxResumes {
			return portalapi.Receipt{}, fmt.Errorf("upload made no progress at offset %d of %d", result.offset, size)
		}
	}
}

// fileShared posts the manifest of an application whose attachments are
// all at the portal in the shared upload up names, from up.Base on. An
// answer saying the upload lacks them, or holds them corrupt, sends them
// again in an upload of the application's own.
func (w *Worker) fileShared(ctx context.Context, a *application.Application, m *portalapi.Manifest, up store.Upload) (portalapi.Receipt, error) {
	for i := range m.Attachments {
		m.Attachments[i].UploadURL = up.URL
		m.Attachments[i].Offset += up.Base
	}
	rc, err := w.postManifest(ctx, m)
	if err != nil {
		err = errors.Join(err, w.checksumFailed(ctx, a, &up, err), w.notComplete(ctx, a, &up, err))
	}
	return rc, err
}

// sendUpload sends content[offset:] to the upload at u: a creating POST
// when meta is set, a PATCH otherwise. It records how far the bytes that
// left may have reached.
//
// An upload this worker already sent bytes to, and must create again
// because the portal said it has no such upload, is created without bytes
// and then sent with a PATCH. The creation that carried them may have
// ended without its answer (a cut, a health check refused beside it) and
// still be on its way: the portal serves each connection as it comes, so
// the HEAD of the next attempt can reach it first and be answered 404.
// Bytes sent with the second creation would all go out before the portal
// answers upload_exists; the empty creation's upload_exists costs none,
// and the next HEAD tells how far the first one got.
func (w *Worker) sendUpload(ctx context.Context, u string, offset int64, content []byte, meta map[string]string) (sent, error) {
	start := w.sent.Load()
	defer func() { w.reached(u, offset+w.sent.Load()-start) }()
	if meta != nil && w.sentTo(u) {
		if err := w.createEmpty(ctx, int64(len(content)), meta); err != nil {
			return sent{}, err
		}
		return w.patch(ctx, u, 0, content)
	}
	if meta != nil {
		return w.createUpload(ctx, content, meta)
	}
	return w.patch(ctx, u, offset, content)
}

// sentTo reports whether this worker sent bytes to the upload at u.
func (w *Worker) sentTo(u string) bool {
	w.reachMu.Lock()
	defer w.reachMu.Unlock()
	return w.reaches[u] > 0
}

// checkedOffset asks the portal the upload's offset and refuses one it
// cannot hold: beyond the upload's length of size bytes, or beyond the
// bytes sent to it.
func (w *Worker) checkedOffset(ctx context.Context, u string, size int64) (int64, error) {
	off, err := w.uploadOffset(ctx, u)
	if err != nil {
		return off, err
	}
	if off > size {
		return 0, fmt.Errorf("%w: the portal holds offset %d of an upload of %d bytes", errBadOffset, off, size)
	}
	if r := w.reach(u, size); off > r {
		return 0, fmt.Errorf("%w: the portal holds offset %d, but at most %d bytes were sent", errBadOffset, off, r)
	}
	return off, nil
}

// reached records that the bytes of the upload at u up to end may have
// reached the portal.
func (w *Worker) reached(u string, end int64) {
	w.reachMu.Lock()
	defer w.reachMu.Unlock()
	if w.reaches == nil {
		w.reaches = map[string]int64{}
	}
	if r, ok := w.reaches[u]; !ok || end > r {
		w.reaches[u] = end
	}
}

// reach bounds what the portal can hold of the upload at u: the bytes this
// worker sent to it, or, for an upload begun by an earlier run, its length
// of size bytes.
func (w *Worker) reach(u string, size int64) int64 {
	w.reachMu.Lock()
	defer w.reachMu.Unlock()
	if r, ok := w.reaches[u]; ok {
		return r
	}
	return size
}

// asksToWait reports whether err is an answer from the portal that asks
// to wait (Retry-After, 503) or that the same request cannot change (a
// 4xx), rather than a cut or an error in the middle of a transfer (a 5xx,
// or tusd's 400 to a body interrupted or ended early), after which an
// upload that made progress goes on at once.
func asksToWait(err error) bool {
	var he *httpError
	return errors.As(err, &he) && he.status != http.StatusBadRequest &&
		(he.status < 500 || he.status == http.StatusServiceUnavailable || he.retryAfter > 0)
}

// restartUpload answers an impossible offset, a protocol error: the upload
// starts again from zero under the next generation's name, and is never
// taken as complete.
func (w *Worker) restartUpload(ctx context.Context, a *application.Application, up *store.Upload, cause error) error {
	w.log.Warn("the portal answered an impossible upload offset; sending the attachments again under a new name",
		"id", a.ID, "url", up.URL, "err", cause)
	next := store.Upload{Generation: up.Generation + 1}
	if err := w.cfg.Store.SaveUpload(context.WithoutCancel(ctx), a.ID, next); err != nil {
		return errors.Join(cause, err)
	}
	*up = next
	return cause
}

// checksumFailed starts the upload again from zero, under the next
// generation's name, when the portal found its bytes corrupt.
func (w *Worker) checksumFailed(ctx context.Context, a *application.Application, up *store.Upload, err error) error {
	var he *httpError
	if !errors.As(err, &he) || he.body.Code != portalapi.CodeChecksumMismatch {
		return nil
	}
	w.log.Warn("the portal found the attachments corrupt; sending them again", "id", a.ID)
	return w.cfg.Store.SaveUpload(context.WithoutCancel(ctx), a.ID, store.Upload{Generation: up.Generation + 1})
}

// notComplete answers a manifest refused because its upload lacks bytes
// (409 upload_incomplete) or is unknown (404): the upload taken as complete
// is not, and the portal's answers contradict each other, so the next pass
// sends it again from zero under a new name. It is never left complete,
// which would send the same manifest forever.
func (w *Worker) notComplete(ctx context.Context, a *application.Application, up *store.Upload, err error) error {
	var he *httpError
	if !errors.As(err, &he) {
		return nil
	}
	if !(he.status == http.StatusConflict && he.body.Code == portalapi.CodeUploadIncomplete) && he.status != http.StatusNotFound {
		return nil
	}
	next := store.Upload{Generation: up.Generation + 1}
	w.log.Warn("the portal does not have the upload whole; sending it again", "id", a.ID, "err", err)
	return w.cfg.Store.SaveUpload(context.WithoutCancel(ctx), a.ID, next)
}

// postManifest sends the manifest and reads the receipt.
func (w *Worker) postManifest(ctx context.Context, m *portalapi.Manifest) (portalapi.Receipt, error) {
	if err := w.gate.wait(ctx); err != nil {
		return portalapi.Receipt{}, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	req, err := w.request(ctx, http.MethodPost, w.endpoint(portalapi.PathSubmissions), bytes.NewReader(body))
	if err != nil {
		return portalapi.Receipt{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	sig, err := w.sign(m.IdempotencyKey, body)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	req.Header.Set(portalapi.HeaderSignature, sig)
	resp, err := w.do(req)
	if err != nil {
		return portalapi.Receipt{}, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return portalapi.Receipt{}, w.statusError(resp, "submit manifest")
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return portalapi.Receipt{}, &linkError{err}
	}
	return parseReceipt(b)
}

// parseReceipt believes a receipt only when it is whole and well-formed: a
// truncated or garbled answer leaves the application queued, and the
// idempotency key makes the retry safe.
func parseReceipt(b []byte) (portalapi.Receipt, error) {
	var rc portalapi.Receipt
	if err := json.Unmarshal(b, &rc); err != nil {
		return rc, fmt.Errorf("unreadable receipt: %w", err)
	}
	if _, _, _, err := portalapi.ParseFileCode(rc.FileCode); err != nil || !rc.State.Valid() {
		return rc, fmt.Errorf("receipt without a valid file code or state: %q %q", rc.FileCode, rc.State)
	}
	return rc, nil
}

// remainingBytes is what delivering application id still has to send.
func (w *Worker) remainingBytes(ctx context.Context, id int64) (int64, error) {
	a, err := w.cfg.Store.Get(ctx, id)
	if errors.Is(err, store.ErrPersonalDataDamaged) {
		// Nothing of it will leave: send fails on it, and it is
		// quarantined with the reason.
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var total int64
	for _, att := range a.Attachments {
		total += att.Size
	}
	up, found, err := w.cfg.Store.Upload(ctx, id)
	if err != nil || !found {
		return total, err
	}
	if up.Complete {
		return 0, nil
	}
	return total - up.Confirmed, nil
}
