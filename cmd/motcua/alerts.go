package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/alert"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/internal/sqlitedb"
)

// alertRules are the early-warning thresholds of the configuration.
func alertRules(c config.Alerts) alert.Rules {
	minutes := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	return alert.Rules{
		alert.SameID:     {Count: c.SameIDCount, Window: minutes(c.SameIDMinutes)},
		alert.KioskFlood: {Count: c.KioskFloodCount, Window: minutes(c.KioskFloodMinutes)},
		alert.FailedPIN:  {Count: c.FailedPINCount, Window: minutes(c.FailedPINMinutes)},
	}
}

// alertMonitor returns the early-warning monitor of the data directory,
// its key (that hashes ID numbers) in DATADIR/alert.key.
func (e *env) alertMonitor(st *store.Store, c *config.Config, actor string) (*alert.Monitor, error) {
	key, err := alert.LoadOrCreateKey(filepath.Join(e.dataDir, alert.KeyFile))
	if err != nil {
		return nil, err
	}
	return alert.New(st, key, alert.Options{Rules: alertRules(c.Alerts), Actor: actor, Logger: e.log})
}

// hintAlerts says what staff do about an alert.
var hintAlerts = i18n.T(
	"Kiểm tra các hồ sơ vừa nộp và người dùng máy; báo cán bộ phụ trách nếu có dấu hiệu gian lận. Cảnh báo tự hết sau 24 giờ.",
	"Check the recent submissions and who used the kiosk; tell the officer in charge if it looks like fraud. Alerts clear after 24 hours.")

// checkAlerts is doctor's line for the early-warning alerts of the last
// 24 hours: a warning naming each, or none.
func checkAlerts(ctx context.Context, path string, now time.Time) checkResult {
	st, err := store.OpenReadOnly(ctx, path, store.Options{})
	if errors.Is(err, sqlitedb.ErrSchemaTooOld) {
		return passed("not checked: a command that writes (run, submit) brings the schema up to date first")
	}
	if err != nil {
		return failed(hintDatabase(path), "%v", err)
	}
	defer st.Close()
	as, err := alert.Since(ctx, st, now.Add(-alert.Recent))
	if err != nil {
		return failed(hintDatabase(path), "%v", err)
	}
	if len(as) == 0 {
		return passed("no early-warning alert in the last 24 hours")
	}
	msgs := make([]string, len(as))
	for i, a := range as {
		msgs[i] = fmt.Sprintf("%s at %s", a.Message().EN, a.RaisedAt.Local().Format("2006-01-02 15:04"))
	}
	r := passed("%d early-warning alert(s) in the last 24 hours: %s", len(as), strings.Join(msgs, "; "))
	r.Warning = true
	r.Hint = &hintAlerts
	return r
}
