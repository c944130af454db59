package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/tarm/serial"

	"github.com/motcua/motcua/agent/audit"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/speech"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/espeak"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/devices/sim"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/internal/portalurl"
	"github.com/motcua/motcua/internal/sqlitedb"
	"github.com/motcua/motcua/sync/portalapi"
	"github.com/motcua/motcua/sync/uplink"
)

const doctorSynopsis = "[--config FILE] [--devices auto|sim|real] [--json]"

// checkResult is the outcome of one doctor check.
type checkResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Warning marks a passed check with something staff should know (a
	// kiosk with no sound output carries on silently).
	Warning bool `json:"warning,omitempty"`
	// Hint says what staff can do about a failure, Vietnamese first.
	Hint *i18n.Text `json:"hint,omitempty"`
}

func passed(format string, args ...any) checkResult {
	return checkResult{OK: true, Detail: fmt.Sprintf(format, args...)}
}

func failed(hint i18n.Text, format string, args ...any) checkResult {
	return checkResult{Detail: fmt.Sprintf(format, args...), Hint: &hint}
}

// doctorCheck is one check, bounded by its timeout.
type doctorCheck struct {
	name    string
	timeout time.Duration
	run     func(ctx context.Context) checkResult
}

// Hints for staff.
var (
	hintConfig = i18n.T(
		"Sửa dòng được nêu trong tệp cấu hình ('motcua config example' in ra một tệp mẫu), rồi chạy lại motcua doctor",
		"Fix the line named in the config file ('motcua config example' prints a valid one), then run motcua doctor again")
	hintWedged = i18n.T(
		"Rút cáp USB của thiết bị, chờ vài giây rồi cắm lại; nếu vẫn lỗi, khởi động lại máy",
		"Unplug the device's USB cable, wait a few seconds and plug it back in; if it persists, restart the PC")
	hintScannerSoftware = i18n.T(
		"Cài phần mềm máy quét: sudo apt-get install sane-utils",
		"Install the scanner software: sudo apt-get install sane-utils")
	hintSpeech = i18n.T(
		"Cài phần mềm đọc tiếng Việt: sudo apt-get install espeak-ng",
		"Install the speech engine: sudo apt-get install espeak-ng")
	hintSpeakers = i18n.T(
		"Cắm loa hoặc tai nghe và kiểm tra cài đặt âm thanh của máy, rồi chạy lại motcua doctor",
		"Plug in speakers or headphones and check the PC's sound settings, then run motcua doctor again")
	hintVideo = i18n.T(
		"Cài trình phát video để người dân xem video hướng dẫn: sudo apt-get install mpv",
		"Install the video player so citizens can watch the how-to videos: sudo apt-get install mpv")
	hintNetwork = i18n.T(
		"Kiểm tra mạng (cáp, Wi-Fi, 3G). Hồ sơ vẫn được lưu an toàn trên máy và sẽ tự gửi khi có mạng",
		"Check the network (cable, Wi-Fi, 3G). Applications stay safe on this machine and are sent when the link returns")
	hintPortalURL = i18n.T(
		"Kiểm tra địa chỉ cổng dịch vụ công trong tệp cấu hình ([portal] url)",
		"Check the portal's address in the config file ([portal] url)")
	hintPortalChanged = i18n.T(
		"Cổng dịch vụ công đã được cài đặt lại hoặc là một cổng khác: lần gửi tới, máy tự gửi lại các hồ sơ cổng không còn giữ. Mã hồ sơ cũ in trên phiếu không còn tra cứu được; báo cho người dân mã mới ('motcua queue')",
		"The portal was reinstalled or is another portal: the next delivery sends again the files it no longer has. Old file codes printed on receipts no longer track them; give citizens the new codes ('motcua queue')")
	hintDisk = i18n.T(
		"Giải phóng dung lượng ổ đĩa (tệp tải về, thùng rác); không xoá thư mục dữ liệu của motcua",
		"Free disk space (downloads, the trash); do not delete motcua's data directory")
)

