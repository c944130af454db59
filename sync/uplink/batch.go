package uplink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// Small applications travel several to an upload (portalapi.MetaManifests):
// alone, each would leave the link idle for the round trip its receipt
// takes, and carry its own headers and manifest.
const (
	// batchAppBytes is the largest application that shares an upload:
	// three pages of 100 KB. A larger one's round trip is under 3% of its
	// time on the link.
	batchAppBytes = 384 << 10
	// batchBytes bounds the attachment bytes of one upload of several.
	batchBytes = 2 << 20
)

// sendBatches delivers the queued applications that may share an upload,
// several to an upload, and returns the queued applications left to send
// one by one (the others, and those the portal did not file with the
// rest), how many the portal asked to wait with 429, and the answer that
// held one, if any. A failure of the link, a 503 or a second 429 in the
// pass ends the pass: it returns none, and the error.
func (w *Worker) sendBatches(ctx context.Context, queued []store.Summary, holds map[int64]time.Time, sum *Summary) ([]store.Summary, int, error) {
	groups, err := w.planBatches(ctx, queued, func(id int64) bool { _, ok := holds[id]; return ok })
	if err != nil {
		return nil, 0, err
	}
	filed := map[int64]bool{}
	limited := 0
	// held is the answer that held an application, for the pass's last
	// error.
	var held error
	for _, a := range queued {
		g, ok := groups[a.ID]
		if !ok {
			continue
		}
		if ctx.Err() != nil {
			return nil, limited, ctx.Err()
		}
		out, err := w.deliverBatch(ctx, g)
		sum.Delivered += out.received
		if err != nil && !errors.Is(err, errBatchDeclined) {
			// The link failed: all are queued again.
			sum.Failed += len(out.alone)
			return nil, limited, err
		}
		for _, id := range g {
			filed[id] = true
		}
		for _, id := range out.alone {
			filed[id] = false
		}
		for id, until := range out.held {
			sum.Failed++
			sum.hold(until)
			w.log.Warn("the portal asked an application of a shared upload to wait", "id", id, "until", until)
		}
		sum.Failed += out.waiting
		limited += len(out.held)
		if out.wait != nil && (limited > 1 || out.wait.status != http.StatusTooManyRequests) {
			// A second application asked to wait, or the portal as a
			// whole (503): the pass stops, and the next waits out the
			// Retry-After.
			out.wait.held = false
			return nil, limited, out.wait
		}
		if out.wait != nil {
			held = out.wait
		}
	}
	var rest []store.Summary
	for _, a := range queued {
		if !filed[a.ID] {
			rest = append(rest, a)
		}
	}
	return rest, limited, held
}

// planBatches groups the queued applications that may share an upload, in
// the order given: those with attachments of at most batchAppBytes that no
// upload of their own was begun for, nor a shared one completed. It
// returns the groups of two or more, by the id of their first application.
func (w *Worker) planBatches(ctx context.Context, queued []store.Summary, held func(int64) bool) (map[int64][]int64, error) {
	groups := map[int64][]int64{}
	var cur []int64
	var size int64
	flush := func() {
		if len(cur) > 1 {
			groups[cur[0]] = cur
		}
		cur, size = nil, 0
	}
	for _, a := range queued {
		if held(a.ID) || a.AttachmentCount == 0 || a.PayloadBytes > batchAppBytes {
			continue
		}
		if up, found, err := w.cfg.Store.Upload(ctx, a.ID); err != nil {
			return nil, err
		} else if found && (up.Generation != 0 || up.Complete) {
			// Its own upload was begun, or its bytes are at the portal in
			// a shared one: it resumes that.
			continue
		}
		if len(cur) == portalapi.MaxBatch || size+a.PayloadBytes > batchBytes {
			flush()
		}
		cur = append(cur, a.ID)
		size += a.PayloadBytes
	}
	flush()
	return groups, nil
}

// errBatchDeclined sends the applications of a batch one by one instead.
var errBatchDeclined = errors.New("the applications go one by one")

