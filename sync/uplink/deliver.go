package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// deliver sends application id: queued -> sending -> received, or back to
// queued with the error, or quarantined when the portal calls it malformed.
func (w *Worker) deliver(ctx context.Context, id int64) error {
	st := w.cfg.Store
	if err := st.Transition(ctx, id, application.Sending, store.Change{Actor: "uplink"}); err != nil {
		return err
	}
	err := w.send(ctx, id)
	if err == nil {
		return nil
	}
	// The outcome is recorded even when ctx ended, so nothing stays
	// "sending" behind a clean stop.
	bg := context.WithoutCancel(ctx)
	to, detail := application.Queued, "delivery failed; will retry"
	if malformed(err) {
		to, detail = application.Quarantined, "the portal refused it as malformed"
	}
	if terr := st.Transition(bg, id, to, store.Change{Actor: "uplink", Detail: detail, LastError: err.Error()}); terr != nil {
		return errors.Join(err, terr)
	}
	w.log.Warn("delivery failed", "id", id, "to", to, "err", err)
	return err
}

func (w *Worker) send(ctx context.Context, id int64) error {
	st := w.cfg.Store
	a, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	refs := make([]portalapi.AttachmentRef, len(a.Attachments))
	for i, att := range a.Attachments {
		u, err := w.uploadAttachment(ctx, a, att)
		if err != nil {
			return fmt.Errorf("attachment %d (%s): %w", i+1, att.EvidenceKey, err)
		}
		refs[i] = portalapi.AttachmentRef{EvidenceKey: att.EvidenceKey, Name: att.Name, MediaType: att.MediaType,
			Size: att.Size, SHA256: att.SHA256, UploadURL: u}
	}
	m := portalapi.Manifest{IdempotencyKey: a.IdempotencyKey, ProcedureCode: a.ProcedureCode, ProcedureID: a.ProcedureID,
		CatalogVersion: a.CatalogVersion, CapturedAt: a.CreatedAt, Form: a.Form, Attachments: refs}
	rc, err := w.postManifest(ctx, &m)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			w.forgetBadUploads(ctx, a, he)
		}
		return err
	}
	detail := "due " + rc.DueAt.Format("2006-01-02")
	if rc.Duplicate {
		detail += "; the portal had it already"
	}
	if err := st.Transition(context.WithoutCancel(ctx), id, application.Received,
		store.Change{Actor: "uplink", FileCode: rc.FileCode, Detail: detail}); err != nil {
		return err
	}
	w.log.Info("application received by the portal", "id", id, "file_code", rc.FileCode)
	return nil
}

// forgetBadUploads makes the attachments the portal found corrupt or
// incomplete start again: from zero when corrupt, from the portal's offset
// when incomplete.
func (w *Worker) forgetBadUploads(ctx context.Context, a *application.Application, he *httpError) {
	if he.body.Code != portalapi.CodeChecksumMismatch && he.body.Code != portalapi.CodeUploadIncomplete {
		return
	}
	for _, f := range he.body.Fields {
		i, ok := attachmentIndex(f.Field)
		if !ok || i >= len(a.Attachments) {
			continue
		}
		att := a.Attachments[i].ID
		if he.body.Code == portalapi.CodeChecksumMismatch {
			w.cfg.Store.ForgetUpload(ctx, att)
			continue
		}
		if up, found, err := w.cfg.Store.Upload(ctx, att); err == nil && found {
			up.Complete = false
			w.cfg.Store.SaveUpload(ctx, att, up)
		}
	}
}

// attachmentIndex parses "attachments[3]" and "attachments[3].sha256".
func attachmentIndex(field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "attachments[")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0
}

// maxResumes bounds the immediate resumptions of one upload within a pass;
// each must have made progress, so a link that cuts every few hundred KB
// still gets the file through without waiting for the backoff.
const maxResumes = 64

