package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/retention"
	"github.com/motcua/motcua/agent/staff"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/cardreader"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/sim"
	"github.com/motcua/motcua/devices/video"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/internal/dirlock"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/uplink"
)

const runSynopsis = "[--config FILE] [--devices auto|sim|real] [--card-reader PORT] [--portal URL] [--insecure] [--mode kiosk|counter] [--kiosk] [--headless]"

// cmdRun starts the agent: the store, the devices, the uplink that
// delivers the outbox, and the window when a display is available (else it
// runs headless and says so). With no portal configured it starts a local
// reference portal, so a demo needs nothing else.
func cmdRun(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("run", runSynopsis, slog.LevelInfo)
	cfgPath := addConfigFlag(fs)
	up := addUplinkFlags(fs, "the portal's base URL (default $MOTCUA_PORTAL, else [portal] url in the config file); empty starts a local reference portal")
	devices := fs.String("devices", "", "auto (configured devices, the others simulated), sim (all simulated) or real (configured devices only); default: devices in the config file, else auto")
	cardPort := fs.String("card-reader", "", "serial port of the ID card QR reader (default: [card_reader] port in the config file)")
	localListen := fs.String("local-portal", "127.0.0.1:8787", "where the local reference portal listens when no portal is configured")
	poll := fs.Duration("device-poll", 2*time.Second, "how often the devices' connection is checked (changes are logged)")
	wf := addWindowFlags(fs)
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if err := wf.check(); err != nil {
		fmt.Fprintf(e.stderr, "motcua run: %v\n", err)
		return exitUsage
	}
	idle, err := idleFromEnv()
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua run: %v\n", err)
		return exitUsage
	}
	screen := ""
	if !wf.headless {
		var why string
		if screen, why = display(os.Getenv, x11Answers); screen == "" {
			fmt.Fprintf(e.stderr, "motcua run: no display (%s): running headless, without the window\n", why)
		}
	}
	cfg, src, ok := e.loadConfig(*cfgPath)
	if !ok {
		return exitFail
	}
	portalFromConfig(fs, up, cfg)
	wf.fromConfig(fs, cfg)
	if !up.check(e, "run") {
		return exitUsage
	}
	plan, err := planDevices(cfg, *devices, *cardPort)
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua run: --devices: %v\n", err)
		return exitUsage
	}
	st, cat, err := e.openWithCatalog(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		return e.fail("database: %v", err)
	}
	fmt.Fprintf(e.stdout, "Configuration: %s. Devices: %s.\n", src, plan.mode)
	// A kiosk enrolled with motcua enroll delivers to that portal.
	up.enrolledPortal(ctx, st)
	if *up.portal == "" {
		u, stop, err := startLocalPortal(ctx, e, *localListen)
		if err != nil {
			return e.fail("local reference portal: %v", err)
		}
		defer stop()
		*up.portal = u
		fmt.Fprintf(e.stdout, "No portal configured: started a local reference portal at %s\n", u)
	}
	queued, err := st.List(ctx, store.ListOptions{States: []application.State{application.Queued, application.Sending}})
	if err != nil {
		return e.fail("%v", err)
	}
	// The status surface the kiosk's screens subscribe to: delivery and
	// the devices publish to it.
	hub := status.NewHub()
	up.status = hub
	w, err := up.worker(e, st)
	if err != nil {
		return e.fail("%v", err)
	}
	// One process delivers a data directory's outbox. When another does,
	// run says so and waits for it to stop, its devices watched meanwhile.
	lock, err := e.lockDelivery("motcua run")
	var held *dirlock.HeldError
	if errors.As(err, &held) {
		fmt.Fprintln(e.stdout, "Delivery: "+deliveryHeld(held)+"\nWaiting for it to stop before delivering.")
		e.log.Warn("another process delivers from this data directory; waiting for the delivery lock", "holder", held.Holder.String())
	} else if err != nil {
		return e.fail("delivery lock: %v", err)
	}
	defer func() { lock.Unlock() }()

	// SANE may take seconds to list the scanners (or hang): the agent
	// does not wait for it, the scanner is discovered in the background.
	discovering := plan.scannerToDiscover()
	simDir := filepath.Join(e.dataDir, "sim")
	sims, err := startSimDevices(simDir, &plan, sim.SamplePayloads)
	if err != nil {
		return e.fail("simulated devices: %v", err)
	}
	defer sims.Close()
	var found chan deviceProbe
	later := &laterScanner{}
	if discovering {
		found = make(chan deviceProbe, 1)
		var discovery sync.WaitGroup
		var simScanner *sim.Scanner
		asked := plan
		discovery.Go(func() {
			var p deviceProbe
			p, simScanner = discoverScanner(ctx, e.log, asked, simDir)
			if p.state != nil {
				later.set(p.scanner, hub)
				found <- p
			}
		})
		defer func() {
			discovery.Wait()
			if simScanner != nil {
				simScanner.Close()
			}
		}()
	}
	// Headless, the simulated reader shows a card now and then, for the
	// log; with the window, a card is shown on demand (Ctrl+D), not in the
	// middle of a citizen's session.
	if sims.cardReader != nil && screen == "" {
		go showSampleCards(ctx, sims, 20*time.Second)
	}
	var cards chan device.CardEvent
	if screen != "" {
		cards = make(chan device.CardEvent, 4)
	}
	var probes []deviceProbe
	if plan.cardReader.use != deviceNone {
		// The reader publishes its state itself, as it connects and is
		// lost; its probe logs only.
		r := startCardReader(ctx, e, hub, plan.cardReader.port, plan.cardReader.baud, cards)
		probes = append(probes, deviceProbe{name: plan.cardReader.name, port: plan.cardReader.port, state: func() (status.Device, string) {
			s := r.Status()
			return status.Device{Kind: status.CardReader, Name: s.Port, Connected: s.Connected}, s.LastError
		}})
	}
	if plan.printer.use != deviceNone {
		probes = append(probes, deviceProbe{name: plan.printer.name, port: plan.printer.port, publish: true,
			state: printerPresent(plan.printer.port)})
	}
	if plan.scanner.use == deviceReal || plan.scanner.use == deviceSim {
		probes = append(probes, scannerProbe(ctx, plan.scanner.cfg))
	}
	// Personal data goes [retention] days after the portal closes a
	// file: a pass now and one a day.
	purger := &retention.Purger{Store: st, Days: cfg.Retention.Days, Now: e.now, Actor: "retention", Logger: e.log}
	// The purge stops when run returns, whether a signal or the window
	// ended it, and before the store closes (deferred calls run last
	// first).
	purgeCtx, stopPurge := context.WithCancel(ctx)
	var purging sync.WaitGroup
	purging.Go(func() { purger.Run(purgeCtx, retention.DefaultEvery) })
	defer purging.Wait()
	defer stopPurge()
	e.printDevices(plan, sims, screen != "")
	go watchDevices(ctx, e.log, hub, *poll, probes, found)

	if screen == "" {
		fmt.Fprintln(e.stdout, "motcua agent running HEADLESS, without the window (no display, or --headless).")
	} else {
		fmt.Fprintf(e.stdout, "motcua agent running with the %s window on %s.\n", wf.mode, screen)
	}
	fmt.Fprintf(e.stdout, "Data directory: %s\nCatalog %s: %d procedures. Waiting for delivery: %d application(s). Portal: %s\n",
		e.dataDir, cat.Version, len(cat.Procedures), len(queued), *up.portal)
	if screen == "" {
		fmt.Fprintln(e.stdout, "Capture applications with 'motcua submit'; press Ctrl-C to stop.")
	} else {
		fmt.Fprintln(e.stdout, "Close the window (Ctrl+Alt+Q in kiosk mode) or press Ctrl-C to stop.")
	}
	e.log.Info("agent started", "data_dir", e.dataDir, "catalog", cat.Version, "queued", len(queued), "portal", *up.portal,
		"devices", plan.mode, "config", src.Path, "window", screen)
	if screen == "" {
		deliver(ctx, e, w, lock)
		e.log.Info("agent stopped")
		return exitOK
	}
	// The window runs on this goroutine (the main thread's); delivery
	// goes on beside it. Closing the window stops the agent.
	monitor, err := e.alertMonitor(st, cfg, wf.mode)
	if err != nil {
		return e.fail("early warning: %v", err)
	}
	prepareWindowLocale(e.log)
	wctx, closeWindow := context.WithCancel(ctx)
	var delivery sync.WaitGroup
	delivery.Go(func() { deliver(wctx, e, w, lock) })
	win := &window{flags: wf, cards: cards, hub: hub, log: e.log.With("component", "ui"), dataDir: e.dataDir,
		trace: os.Getenv(uiTraceEnv) != "",
		svc: kiosk.New(kiosk.Config{Store: st, Catalog: cat, Scanner: plan.kioskScanner(later, hub), Printer: plan.kioskPrinter(),
			Status: hub, Tracker: w, TrackURL: enrolledTrackURL(st, *up.portal), Now: e.now, Logger: e.log.With("component", "kiosk"),
			Actor: wf.mode, Alerts: monitor}),
		staff: staff.New(st, staff.Options{Alerts: monitor, Now: e.now, Logger: e.log.With("component", "staff")})}
	if sims.cardReader != nil {
		win.sampleCard = func() {
			if _, err := sims.cardReader.Next(); err != nil {
				e.log.Warn("simulated card reader", "err", err)
			}
		}
	}
	if wf.mode == modeKiosk {
		win.idle = idle
		win.voice, win.synth = startVoice(ctx, e, cfg.Voice)
		if win.voice != nil {
			defer win.voice.Close()
			win.base, _ = voiceSettings(cfg.Voice)
		}
		// The sample how-to video is made in the background the first
		// time; the form offers it once it is there.
		var sample sync.WaitGroup
		sample.Go(func() { ensureSampleVideo(wctx, e) })
		defer sample.Wait()
		win.video = video.New(video.Config{Dir: video.Dir(e.dataDir), Args: strings.Fields(os.Getenv(mpvArgsEnv)),
			Logger: e.log.With("component", "video")})
	}
	win.run(wctx)
	closeWindow()
	delivery.Wait()
	e.log.Info("agent stopped")
	return exitOK
}