// batchOutcome is what became of the applications of a shared upload.
type batchOutcome struct {
	// received counts the applications filed.
	received int
	// alone are queued again to go one by one in this pass.
	alone []int64
	// held are the applications the portal asked to wait (429), by the
	// end of their wait; their manifests go alone after it.
	held map[int64]time.Time
	// waiting counts the applications whose filing the portal put off as
	// a whole (503); they wait with the worker.
	waiting int
	// wait is the first answer that asked to wait, if any.
	wait *httpError
}

// deliverBatch sends the applications ids in one upload and records the
// receipts. An application whose stored bytes are damaged is left out, to
// go alone (and be quarantined). The portal may file some and not others:
// those it did not file keep, in their upload record, where their
// attachments are in the upload, and their manifests go alone (at once, or
// after the wait the portal asked for), so no byte is sent twice. The
// error is the one that stopped the upload, if any (the applications are
// then all queued again).
func (w *Worker) deliverBatch(ctx context.Context, ids []int64) (out batchOutcome, err error) {
	st := w.cfg.Store
	bg := context.WithoutCancel(ctx)
	var apps []*application.Application
	var contents [][]byte
	var kept []int64
	for _, id := range ids {
		a, err := st.Get(ctx, id)
		if err != nil {
			return batchOutcome{alone: ids}, errors.Join(errBatchDeclined, err)
		}
		var content []byte
		damaged := false
		for _, att := range a.Attachments {
			b, err := st.AttachmentContent(ctx, att.ID)
			if errors.Is(err, store.ErrAttachmentDamaged) {
				// Never sent: alone, it is quarantined with the reason.
				damaged = true
				break
			}
			if err != nil {
				return batchOutcome{alone: ids}, errors.Join(errBatchDeclined, err)
			}
			content = append(content, b...)
		}
		if damaged {
			out.alone = append(out.alone, id)
			continue
		}
		apps, contents, kept = append(apps, a), append(contents, content), append(kept, id)
	}
	if len(kept) < 2 {
		return batchOutcome{alone: ids}, errBatchDeclined
	}
	alone := out.alone
	ids = kept
	ms := make([]portalapi.Manifest, len(ids))
	// starts[k] is where application k's attachments begin after the
	// manifest block.
	starts := make([]int64, len(ids))
	var attached []byte
	naming := sha256.New()
	for k, a := range apps {
		m := portalapi.Manifest{IdempotencyKey: a.IdempotencyKey, ProcedureCode: a.ProcedureCode, ProcedureID: a.ProcedureID,
			CatalogVersion: a.CatalogVersion, CapturedAt: a.CreatedAt, Form: a.Form,
			Attachments: make([]portalapi.AttachmentRef, len(a.Attachments))}
		fmt.Fprintf(naming, "%s\n", a.IdempotencyKey)
		starts[k] = int64(len(attached))
		off := int64(len(attached))
		for i, att := range a.Attachments {
			m.Attachments[i] = portalapi.AttachmentRef{EvidenceKey: att.EvidenceKey, Name: att.Name, MediaType: att.MediaType,
				Size: att.Size, SHA256: att.SHA256, Offset: off}
			off += att.Size
			fmt.Fprintf(naming, "%s\n", att.SHA256)
		}
		attached = append(attached, contents[k]...)
		ms[k] = m
	}
	// The name follows from what the upload holds, and the first
	// application's upload record names it (with generation 0: never an
	// application's own upload) until its applications are filed or go
	// alone. A pass after a link failure, or a worker after a kill, that
	// plans the same batch resumes it from the portal's offset, with the
	// manifest block the record keeps; one killed mid-upload leaves its
	// booking to be corrected to that offset.
	name := "batch-" + hex.EncodeToString(naming.Sum(nil))[:40]
	u := w.endpoint(portalapi.PathUploads) + w.deviceID + "-" + name
	prev, found, err := st.Upload(ctx, ids[0])
	if err != nil {
		return batchOutcome{alone: append(alone, ids...)}, errors.Join(errBatchDeclined, err)
	}
	begun := found && prev.Generation == 0 && prev.URL == u && len(prev.Block) > 0
	// As for an application sent alone, a retry stays queued while it is
	// tried, and its failures only count (batchFailed).
	fails := map[int64]store.DeliveryFailures{}
	for _, id := range ids {
		if fails[id], err = st.DeliveryFailures(ctx, id); err != nil {
			return batchOutcome{alone: append(alone, ids...)}, errors.Join(errBatchDeclined, err)
		}
	}
	for k, id := range ids {
		if fails[id].Attempts > 0 {
			continue
		}
		if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
			for _, id := range ids[:k] {
				if fails[id].Attempts == 0 {
					w.requeue(bg, []int64{id}, err)
				}
			}
			return batchOutcome{alone: append(alone, ids...)}, errors.Join(errBatchDeclined, err)
		}
	}
	declined := func(err error) (batchOutcome, error) {
		w.batchFailed(bg, ids, fails, err, true)
		return batchOutcome{alone: append(alone, ids...)}, errors.Join(errBatchDeclined, err)
	}
	// The chain's head goes with each manifest, for the portal to keep,
	// as it does with an application sent alone.
	seq, hash, err := st.AuditHead(ctx)
	if err != nil {
		return declined(err)
	}
	for k := range ms {
		if seq > 0 {
			ms[k].AuditHead = &portalapi.AuditHead{Seq: seq, Hash: hex.EncodeToString(hash)}
		}
	}
	rec := store.Upload{URL: u}
	if begun {
		// The block sent must be the one the upload began with; the
		// manifests posted alone, if its receipts are lost, carry the
		// head as it is now.
		rec.Confirmed, rec.Block = prev.Confirmed, prev.Block
	} else if rec.Block, err = portalapi.ManifestBlock(ms); err != nil {
		return declined(err)
	}
	block := rec.Block
	content := append(append([]byte(nil), block...), attached...)
	if err := st.SaveUpload(ctx, ids[0], rec); err != nil {
		return declined(err)
	}
	clear := func() {
		if err := st.SaveUpload(bg, ids[0], store.Upload{}); err != nil {
			w.log.Error("could not clear a shared upload's record", "id", ids[0], "err", err)
		}
	}
	// The bytes are booked against the day's budget before any leaves,
	// under the first application.
	bk, err := w.book(ctx, ids[0], int64(len(content))-rec.Confirmed)
	if err != nil {
		return declined(err)
	}
	start := w.sent.Load()
	save := func(off int64) error {
		return st.SaveUpload(ctx, ids[0], store.Upload{URL: u, Confirmed: off, Block: block})
	}
	// The screens show the upload under its first application.
	w.board.sending(apps[0].ID, rec.Confirmed, int64(len(content)))
	filings, err := w.uploadBatch(ctx, u, name, apps[0].IdempotencyKey, content, block, ms, begun, rec.Confirmed, save)
	w.board.sent()
	if berr := w.settleBudget(bg, bk, w.sent.Load()-start); berr != nil {
		w.log.Error("the data budget could not be recorded", "err", berr)
	}
	if err != nil {
		abandoned := errors.Is(err, errBatchDeclined)
		if abandoned {
			clear()
		}
		w.batchFailed(bg, ids, fails, err, abandoned)
		return batchOutcome{alone: append(alone, ids...)}, err
	}
	clear()
	out = batchOutcome{alone: alone}
	var recorded []portalapi.Receipt
	defer func() { w.sawReceipts(bg, recorded...) }()
	for k, f := range filings {
		id := ids[k]
		if f.Receipt != nil {
			if err := w.recordReceipt(bg, id, *f.Receipt); err != nil {
				// The portal has them: the next pass gets their receipts
				// again, by manifest.
				for j := k; j < len(ids); j++ {
					w.sharedComplete(bg, ids[j], u, int64(len(block))+starts[j])
				}
				w.batchFailed(bg, ids[k:], fails, err, true)
				out.alone = append(out.alone, ids[k:]...)
				return out, err
			}
			recorded = append(recorded, *f.Receipt)
			out.received++
			continue
		}
		// All its bytes are at the portal: its manifest alone names them
		// there, never sending them again.
		w.sharedComplete(bg, id, u, int64(len(block))+starts[k])
		he := &httpError{op: "file from a shared upload", status: f.Status,
			retryAfter: min(time.Duration(f.RetryAfter)*time.Second, MaxRetryAfter)}
		if f.Error != nil {
			he.body = *f.Error
		}
		// The filing's answer is the portal's to this application, as if
		// posted alone: a server error counts as one.
		cause := error(he)
		if f.Status == 0 {
			cause = errors.New("the portal did not file it with the others")
		}
		switch {
		case f.Status == http.StatusTooManyRequests && he.retryAfter > 0:
			until := w.cfg.Now().Add(he.retryAfter)
			if err := st.HoldDelivery(bg, id, until); err != nil {
				w.log.Error("could not hold an application", "id", id, "err", err)
				break
			}
			if out.held == nil {
				out.held = map[int64]time.Time{}
			}
			out.held[id] = until
			he.held = true
			if out.wait == nil {
				out.wait = he
			}
			w.batchFailed(bg, []int64{id}, fails, fmt.Errorf("%w; the portal asked it to wait until %s", he, until.UTC().Format(time.RFC3339)), true)
			continue
		case f.Status == http.StatusServiceUnavailable && he.retryAfter > 0:
			out.waiting++
			if out.wait == nil || out.wait.status == http.StatusTooManyRequests {
				out.wait = he
			}
			w.batchFailed(bg, []int64{id}, fails, he, true)
			continue
		}
		w.batchFailed(bg, []int64{id}, fails, cause, true)
		out.alone = append(out.alone, id)
	}
	return out, nil
}

