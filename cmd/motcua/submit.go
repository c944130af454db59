package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// maxAttachmentBytes bounds one attachment: the kiosk's bound.
const maxAttachmentBytes = kiosk.MaxAttachmentBytes

// maxFormBytes bounds the form: the largest procedure's form takes a few
// kilobytes.
const maxFormBytes = 1 << 20

// attachFlag collects repeated --attach values.
type attachFlag []string

func (a *attachFlag) String() string     { return strings.Join(*a, ",") }
func (a *attachFlag) Set(v string) error { *a = append(*a, v); return nil }

// submitResult is what submit prints.
type submitResult struct {
	ID             int64                    `json:"id"`
	IdempotencyKey string                   `json:"idempotency_key"`
	State          application.State        `json:"state"`
	Procedure      string                   `json:"procedure"`
	ProcedureCode  string                   `json:"procedure_code,omitempty"`
	CatalogVersion string                   `json:"catalog_version"`
	Attachments    []application.Attachment `json:"attachments"`
	// Existing is true when --idempotency-key named an application that was
	// already stored: nothing new was stored.
	Existing bool `json:"existing,omitempty"`
}

func cmdSubmit(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("submit", "--procedure CODE --form FILE.json [--attach [EVIDENCE=]FILE]...", slog.LevelWarn)
	cfgPath := addConfigFlag(fs)
	code := fs.String("procedure", "", "procedure code (e.g. 1.001193) or id (e.g. birth-registration)")
	formPath := fs.String("form", "", "the form as a JSON object (- for standard input); see 'motcua procedures example CODE'")
	key := fs.String("idempotency-key", "", "reuse this key (a retry of the same submission stores nothing new)")
	var attach attachFlag
	fs.Var(&attach, "attach", "attach a file as evidence; EVIDENCE= names the evidence it is (repeatable)")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if *code == "" || *formPath == "" {
		fmt.Fprintln(e.stderr, "motcua submit: --procedure and --form are required")
		fs.Usage()
		return exitUsage
	}
	// The form is read before the database is opened: standard input may
	// take a while.
	form, err := e.readForm(ctx, *formPath)
	if errors.Is(err, errInterrupted) {
		return e.fail("submit %v: nothing stored", err)
	}
	if err != nil {
		return e.fail("read form: %v", err)
	}
	st, cat, err := e.openWithCatalog(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	// The configuration only sets the early-warning thresholds: read after
	// the database, whose problems come first.
	cfg, _, ok := e.loadConfig(*cfgPath)
	if !ok {
		return exitFail
	}
	p, err := cat.Lookup(*code)
	if err != nil {
		return e.fail("%v", err)
	}

	// Every problem is collected before refusing, so the user fixes them at
	// once: the files' first, then the form's and the evidence's.
	atts, aerrs := readAttachments(p, attach)
	monitor, err := e.alertMonitor(st, cfg, "cli")
	if err != nil {
		return e.fail("%v", err)
	}
	svc := kiosk.New(kiosk.Config{Store: st, Catalog: cat, Now: e.now, Logger: e.log, Actor: "cli", Alerts: monitor})
	sub, err := svc.Submit(ctx, kiosk.Capture{Procedure: p, Form: form, Attachments: atts, IdempotencyKey: *key, Problems: aerrs})
	var problems procedure.Errors
	if errors.As(err, &problems) {
		return e.refuse(p, problems)
	}
	if err != nil {
		return e.fail("%v", err)
	}
	a, existing := sub.App, sub.Existing
	out := submitResult{ID: a.ID, IdempotencyKey: a.IdempotencyKey, State: a.State, Procedure: a.ProcedureID,
		ProcedureCode: a.ProcedureCode, CatalogVersion: a.CatalogVersion, Attachments: a.Attachments, Existing: existing}
	return e.printJSON(out)
}

// readForm reads the form named by --form: a regular file, or standard
// input for "-", at most maxFormBytes either way. Reading standard input
// stops when ctx ends.
func (e *env) readForm(ctx context.Context, path string) ([]byte, error) {
	if path == "-" {
		e.log.Debug("reading the form from standard input")
		b, err := readBounded(untilDone(ctx, e.stdin), maxFormBytes)
		if err != nil {
			return nil, fmt.Errorf("--form - (standard input): %w", err)
		}
		return b, nil
	}
	b, err := readRegularFile(path, maxFormBytes)
	if err != nil {
		return nil, fmt.Errorf("--form %s: %w", path, withoutPath(err))
	}
	return b, nil
}

// refuse prints every problem, English then Vietnamese, on standard error,
// and the same as JSON on standard output, and returns exitFail.
func (e *env) refuse(p *procedure.Procedure, problems procedure.Errors) int {
	fmt.Fprintf(e.stderr, "motcua: the application for %s (%s) was not stored: %d problem(s)\n", p.ID, p.Code, len(problems))
	for _, pr := range problems {
		field := pr.Field
		if field == "" {
			field = "form"
		}
		fmt.Fprintf(e.stderr, "  - %s: %s\n      %s\n", field, pr.Message.EN, pr.Message.VI)
	}
	e.printJSON(map[string]any{"stored": false, "procedure": p.ID, "errors": problems})
	return exitFail
}

func (e *env) printJSON(v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return e.fail("write output: %v", err)
	}
	return exitOK
}