// deliver delivers the outbox until ctx ends, once it holds the delivery
// lock: held, or waited for when held is nil (and released on return).
func deliver(ctx context.Context, e *env, w *uplink.Worker, held *dirlock.Lock) {
	lock := held
	var err error
	if lock == nil {
		lock, err = e.waitDelivery(ctx, "motcua run")
		if err == nil {
			e.log.Info("delivery lock taken: this process delivers the outbox now")
			defer lock.Unlock()
		}
	}
	if lock != nil {
		w.Run(ctx, 5*time.Second)
	} else if ctx.Err() == nil {
		e.log.Error("no delivery: the delivery lock could not be taken", "err", err)
		<-ctx.Done()
	}
}

// deviceUse is how the agent uses one device.
type deviceUse int

const (
	// deviceNone: not configured, and devices = real, so not used.
	deviceNone deviceUse = iota
	// deviceReal: the configured device.
	deviceReal
	// deviceSim: a simulator.
	deviceSim
	// deviceDiscovering: a scanner nobody configured, with devices =
	// auto, while SANE is asked for one: found, it is real, else
	// simulated.
	deviceDiscovering
)

// serialDevice is a device on a serial port.
type serialDevice struct {
	name string // for people: "card reader"
	key  string // its table in the config file: "card_reader"
	use  deviceUse
	// port is the configured port, or the simulator's once it runs.
	port string
	baud int
}

