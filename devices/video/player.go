package video

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/motcua/motcua/agent/device"
)

// Errors of the player.
var (
	// ErrNoMPV is returned (wrapped) when mpv is not installed.
	ErrNoMPV = errors.New("mpv is not installed (Debian: apt-get install mpv)")
	// ErrUnplayable is returned (wrapped) when mpv cannot play the file:
	// it is not a video, or it is damaged.
	ErrUnplayable = errors.New("mpv cannot play the file")
	// ErrPlayerFailed is returned (wrapped) when mpv fails for another
	// reason, such as no display to show the video on.
	ErrPlayerFailed = errors.New("mpv failed")
	// ErrBusy is returned by Start while another video is playing.
	ErrBusy = errors.New("a video is already playing")
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one playback, so that a video never holds the
	// kiosk's screen for good.
	DefaultTimeout = 10 * time.Minute
	// DefaultGrace is how long mpv has to quit when asked over its IPC
	// socket before its process group is killed.
	DefaultGrace = 3 * time.Second
	// DefaultMessage is shown over the video for its first seconds.
	DefaultMessage = "Chạm vào màn hình để quay lại · Tap to go back"
)

// QuitExitCode is the exit status the player asks mpv to quit with over the
// IPC socket; mpv's own statuses are 0 to 4. An End whose ExitCode is this
// one was stopped over IPC.
const QuitExitCode = 42

// stopKeys are the inputs that stop a video: a tap or click anywhere, and
// the keys staff reach for. All of mpv's default bindings are off, so a
// citizen cannot seek, pause or resize by accident.
var stopKeys = []string{"MBTN_LEFT", "MBTN_RIGHT", "MBTN_LEFT_DBL", "ESC", "q", "ENTER", "SPACE", "BS"}

// tapMessage is the script message mpv sends over the IPC socket when a
// stop key is pressed.
const tapMessage = "motcua-tap"

// Config configures a Player.
type Config struct {
	// Dir is the folder the file names of the catalog's videos are in
	// (Dir(dataDir)): a relative file name given to Play, Start or
	// Available is joined to it, an absolute path is used as it is.
	Dir string
	// Command is the mpv program; "" means "mpv" on $PATH.
	Command string
	// Args are more mpv options, after the player's own: "--screen=1" to
	// pick a monitor, or "--vo=null", "--ao=null" to play without a display
	// or a sound card (tests).
	Args []string
	// Timeout ends a playback that is still going after it; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Grace is how long mpv has to quit over IPC before its process group
	// is killed; 0 means DefaultGrace.
	Grace time.Duration
	// Message is shown over the start of the video; "" means
	// DefaultMessage.
	Message string
	// Logger receives what happens; nil discards it.
	Logger *slog.Logger
}

// Player plays videos fullscreen in mpv, one at a time, as a child process
// of the kiosk. The kiosk's screen stays as it was underneath, so it is
// back on the same step when the video ends. It is the kiosk's
// device.VideoPlayer.
type Player struct {
	cfg Config
	log *slog.Logger
	// after is time.After; tests replace it to fire timeouts and grace
	// periods when they choose.
	after func(time.Duration) <-chan time.Time

	mu      sync.Mutex
	current *Playback
}

