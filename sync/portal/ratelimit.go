package portal

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// filingLimits paces the new filings of each device with a token bucket, so
// that one device's flood neither spends the day's file codes nor slows
// other devices. A repeated key (a retry) takes no token.
type filingLimits struct {
	every time.Duration
	burst int

	mu       sync.Mutex
	byDevice map[string]*rate.Limiter
}

func newFilingLimits(every time.Duration, burst int) *filingLimits {
	if every == 0 {
		every = DefaultFilingInterval
	}
	if burst <= 0 {
		burst = DefaultFilingBurst
	}
	return &filingLimits{every: every, burst: burst, byDevice: map[string]*rate.Limiter{}}
}

// available reports how long device must wait before its bucket holds a
// filing, 0 if it holds one now, taking nothing: a flood is refused before
// the work of checking its manifests.
func (l *filingLimits) available(device string, now time.Time) time.Duration {
	if l.every < 0 {
		return 0
	}
	lim := l.limiter(device)
	if missing := 1 - lim.TokensAt(now); missing > 0 {
		return time.Duration(missing * float64(l.every))
	}
	return 0
}

// maxLimiters bounds the buckets kept: past it they are forgotten and
// start full again, so a flood from many addresses cannot fill memory.
const maxLimiters = 1 << 16

// newLimits returns token buckets keyed by any string (a remote address),
// one per every, burst at once, with defaults for 0.
func newLimits(every time.Duration, burst int, defEvery time.Duration, defBurst int) *filingLimits {
	if every == 0 {
		every = defEvery
	}
	if burst <= 0 {
		burst = defBurst
	}
	return newFilingLimits(every, burst)
}

func (l *filingLimits) limiter(device string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byDevice) >= maxLimiters {
		clear(l.byDevice)
	}
	lim, ok := l.byDevice[device]
	if !ok {
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.byDevice[device] = lim
	}
	return lim
}

// take takes one filing from device's bucket at now. It returns 0 when the
// filing may go ahead, else how long the device must wait, with nothing
// taken.
func (l *filingLimits) take(device string, now time.Time) time.Duration {
	if l.every < 0 {
		return 0
	}
	r := l.limiter(device).ReserveN(now, 1)
	if !r.OK() {
		return l.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// retryAfterSeconds is d as the whole seconds of a Retry-After header,
// rounded up and at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// untilNextDay is how long from now until the next day starts in Vietnam,
// when a new day's file codes begin.
func untilNextDay(now time.Time) time.Duration {
	local := now.In(vietnam)
	next := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, vietnam)
	return next.Sub(now)
}
