package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/internal/config"
	_ "github.com/motcua/motcua/internal/langenv" // before Fyne's init: see the package
	"github.com/motcua/motcua/sync/uplink"
	"github.com/motcua/motcua/ui"
	"github.com/motcua/motcua/ui/widgets"
)

// The window's layouts.
const (
	modeKiosk   = string(config.WindowKiosk)   // the citizen screens, for a self-service kiosk
	modeCounter = string(config.WindowCounter) // the staff screens, for a desk
)

// windowFlags are run's options for the window.
type windowFlags struct {
	headless bool
	kiosk    bool
	mode     string
}

func addWindowFlags(fs *flag.FlagSet) *windowFlags {
	w := &windowFlags{}
	fs.BoolVar(&w.headless, "headless", false, "open no window even when a display is available")
	fs.BoolVar(&w.kiosk, "kiosk", false, "fullscreen, and closing the window is refused (staff quit with Ctrl+Alt+Q, or from the counter); default: [window] fullscreen in the config file")
	fs.StringVar(&w.mode, "mode", modeKiosk, "the window's layout: kiosk (the citizen screens) or counter (the staff screens); default: [window] mode in the config file, else kiosk")
	return w
}

func (w *windowFlags) check() error {
	if _, err := config.ParseWindowMode(w.mode); err != nil {
		return fmt.Errorf("--mode %q: %w", w.mode, config.ErrBadWindowMode)
	}
	return nil
}

// fromConfig takes the layout and fullscreen from the configuration's
// [window] where the flags of fs did not set them.
func (w *windowFlags) fromConfig(fs *flag.FlagSet, c *config.Config) {
	set := setFlags(fs)
	if !set["mode"] {
		w.mode = string(c.Window.Mode)
	}
	if !set["kiosk"] {
		w.kiosk = c.Window.Fullscreen
	}
}

// display says which display a window would open on, "" when there is
// none, and then why: $DISPLAY, or $WAYLAND_DISPLAY when this build is
// Fyne's Wayland one (tag wayland). The usual build opens X11 windows,
// which a Wayland session shows through XWayland (it sets DISPLAY).
//
// reach checks that an X display answers (x11Answers), since GLFW panics
// on one that does not.
func display(getenv func(string) string, reach func(string) error) (name, why string) {
	if d := getenv("WAYLAND_DISPLAY"); d != "" && waylandBuild {
		return "Wayland " + d, ""
	}
	if d := getenv("DISPLAY"); d != "" {
		if err := reach(d); err != nil {
			return "", fmt.Sprintf("the X display %s does not answer: %v", d, err)
		}
		return "X11 " + d, ""
	}
	if getenv("WAYLAND_DISPLAY") != "" {
		return "", "WAYLAND_DISPLAY is set but not DISPLAY, and this build opens X11 windows: start XWayland, or build with -tags wayland"
	}
	return "", "neither DISPLAY nor WAYLAND_DISPLAY is set"
}

// x11Answers connects to X display d ("[host]:N[.screen]") the way Xlib
// does: a local one on its unix socket (file or abstract), another on TCP
// port 6000+N.
func x11Answers(d string) error {
	host, rest, ok := strings.Cut(d, ":")
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 {
		return fmt.Errorf("%q is not [host]:N", d)
	}
	var conn net.Conn
	if host == "" || host == "unix" {
		path := "/tmp/.X11-unix/X" + num
		if conn, err = net.DialTimeout("unix", path, 2*time.Second); err != nil {
			conn, err = net.DialTimeout("unix", "@"+path, 2*time.Second)
		}
	} else {
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(6000+n)), 2*time.Second)
	}
	if err != nil {
		return err
	}
	return conn.Close()
}

// uiLocales are the character types the window prefers, in order: the X
// input method needs a real UTF-8 locale to take Vietnamese letters from
// the keyboard (Xlib does not support C.UTF-8). packaging/install-deps.sh
// generates both. English first: only LC_CTYPE is set, but a program the
// agent starts reads it too.
var uiLocales = []string{"en_US.UTF-8", "vi_VN.UTF-8"}

