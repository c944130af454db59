package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
)

// Staff queue a quarantined application again with `motcua requeue`; any
// other state is refused and left as it is.
func TestRequeueQuarantined(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(data, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 2 {
		a, err := st.Create(ctx, store.NewApplication{ProcedureID: "birth-registration", ProcedureCode: "1.001193",
			CatalogVersion: "2026.11.1", Form: json.RawMessage(`{}`)}, application.Queued)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	err = st.Transition(ctx, ids[0], application.Sending, store.Change{Actor: "uplink"})
	if err == nil {
		err = st.Transition(ctx, ids[0], application.Quarantined, store.Change{Actor: "uplink", LastError: "422 malformed"})
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	if r := cli(t, data, "", "requeue", "2"); r.code != exitFail || !strings.Contains(r.stderr, "not quarantined") {
		t.Errorf("requeue of a queued application: %+v", r)
	}
	if r := cli(t, data, "", "requeue", "9"); r.code != exitFail || !strings.Contains(r.stderr, "no application 9") {
		t.Errorf("requeue of a missing application: %+v", r)
	}
	if r := cli(t, data, "", "requeue"); r.code != exitUsage {
		t.Errorf("requeue without an id: %+v", r)
	}
	if r := cli(t, data, "", "requeue", "1"); r.code != exitOK {
		t.Fatalf("requeue 1: %+v", r)
	}
	var shown struct {
		State     application.State `json:"state"`
		LastError string            `json:"last_error"`
		History   []struct{ From, To, Actor, Detail string }
	}
	mustJSON(t, cli(t, data, "", "show", "1").stdout, &shown)
	last := shown.History[len(shown.History)-1]
	if shown.State != application.Queued || shown.LastError != "" || last.From != "quarantined" || last.Actor != "cli" {
		t.Errorf("after requeue: state %s, last error %q, last event %+v", shown.State, shown.LastError, last)
	}
}
