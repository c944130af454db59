package uplink

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/motcua/motcua/sync/portalapi"
)

// TestDeliveryCarriesTheAuditHead pins the head of the kiosk's audit chain
// sent with each delivery and kept by the portal with the submission: a
// chain later truncated or rewritten at the kiosk no longer holds, at that
// sequence number, the hash the portal keeps.
func TestDeliveryCarriesTheAuditHead(t *testing.T) {
	r := newRig(t)
	r.queue("key-audit-head-1", 5000)
	r.queue("key-audit-head-2")
	w := r.worker()
	if sum, err := w.Pass(context.Background()); err != nil || sum.Delivered != 2 {
		t.Fatalf("pass = %+v, %v", sum, err)
	}
	subs, err := r.portal.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 {
		t.Fatalf("the portal has %d submissions; want 2", len(subs))
	}
	last := int64(0)
	for _, s := range subs {
		h := s.AuditHead
		if h == nil {
			t.Fatalf("%s was filed without the kiosk's audit head", s.IdempotencyKey)
		}
		a, err := r.store.FindByKey(context.Background(), s.IdempotencyKey)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := r.store.Events(context.Background(), a.ID)
		sending := int64(0)
		for _, e := range evs {
			if e.To == "sending" {
				sending = e.Seq
			}
		}
		if h.Seq < sending || h.Seq <= last {
			t.Errorf("%s carries head %d; want one at or after its move to sending (%d), after the one before (%d)",
				s.IdempotencyKey, h.Seq, sending, last)
		}
		last = h.Seq
		hash := r.auditHash(h.Seq)
		if hash != h.Hash {
			t.Errorf("%s carries head %d with hash %s; the kiosk's chain has %s there", s.IdempotencyKey, h.Seq, h.Hash, hash)
		}
	}
}

// auditHash returns the hex hash of the kiosk's audit event seq.
func (r *rig) auditHash(seq int64) string {
	r.t.Helper()
	var h []byte
	db := r.openDB()
	defer db.Close()
	if err := db.QueryRow(`SELECT hash FROM audit_events WHERE seq = ?`, seq).Scan(&h); err != nil {
		r.t.Fatal(err)
	}
	return hex.EncodeToString(h)
}

// TestSharedUploadCarriesTheAuditHeadInEachManifest pins the seam between
// the audit head sent with each delivery and the small applications that
// share an upload: each manifest of the block carries the head, one at or
// after the applications' move to sending, with the kiosk's hash there.
func TestSharedUploadCarriesTheAuditHeadInEachManifest(t *testing.T) {
	r := newRig(t)
	for i := range 3 {
		r.queue(fmt.Sprintf("key-shared-head-%d", i), 4<<10+i)
	}
	var creations atomic.Int64
	r.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost && req.URL.Path == portalapi.PathUploads {
			creations.Add(1)
		}
		return false
	})
	if sum, err := r.worker().Pass(context.Background()); err != nil || sum.Delivered != 3 || creations.Load() != 1 {
		t.Fatalf("pass = %+v, %v with %d uploads; want the three in one", sum, err, creations.Load())
	}
	subs, err := r.portal.List(context.Background())
	if err != nil || len(subs) != 3 {
		t.Fatalf("the portal has %d submissions, %v; want 3", len(subs), err)
	}
	for _, s := range subs {
		h := s.AuditHead
		if h == nil {
			t.Errorf("%s was filed from a shared upload without the kiosk's audit head", s.IdempotencyKey)
			continue
		}
		a, err := r.store.FindByKey(context.Background(), s.IdempotencyKey)
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := r.store.Events(context.Background(), a.ID)
		sending := int64(0)
		for _, e := range evs {
			if e.To == "sending" {
				sending = e.Seq
			}
		}
		if h.Seq < sending {
			t.Errorf("%s carries head %d, before its move to sending (%d)", s.IdempotencyKey, h.Seq, sending)
		}
		if hash := r.auditHash(h.Seq); hash != h.Hash {
			t.Errorf("%s carries head %d with hash %s; the kiosk's chain has %s there", s.IdempotencyKey, h.Seq, h.Hash, hash)
		}
	}
}
