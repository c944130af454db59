package uplink

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// errUnconfirmed ends the deliveries of a pass whose health check did not
// confirm the portal (gate): nothing was filed.
var errUnconfirmed = errors.New("the portal's identity is not confirmed")

// errOtherInstance is the health check naming another portal instance than
// the one the kiosk is enrolled with.
var errOtherInstance = errors.New("the portal names another instance than the one this kiosk is enrolled with")

// gate holds back what can file an application, the last byte of an
// upload and a manifest, until the health check of the pass has confirmed
// that the portal is the instance the kiosk is enrolled with. A pass of a
// kiosk enrolled there sends at once, the check beside the upload, instead
// of waiting the check's round trip first; only an upload shorter than
// that round trip waits, at its last byte.
type gate struct {
	done chan struct{}
	// err is why the portal was not confirmed; set before done closes.
	err error
}

func newGate() *gate { return &gate{done: make(chan struct{})} }

// open confirms the portal, or fails the gate with cause. What waits at
// the gate gets errUnconfirmed and the cause's text only: the health
// check's answer is no answer to an application's delivery (a 4xx there
// would quarantine it, a 500 count against it).
func (g *gate) open(cause error) {
	if cause != nil {
		g.err = fmt.Errorf("%w: %v", errUnconfirmed, cause)
	}
	close(g.done)
}

// wait waits for the check and returns why the portal was not confirmed,
// if it was not. A nil gate is open.
func (g *gate) wait(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failed returns why the portal was not confirmed, once the check has
// said so, and nil otherwise.
func (g *gate) failed() error {
	if g == nil {
		return nil
	}
	select {
	case <-g.done:
		return g.err
	default:
		return nil
	}
}

// gatedReader reads r, then last once g is open.
type gatedReader struct {
	ctx  context.Context
	g    *gate
	r    io.Reader
	last []byte
}

func (gr *gatedReader) Read(b []byte) (int, error) {
	if gr.r != nil {
		n, err := gr.r.Read(b)
		if err != io.EOF {
			return n, err
		}
		gr.r = nil
		if n > 0 {
			return n, nil
		}
	}
	if len(gr.last) == 0 {
		return 0, io.EOF
	}
	if err := gr.g.wait(gr.ctx); err != nil {
		return 0, err
	}
	n := copy(b, gr.last)
	gr.last = gr.last[n:]
	return n, nil
}

// checkInstance asks the portal's health check whether it is the instance
// the kiosk is enrolled with, and opens g with the answer. The error, for
// the pass, wraps the check's (a link failure, a Retry-After).
func (w *Worker) checkInstance(ctx context.Context, g *gate, enrolled string) error {
	h, err := w.health(ctx)
	if err == nil && h.Instance != "" && h.Instance != enrolled {
		err = fmt.Errorf("%w (enrolled with %s, the portal is %s)", errOtherInstance, enrolled, h.Instance)
	}
	g.open(err)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnconfirmed, err)
	}
	return nil
}

// confirmBeside returns a gate for a pass that sends before its health
// check, when the kiosk is enrolled with the portal at this very URL and
// has something to send, and nil when the pass enrolls first (enroll).
func (w *Worker) confirmBeside(ctx context.Context, sending bool) (*gate, error) {
	if !sending || w.reclaim {
		return nil, nil
	}
	e, err := w.enrollment(ctx)
	if err != nil || e.token == "" || e.device == "" || e.instance == "" || e.portal != w.base.String() {
		return nil, err
	}
	w.token, w.deviceID, w.instance = e.token, e.device, e.instance
	return newGate(), nil
}
