package uplink

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/motcua/motcua/agent/store"
)

// Defaults for the bounds on a portal that keeps failing one application
// with server errors (Config.MaxServerErrors, Config.QuarantineAfter).
const (
	DefaultMaxServerErrors = 5
	DefaultQuarantineAfter = 72 * time.Hour
)

// ErrServerErrors is returned (wrapped) when an application is quarantined
// because the portal answered its delivery with server errors for
// Config.QuarantineAfter.
var ErrServerErrors = errors.New("the portal answered server errors")

// serverError reports whether err is the portal failing on its side (a 5xx
// such as a full disk's 500), as opposed to the portal being away or busy:
// 502, 503 and 504 say a gateway or the portal cannot answer now, and
// count as a link failure.
func serverError(err error) bool {
	var he *httpError
	if !errors.As(err, &he) || he.status < 500 {
		return false
	}
	switch he.status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return false
	}
	return true
}

// countFailure adds the failed delivery err of application id to f. After
// MaxServerErrors server errors on one upload, the upload starts again
// under the next generation's name (the portal may have lost or damaged
// the one it has). It reports stuck when the portal has answered nothing
// but server errors (link failures aside) for QuarantineAfter.
func (w *Worker) countFailure(ctx context.Context, id int64, f store.DeliveryFailures, err error) (store.DeliveryFailures, bool, error) {
	now := w.cfg.Now()
	f.Attempts++
	f.LastAt = now
	var le *linkError
	switch {
	case serverError(err):
		f.ServerErrors++
		if f.FailingSince.IsZero() {
			f.FailingSince = now
		}
	case errors.As(err, &le), errors.Is(err, ErrBudgetSpent), errors.Is(err, context.Canceled), errors.Is(err, errUnconfirmed):
		// Says nothing of the portal: the count goes on.
	default:
		// The portal answered otherwise: it is not failing on its side.
		f.FailingSince = time.Time{}
	}
	var serr error
	if f.ServerErrors >= w.cfg.MaxServerErrors {
		up, found, uerr := w.cfg.Store.Upload(ctx, id)
		switch {
		case uerr != nil:
			serr = uerr
		case found:
			w.log.Warn("the portal keeps failing this upload; sending the attachments again under a new name",
				"id", id, "url", up.URL, "server_errors", f.ServerErrors, "err", err)
			serr = w.cfg.Store.SaveUpload(ctx, id, store.Upload{Generation: up.Generation + 1})
			if serr == nil {
				f.ServerErrors = 0
			}
		default:
			f.ServerErrors = 0 // no upload: only the manifest, sent whole each time
		}
	}
	stuck := serverError(err) && now.Sub(f.FailingSince) >= w.cfg.QuarantineAfter
	return f, stuck, serr
}