// windowLocale returns the locale to set LC_CTYPE to before the window
// opens, "" to keep the environment's: the environment's when it names a
// real UTF-8 locale, else the first of uiLocales that available lists (as
// `locale -a` spells them: en_US.utf8).
func windowLocale(getenv func(string) string, available []string) string {
	if realUTF8(firstSet(getenv, "LC_ALL", "LC_CTYPE", "LANG")) {
		return ""
	}
	for _, want := range uiLocales {
		base, _, _ := strings.Cut(want, ".")
		for _, have := range available {
			hb, hc, _ := strings.Cut(have, ".")
			if hb == base && strings.EqualFold(strings.ReplaceAll(hc, "-", ""), "utf8") {
				return want
			}
		}
	}
	return ""
}

// realUTF8 reports whether locale names a UTF-8 locale other than C's.
func realUTF8(locale string) bool {
	name, charset, _ := strings.Cut(locale, ".")
	return strings.EqualFold(strings.ReplaceAll(charset, "-", ""), "utf8") && name != "C" && name != "POSIX"
}

// hasUTF8 reports whether the environment's character type is a real
// UTF-8 locale.
func hasUTF8(getenv func(string) string) bool {
	return realUTF8(firstSet(getenv, "LC_ALL", "LC_CTYPE", "LANG"))
}

// firstSet is the first of vars set in the environment.
func firstSet(getenv func(string) string, vars ...string) string {
	for _, v := range vars {
		if s := getenv(v); s != "" {
			return s
		}
	}
	return ""
}

// installedLocales lists the locales `locale -a` names; none when it
// cannot run.
func installedLocales() []string {
	out, err := exec.Command("locale", "-a").Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// window is what the window shows and where its input comes from.
type window struct {
	svc   *kiosk.Service
	staff *staff.Directory // who may log in at the counter
	hub   *status.Hub
	cards <-chan device.CardEvent
	flags *windowFlags
	// sampleCard shows the simulated card reader its next card
	// (Ctrl+D); nil when the reader is real.
	sampleCard func()
	log        *slog.Logger

	// voice reads the citizen screens aloud; nil: silent. synth renders
	// the fixed prompts ahead, with base, into the cache in dataDir.
	voice   *kioskVoice
	synth   speech.Synthesizer
	base    speech.Settings
	dataDir string
	// video plays the procedures' how-to videos; nil: none offered.
	video device.VideoPlayer
	// idle, when not zero, replaces the idle timeout and its countdown
	// ($MOTCUA_IDLE, for tests).
	idle time.Duration
	// trace logs each screen's widgets and where they are
	// ($MOTCUA_UI_TRACE, for tests that drive the window with xdotool).
	trace bool
}

// counterTokens are the counter's sizes: staff at a desk, a keyboard and
// a mouse, read smaller text than citizens at a touch screen, so that a
// section's fields fit on one screen.
func counterTokens() ui.Tokens {
	t := ui.DefaultTokens()
	t.TextSize, t.HeadingSize, t.Padding, t.TapTarget = 16, 22, 5, 40
	return t
}

// quitShortcut quits a kiosk-mode window, whose closing is refused.
var quitShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierControl | fyne.KeyModifierAlt}

// sampleCardShortcut shows the simulated card reader a card, for demos
// and practice.
var sampleCardShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierControl}