// scannerDevice is the document scanner.
type scannerDevice struct {
	use deviceUse
	// cfg is the scanner's configuration; the simulator fills in its
	// device and environment once it runs.
	cfg scanner.Config
}

// devicePlan says, for each device, whether it is real, simulated or not
// used, and where it is. run and doctor share it, so doctor checks what run
// uses.
type devicePlan struct {
	mode       config.DeviceMode
	cardReader serialDevice
	printer    serialDevice
	paperWidth config.PaperWidth
	scanner    scannerDevice
}

// planDevices decides each device's use from the configuration, the
// --devices flag (empty: the file's choice) and the --card-reader flag
// (empty: the file's port).
func planDevices(c *config.Config, modeFlag, cardPort string) (devicePlan, error) {
	mode := c.Devices
	if modeFlag != "" {
		m, err := config.ParseDeviceMode(modeFlag)
		if err != nil {
			return devicePlan{}, err
		}
		mode = m
	}
	use := func(configured bool) deviceUse {
		switch {
		case mode == config.DevicesSim:
			return deviceSim
		case configured:
			return deviceReal
		case mode == config.DevicesAuto:
			return deviceSim
		}
		return deviceNone
	}
	if cardPort == "" {
		cardPort = c.CardReader.Port
	}
	source := string(c.Scanner.Source)
	if c.Scanner.Source == config.SourceAuto {
		source = scanner.SourceAuto
	}
	p := devicePlan{
		mode:       mode,
		cardReader: serialDevice{name: "card reader", key: "card_reader", use: use(cardPort != ""), port: cardPort, baud: int(c.CardReader.Baud)},
		printer:    serialDevice{name: "printer", key: "printer", use: use(c.Printer.Port != ""), port: c.Printer.Port, baud: int(c.Printer.Baud)},
		paperWidth: c.Printer.PaperWidth,
		scanner: scannerDevice{use: use(c.Scanner.Device != ""), cfg: scanner.Config{Device: c.Scanner.Device, Source: source,
			Resolution: int(c.Scanner.Resolution), Mode: scanner.Mode(c.Scanner.Mode)}},
	}
	return p, nil
}