// sharedComplete records that application id's bytes are all at the
// portal in the shared upload at u, its attachments from base on: its
// manifest alone files it.
func (w *Worker) sharedComplete(ctx context.Context, id int64, u string, base int64) {
	if err := w.cfg.Store.SaveUpload(ctx, id, store.Upload{URL: u, Complete: true, Base: base}); err != nil {
		// Without the record it goes alone with its own upload: its bytes
		// are sent again, but it is filed.
		w.log.Error("could not record a shared upload's place", "id", id, "err", err)
	}
}

// uploadBatch sends content to the upload at u, resuming after a cut from
// the portal's offset, and returns a filing per manifest.
// begun says that the upload may exist, confirmed how much of it the
// portal held when last asked; save records an offset learned.
func (w *Worker) uploadBatch(ctx context.Context, u, name, key string, content, block []byte, ms []portalapi.Manifest,
	begun bool, confirmed int64, save func(int64) error) ([]portalapi.Filing, error) {
	sig, err := w.sign(key, block)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		portalapi.MetaIdempotencyKey: key,
		portalapi.MetaUploadName:     name,
		portalapi.MetaManifests:      strconv.Itoa(len(block)),
		portalapi.MetaSignature:      sig,
	}
	size := int64(len(content))
	fresh := !begun
	if fresh {
		// Nothing was sent under this name: the portal can hold no byte
		// of it. An upload begun by an earlier worker is bounded by its
		// size only.
		w.reached(u, 0)
	}
	// known is true when confirmed was just read from the portal.
	known := false
	// send sends content from off on, counting apart the bytes of the
	// manifest block among those sent.
	send := func(off int64, meta map[string]string) (sent, error) {
		before := w.sent.Load()
		res, err := w.sendUpload(ctx, u, off, content, meta)
		if b := int64(len(block)); off < b {
			w.manifestsSent.Add(min(b-off, w.sent.Load()-before))
		}
		return res, err
	}
	for attempt := 0; ; attempt++ {
		if attempt > maxResumes {
			return nil, fmt.Errorf("upload of %d applications: no progress after %d requests at offset %d of %d", len(ms), attempt, confirmed, size)
		}
		var res sent
		var err error
		if fresh {
			res, err = send(0, meta)
		} else {
			off := confirmed
			if !known {
				off, err = w.checkedOffset(ctx, u, size)
			}
			known = false
			if err == nil && off < size {
				confirmed = off
				res, err = send(off, nil)
			} else if err == nil {
				res = sent{offset: size}
			}
		}
		fresh = false
		if err == nil && res.offset > w.reach(u, size) {
			err = fmt.Errorf("%w: the portal answered offset %d, but at most %d bytes were sent", errBadOffset, res.offset, w.reach(u, size))
		}
		switch {
		case err == nil:
		case errors.Is(err, errUnconfirmed):
			return nil, err
		case errors.Is(err, errBadOffset):
			return nil, errors.Join(errBatchDeclined, err)
		case errors.Is(err, errUploadGone):
			fresh = true
			continue
		case errors.Is(err, errUploadExists), errors.Is(err, errOffsetMismatch):
			continue
		default:
			var le *linkError
			if !errors.As(err, &le) {
				var he *httpError
				if errors.As(err, &he) && he.retryAfter > 0 &&
					(he.status == http.StatusTooManyRequests || he.status == http.StatusServiceUnavailable) {
					// The portal (or a proxy) asks to wait: if it kept
					// every byte, the manifests go after the wait.
					if off, herr := w.checkedOffset(ctx, u, size); herr == nil && off == size {
						return waitFilings(he, len(ms)), nil
					}
				} else if !asksToWait(err) && ctx.Err() == nil {
					// An error in the middle of a transfer (tusd's 500 to
					// a body that timed out, 400 to one interrupted) after
					// the portal kept bytes is a cut: go on at once.
					if off, herr := w.checkedOffset(ctx, u, size); herr == nil && off > confirmed {
						confirmed, known = off, true
						if err := save(off); err != nil {
							return nil, err
						}
						continue
					}
				}
				// A refusal of the upload as a whole says nothing about
				// which application the portal objects to: each goes
				// alone, and gets its own answer.
				return nil, errors.Join(errBatchDeclined, err)
			}
			if ctx.Err() != nil {
				return nil, err
			}
			// A cut: go on from the portal's offset if it got further.
			off, herr := w.checkedOffset(ctx, u, size)
			if herr != nil || off <= confirmed && attempt > 0 {
				return nil, errors.Join(err, herr)
			}
			// That offset is the portal's now: the next PATCH needs no
			// HEAD first.
			confirmed, known = off, true
			if err := save(off); err != nil {
				return nil, err
			}
			continue
		}
		if res.offset < size {
			confirmed = res.offset
			continue
		}
		if res.filings != nil {
			if len(res.filings) != len(ms) {
				return nil, fmt.Errorf("%w: the portal answered %d filings for %d applications", errBatchDeclined, len(res.filings), len(ms))
			}
			return res.filings, nil
		}
		// Complete, but the answer with the receipts was lost, or an
		// earlier worker finished the upload: ask for each by manifest.
		filings := make([]portalapi.Filing, len(ms))
		limited := 0
		for k := range ms {
			if limited > 1 {
				// A second 429: the limit is the device's, and the
				// others wait as well.
				filings[k] = filings[k-1]
				continue
			}
			m := ms[k]
			m.Attachments = append([]portalapi.AttachmentRef(nil), m.Attachments...)
			for i := range m.Attachments {
				m.Attachments[i].UploadURL = u
				m.Attachments[i].Offset += int64(len(block))
			}
			rc, err := w.postManifest(ctx, &m)
			var le *linkError
			if errors.As(err, &le) {
				return nil, err
			}
			var he *httpError
			switch {
			case err == nil:
				filings[k].Receipt = &rc
			case errors.As(err, &he):
				filings[k] = waitFilings(he, 1)[0]
				if he.status == http.StatusTooManyRequests {
					limited++
				}
			}
		}
		return filings, nil
	}
}

