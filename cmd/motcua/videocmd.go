package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/motcua/motcua/devices/video"
	"github.com/motcua/motcua/internal/writable"
)

const videoSynopsis = "make-sample [--out DIR] | play FILE [--timeout 10m] [--mpv-args ARGS]"

// cmdVideo makes the sample instructional video, or plays a video the way
// the kiosk does, for staff to try the video guidance.
func cmdVideo(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("video", videoSynopsis, slog.LevelWarn)
	out := fs.String("out", "", "make-sample: the folder to write "+video.SampleFile+" into (default DATADIR/videos)")
	timeout := fs.Duration("timeout", video.DefaultTimeout, "play: stop the video after this long")
	mpvArgs := fs.String("mpv-args", "", `play: more mpv options, space-separated, e.g. "--screen=1" or "--vo=null --ao=null" to play without a display`)
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	usage := func() int {
		fmt.Fprintln(e.stderr, "motcua video: usage: motcua video "+videoSynopsis)
		return exitUsage
	}
	switch {
	case len(pos) == 1 && pos[0] == "make-sample":
		dir := *out
		if dir == "" {
			dir = video.Dir(e.dataDir)
		}
		if err := writable.CheckIn(e.dataDir, dir, video.SampleFile); err != nil {
			return e.fail("%v", err)
		}
		path, err := video.MakeSample(ctx, dir, e.log)
		if err != nil {
			return e.fail("%v", err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "made %s (%d KB)\n", path, (fi.Size()+1023)/1024)
		return exitOK
	case len(pos) == 2 && pos[0] == "play":
		file := videoPath(e.dataDir, pos[1])
		p := video.New(video.Config{Args: strings.Fields(*mpvArgs), Timeout: *timeout, Logger: e.log})
		pb, err := p.Start(ctx, file)
		if err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "playing %s (tap the video, or press Esc, to stop)\n", file)
		end, err := pb.Wait()
		if err != nil {
			return e.fail("%v", err)
		}
		how := "by itself"
		switch {
		case end.Killed:
			how = "and mpv had to be killed"
		case end.ExitCode == video.QuitExitCode:
			how = "over mpv's IPC socket"
		}
		fmt.Fprintf(e.stdout, "video ended: %s after %v, %s\n", end.Reason, end.Played.Round(100*time.Millisecond), how)
		return exitOK
	}
	return usage()
}

// videoPath resolves what staff typed to `motcua video play`: a path, or
// the plain file name a procedure names, looked for in DATADIR/videos
// when there is no such file here.
func videoPath(dataDir, arg string) string {
	if _, err := os.Stat(arg); !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(arg, `/\`) {
		return arg
	}
	return filepath.Join(video.Dir(dataDir), arg)
}

// ensureSampleVideo makes the sample instructional video in DATADIR/videos
// when it is missing, so that the video guidance can be tried without
// downloads; `motcua run` calls it at start. It never fails the caller: a
// kiosk without ffmpeg or espeak-ng goes on without the sample, with a
// warning. It takes some seconds the first time, so run may call it in a
// goroutine: a video is written whole or not at all, and cancelling ctx
// stops ffmpeg and leaves nothing behind.
func ensureSampleVideo(ctx context.Context, e *env) {
	path, made, err := video.EnsureSample(ctx, e.dataDir, e.log)
	switch {
	case err != nil && ctx.Err() != nil:
		e.log.Info("sample video not made: stopping")
	case err != nil:
		e.log.Warn("sample video not made; the video guidance has nothing to play until one is installed", "err", err)
	case made:
		e.log.Info("made the sample video", "file", path)
	}
}