// findScanner lets auto use a scanner nobody configured when SANE sees
// one: the first it lists. Only when none is there is the scanner
// simulated. It waits for SANE; run does not (see discoverScanner).
func (p *devicePlan) findScanner(ctx context.Context) {
	if p.scannerToDiscover() {
		p.scanner.use = deviceSim
		if name, ok := firstScanner(ctx, p.scanner.cfg); ok {
			p.scanner.use = deviceReal
			p.scanner.cfg.Device = name
		}
	}
}

// scannerToDiscover reports whether the scanner is to be discovered
// (auto, none configured), and if so marks it as being discovered.
func (p *devicePlan) scannerToDiscover() bool {
	if p.mode != config.DevicesAuto || p.scanner.use != deviceSim {
		return false
	}
	p.scanner.use = deviceDiscovering
	return true
}

// firstScanner asks SANE for its scanners, for at most 20 seconds, and
// returns the name of the first.
func firstScanner(ctx context.Context, cfg scanner.Config) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cfg.Timeout = 20 * time.Second
	if devs, err := scanner.New(cfg).Devices(ctx); err == nil && len(devs) > 0 {
		return devs[0].Name, true
	}
	return "", false
}

// discoverScanner asks SANE for a scanner, as findScanner does, while run
// goes on, and logs what it found: the first scanner SANE lists, else a
// simulated one, started under simDir, which the caller closes. It returns
// the probe that watches the scanner, with no state func when ctx ends
// first.
func discoverScanner(ctx context.Context, log *slog.Logger, p devicePlan, simDir string) (deviceProbe, *sim.Scanner) {
	name, ok := firstScanner(ctx, p.scanner.cfg)
	if ctx.Err() != nil {
		return deviceProbe{}, nil
	}
	if ok {
		log.Info("scanner found", "device", name)
		p.scanner.cfg.Device = name
		return scannerProbe(ctx, p.scanner.cfg), nil
	}
	s, err := sim.NewScanner(filepath.Join(simDir, "sane"))
	if err != nil {
		log.Error("no scanner found, and the simulated one did not start", "err", err)
		return deviceProbe{}, nil
	}
	cfg := s.Config(p.scanner.cfg)
	log.Info("no scanner found: simulated by SANE's test backend", "device", cfg.Device, "env", strings.Join(s.Env(), " "))
	return scannerProbe(ctx, cfg), s
}

// scannerProbe watches the scanner cfg names.
func scannerProbe(ctx context.Context, cfg scanner.Config) deviceProbe {
	name := cfg.Device
	if name == "" {
		name = "(the first SANE finds)"
	}
	s := scanner.New(cfg)
	return deviceProbe{name: "scanner", port: name, publish: true, state: scannerPresent(ctx, s, 30*time.Second), scanner: s}
}