// run opens the window and runs it on the calling goroutine, which must be
// the main one (Fyne's driver runs on the main thread), until the window
// is closed or quit, or ctx ends.
func (w *window) run(ctx context.Context) {
	a := app.NewWithID("vn.motcua.kiosk")
	opts := ui.Options{Cards: w.cards, Logger: w.log, Video: w.video, IdleTimeout: w.idle, IdleCountdown: w.idle}
	if w.voice != nil {
		opts.Speaker = w.voice
	}
	var u *ui.UI
	if w.trace {
		opts.OnScreen = func(name string) {
			// Once the screen is laid out and drawn.
			time.AfterFunc(300*time.Millisecond, func() { fyne.Do(func() { w.traceScreen(u, name) }) })
		}
	}
	if w.flags.mode == modeCounter {
		t := counterTokens()
		opts.Tokens = &t
		opts.Cards = nil // the counter takes the frames, below
		opts.Speaker, opts.Video = nil, nil
	}
	u = ui.New(a, w.svc, w.hub, opts)
	defer u.Close()
	if opts.Speaker != nil && w.synth != nil {
		// The first start renders the fixed prompts; later ones find
		// them in the cache.
		go prerender(ctx, w.voice.log, w.dataDir, w.synth, w.base, u.FixedPrompts())
	}
	win := u.Window()
	// feeding ends the goroutines run starts that post to the window.
	feeding, fed := make(chan struct{}), sync.WaitGroup{}
	// quit stops every goroutine that posts to the window, then the
	// window: once Fyne's loop has stopped, what is posted runs on the
	// poster's goroutine, against a window that is gone. It stops the
	// driver's loop without closing the window first, as app.Quit does:
	// a pointer event for a window being closed crashes Fyne 2.7
	// (processMouseMoved calls SetInputMode on its nil view; fyne-io/fyne
	// issue 5981), which TestKioskWindowQuitsOnStaffKeys met under Xvfb.
	var once sync.Once
	quit := func(why string) {
		once.Do(func() {
			w.log.Info("window closing", "why", why)
			go func() {
				close(feeding)
				fed.Wait()
				u.Close()
				fyne.Do(a.Driver().Quit)
			}()
		})
	}
	screen := u.Screen
	if w.flags.mode == modeCounter {
		c := u.ShowCounter(ui.CounterOptions{Quit: func() { quit("quit from the counter's menu") }, SampleCard: w.sampleCard,
			Staff: w.staff})
		screen = c.Screen
		fed.Go(func() {
			for {
				select {
				case ev := <-w.cards:
					fyne.Do(func() { c.Frame(ev) })
				case <-feeding:
					return
				}
			}
		})
	} else {
		u.ShowCitizen()
	}
	if w.flags.kiosk {
		win.SetFullScreen(true)
		win.SetCloseIntercept(func() {
			w.log.Warn("closing the kiosk window refused: staff quit with Ctrl+Alt+Q")
		})
	} else {
		win.SetCloseIntercept(func() { quit("window closed") })
	}
	win.Canvas().AddShortcut(quitShortcut, func(fyne.Shortcut) { quit("quit by staff (Ctrl+Alt+Q)") })
	if w.sampleCard != nil {
		win.Canvas().AddShortcut(sampleCardShortcut, func(fyne.Shortcut) { go w.sampleCard() })
	}
	a.Lifecycle().SetOnStarted(func() {
		// Queued after the first frame: Show painted the screen.
		go fyne.Do(func() {
			w.log.Info("window shown", "mode", w.flags.mode, "kiosk", w.flags.kiosk, "screen", screen())
			if w.trace && w.flags.mode == modeKiosk {
				opts.OnScreen(u.Screen())
			}
		})
	})
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			quit("stopped by signal")
		case <-stopped:
		}
	}()
	win.ShowAndRun()
}

// prepareWindowLocale sets LC_CTYPE to a real UTF-8 locale when the
// environment has none (C.UTF-8), before the window opens. The other
// categories stay as they were: an LC_ALL that would override LC_CTYPE
// moves to LANG.
func prepareWindowLocale(log *slog.Logger) {
	l := windowLocale(os.Getenv, installedLocales())
	if l == "" {
		if !hasUTF8(os.Getenv) {
			log.Warn("no UTF-8 locale for the window: Vietnamese may not be typed; run packaging/install-deps.sh to generate en_US.UTF-8")
		}
		return
	}
	if all := os.Getenv("LC_ALL"); all != "" {
		os.Unsetenv("LC_ALL")
		os.Setenv("LANG", all)
	}
	os.Setenv("LC_CTYPE", l)
	log.Debug("window character type set", "LC_CTYPE", l)
}

