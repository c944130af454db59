package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/internal/termtext"
)

// stateFlag collects repeated --state values.
type stateFlag []application.State

func (s *stateFlag) String() string { return fmt.Sprint(*s) }
func (s *stateFlag) Set(v string) error {
	st, err := application.ParseState(v)
	if err != nil {
		names := make([]string, len(application.States))
		for i, s := range application.States {
			names[i] = string(s)
		}
		return fmt.Errorf("%q is not a state (%s)", v, strings.Join(names, ", "))
	}
	*s = append(*s, st)
	return nil
}

// queueRow is one line of `motcua queue --json`.
type queueRow struct {
	ID             int64             `json:"id"`
	Procedure      string            `json:"procedure"`
	ProcedureCode  string            `json:"procedure_code,omitempty"`
	State          application.State `json:"state"`
	FileCode       string            `json:"file_code,omitempty"`
	LastError      string            `json:"last_error,omitempty"`
	IdempotencyKey string            `json:"idempotency_key"`
	Attachments    int               `json:"attachments"`
	PayloadBytes   int64             `json:"payload_bytes"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

func cmdQueue(ctx context.Context, e *env, args []string) (rc int) {
	fs, setup := e.flags("queue", "[--json] [--state STATE]...", slog.LevelWarn)
	asJSON := fs.Bool("json", false, "print a JSON array")
	var states stateFlag
	fs.Var(&states, "state", "only applications in this state (repeatable)")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	// The table is written cell by cell: buffer it, and flush on every way
	// out, failing when the output cannot be written.
	out := e.stdout
	buf := bufio.NewWriterSize(out, 64<<10)
	e.stdout = buf
	defer func() {
		e.stdout = out
		if err := buf.Flush(); err != nil && rc == exitOK {
			rc = e.fail("write output: %v", err)
		}
	}()
	st, err := e.readStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	list, err := kiosk.New(kiosk.Config{Store: st, Logger: e.log, Actor: "cli"}).Queue(ctx, states...)
	if err != nil {
		return e.fail("%v", err)
	}
	rows := make([]queueRow, len(list))
	for i, a := range list {
		rows[i] = queueRow{ID: a.ID, Procedure: a.ProcedureID, ProcedureCode: a.ProcedureCode, State: a.State,
			FileCode: a.FileCode, LastError: a.LastError, IdempotencyKey: a.IdempotencyKey,
			Attachments: a.AttachmentCount, PayloadBytes: a.PayloadBytes, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	}
	if *asJSON {
		return e.printJSON(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "The queue is empty. / Chưa có hồ sơ nào.")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPROCEDURE\tSTATE\tFILE CODE\tCREATED\tLAST ERROR")
	for _, r := range rows {
		proc := r.ProcedureCode
		if proc == "" {
			proc = r.Procedure
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, termtext.Escape(proc), r.State, termtext.Escape(dash(r.FileCode)),
			r.CreatedAt.Local().Format("2006-01-02 15:04"), termtext.Escape(dash(r.LastError)))
	}
	tw.Flush()
	return exitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// showResult is what `motcua show` prints.
type showResult struct {
	*application.Application
	History []historyEntry `json:"history"`
}

type historyEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail,omitempty"`
}

func cmdShow(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("show", "ID", slog.LevelWarn)
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "motcua show: give one application id (see 'motcua queue')")
		return exitUsage
	}
	id, ok := e.parseAppID("show", pos[0])
	if !ok {
		return exitUsage
	}
	st, err := e.readStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	a, err := st.Get(ctx, id)
	if err != nil {
		return e.fail("%v", err)
	}
	evs, err := st.Events(ctx, id)
	if err != nil {
		return e.fail("%v", err)
	}
	out := showResult{Application: a, History: []historyEntry{}}
	for _, ev := range evs {
		out.History = append(out.History, historyEntry{At: ev.At, Kind: ev.Kind, From: ev.From, To: ev.To,
			Actor: ev.Actor, Detail: ev.Detail})
	}
	// Keep the form readable: indent it with the rest rather than as a string.
	if !json.Valid(a.Form) {
		return e.fail("application %d: stored form is not valid JSON", id)
	}
	return e.printJSON(out)
}

// cmdRequeue sends a quarantined application back to the queue once staff
// have checked it; the audit log records who did it.
func cmdRequeue(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("requeue", "ID", slog.LevelWarn)
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "motcua requeue: give one application id (see 'motcua queue --state quarantined')")
		return exitUsage
	}
	id, ok := e.parseAppID("requeue", pos[0])
	if !ok {
		return exitUsage
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if err := kiosk.New(kiosk.Config{Store: st, Logger: e.log, Now: e.now, Actor: "cli"}).Requeue(ctx, id); err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintf(e.stdout, "Application %d is queued again. / Hồ sơ %d đã được xếp lại vào hàng đợi gửi.\n", id, id)
	return exitOK
}