func hintReplug(d serialDevice) i18n.Text {
	if d.key == "printer" {
		return i18n.T(
			"Bật máy in biên nhận và cắm lại cáp USB của máy in, rồi chạy lại motcua doctor",
			"Switch the receipt printer on and replug its USB cable, then run motcua doctor again")
	}
	return i18n.T(
		"Cắm lại cáp USB của máy đọc mã QR, rồi chạy lại motcua doctor",
		"Replug the QR reader's USB cable, then run motcua doctor again")
}

func hintNotSerial(d serialDevice) i18n.Text {
	return i18n.Tf(
		"Kiểm tra cổng trong tệp cấu hình ([%s] port): phải là cổng nối tiếp như /dev/ttyACM0",
		"Check the port in the config file ([%s] port): it must be a serial device such as /dev/ttyACM0", d.key)
}

func hintDialout() i18n.Text {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return i18n.Tf(
		"Thêm người dùng %s vào nhóm dialout (sudo adduser %s dialout), đăng xuất rồi đăng nhập lại",
		"Add the user %s to the dialout group (sudo adduser %s dialout), then log out and in again", name, name)
}

func hintDatabase(path string) i18n.Text {
	return i18n.Tf(
		"Không xoá gì; báo ngay cán bộ kỹ thuật và giữ nguyên tệp %s",
		"Delete nothing; call technical support at once and keep %s as it is", path)
}

