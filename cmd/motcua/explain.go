package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/internal/writable"
)

// explainStorage replaces each error among args whose real cause is a full
// disk or a data directory (or database) this user cannot write with its
// explanation, and returns the explanations' Vietnamese forms.
func (e *env) explainStorage(args []any) []string {
	var vi []string
	for i, a := range args {
		err, ok := a.(error)
		if !ok {
			continue
		}
		if ie, x := e.explainError(err); ie != nil {
			args[i] = x
			vi = append(vi, ie.Msg.VI)
		}
	}
	return vi
}

// explainError returns the explanation of err, and err explained (it
// wrapped), when its real cause is a full disk or a data directory (or
// database) this user cannot write; otherwise nil and err.
func (e *env) explainError(err error) (*i18n.Error, error) {
	x := sqlitedb.Explain(err, filepath.Join(e.dataDir, store.FileName))
	var ie *i18n.Error
	if errors.As(x, &ie) && (errors.Is(x, writable.ErrNotWritable) || errors.Is(x, writable.ErrDiskFull)) {
		return ie, x
	}
	return nil, err
}

// explainingLog returns e's logger, except that an error logged under
// "err" whose real cause is a full disk or a data directory this user
// cannot write is told in English under "err" and in Vietnamese under
// "vi", with the error itself under "cause": what the background delivery
// logs is then as plain as what the CLI prints.
func (e *env) explainingLog() *slog.Logger {
	return slog.New(explainingHandler{Handler: e.log.Handler(), explain: e.explainError})
}

// explainingHandler is the slog.Handler of explainingLog.
type explainingHandler struct {
	slog.Handler
	explain func(error) (*i18n.Error, error)
}

// Handle explains the record's "err", if it needs it, and passes it on.
func (h explainingHandler) Handle(ctx context.Context, r slog.Record) error {
	var attrs []slog.Attr
	explained := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" && !explained {
			if ie, x := h.explain(err); ie != nil {
				attrs = append(attrs, slog.String("err", x.Error()), slog.String("vi", ie.Msg.VI), slog.String("cause", err.Error()))
				explained = true
				return true
			}
		}
		attrs = append(attrs, a)
		return true
	})
	if !explained {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(attrs...)
	return h.Handler.Handle(ctx, out)
}

// WithAttrs keeps explaining.
func (h explainingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return explainingHandler{Handler: h.Handler.WithAttrs(attrs), explain: h.explain}
}

// WithGroup keeps explaining.
func (h explainingHandler) WithGroup(name string) slog.Handler {
	return explainingHandler{Handler: h.Handler.WithGroup(name), explain: h.explain}
}
