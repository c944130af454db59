package main

import (
	"bytes"
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/devices/printer"
)

// TestWatchDevicesPublishesToTheHubAndKeepsTheLog: the device probes of
// motcua run publish each device's state to the hub when it changes (but
// not those that publish themselves), and still log each change.
func TestWatchDevicesPublishesToTheHubAndKeepsTheLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		hub := status.NewHub()
		var printerUp, readerUp bool
		printerProbe := deviceProbe{name: "printer", port: "/dev/ttyUSB1", publish: true, state: func() (status.Device, string) {
			mu.Lock()
			defer mu.Unlock()
			d := status.Device{Kind: status.Printer, Name: "/dev/ttyUSB1", Connected: printerUp}
			if !printerUp {
				d.Problem = printer.ProblemUnplugged
				return d, "stat /dev/ttyUSB1: no such file or directory"
			}
			return d, ""
		}}
		readerProbe := deviceProbe{name: "card reader", port: "/dev/ttyACM0", state: func() (status.Device, string) {
			mu.Lock()
			defer mu.Unlock()
			return status.Device{Kind: status.CardReader, Name: "/dev/ttyACM0", Connected: readerUp}, ""
		}}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go watchDevices(ctx, log, hub, time.Second, []deviceProbe{printerProbe, readerProbe}, nil)

		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		missing := status.Device{Kind: status.Printer, Name: "/dev/ttyUSB1", Problem: printer.ProblemUnplugged}
		if devs := hub.Snapshot().Devices; !reflect.DeepEqual(devs, []status.Device{missing}) {
			t.Fatalf("after the first interval: %+v, want the printer missing only", devs)
		}
		mu.Lock()
		printerUp, readerUp = true, true
		mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		up := status.Device{Kind: status.Printer, Name: "/dev/ttyUSB1", Connected: true}
		if devs := hub.Snapshot().Devices; !reflect.DeepEqual(devs, []status.Device{up}) {
			t.Fatalf("once plugged: %+v, want the printer connected", devs)
		}
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		for _, want := range []string{
			`msg="device not connected: waiting for it" device=printer`,
			`msg="device connected" device=printer`,
			`msg="device connected" device="card reader"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		cancel()
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