// waitFilings is n filings that each got the answer he.
func waitFilings(he *httpError, n int) []portalapi.Filing {
	fs := make([]portalapi.Filing, n)
	for k := range fs {
		body := he.body
		fs[k] = portalapi.Filing{Status: he.status, Error: &body}
		if he.retryAfter > 0 {
			fs[k].RetryAfter = int(math.Ceil(he.retryAfter.Seconds()))
		}
	}
	return fs
}

// requeue puts applications that were being sent back in the queue.
func (w *Worker) requeue(ctx context.Context, ids []int64, cause error) {
	for _, id := range ids {
		if err := w.cfg.Store.Transition(ctx, id, application.Queued, store.Change{Actor: "uplink",
			Detail: "delivery failed; will retry", LastError: cause.Error()}); err != nil {
			w.log.Error("could not queue an application again", "id", id, "err", err)
		}
	}
}

// batchFailed records a failed delivery of the applications ids of a
// shared upload, as deliver does for one: the first failure moves each
// back to queued with the error, and the retries after it only count
// (attempts, and the portal's server errors towards QuarantineAfter).
// When the shared upload is abandoned (each goes alone, or files its
// manifest alone), the server errors on it no longer count towards a new
// generation: the next upload is another.
func (w *Worker) batchFailed(ctx context.Context, ids []int64, fails map[int64]store.DeliveryFailures, cause error, abandoned bool) {
	st := w.cfg.Store
	for _, id := range ids {
		f := fails[id]
		if f.Attempts == 0 {
			if err := st.Transition(ctx, id, application.Queued, store.Change{Actor: "uplink",
				Detail: "delivery failed; will retry", LastError: cause.Error()}); err != nil {
				w.log.Error("could not queue an application again", "id", id, "err", err)
			}
		}
		f, _, err := w.countFailure(ctx, id, f, cause)
		if err != nil {
			w.log.Error("could not start a new upload", "id", id, "err", err)
		}
		if abandoned {
			f.ServerErrors = 0
		}
		f.LastError = cause.Error()
		if err := st.RecordDeliveryFailure(ctx, id, string(application.Queued), f); err != nil {
			w.log.Error("could not record a failed delivery", "id", id, "err", err)
		}
		fails[id] = f
	}
}

