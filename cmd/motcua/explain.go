package main

import (
	"errors"
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
		x := sqlitedb.Explain(err, filepath.Join(e.dataDir, store.FileName))
		var ie *i18n.Error
		if errors.As(x, &ie) && (errors.Is(x, writable.ErrNotWritable) || errors.Is(x, writable.ErrDiskFull)) {
			args[i] = x
			vi = append(vi, ie.Msg.VI)
		}
	}
	return vi
}