// New returns a Player for cfg, with its defaults filled in.
func New(cfg Config) *Player {
	if cfg.Command == "" {
		cfg.Command = "mpv"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Message == "" {
		cfg.Message = DefaultMessage
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Player{cfg: cfg, log: cfg.Logger, after: time.After}
}

// Reason says why a playback ended.
type Reason = device.VideoReason

// The reasons.
const (
	Finished  = device.VideoFinished  // the video played to its end
	Tapped    = device.VideoTapped    // the citizen tapped the video or pressed a stop key
	Stopped   = device.VideoStopped   // Stop was called
	TimedOut  = device.VideoTimedOut  // the playback ran past Config.Timeout
	Cancelled = device.VideoCancelled // the context given to Start was done
)

// End says how a playback ended. ExitCode is mpv's exit status:
// QuitExitCode when it quit over IPC, 0 when the video played to its end,
// -1 when it was killed.
type End = device.VideoEnd

// Playback is one video playing.
type Playback struct {
	p     *Player
	file  string
	cmd   *exec.Cmd
	dir   string // holds the IPC socket and mpv's log
	start time.Time

	stop   chan Reason   // the first stop request
	exited chan struct{} // closed when mpv has exited
	done   chan struct{} // closed when the playback is over and End is set

	ipc     *ipcClient
	waitErr error // cmd.Wait's error, set before exited is closed
	end     End
	err     error
}

var _ device.VideoPlayer = (*Player)(nil)

// path resolves a file name against Config.Dir.
func (p *Player) path(file string) string {
	if p.cfg.Dir == "" || filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(p.cfg.Dir, file)
}

// Available reports whether file is a video file that is there to play
// (mpv may still find it unplayable).
func (p *Player) Available(file string) bool {
	fi, err := os.Stat(p.path(file))
	return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
}

// Play plays file (a path, or a file name in Config.Dir) and returns when
// the video is over: played to its end, tapped, timed out, stopped or ctx
// done.
func (p *Player) Play(ctx context.Context, file string) (End, error) {
	pb, err := p.Start(ctx, file)
	if err != nil {
		return End{}, err
	}
	return pb.Wait()
}

// Start starts mpv playing file (a path, or a file name in Config.Dir)
// fullscreen and returns at once. The playback ends when the video does,
// when the citizen taps it, when it has run for Config.Timeout, when Stop
// is called or when ctx is done; Wait says which. A file that is missing
// is an error wrapping fs.ErrNotExist, and a missing mpv one wrapping
// ErrNoMPV. mpv dies with the kiosk (on Linux), so a crashed kiosk does
// not leave a video over the screen of the next one.
func (p *Player) Start(ctx context.Context, file string) (*Playback, error) {
	file = p.path(file)
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fmt.Errorf("play video: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("play video: %s is not a file", file)
	}
	mpv, err := exec.LookPath(p.cfg.Command)
	if err != nil {
		return nil, fmt.Errorf("play video: %w", ErrNoMPV)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != nil {
		return nil, fmt.Errorf("play video %s: %w (%s)", filepath.Base(file), ErrBusy, filepath.Base(p.current.file))
	}
	dir, err := os.MkdirTemp("", "motcua-mpv-")
	if err != nil {
		return nil, fmt.Errorf("play video: %w", err)
	}
	args := []string{
		// --geometry covers the screen where no window manager does
		// --fs (a bare X session).
		"--no-config", "--no-terminal", "--fs", "--ontop", "--geometry=100%x100%+0+0",
		"--input-ipc-server=" + ipcPath(dir),
		"--log-file=" + filepath.Join(dir, "mpv.log"),
		"--keep-open=no", "--idle=no", "--force-window=yes",
		"--osc=no", "--no-input-default-bindings", "--input-cursor=yes",
		"--cursor-autohide=always", "--no-resume-playback",
		"--osd-playing-msg=" + p.cfg.Message, "--osd-duration=4000",
		"--title=motcua",
	}
	args = append(args, p.cfg.Args...)
	args = append(args, "--", file)
	cmd := exec.Command(mpv, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("play video: start mpv: %w", err)
	}
	pb := &Playback{
		p: p, file: file, cmd: cmd, dir: dir, start: time.Now(),
		stop:   make(chan Reason, 1),
		exited: make(chan struct{}),
		done:   make(chan struct{}),
	}
	pb.ipc = newIPCClient(ipcPath(dir), pb.exited, p.log)
	p.current = pb
	p.log.Info("video started", "file", file, "pid", cmd.Process.Pid)
	go func() {
		pb.waitErr = cmd.Wait()
		close(pb.exited)
	}()
	go pb.supervise(ctx)
	return pb, nil
}

// Stop stops the video playing, if any, as Playback.Stop does.
func (p *Player) Stop(ctx context.Context) error {
	p.mu.Lock()
	pb := p.current
	p.mu.Unlock()
	if pb == nil {
		return nil
	}
	return pb.Stop(ctx)
}

// Playing reports whether a video is playing.
func (p *Player) Playing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current != nil
}

// Wait waits for the playback to end and says how it did. A video that
// mpv cannot play is an error wrapping ErrUnplayable; other failures of
// mpv wrap ErrPlayerFailed, with the last error mpv logged.
func (pb *Playback) Wait() (End, error) {
	<-pb.done
	return pb.end, pb.err
}

// Done is closed when the playback is over.
func (pb *Playback) Done() <-chan struct{} { return pb.done }

// Stop asks mpv to quit over its IPC socket, kills its process group if it
// has not quit after the grace period, and returns once it has exited, or
// with ctx's error when ctx is done first (mpv is still stopped).
func (pb *Playback) Stop(ctx context.Context) error {
	pb.requestStop(Stopped)
	select {
	case <-pb.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requestStop records the first reason to stop; later ones are dropped.
func (pb *Playback) requestStop(r Reason) {
	select {
	case pb.stop <- r:
	default:
	}
}

// supervise runs the playback: it connects to mpv's IPC socket, binds the
// stop keys, and asks mpv to quit when told to; then it waits for mpv to
// exit, killing its process group when it outstays the grace period.
func (pb *Playback) supervise(ctx context.Context) {
	p := pb.p
	defer pb.finish()
	ipc := pb.ipc
	defer ipc.close()
	go ipc.run(func() { pb.requestStop(Tapped) })

	timeout := p.after(p.cfg.Timeout)
	var reason Reason
	select {
	case <-pb.exited:
		return
	case <-ctx.Done():
		reason = Cancelled
	case <-timeout:
		reason = TimedOut
	case reason = <-pb.stop:
	}
	pb.end.Reason = reason
	p.log.Info("video stopping", "file", pb.file, "reason", reason)
	ipc.send([]any{"quit", QuitExitCode})
	grace := p.after(p.cfg.Grace)
	if !ipcSupported {
		grace = closedTimeChan
	}
	select {
	case <-pb.exited:
	case <-grace:
		p.log.Warn("mpv did not quit over IPC in time; killing it", "pid", pb.cmd.Process.Pid, "grace", p.cfg.Grace)
		if err := killGroup(pb.cmd); err != nil {
			p.log.Warn("kill mpv", "err", err)
		}
		pb.end.Killed = true
		<-pb.exited
	}
}

// finish records how the playback ended, cleans up and lets the player
// start another.
func (pb *Playback) finish() {
	p := pb.p
	pb.end.Played = time.Since(pb.start)
	pb.end.ExitCode = pb.cmd.ProcessState.ExitCode()
	if pb.end.Reason == "" {
		pb.end.Reason = Finished
	}
	if !pb.end.Killed {
		switch code := pb.end.ExitCode; code {
		case 0, QuitExitCode:
		case 2:
			pb.err = fmt.Errorf("play video %s: %w: %s", pb.file, ErrUnplayable, pb.lastError())
		case 3: // some playback errors, but it played
			p.log.Warn("mpv reported playback errors", "file", pb.file, "error", pb.lastError())
		default:
			pb.err = fmt.Errorf("play video %s: %w (exit status %d): %s", pb.file, ErrPlayerFailed, code, pb.lastError())
		}
	}
	os.RemoveAll(pb.dir)
	p.log.Info("video ended", "file", pb.file, "reason", pb.end.Reason, "exit", pb.end.ExitCode,
		"killed", pb.end.Killed, "played", pb.end.Played.Round(time.Millisecond), "err", pb.err)
	p.mu.Lock()
	if p.current == pb {
		p.current = nil
	}
	p.mu.Unlock()
	close(pb.done)
}

// lastError returns the last error line of mpv's log, or what Wait said.
func (pb *Playback) lastError() string {
	last := ""
	if f, err := os.Open(filepath.Join(pb.dir, "mpv.log")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// Lines look like "[   0.207][e][file] Cannot open file ...".
			line := sc.Text()
			if i := strings.Index(line, "]["); i >= 0 && (strings.HasPrefix(line[i:], "][e][") || strings.HasPrefix(line[i:], "][f][")) {
				last = line[i+5:]
				if j := strings.Index(last, "] "); j >= 0 {
					last = last[j+2:] // drop the module name
				}
				last = strings.TrimSpace(last)
			}
		}
		f.Close()
	}
	if last == "" && pb.waitErr != nil {
		return pb.waitErr.Error()
	}
	if last == "" {
		return "no error logged"
	}
	return last
}

// closedTimeChan fires at once.
var closedTimeChan = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// ipcClient talks to mpv over its JSON IPC socket: one command per line,
// replies and events one per line.
type ipcClient struct {
	path   string
	exited <-chan struct{}
	log    *slog.Logger

	// bound is closed once mpv has acknowledged the stop keys' bindings.
	bound     chan struct{}
	boundOnce sync.Once

	mu      sync.Mutex
	conn    io.ReadWriteCloser
	pending [][]any // commands to send once connected
	closed  bool
}

func newIPCClient(path string, exited <-chan struct{}, log *slog.Logger) *ipcClient {
	return &ipcClient{path: path, exited: exited, log: log, bound: make(chan struct{})}
}

// boundID is the request id of the last stop key's binding.
const boundID = 1

// run connects to the socket, which mpv creates shortly after it starts,
// binds the stop keys, sends what was queued meanwhile, and calls tap on
// each stop key pressed, until mpv exits.
func (c *ipcClient) run(tap func()) {
	if !ipcSupported {
		return
	}
	var conn io.ReadWriteCloser
	for {
		var err error
		if conn, err = dialIPC(c.path); err == nil {
			break
		}
		select {
		case <-c.exited:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		conn.Close()
		return
	}
	c.conn = conn
	for i, k := range stopKeys {
		id := 0
		if i == len(stopKeys)-1 {
			id = boundID
		}
		c.write([]any{"keybind", k, "script-message " + tapMessage}, id)
	}
	for _, cmd := range c.pending {
		c.write(cmd, 0)
	}
	c.pending = nil
	c.mu.Unlock()

	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var msg struct {
			Event     string   `json:"event"`
			Args      []string `json:"args"`
			Error     string   `json:"error"`
			RequestID int      `json:"request_id"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		switch {
		case msg.Event == "client-message" && len(msg.Args) > 0 && msg.Args[0] == tapMessage:
			tap()
		case msg.Error != "" && msg.Error != "success":
			c.log.Warn("mpv IPC command failed", "error", msg.Error, "request_id", msg.RequestID)
		}
		if msg.RequestID == boundID && msg.Event == "" {
			c.boundOnce.Do(func() { close(c.bound) })
		}
	}
}

// send sends a command now, or once connected.
func (c *ipcClient) send(cmd []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		c.pending = append(c.pending, cmd)
		return
	}
	c.write(cmd, 0)
}

// write sends one command with a request id (0: none); c.mu is held.
func (c *ipcClient) write(cmd []any, id int) {
	req := map[string]any{"command": cmd}
	if id != 0 {
		req["request_id"] = id
	}
	b, _ := json.Marshal(req)
	if _, err := c.conn.Write(append(b, '\n')); err != nil && !errors.Is(err, fs.ErrClosed) {
		c.log.Debug("mpv IPC write", "err", err)
	}
}

func (c *ipcClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		c.conn.Close()
	}
}