// uploadAttachment makes sure the portal holds all of att's bytes, resuming
// any upload started before, and returns the upload's URL.
func (w *Worker) uploadAttachment(ctx context.Context, a *application.Application, att application.Attachment) (string, error) {
	st := w.cfg.Store
	up, found, err := st.Upload(ctx, att.ID)
	if err != nil {
		return "", err
	}
	if found && up.Complete {
		return up.URL, nil
	}
	content, err := st.AttachmentContent(ctx, att.ID)
	if err != nil {
		return "", err
	}
	size := int64(len(content))
	fresh := !found
	for attempt := 0; ; attempt++ {
		if up.URL == "" {
			u, err := w.createUpload(ctx, size, map[string]string{
				portalapi.MetaIdempotencyKey: a.IdempotencyKey,
				portalapi.MetaEvidenceKey:    att.EvidenceKey,
				portalapi.MetaName:           att.Name,
				portalapi.MetaMediaType:      att.MediaType,
				portalapi.MetaSHA256:         att.SHA256,
			})
			if err != nil {
				return "", err
			}
			up = store.Upload{URL: u}
			fresh = true
			if err := st.SaveUpload(ctx, att.ID, up); err != nil {
				return "", err
			}
		}
		offset := up.Confirmed
		if !fresh {
			// After a cut or a restart the portal says how far it got.
			off, err := w.uploadOffset(ctx, up.URL)
			if errors.Is(err, errUploadGone) {
				w.log.Info("upload gone from the portal; starting again", "attachment", att.ID)
				st.ForgetUpload(ctx, att.ID)
				up = store.Upload{}
				continue
			}
			if err != nil {
				return "", err
			}
			offset = off
		}
		before := offset
		if offset < size {
			newOff, err := w.patch(ctx, up.URL, offset, content, &w.sent)
			if err == nil {
				offset = newOff
			} else if errors.Is(err, errUploadGone) {
				st.ForgetUpload(ctx, att.ID)
				up = store.Upload{}
				continue
			} else {
				fresh = false
				// Learn how far the bytes got before the cut, if the link
				// still answers, so a restart resumes from there.
				if off, herr := w.uploadOffset(ctx, up.URL); herr == nil && off > up.Confirmed {
					up.Confirmed = off
					st.SaveUpload(ctx, att.ID, up)
					if off > before && attempt < maxResumes && ctx.Err() == nil {
						continue
					}
				}
				return "", err
			}
		}
		up.Confirmed, up.Complete = offset, offset == size
		fresh = false
		if err := st.SaveUpload(ctx, att.ID, up); err != nil {
			return "", err
		}
		if up.Complete {
			return up.URL, nil
		}
		if offset <= before || attempt >= maxResumes {
			return "", fmt.Errorf("upload made no progress at offset %d of %d", offset, size)
		}
	}
}

// postManifest sends the manifest and reads the receipt.
func (w *Worker) postManifest(ctx context.Context, m *portalapi.Manifest) (portalapi.Receipt, error) {
	var rc portalapi.Receipt
	body, err := json.Marshal(m)
	if err != nil {
		return rc, err
	}
	req, err := w.request(ctx, http.MethodPost, w.endpoint(portalapi.PathSubmissions), bytes.NewReader(body))
	if err != nil {
		return rc, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.do(req)
	if err != nil {
		return rc, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return rc, statusError(resp, "submit manifest")
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return rc, &linkError{err}
	}
	// A receipt is believed only when whole and well-formed: a truncated or
	// garbled answer leaves the application queued, and the idempotency key
	// makes the retry safe.
	if err := json.Unmarshal(b, &rc); err != nil {
		return rc, fmt.Errorf("submit manifest: unreadable receipt: %w", err)
	}
	if _, _, _, err := portalapi.ParseFileCode(rc.FileCode); err != nil || !rc.State.Valid() {
		return rc, fmt.Errorf("submit manifest: receipt without a valid file code or state: %q %q", rc.FileCode, rc.State)
	}
	return rc, nil
}

// portalStates maps the portal's states to the lifecycle's.
var portalStates = map[portalapi.State]application.State{
	portalapi.Received:  application.Received,
	portalapi.InReview:  application.InReview,
	portalapi.NeedsMore: application.NeedsMore,
	portalapi.Done:      application.Done,
	portalapi.Rejected:  application.Rejected,
}

// PullStatus applies the portal's status events after the stored cursor,
// page by page, and returns how many changed an application.
func (w *Worker) PullStatus(ctx context.Context) (int, error) {
	st := w.cfg.Store
	changed := 0
	for {
		cur, err := st.Setting(ctx, settingCursor)
		if err != nil {
			return changed, err
		}
		cursor, _ := strconv.ParseInt(cur, 10, 64)
		req, err := w.request(ctx, http.MethodGet, w.endpoint(portalapi.PathStatus)+"?cursor="+strconv.FormatInt(cursor, 10), nil)
		if err != nil {
			return changed, err
		}
		resp, err := w.do(req)
		if err != nil {
			return changed, err
		}
		if resp.StatusCode != http.StatusOK {
			return changed, statusError(resp, "pull status")
		}
		var page portalapi.StatusPage
		err = json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return changed, fmt.Errorf("pull status: unreadable answer: %w", err)
		}
		for _, e := range page.Events {
			if e.Seq <= cursor {
				return changed, fmt.Errorf("pull status: event %d is not after cursor %d", e.Seq, cursor)
			}
			to, ok := portalStates[e.State]
			if _, _, _, err := portalapi.ParseFileCode(e.FileCode); !ok || err != nil {
				return changed, fmt.Errorf("pull status: event %d has state %q, file code %q", e.Seq, e.State, e.FileCode)
			}
			did, err := st.ApplyPortalState(ctx, e.IdempotencyKey, to, store.Change{Actor: "portal", FileCode: e.FileCode, Detail: e.Note})
			switch {
			case errors.Is(err, store.ErrNotFound):
				w.log.Warn("status for an application this kiosk does not have", "file_code", e.FileCode)
			case errors.Is(err, application.ErrIllegalTransition):
				w.log.Warn("status cannot be applied", "file_code", e.FileCode, "err", err)
			case err != nil:
				return changed, err
			case did:
				changed++
			}
			if err := st.SetSetting(ctx, settingCursor, strconv.FormatInt(e.Seq, 10)); err != nil {
				return changed, err
			}
			cursor = e.Seq
		}
		if !page.More || len(page.Events) == 0 {
			return changed, nil
		}
	}
}
