package uplink

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/status"
)

// The problems the worker shows on the kiosk's screens. Each says that
// nothing is lost.
var (
	ProblemUnreachable = i18n.T(
		"Không kết nối được cổng dịch vụ công. Hồ sơ vẫn được lưu an toàn trên máy này và sẽ tự gửi khi có mạng trở lại.",
		"The public service portal cannot be reached. Applications are kept safely on this computer and are sent when the connection returns.")
	ProblemPortalBusy = i18n.T(
		"Cổng dịch vụ công đang bận hoặc bảo trì. Hồ sơ vẫn được lưu an toàn trên máy này và sẽ tự gửi lại sau.",
		"The public service portal is busy or under maintenance. Applications are kept safely on this computer and are sent later.")
)

// board keeps the delivery state the worker publishes as status.Uplink
// events: every change is published whole. A board with no publisher does
// nothing. It is safe for concurrent use: a transfer's progress comes from
// the HTTP transport's goroutine.
type board struct {
	pub status.Publisher
	now func() time.Time

	mu  sync.Mutex
	cur status.Uplink
	// step is how many bytes a Sending must grow before it is published
	// again; shown, the Sent last published.
	step, shown int64
}

// Progress is published at most every hundredth of an application's
// bytes, and never for less than minProgressStep bytes (one second at the
// slowest links the kiosk meets), nor more than maxProgressStep.
const (
	minProgressStep = 4 << 10
	maxProgressStep = 256 << 10
)

func (b *board) update(f func(u *status.Uplink)) {
	if b.pub == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.cur)
	b.publishLocked()
}

func (b *board) publishLocked() {
	u := b.cur
	if u.Sending != nil {
		s := *u.Sending
		u.Sending = &s
	}
	b.pub.Publish(u)
}

// answered records an answer from the portal: a 502, 503 or 504 (a
// gateway's, or the portal in maintenance) is not the portal at work.
func (b *board) answered(code int) {
	b.update(func(u *status.Uplink) {
		switch code {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			u.Online, u.Problem = false, ProblemPortalBusy
		default:
			u.Online, u.Problem, u.LastContact = true, i18n.Text{}, b.now()
		}
	})
}

// unreachable records a request that got no answer. A request cancelled
// by the worker's own context (a stop) says nothing of the link; one
// cancelled for making no progress does.
func (b *board) unreachable(ctx context.Context) {
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errStalled) {
		return
	}
	b.update(func(u *status.Uplink) { u.Online, u.Problem = false, ProblemUnreachable })
}

// waiting records the applications waiting for delivery.
func (b *board) waiting(n int, bytes int64) {
	b.update(func(u *status.Uplink) { u.Waiting, u.WaitingBytes = n, bytes })
}

// sending records that application id is being sent: sent of total
// bytes are at the portal already.
func (b *board) sending(id, sent, total int64) {
	b.update(func(u *status.Uplink) {
		u.Sending = &status.Sending{ID: id, Sent: sent, Total: total}
		b.step = min(max(total/100, minProgressStep), maxProgressStep)
		b.shown = sent
	})
}

// progress records that the application being sent has sent bytes sent
// so far. It is published only when it grew by a step since the last
// time, or reached the total.
func (b *board) progress(sent int64) {
	if b.pub == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.cur.Sending
	if s == nil || sent == s.Sent {
		return
	}
	s.Sent = sent
	if sent-b.shown < b.step && sent < s.Total && sent > b.shown {
		return
	}
	b.shown = sent
	b.publishLocked()
}

// sent records that nothing is in flight any more.
func (b *board) sent() {
	b.update(func(u *status.Uplink) { u.Sending = nil })
}

// countWaiting publishes how many applications wait, and their bytes. A
// store that cannot say leaves the last count.
func (w *Worker) countWaiting(ctx context.Context) {
	if w.board.pub == nil {
		return
	}
	if _, err := w.remaining(ctx); err != nil {
		w.log.Debug("waiting applications not counted for the status", "err", err)
	}
}