// printDevices says which device is real, which simulated, and where.
// With a window, the simulated reader shows a card when staff press
// Ctrl+D.
func (e *env) printDevices(p devicePlan, sims *simDevices, window bool) {
	notUsed := fmt.Sprintf("not used (none configured, devices = %s)", p.mode)
	switch p.cardReader.use {
	case deviceSim:
		every := "a sample card every 20 s"
		if window {
			every = "press Ctrl+D in the window for a sample card"
		}
		fmt.Fprintf(e.stdout, "Card reader: simulated at %s (%s)\n", p.cardReader.port, every)
	case deviceReal:
		fmt.Fprintf(e.stdout, "Card reader: %s (%d baud)\n", p.cardReader.port, p.cardReader.baud)
	default:
		fmt.Fprintln(e.stdout, "Card reader: "+notUsed)
	}
	switch p.printer.use {
	case deviceSim:
		fmt.Fprintf(e.stdout, "Printer: simulated at %s (%d mm; receipts saved as PNG in %s)\n", p.printer.port, p.paperWidth, sims.receipts)
	case deviceReal:
		fmt.Fprintf(e.stdout, "Printer: %s (%d mm, %d baud)\n", p.printer.port, p.paperWidth, p.printer.baud)
	default:
		fmt.Fprintln(e.stdout, "Printer: "+notUsed)
	}
	switch p.scanner.use {
	case deviceSim:
		fmt.Fprintf(e.stdout, "Scanner: simulated by SANE's test backend, device %s (%s)\n", p.scanner.cfg.Device, sims.scannerEnv())
	case deviceReal:
		fmt.Fprintf(e.stdout, "Scanner: SANE device %s\n", p.scanner.cfg.Device)
	case deviceDiscovering:
		fmt.Fprintln(e.stdout, "Scanner: discovering (asking SANE for a scanner; simulated if it finds none)")
	default:
		fmt.Fprintln(e.stdout, "Scanner: "+notUsed)
	}
}

// startCardReader reads cards from port, logs each one and, when to is
// not nil, passes every frame on to the window. The reader retries a port
// that is missing or goes away, so a device plugged in later is picked up.
func startCardReader(ctx context.Context, e *env, hub *status.Hub, port string, baud int, to chan<- device.CardEvent) *cardreader.Reader {
	r := cardreader.New(cardreader.Config{Port: port, Baud: baud, Logger: e.log.With("device", "card-reader"), Status: hub})
	events := make(chan cardreader.Event, 4)
	go r.Run(ctx, events)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-events:
				if to != nil {
					select {
					case to <- ev:
					case <-ctx.Done():
						return
					}
				}
				if ev.Err != nil {
					// A card's errors quote what it holds: the log gets
					// their code only.
					e.log.Warn("ID card could not be read", "reason", cardErrorReason(ev.Err))
					continue
				}
				// Nothing personal in the log: staff correlate a card by
				// a short hash of its ID number.
				attrs := []any{"id_hash", idHash(string(ev.Card.ID))}
				if age := ev.Card.RenewalAge(identity.Today(time.Now())); age > 0 {
					attrs = append(attrs, "renewal_due_at_age", age)
				}
				e.log.Info("ID card read", attrs...)
			}
		}
	}()
	return r
}

// deviceProbe says how one device stands: its state for the screens
// (Connected says whether it is connected) and, if not, why, for the log.
type deviceProbe struct {
	name, port string
	state      func() (status.Device, string)
	// publish: watchDevices publishes the state when it changes. A device
	// that publishes its state itself has its probe for the log only.
	publish bool
	// scanner is the scanner a scanner's probe watches.
	scanner *scanner.Scanner
}

// printerPresent probes a printer by its device node: the agent opens it
// only to print, so the node is what comes and goes with the cable.
func printerPresent(port string) func() (status.Device, string) {
	return func() (status.Device, string) {
		d := status.Device{Kind: status.Printer, Name: port, Connected: true}
		if _, err := os.Stat(port); err != nil {
			d.Connected, d.Problem = false, printer.ProblemUnplugged
			return d, err.Error()
		}
		return d, ""
	}
}

