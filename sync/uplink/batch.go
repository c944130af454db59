package uplink

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
// one by one: the others, and those the portal did not file with the rest.
// A failure of the link, or a filing limit that is the device's (more than
// one application asked to wait), ends the pass: it returns none, and the
// error.
func (w *Worker) sendBatches(ctx context.Context, queued []store.Summary, holds map[int64]time.Time, sum *Summary) ([]store.Summary, error) {
	held := func(id int64) bool { _, ok := holds[id]; return ok }
	done := map[int64]bool{}
	var waitErr error
	limited := 0
	// count notes an application asked to wait, and says whether the
	// limit is the device's.
	count := func(id int64, err error) bool {
		var he *httpError
		errors.As(err, &he)
		until := w.cfg.Now().Add(he.retryAfter)
		sum.Failed++
		sum.hold(until)
		done[id] = true
		limited++
		waitErr = err
		if limited > 1 {
			// As for applications sent alone: a second application asked
			// to wait shows the limit is the device's; the pass stops and
			// the next waits out its Retry-After.
			he.held = false
			return true
		}
		return false
	}
	// First the applications whose bytes a shared upload holds but whose
	// filing the portal put off: their manifests alone.
	for _, a := range queued {
		if held(a.ID) {
			continue
		}
		up, found, err := w.cfg.Store.Upload(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if !found || !sharedPending(up) {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = w.fileShared(ctx, a.ID, up)
		var le *linkError
		switch {
		case err == nil:
			sum.Delivered++
			done[a.ID] = true
		case errors.As(err, &le):
			sum.Failed++
			return nil, err
		case laterFiling(err):
			if count(a.ID, err) {
				return nil, waitErr
			}
		}
	}
	groups, err := w.planBatches(ctx, queued, held)
	if err != nil {
		return nil, err
	}
	for _, a := range queued {
		g, ok := groups[a.ID]
		if !ok {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n, left, later, err := w.deliverBatch(ctx, g)
		sum.Delivered += n
		if err != nil && !errors.Is(err, errBatchDeclined) {
			// The link failed: all are queued again.
			sum.Failed += len(left)
			return nil, err
		}
		for _, id := range g {
			done[id] = true
		}
		for _, id := range left {
			done[id] = false
		}
		stop := false
		for id, lerr := range later {
			stop = count(id, lerr) || stop
		}
		if stop {
			return nil, waitErr
		}
	}
	var rest []store.Summary
	for _, a := range queued {
		if !done[a.ID] {
			rest = append(rest, a)
		}
	}
	return rest, waitErr
}

// sharedPending says that up records an application's bytes in a shared
// upload the portal holds whole, waiting for its manifest: generation 0,
// complete, with Confirmed where the application's attachments start.
func sharedPending(up store.Upload) bool {
	return up.Generation == 0 && up.Complete && up.URL != ""
}

// laterFiling says the portal put off a filing for a time (429, or 503 at
// the day's last file code), with a Retry-After.
func laterFiling(err error) bool {
	var he *httpError
	return errors.As(err, &he) && (he.status == http.StatusTooManyRequests || he.status == http.StatusServiceUnavailable) && he.retryAfter > 0
}

// fileShared files application id by its manifest against the shared
// upload up holds its bytes in. When the portal puts it off again, it is
// held; when the upload is gone or does not match, the record is cleared
// and the application is sent alone.
func (w *Worker) fileShared(ctx context.Context, id int64, up store.Upload) error {
	st := w.cfg.Store
	bg := context.WithoutCancel(ctx)
	a, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	m := manifestOf(a)
	off := up.Confirmed
	for i, att := range a.Attachments {
		m.Attachments[i].UploadURL = up.URL
		m.Attachments[i].Offset = off
		off += att.Size
	}
	if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
		return err
	}
	rc, err := w.postManifest(ctx, &m)
	if err == nil {
		if err := w.recordReceipt(bg, id, rc); err != nil {
			w.requeue(bg, []int64{id}, err)
			return err
		}
		return st.SaveUpload(bg, id, store.Upload{})
	}
	w.requeue(bg, []int64{id}, err)
	var le *linkError
	switch {
	case errors.As(err, &le):
	case laterFiling(err):
		var he *httpError
		errors.As(err, &he)
		he.held = true
		if herr := st.HoldDelivery(bg, id, w.cfg.Now().Add(he.retryAfter)); herr != nil {
			return errors.Join(err, herr)
		}
	default:
		// Gone, incomplete or not matching: the application goes alone.
		return errors.Join(err, st.SaveUpload(bg, id, store.Upload{}))
	}
	return err
}

// manifestOf is application a's manifest, its attachments back to back
// from offset 0.
func manifestOf(a *application.Application) portalapi.Manifest {
	m := portalapi.Manifest{IdempotencyKey: a.IdempotencyKey, ProcedureCode: a.ProcedureCode, ProcedureID: a.ProcedureID,
		CatalogVersion: a.CatalogVersion, CapturedAt: a.CreatedAt, Form: a.Form,
		Attachments: make([]portalapi.AttachmentRef, len(a.Attachments))}
	var off int64
	for i, att := range a.Attachments {
		m.Attachments[i] = portalapi.AttachmentRef{EvidenceKey: att.EvidenceKey, Name: att.Name, MediaType: att.MediaType,
			Size: att.Size, SHA256: att.SHA256, Offset: off}
		off += att.Size
	}
	return m
}

// planBatches groups the queued applications that may share an upload, in
// the order given: those with attachments of at most batchAppBytes that no
// upload of their own was begun for. It returns the groups of two or more,
// by the id of their first application.
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
		} else if found && (up.Generation != 0 || sharedPending(up)) {
			// Its own upload was begun, or its bytes wait in a shared
			// one for its manifest.
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

// deliverBatch sends the applications ids in one upload and records the
// receipts. It returns the ids that got none, queued again to go one by
// one, and the error that stopped the upload, if any (the ids are then
// all queued again).
func (w *Worker) deliverBatch(ctx context.Context, ids []int64) (received int, alone []int64, later map[int64]error, err error) {
	st := w.cfg.Store
	bg := context.WithoutCancel(ctx)
	apps := make([]*application.Application, len(ids))
	ms := make([]portalapi.Manifest, len(ids))
	var content []byte
	naming := sha256.New()
	for k, id := range ids {
		a, err := st.Get(ctx, id)
		if err != nil {
			return 0, ids, nil, errors.Join(errBatchDeclined, err)
		}
		apps[k] = a
		m := portalapi.Manifest{IdempotencyKey: a.IdempotencyKey, ProcedureCode: a.ProcedureCode, ProcedureID: a.ProcedureID,
			CatalogVersion: a.CatalogVersion, CapturedAt: a.CreatedAt, Form: a.Form,
			Attachments: make([]portalapi.AttachmentRef, len(a.Attachments))}
		fmt.Fprintf(naming, "%s\n", a.IdempotencyKey)
		for i, att := range a.Attachments {
			b, err := st.AttachmentContent(ctx, att.ID)
			if err != nil {
				return 0, ids, nil, errors.Join(errBatchDeclined, err)
			}
			m.Attachments[i] = portalapi.AttachmentRef{EvidenceKey: att.EvidenceKey, Name: att.Name, MediaType: att.MediaType,
				Size: att.Size, SHA256: att.SHA256, Offset: int64(len(content))}
			content = append(content, b...)
			fmt.Fprintf(naming, "%s\n", att.SHA256)
		}
		ms[k] = m
	}
	block, err := manifestBlock(ms)
	if err != nil {
		return 0, ids, nil, errors.Join(errBatchDeclined, err)
	}
	content = append(block, content...)
	// The name follows from what the upload holds, and the first
	// application's upload record names it (with generation 0: never an
	// application's own upload) until its applications are filed or go
	// alone. A pass after a link failure, or a worker after a kill, that
	// plans the same batch resumes it from the portal's offset; one killed
	// mid-upload leaves its booking to be corrected to that offset.
	name := "batch-" + hex.EncodeToString(naming.Sum(nil))[:40]
	u := w.endpoint(portalapi.PathUploads) + w.deviceID + "-" + name
	prev, found, err := st.Upload(ctx, ids[0])
	if err != nil {
		return 0, ids, nil, errors.Join(errBatchDeclined, err)
	}
	rec := store.Upload{URL: u}
	begun := found && prev.Generation == 0 && prev.URL == u
	if begun {
		rec.Confirmed = prev.Confirmed
	}
	if err := st.SaveUpload(ctx, ids[0], rec); err != nil {
		return 0, ids, nil, errors.Join(errBatchDeclined, err)
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
		return 0, ids, nil, errors.Join(errBatchDeclined, err)
	}
	start := w.sent.Load()
	for k, id := range ids {
		if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
			w.requeue(bg, ids[:k], err)
			return 0, ids, nil, errors.Join(errBatchDeclined, err, w.settleBudget(bg, bk, 0))
		}
	}
	save := func(off int64) error { return st.SaveUpload(ctx, ids[0], store.Upload{URL: u, Confirmed: off}) }
	filings, err := w.uploadBatch(ctx, u, name, apps[0].IdempotencyKey, content, block, ms, begun, rec.Confirmed, save)
	if berr := w.settleBudget(bg, bk, w.sent.Load()-start); berr != nil {
		w.log.Error("the data budget could not be recorded", "err", berr)
	}
	if err != nil {
		if errors.Is(err, errBatchDeclined) {
			clear()
		}
		w.requeue(bg, ids, err)
		return 0, ids, nil, err
	}
	clear()
	later = map[int64]error{}
	for k, f := range filings {
		id := ids[k]
		if f.Receipt == nil && f.Error != nil && f.RetryAfter > 0 &&
			(f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable) {
			// Put off for a time, its bytes kept: it is held, and then
			// filed by its manifest against this upload, where its
			// attachments start at the recorded offset.
			wait := time.Duration(f.RetryAfter) * time.Second
			herr := &httpError{op: "file", status: f.Status, body: *f.Error, retryAfter: wait, held: true}
			start := int64(len(block))
			if len(ms[k].Attachments) > 0 {
				start += ms[k].Attachments[0].Offset
			}
			w.requeue(bg, []int64{id}, herr)
			if err := errors.Join(st.SaveUpload(bg, id, store.Upload{URL: u, Confirmed: start, Complete: true}),
				st.HoldDelivery(bg, id, w.cfg.Now().Add(wait))); err != nil {
				w.log.Error("could not hold an application the portal put off", "id", id, "err", err)
				alone = append(alone, id)
				continue
			}
			later[id] = herr
			continue
		}
		if f.Receipt == nil {
			reason := "the portal did not file it with the others"
			if f.Error != nil {
				reason += ": " + f.Error.Error()
			}
			w.requeue(bg, []int64{id}, errors.New(reason))
			alone = append(alone, id)
			continue
		}
		if err := w.recordReceipt(bg, id, *f.Receipt); err != nil {
			// The portal has them: the next pass gets their receipts
			// again.
			w.requeue(bg, ids[k:], err)
			return received, append(alone, ids[k:]...), later, err
		}
		received++
	}
	return received, alone, later, nil
}

// manifestBlock is the manifests as a DEFLATE-compressed JSON array.
func manifestBlock(ms []portalapi.Manifest) ([]byte, error) {
	raw, err := json.Marshal(ms)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	zw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// uploadBatch sends content to the upload at u, resuming after a cut from
// the portal's offset, and returns a filing per manifest.
// begun says that the upload may exist, confirmed how much of it the
// portal held when last asked; save records an offset learned.
func (w *Worker) uploadBatch(ctx context.Context, u, name, key string, content, block []byte, ms []portalapi.Manifest,
	begun bool, confirmed int64, save func(int64) error) ([]portalapi.Filing, error) {
	meta := map[string]string{
		portalapi.MetaIdempotencyKey: key,
		portalapi.MetaUploadName:     name,
		portalapi.MetaManifests:      strconv.Itoa(len(block)),
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
		for k := range ms {
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
			if err == nil {
				filings[k].Receipt = &rc
			}
		}
		return filings, nil
	}
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

// recordReceipt records that the portal filed application id.
func (w *Worker) recordReceipt(ctx context.Context, id int64, rc portalapi.Receipt) error {
	detail := "due " + rc.DueAt.Format("2006-01-02")
	if rc.Duplicate {
		detail += "; the portal had it already"
	}
	if err := w.cfg.Store.Transition(ctx, id, application.Received,
		store.Change{Actor: "uplink", FileCode: rc.FileCode, Detail: detail}); err != nil {
		return err
	}
	w.log.Info("application received by the portal", "id", id, "file_code", rc.FileCode)
	return w.cfg.Store.Settle(ctx, id, string(application.Queued))
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