// cmdDoctor checks what the agent needs and says what to do about each
// failure.
func cmdDoctor(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("doctor", doctorSynopsis, slog.LevelWarn)
	cfgPath := addConfigFlag(fs)
	devices := fs.String("devices", "", "auto, sim or real: check the devices run would use with this choice (default: devices in the config file)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	cfgResult := checkResult{Name: "config", OK: true}
	cfg, src, err := config.Load(*cfgPath, e.dataDir)
	if err != nil {
		cfg = config.Default()
		cfgResult = failed(hintConfig, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
		cfgResult.Name = "config"
	} else {
		cfgResult.Detail = src.String()
	}
	plan, err := planDevices(cfg, *devices, "")
	if err != nil {
		fmt.Fprintf(e.stderr, "motcua doctor: --devices: %v\n", err)
		return exitUsage
	}
	plan.findScanner(ctx)
	if plan.cardReader.use == deviceSim || plan.printer.use == deviceSim || plan.scanner.use == deviceSim {
		// The simulators live apart from run's, which may be running.
		dir, err := os.MkdirTemp("", "motcua-doctor-")
		if err != nil {
			return e.fail("%v", err)
		}
		defer os.RemoveAll(dir)
		sims, err := startSimDevices(dir, &plan, sim.SamplePayloads)
		if err != nil {
			return e.fail("simulated devices: %v", err)
		}
		defer sims.Close()
	}
	portalURL := string(cfg.Portal.URL)
	if env := os.Getenv("MOTCUA_PORTAL"); env != "" {
		portalURL = env
	}
	d := doctor{statfs: syscall.Statfs, audio: systemAudio()}
	checks := []doctorCheck{
		{"card reader", 5 * time.Second, func(ctx context.Context) checkResult { return checkSerial(ctx, plan.cardReader, plan.mode) }},
		{"printer", 5 * time.Second, func(ctx context.Context) checkResult {
			return checkPrinter(ctx, plan.printer, plan.paperWidth, plan.mode)
		}},
		{"scanner", 30 * time.Second, func(ctx context.Context) checkResult { return checkScanner(ctx, plan.scanner, plan.mode) }},
		{"audio", 5 * time.Second, func(ctx context.Context) checkResult { return d.audio.check(ctx) }},
		{"video", 5 * time.Second, func(ctx context.Context) checkResult { return checkVideo(exec.LookPath) }},
		{"portal", 10 * time.Second, func(ctx context.Context) checkResult {
			return checkPortal(ctx, portalURL, cfg.Portal.Insecure, cfg.Portal.CA, filepath.Join(e.dataDir, store.FileName))
		}},
		{"disk", 5 * time.Second, func(ctx context.Context) checkResult { return d.checkDisk(e.dataDir) }},
		{"database", 60 * time.Second, func(ctx context.Context) checkResult {
			return checkDatabase(ctx, filepath.Join(e.dataDir, store.FileName))
		}},
		{"alerts", 10 * time.Second, func(ctx context.Context) checkResult {
			return checkAlerts(ctx, filepath.Join(e.dataDir, store.FileName), e.now())
		}},
	}
	results := append([]checkResult{cfgResult}, runChecks(ctx, checks)...)
	if ctx.Err() != nil {
		// Checks cut short by a signal say nothing about the machine.
		return e.fail("doctor interrupted (%v): run it again for a result", context.Cause(ctx))
	}
	allOK := true
	for _, r := range results {
		allOK = allOK && r.OK
	}
	if *asJSON {
		e.printJSON(struct {
			OK      bool          `json:"ok"`
			Devices string        `json:"devices"`
			Checks  []checkResult `json:"checks"`
		}{allOK, string(plan.mode), results})
	} else {
		printResults(e, results)
	}
	if !allOK {
		return exitFail
	}
	return exitOK
}

// runChecks runs the checks at once, each bounded by its timeout, and
// returns their results in order. A check that does not return in time
// (a wedged device, a hung scanimage) is a failure; it is left behind, as
// are those still running when ctx ends.
func runChecks(ctx context.Context, checks []doctorCheck) []checkResult {
	done := make([]chan checkResult, len(checks))
	for i, c := range checks {
		done[i] = make(chan checkResult, 1)
		go func() {
			ctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			done[i] <- c.run(ctx)
		}()
	}
	results := make([]checkResult, len(checks))
	start := time.Now()
	for i, c := range checks {
		// A check that honours its context returns soon after its
		// timeout, with its own words; allow it a moment for that.
		select {
		case results[i] = <-done[i]:
		default:
			wait := time.NewTimer(time.Until(start.Add(c.timeout + time.Second)))
			select {
			case results[i] = <-done[i]:
			case <-wait.C:
				results[i] = failed(hintWedged, "no answer within %v", c.timeout)
			case <-ctx.Done():
				results[i] = failed(hintWedged, "interrupted: %v", context.Cause(ctx))
			}
			wait.Stop()
		}
		results[i].Name = c.name
	}
	return results
}

func printResults(e *env, results []checkResult) {
	failures, warnings := 0, 0
	for _, r := range results {
		if r.OK && r.Warning {
			warnings++
			fmt.Fprintf(e.stdout, "WARN %s: %s\n", r.Name, r.Detail)
			if r.Hint != nil {
				fmt.Fprintf(e.stdout, "     %s\n     %s\n", r.Hint.VI, r.Hint.EN)
			}
			continue
		}
		if r.OK {
			fmt.Fprintf(e.stdout, "OK   %s: %s\n", r.Name, r.Detail)
			continue
		}
		failures++
		fmt.Fprintf(e.stdout, "FAIL %s: %s\n", r.Name, r.Detail)
		if r.Hint != nil {
			fmt.Fprintf(e.stdout, "     %s\n     %s\n", r.Hint.VI, r.Hint.EN)
		}
	}
	switch {
	case failures == 0 && warnings == 1:
		fmt.Fprintln(e.stdout, "All checks passed (1 warning).")
	case failures == 0 && warnings > 1:
		fmt.Fprintf(e.stdout, "All checks passed (%d warnings).\n", warnings)
	case failures == 0:
		fmt.Fprintln(e.stdout, "All checks passed.")
	default:
		fmt.Fprintf(e.stdout, "%d of %d checks failed.\n", failures, len(results))
	}
}

// notUsed describes a device that is not configured in real mode.
func notUsed(mode config.DeviceMode) checkResult {
	return passed("not used (none configured, devices = %s)", mode)
}

// portName names a serial device's port for doctor's lines: simulated, or
// the device a udev symlink points to.
func portName(d serialDevice) string {
	what := d.port
	if d.use == deviceSim {
		what = "simulated at " + d.port
	} else if target, err := filepath.EvalSymlinks(d.port); err == nil && target != d.port {
		what += " (" + target + ")"
	}
	return what
}

// checkSerial checks that a serial device's node exists and opens at its
// baud rate.
func checkSerial(ctx context.Context, d serialDevice, mode config.DeviceMode) checkResult {
	if d.use == deviceNone {
		return notUsed(mode)
	}
	what := portName(d)
	fi, err := os.Stat(d.port)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return failed(hintReplug(d), "%s does not exist", d.port)
	case errors.Is(err, fs.ErrPermission):
		return failed(hintDialout(), "%s: %v", d.port, err)
	case err != nil:
		return failed(hintReplug(d), "%v", err)
	case fi.Mode()&os.ModeCharDevice == 0:
		return failed(hintNotSerial(d), "%s is not a serial device", d.port)
	}
	opened := make(chan error, 1)
	go func() {
		// Always with a read timeout: without one, Close hangs on Linux.
		p, err := serial.OpenPort(&serial.Config{Name: d.port, Baud: d.baud, ReadTimeout: 100 * time.Millisecond})
		if err == nil {
			err = p.Close()
		}
		opened <- err
	}()
	select {
	case err = <-opened:
	case <-ctx.Done():
		return failed(hintWedged, "%s did not open in time", d.port)
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return failed(hintDialout(), "permission denied opening %s", d.port)
	case err != nil:
		return failed(hintReplug(d), "cannot open %s at %d baud: %v", d.port, d.baud, err)
	}
	return passed("%s: opens at %d baud", what, d.baud)
}

// hintPrinterStatus says what to do about what the printer reports.
func hintPrinterStatus(err error, width config.PaperWidth) i18n.Text {
	switch err {
	case printer.ErrPaperOut:
		return i18n.Tf(
			"Lắp cuộn giấy in mới (khổ %d mm), mặt giấy nhiệt hướng lên, đóng nắp máy in rồi chạy lại motcua doctor",
			"Load a new roll of receipt paper (%d mm wide), heat-sensitive side up, close the printer's cover, then run motcua doctor again", width)
	case printer.ErrCoverOpen:
		return i18n.T(
			"Đóng nắp máy in cho khớp (nghe tiếng tách), rồi chạy lại motcua doctor",
			"Close the printer's cover until it clicks, then run motcua doctor again")
	case printer.ErrPrinterError:
		return i18n.T(
			"Tắt máy in, mở nắp, gỡ giấy kẹt, đóng nắp rồi bật lại; nếu đèn lỗi vẫn sáng, báo cán bộ kỹ thuật",
			"Switch the printer off, open the cover, clear any jammed paper, close it and switch on again; if the error light stays on, call technical support")
	}
	return i18n.T(
		"Bật máy in và kiểm tra đèn báo: không được có đèn lỗi; nếu đang nhấn nút FEED thì thả ra, rồi chạy lại motcua doctor",
		"Switch the printer on and check its lights: no error light; release the FEED button if held, then run motcua doctor again")
}

// checkPrinter checks the printer's port as checkSerial does, then asks
// the printer its status (ESC/POS DLE EOT). A printer that does not
// answer, as many on one-way cables do, passes: its status is unknown.
func checkPrinter(ctx context.Context, d serialDevice, width config.PaperWidth, mode config.DeviceMode) checkResult {
	r := checkSerial(ctx, d, mode)
	if !r.OK || d.use == deviceNone {
		return r
	}
	st, err := printer.New(printer.Config{Port: d.port, Baud: d.baud}).Status(ctx)
	switch {
	case errors.Is(err, printer.ErrNoStatus):
		r.Detail += "; status not reported (one-way cable?)"
	case errors.Is(err, printer.ErrBadStatus):
		r.Detail += fmt.Sprintf("; status not understood, %s: is it an ESC/POS printer at %d baud?",
			strings.TrimPrefix(err.Error(), "printer "+d.port+": "), d.baud)
	case ctx.Err() != nil:
		return failed(hintWedged, "%s: no status in time", portName(d))
	case err != nil:
		return failed(hintReplug(d), "%v", err)
	case st.Err() != nil:
		reason := map[error]string{printer.ErrPaperOut: "out of paper", printer.ErrCoverOpen: "cover open",
			printer.ErrPrinterError: "the printer reports an error", printer.ErrOffline: "offline"}[st.Err()]
		return failed(hintPrinterStatus(st.Err(), width), "%s: %s (status: %s)", portName(d), reason, st)
	default:
		r.Detail += ", " + st.String()
		if st.PaperNearEnd {
			r.Detail += ": have a new roll ready"
		}
	}
	return r
}

// checkScanner checks that SANE sees the configured scanner.
func checkScanner(ctx context.Context, d scannerDevice, mode config.DeviceMode) checkResult {
	if d.use == deviceNone {
		return notUsed(mode)
	}
	cfg := d.cfg
	if dl, ok := ctx.Deadline(); ok {
		cfg.Timeout = time.Until(dl)
	}
	devs, err := scanner.New(cfg).Devices(ctx)
	if errors.Is(err, scanner.ErrNotInstalled) {
		return failed(hintScannerSoftware, "scanimage is not installed")
	}
	var ie *i18n.Error
	if err != nil {
		if errors.As(err, &ie) {
			return failed(ie.Msg, "%v", err)
		}
		return failed(hintWedged, "%v", err)
	}
	var names []string
	for _, dev := range devs {
		if dev.Name == cfg.Device {
			sim := ""
			if d.use == deviceSim {
				sim = "simulated: "
			}
			return passed("%s%s (%s %s, %s)", sim, dev.Name, dev.Vendor, dev.Model, dev.Type)
		}
		names = append(names, dev.Name)
	}
	hint := scanner.ErrNoScanner.Msg
	if len(names) == 0 {
		return failed(hint, "%s not found: SANE sees no scanner", cfg.Device)
	}
	hint.VI += "; hoặc sửa [scanner] device trong tệp cấu hình"
	hint.EN += "; or fix [scanner] device in the config file"
	return failed(hint, "%s not found; SANE sees: %s", cfg.Device, strings.Join(names, ", "))
}

// audioProbe looks for speech and a sound output.
type audioProbe struct {
	lookPath func(string) (string, error)
	// missingVoices lists the Vietnamese voices espeak-ng lacks.
	missingVoices func(ctx context.Context) ([]speech.Voice, error)
	asoundCards   string // /proc/asound/cards
	runtimeDir    string // $XDG_RUNTIME_DIR, where PulseAudio's and PipeWire's sockets are
	pulseServer   string // $PULSE_SERVER
}

func systemAudio() audioProbe {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		rt = fmt.Sprintf("/run/user/%d", os.Getuid())
	}
	missing := func(ctx context.Context) ([]speech.Voice, error) {
		e, err := espeak.New(ctx, "")
		if err != nil {
			return nil, err
		}
		return e.MissingVoices(ctx, speech.VietnameseVoices)
	}
	return audioProbe{lookPath: exec.LookPath, missingVoices: missing, asoundCards: "/proc/asound/cards", runtimeDir: rt, pulseServer: os.Getenv("PULSE_SERVER")}
}

