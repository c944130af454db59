package retention

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

// Run, as `motcua run` starts it, purges a file's personal data at its first
// daily pass after the retention window, not at the one before, on a real
// store whose clock is the bubble's.
func TestRunPurgesAtTheFirstDailyPassAfterTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		st, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := st.Create(ctx, store.NewApplication{ProcedureID: "birth-registration", CatalogVersion: "1",
			Form: json.RawMessage(`{"child_full_name":"Nguyễn Văn An"}`), Actor: "test"}, application.Queued)
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []application.State{application.Sending, application.Received, application.Done} {
			if err := st.Transition(ctx, a.ID, to, store.Change{Actor: "portal"}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Hour) // the agent starts an hour after the file closed
		p := &Purger{Store: st, Days: 30}
		done := make(chan struct{})
		go func() { p.Run(ctx, 0); close(done) }()
		purged := func() bool {
			synctest.Wait()
			got, err := st.Get(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return !got.PurgedAt.IsZero()
		}
		if purged() {
			t.Fatal("purged at the first pass, 1 hour after the file closed")
		}
		time.Sleep(29 * 24 * time.Hour) // 29 passes later: day 29, 1h
		if purged() {
			t.Fatal("purged on day 29 of a 30-day window")
		}
		time.Sleep(24 * time.Hour) // day 30, 1h
		if !purged() {
			t.Fatal("not purged at the first daily pass after the 30-day window")
		}
		evs, _ := st.Events(ctx, a.ID)
		if last := evs[len(evs)-1]; last.Kind != store.KindPurge || last.Actor != "retention" {
			t.Errorf("last audit event %+v, want the purge by retention", last)
		}
		cancel()
		<-done
	})
}
