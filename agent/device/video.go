package device

import (
	"context"
	"time"
)

// VideoPlayer shows a procedure's short instructional video (the file a
// procedure.Video names) fullscreen over the kiosk's screen, which stays as
// it was underneath: when the video is over the citizen is back on the same
// step. devices/video implements it with mpv.
type VideoPlayer interface {
	// Available reports whether the video named file is installed, so a
	// screen offers only the videos that can play.
	Available(file string) bool
	// Play plays the video named file and returns when it is over: played
	// to its end, tapped by the citizen, timed out, stopped by Stop, or ctx
	// done. One video plays at a time.
	Play(ctx context.Context, file string) (VideoEnd, error)
	// Stop stops the video playing, if any, and returns once it has.
	Stop(ctx context.Context) error
}

// VideoReason says why a video stopped playing.
type VideoReason string

// The reasons a video stops.
const (
	VideoFinished  VideoReason = "finished"  // it played to its end
	VideoTapped    VideoReason = "tapped"    // the citizen tapped it or pressed a stop key
	VideoStopped   VideoReason = "stopped"   // Stop was called
	VideoTimedOut  VideoReason = "timed_out" // it ran past the player's timeout
	VideoCancelled VideoReason = "cancelled" // the context given to Play was done
)

// VideoEnd says how a video stopped playing.
type VideoEnd struct {
	Reason VideoReason
	// ExitCode is the player program's exit status, for the log.
	ExitCode int
	// Killed is true when the player did not quit when asked and had to be
	// killed.
	Killed bool
	// Played is how long the video showed.
	Played time.Duration
}