// alsaCard is a card's line in /proc/asound/cards: " 0 [PCH ]: HDA-Intel - HDA Intel PCH".
var alsaCard = regexp.MustCompile(`^\s*(\d+)\s+\[[^\]]*\]:\s*(?:.*? - )?(.*)$`)

// check reports espeak-ng, its Vietnamese voices and the sound outputs
// found. With no sound output it passes with a warning: the kiosk carries
// on silently.
func (a audioProbe) check(ctx context.Context) checkResult {
	var outputs []string
	if f, err := os.Open(a.asoundCards); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := alsaCard.FindStringSubmatch(sc.Text()); m != nil {
				outputs = append(outputs, fmt.Sprintf("ALSA card %s (%s)", m[1], strings.TrimSpace(m[2])))
			}
		}
		f.Close()
	}
	if a.pulseServer != "" {
		outputs = append(outputs, "PulseAudio server "+a.pulseServer)
	} else if isSocket(filepath.Join(a.runtimeDir, "pulse", "native")) {
		outputs = append(outputs, "PulseAudio socket")
	}
	if isSocket(filepath.Join(a.runtimeDir, "pipewire-0")) {
		outputs = append(outputs, "PipeWire socket")
	}
	engine, err := a.lookPath("espeak-ng")
	if err != nil {
		return failed(hintSpeech, "espeak-ng is not installed")
	}
	missing, err := a.missingVoices(ctx)
	switch {
	case err != nil:
		return failed(hintSpeech, "espeak-ng at %s does not list its voices: %v", engine, err)
	case len(missing) > 0:
		names := make([]string, len(missing))
		for i, v := range missing {
			names[i] = string(v)
		}
		return failed(espeak.ErrNoVoice.Msg, "espeak-ng at %s lacks the Vietnamese voice %s", engine, strings.Join(names, ", "))
	}
	speaks := fmt.Sprintf("espeak-ng at %s with voices %s, %s, %s", engine, speech.VoiceNorth, speech.VoiceCentral, speech.VoiceSouth)
	if len(outputs) == 0 {
		r := passed("silent: no sound output (no ALSA card in %s, no PulseAudio or PipeWire socket in %s): the kiosk carries on without voice; %s",
			a.asoundCards, a.runtimeDir, speaks)
		r.Warning, r.Hint = true, &hintSpeakers
		return r
	}
	return passed("%s; output: %s", speaks, strings.Join(outputs, ", "))
}