// recordReceipt records that the portal filed application id, with the
// instance of the portal that issued its file code.
func (w *Worker) recordReceipt(ctx context.Context, id int64, rc portalapi.Receipt) error {
	detail := "due " + rc.DueAt.Format("2006-01-02")
	if rc.Duplicate {
		detail += "; the portal had it already"
	}
	// A retry is still queued: it goes through sending.
	if err := w.cfg.Store.TransitionVia(ctx, id, application.Received,
		store.Change{Actor: "uplink", FileCode: rc.FileCode, Instance: w.receiptInstance(rc), Detail: detail}); err != nil {
		return err
	}
	w.log.Info("application received by the portal", "id", id, "file_code", rc.FileCode)
	return errors.Join(w.cfg.Store.Settle(ctx, id, string(application.Queued)), w.cfg.Store.ClearDeliveryFailures(ctx, id))
}

// parseFilings reads the filings of an upload of several applications,
// believing a receipt only when it is well-formed.
func parseFilings(b []byte) ([]portalapi.Filing, error) {
	var fs []portalapi.Filing
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("unreadable receipts: %w", err)
	}
	for _, f := range fs {
		if f.Receipt == nil {
			continue
		}
		if _, _, _, err := portalapi.ParseFileCode(f.Receipt.FileCode); err != nil || !f.Receipt.State.Valid() {
			return nil, fmt.Errorf("receipt without a valid file code or state: %q %q", f.Receipt.FileCode, f.Receipt.State)
		}
	}
	return fs, nil
}
