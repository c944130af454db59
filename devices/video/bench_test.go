package video

import (
	"testing"
	"time"
)

// BenchmarkStopOverIPC measures how long a tap takes to clear the screen:
// from the stop request to mpv's exit, once mpv plays and listens. Each
// iteration starts the real mpv (headless) on the sample video.
func BenchmarkStopOverIPC(b *testing.B) {
	path := sample(b)
	p := New(Config{Args: headless, Timeout: time.Hour, Grace: time.Minute})
	var stopping time.Duration
	for b.Loop() {
		pb, err := p.Start(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		<-pb.ipc.bound
		start := time.Now()
		if err := pb.Stop(b.Context()); err != nil {
			b.Fatal(err)
		}
		stopping += time.Since(start)
		if end, _ := pb.Wait(); end.ExitCode != QuitExitCode {
			b.Fatalf("End = %+v, want a quit over IPC", end)
		}
	}
	b.ReportMetric(float64(stopping.Milliseconds())/float64(b.N), "ms/stop")
}