// readAttachments reads each --attach value, [EVIDENCE=]FILE, and assigns
// files given without an evidence key to the procedure's unmet evidence in
// catalog order (required first).
func readAttachments(p *procedure.Procedure, specs []string) ([]store.NewAttachment, procedure.Errors) {
	var atts []store.NewAttachment
	var errs procedure.Errors
	type pending struct {
		path string
		idx  int
	}
	var unnamed []pending
	for _, spec := range specs {
		key, path := "", spec
		if k, rest, ok := strings.Cut(spec, "="); ok && p.Field(k) == nil && evidenceKey(p, k) {
			key, path = k, rest
		} else if ok && !fileExists(spec) {
			errs = append(errs, procedure.FieldError{Field: "attach:" + spec, Code: "unknown_evidence", Message: i18n.Tf(
				"Thủ tục %s không có loại giấy tờ %q", "procedure %s lists no evidence %q", p.ID, k)})
			continue
		}
		content, err := readAttachment(path)
		if err != nil {
			errs = append(errs, procedure.FieldError{Field: "attach:" + path, Code: "unreadable_attachment", Message: err.Msg})
			continue
		}
		atts = append(atts, store.NewAttachment{EvidenceKey: key, Name: filepath.Base(path),
			MediaType: mediaType(path, content), Content: content})
		if key == "" {
			unnamed = append(unnamed, pending{path, len(atts) - 1})
		}
	}
	var named []string
	for _, a := range atts {
		if a.EvidenceKey != "" {
			named = append(named, a.EvidenceKey)
		}
	}
	free := p.UnmetEvidence(named)
	for _, u := range unnamed {
		if len(free) == 0 {
			errs = append(errs, procedure.FieldError{Field: "attach:" + u.path, Code: "unassigned_attachment", Message: i18n.Tf(
				"Không còn loại giấy tờ nào để gắn tệp %s; ghi rõ LOẠI=TỆP",
				"no evidence left to assign %s to; name it as EVIDENCE=FILE", filepath.Base(u.path))})
			continue
		}
		atts[u.idx].EvidenceKey = free[0]
		free = free[1:]
	}
	return atts, errs
}

func evidenceKey(p *procedure.Procedure, k string) bool {
	for _, ev := range p.Evidence {
		if ev.Key == k {
			return true
		}
	}
	return false
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readAttachment reads one --attach file: a regular file of at most
// maxAttachmentBytes, not empty.
func readAttachment(path string) ([]byte, *i18n.Error) {
	b, err := readRegularFile(path, maxAttachmentBytes)
	var nr *notRegularError
	switch {
	case errors.As(err, &nr):
		return nil, i18n.Errorf("unreadable_attachment", "%s là %s, không phải tệp thông thường",
			"--attach %s is a %s, not a regular file", path, nr.kind)
	case errors.Is(err, errTooLarge):
		return nil, i18n.Errorf("attachment_too_large", "Tệp %[1]s quá lớn (tối đa %[2]s)",
			"--attach %[1]s: %[3]v", path, bytesIEC(maxAttachmentBytes), err)
	case err != nil:
		return nil, i18n.Errorf("unreadable_attachment", "Không đọc được tệp %s: %v", "--attach %s: cannot read it: %v",
			path, withoutPath(err))
	case len(b) == 0:
		return nil, i18n.Errorf("empty_attachment", "Tệp %s rỗng", "--attach %s is empty", path)
	}
	return b, nil
}

// mediaType names the attachment's type from its content, falling back to
// its extension.
func mediaType(path string, content []byte) string {
	t := http.DetectContentType(content)
	if t == "application/octet-stream" || strings.HasPrefix(t, "text/plain") {
		if byExt := mime.TypeByExtension(strings.ToLower(filepath.Ext(path))); byExt != "" {
			return byExt
		}
	}
	return t
}