// kioskPrinter is the receipt printer the screens print on, nil when the
// plan uses none.
func (p *devicePlan) kioskPrinter() device.ReceiptPrinter {
	if p.printer.use == deviceNone {
		return nil
	}
	return printer.New(printer.Config{Port: p.printer.port, Baud: p.printer.baud, Width: paperDots(p.paperWidth)})
}

// kioskScanner is the scanner the screens scan with, nil when the plan
// uses none. A scanner still being discovered is set once found. It
// publishes its state after each scan to hub.
func (p *devicePlan) kioskScanner(s *laterScanner, hub status.Publisher) device.Scanner {
	switch p.scanner.use {
	case deviceReal, deviceSim:
		s.set(scanner.New(p.scanner.cfg), hub)
	case deviceDiscovering:
	default:
		return nil
	}
	return s
}

// laterScanner is a scanner known only once SANE has answered: until then
// a scan says the scanner is being looked for.
type laterScanner struct {
	s atomic.Pointer[scanner.Scanner]
}

var _ device.ProgressScanner = (*laterScanner)(nil)

// set makes s, publishing to hub, the scanner scans use.
func (l *laterScanner) set(s *scanner.Scanner, hub status.Publisher) {
	cfg := s.Config()
	cfg.Status = hub
	l.s.Store(scanner.New(cfg))
}

// errScannerNotYet is a scan asked for before SANE named the scanner.
var errScannerNotYet = &i18n.Error{Code: "scanner_discovering", Msg: i18n.T(
	"Máy quét đang khởi động. Vui lòng thử lại sau ít giây.",
	"The scanner is starting. Please try again in a few seconds."), Err: kiosk.ErrNoScanner}

// ScanDocument scans with the scanner found, if any.
func (l *laterScanner) ScanDocument(ctx context.Context) (device.Document, error) {
	return l.ScanDocumentProgress(ctx, nil)
}

// ScanDocumentProgress scans with the scanner found, if any, reporting
// each page when the scanner can.
func (l *laterScanner) ScanDocumentProgress(ctx context.Context, page func(n int)) (device.Document, error) {
	s := l.s.Load()
	if s == nil {
		return device.Document{}, errScannerNotYet
	}
	var sc device.Scanner = s
	if ps, ok := sc.(device.ProgressScanner); ok && page != nil {
		return ps.ScanDocumentProgress(ctx, page)
	}
	return s.ScanDocument(ctx)
}

// enrolledTrackURL makes the receipts' QR link for the portal: by file
// code, else by this kiosk's device id there, looked up when a receipt is
// made, since the kiosk enrolls after the window opens.
func enrolledTrackURL(st *store.Store, portal string) func(fileCode, key string) string {
	return func(fileCode, key string) string {
		dev, err := uplink.EnrolledDevice(context.Background(), st, portal)
		if err != nil {
			dev = ""
		}
		return trackURL(portal, dev)(fileCode, key)
	}
}

// traceScreen logs the screen shown, where each of its widgets is (the
// centre, in the window's coordinates: "id@x,y"), and, so that a test can
// check what was typed without the log holding it, a SHA-256 prefix of
// each text entry's value.
func (w *window) traceScreen(u *ui.UI, name string) {
	if u == nil || u.Screen() != name {
		return
	}
	var where, entries []string
	ids := u.IDs()
	for r := 'a'; r <= 'z'; r++ {
		ids = append(ids, "key:"+string(r))
	}
	ids = append(ids, "key:space")
	for _, id := range ids {
		if p, ok := u.Where(id); ok {
			where = append(where, fmt.Sprintf("%s@%d,%d", id, int(p.X), int(p.Y)))
		}
		if f, ok := u.Object(id).(*widgets.Field); ok {
			for i, e := range f.Entries() {
				sum := sha256.Sum256([]byte(e.Text))
				entries = append(entries, fmt.Sprintf("%s/%d=%x", id, i, sum[:4]))
			}
		}
	}
	w.log.Info("ui screen", "screen", name, "scale", u.Window().Canvas().Scale(),
		"objects", strings.Join(where, " "), "entries", strings.Join(entries, " "))
}