// scannerPresent probes a scanner by asking SANE for its devices, at most
// once per every: listing runs scanimage, which may take seconds, so the
// answer is kept in between.
func scannerPresent(ctx context.Context, s *scanner.Scanner, every time.Duration) func() (status.Device, string) {
	var last time.Time
	var d status.Device
	var why string
	return func() (status.Device, string) {
		if !last.IsZero() && time.Since(last) < every {
			return d, why
		}
		last = time.Now()
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		devs, err := s.Devices(lctx)
		want := s.Config().Device
		switch {
		case err != nil:
			why = err.Error()
		case want == "" && len(devs) > 0:
			why = ""
		case slices.ContainsFunc(devs, func(d scanner.Device) bool { return d.Name == want }):
			why = ""
		default:
			why = "SANE does not see it"
			err = scanner.ErrNoScanner
		}
		d = s.DeviceStatus(err)
		return d, why
	}
}

// watchDevices logs each device's state after the first interval, then
// every change of it, until ctx ends, and publishes to hub the state of
// those probes that publish, when it changes. A device discovered later
// comes on more, and is watched from then on.
func watchDevices(ctx context.Context, log *slog.Logger, hub *status.Hub, every time.Duration, probes []deviceProbe, more <-chan deviceProbe) {
	if len(probes) == 0 && more == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	known := make([]*bool, len(probes))
	shown := make([]*status.Device, len(probes))
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-more:
			probes = append(probes, p)
			known = append(known, nil)
			shown = append(shown, nil)
			continue
		case <-t.C:
		}
		for i, p := range probes {
			d, why := p.state()
			if p.publish && (shown[i] == nil || *shown[i] != d) {
				hub.Publish(d)
				shown[i] = &d
			}
			up := d.Connected
			if known[i] != nil && *known[i] == up {
				continue
			}
			switch {
			case up:
				log.Info("device connected", "device", p.name, "port", p.port)
			case known[i] == nil:
				log.Warn("device not connected: waiting for it", "device", p.name, "port", p.port, "err", why)
			default:
				log.Warn("device disconnected", "device", p.name, "port", p.port, "err", why)
			}
			known[i] = &up
		}
	}
}

// startLocalPortal serves a reference portal on listen (or, if taken, on a
// free loopback port), with its records beside the agent's data.
func startLocalPortal(ctx context.Context, e *env, listen string) (string, func(), error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
	}
	base := "http://" + ln.Addr().String()
	dir := filepath.Join(e.dataDir, "local-portal")
	// Its own kiosk enrolls without a code: the portal lets only loopback
	// clients do so.
	p, err := portal.Open(ctx, portal.Config{DataDir: dir, Logger: e.log.With("component", "portal"), OpenEnrollment: true})
	if err != nil {
		ln.Close()
		// Another user's local portal, as root's after root ran motcua.
		return "", nil, sqlitedb.Explain(err, filepath.Join(dir, "portal.db"))
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := p.Serve(ctx, ln); err != nil {
			e.log.Error("local portal", "err", err)
		}
	}()
	stop := func() {
		cancel()
		<-served
		p.Close()
	}
	return base, stop, nil
}

// idHash is a short hash of an ID number, for logs: it tells two reads
// of the same card apart from reads of others without writing the number.
func idHash(id string) string {
	h := sha256.Sum256([]byte("motcua id log " + id))
	return hex.EncodeToString(h[:4])
}

// cardErrorReason is what the log says of a card that could not be read:
// the error's code when it is one of the card's (its message quotes the
// card's fields), the error itself otherwise (the port, the link).
func cardErrorReason(err error) string {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	var idErr *identity.Error
	if errors.As(err, &idErr) {
		return "card_invalid"
	}
	return err.Error()
}

// Test hooks of `motcua run`, read from the environment so that they stay
// out of --help: never set on a kiosk.
const (
	// idleEnv replaces the idle timeout and its countdown, e.g. "5s".
	idleEnv = "MOTCUA_IDLE"
	// uiTraceEnv logs each screen's widgets and where they are.
	uiTraceEnv = "MOTCUA_UI_TRACE"
	// mpvArgsEnv gives mpv more options, e.g. "--ao=null".
	mpvArgsEnv = "MOTCUA_MPV_ARGS"
)

// idleFromEnv is $MOTCUA_IDLE, 0 when unset.
func idleFromEnv() (time.Duration, error) {
	v := os.Getenv(idleEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("$%s %q is not a duration like 5s", idleEnv, v)
	}
	return d, nil
}