// checkVideo reports mpv, which plays the procedures' how-to videos.
// Without it the check passes with a warning: the forms offer no video.
func checkVideo(lookPath func(string) (string, error)) checkResult {
	mpv, err := lookPath("mpv")
	if err != nil {
		r := passed("mpv is not installed: the forms offer no how-to video")
		r.Warning, r.Hint = true, &hintVideo
		return r
	}
	return passed("mpv at %s plays the how-to videos", mpv)
}

func isSocket(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeSocket != 0
}

// checkPortal checks that the portal answers its health check, and that it
// is the portal this kiosk delivered to: a portal whose instance id is not
// the one the kiosk's database remembers lost its records (or is another
// portal at the same address), and its file codes name other files.
// With ca, the portal's certificate must chain to the CAs in that file.
func checkPortal(ctx context.Context, portal string, insecure bool, ca, dbPath string) checkResult {
	if portal == "" {
		return passed("none configured: 'motcua run' starts a local reference portal on this machine and delivers to it")
	}
	base, err := portalurl.Check(portal, insecure)
	if err != nil {
		return failed(hintPortalURL, "%v", err)
	}
	health := strings.TrimSuffix(base.String(), "/") + portalapi.PathHealth
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
	if err != nil {
		return failed(hintPortalURL, "%v", err)
	}
	client, err := uplink.PinnedClient(ca)
	if err != nil {
		return failed(hintPortalURL, "%v", err)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return failed(hintNetwork, "%s does not answer: %v", portal, err)
	}
	var h portalapi.Health
	herr := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h)
	resp.Body.Close()
	latency := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return failed(hintPortalURL, "%s answered %s to %s: is it a motcua portal?", portal, resp.Status, portalapi.PathHealth)
	}
	if herr == nil && h.Instance != "" {
		if was := enrolledInstance(ctx, dbPath); was != "" && was != h.Instance {
			return failed(hintPortalChanged, "%s answers in %d ms, but the portal changed identity: it is instance %s, this kiosk delivered to %s; "+
				"its records were made anew or another portal answers there, and the files it had are no longer there under their old codes",
				portal, latency.Milliseconds(), h.Instance, was)
		}
	}
	return passed("%s answers in %d ms", portal, latency.Milliseconds())
}

// enrolledInstance returns the portal instance the kiosk's database at path
// remembers delivering to, or "" when it has none or cannot say (the
// database check reports a database that cannot be read).
func enrolledInstance(ctx context.Context, path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	st, err := store.OpenReadOnly(ctx, path, store.Options{})
	if err != nil {
		return ""
	}
	defer st.Close()
	instance, _ := uplink.EnrolledInstance(ctx, st)
	return instance
}

// doctor holds what the checks read from the system, so tests can stand
// in for it.
type doctor struct {
	statfs func(path string, st *syscall.Statfs_t) error
	audio  audioProbe
}

// minFree is the free space under which the disk check fails.
const minFree = 1 << 30

// checkDisk reports the free space where the data directory is (or will
// be).
func (d doctor) checkDisk(dir string) checkResult {
	path := dir
	for {
		if _, err := os.Stat(path); err == nil || filepath.Dir(path) == path {
			break
		}
		path = filepath.Dir(path)
	}
	var st syscall.Statfs_t
	if err := d.statfs(path, &st); err != nil {
		return failed(hintDisk, "statfs %s: %v", path, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	total := st.Blocks * uint64(st.Bsize)
	detail := fmt.Sprintf("%s free of %s in %s", bytesIEC(free), bytesIEC(total), path)
	switch {
	case free < minFree:
		return failed(hintDisk, "%s: under 1 GiB, too little to keep applications safely", detail)
	case free < 5*minFree:
		detail += " (getting low)"
	}
	return passed("%s", detail)
}

// bytesIEC formats n as MiB or GiB.
func bytesIEC(n uint64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// checkDatabase checks the database's integrity and its audit log, against
// the head anchored outside it, without changing anything: the database is
// opened read-only, so no migration, no checkpoint, and a damaged WAL stays
// as it is for technical support.
func checkDatabase(ctx context.Context, path string) checkResult {
	if r, ok := checkDatabaseWritable(path); !ok {
		return r
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Unless its anchor remembers events: then it was lost whole.
		anchor, err := audit.ReadAnchor(store.AnchorPath(path))
		if err == nil {
			err = anchor.Check(0, nil)
		}
		if err != nil {
			return failed(hintDatabase(path), "%s is missing: %v", path, err)
		}
		return passed("not created yet (%s)", path)
	}
	if err != nil {
		return failed(hintDatabase(path), "%v", err)
	}
	db, err := sql.Open("sqlite3", sqlitedb.ReadOnlyDSN(path))
	if err != nil {
		return failed(hintDatabase(path), "open %s: %v", path, err)
	}
	defer db.Close()
	if err := sqlitedb.IntegrityCheck(ctx, db); err != nil {
		return failed(hintDatabase(path), "%s: %v", path, err)
	}
	chain := "audit log not checked: a command that writes (run, submit) brings the schema up to date first"
	st, err := store.OpenReadOnly(ctx, path, store.Options{})
	switch {
	case errors.Is(err, sqlitedb.ErrSchemaTooOld):
	case err != nil:
		return failed(hintDatabase(path), "%v", err)
	default:
		defer st.Close()
		n, err := st.VerifyAudit(ctx)
		if err != nil {
			return failed(hintDatabase(path), "%s: integrity ok, but the audit log is NOT intact after %d good events: %v", path, n, err)
		}
		chain = fmt.Sprintf("audit log intact (%d events)", n)
		if kerr := st.KeysErr(); kerr != nil {
			hint := i18n.T("Không xoá gì; báo cán bộ kỹ thuật: dữ liệu cá nhân đang không mở được",
				"Delete nothing; call technical support: the personal data cannot be opened")
			var ie *i18n.Error
			if errors.As(kerr, &ie) {
				hint = ie.Msg
			}
			return failed(hint, "%s: integrity ok, %s, but its personal data cannot be opened: %v", path, chain, kerr)
		}
	}
	return passed("%s: integrity ok, %s (%s)", path, chain, bytesIEC(uint64(fi.Size())))
}
