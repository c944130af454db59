package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
)

// cmdRun starts the agent: the store, and the uplink that delivers the
// outbox. With no portal configured it starts a local reference portal, so
// a demo needs nothing else. Until the kiosk UI lands it runs headless.
func cmdRun(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("run", "[--portal URL] [--insecure]", slog.LevelInfo)
	up := addUplinkFlags(fs, "the portal's base URL ($MOTCUA_PORTAL); empty starts a local reference portal")
	cardPort := fs.String("card-reader", "", "serial port of the ID card QR reader; empty uses a simulated one")
	localListen := fs.String("local-portal", "127.0.0.1:8787", "where the local reference portal listens when no portal is configured")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	if !up.check(e, "run") {
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
	w, err := up.worker(e, st)
	if err != nil {
		return e.fail("%v", err)
	}
	port, err := startCardReader(ctx, e, *cardPort)
	if err != nil {
		return e.fail("card reader: %v", err)
	}
	if *cardPort == "" {
		fmt.Fprintf(e.stdout, "Card reader: simulated at %s (a sample card every 20 s)\n", port)
	} else {
		fmt.Fprintf(e.stdout, "Card reader: %s\n", port)
	}
	fmt.Fprintln(e.stdout, "motcua agent running HEADLESS: the kiosk window is not built yet (see the README).")
	fmt.Fprintf(e.stdout, "Data directory: %s\nCatalog %s: %d procedures. Waiting for delivery: %d application(s). Portal: %s\n",
		e.dataDir, cat.Version, len(cat.Procedures), len(queued), *up.portal)
	fmt.Fprintln(e.stdout, "Capture applications with 'motcua submit'; press Ctrl-C to stop.")
	e.log.Info("agent started", "data_dir", e.dataDir, "catalog", cat.Version, "queued", len(queued), "portal", *up.portal)
	w.Run(ctx, 5*time.Second)
	e.log.Info("agent stopped")
	return exitOK
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
	p, err := portal.Open(ctx, portal.Config{DataDir: filepath.Join(e.dataDir, "local-portal"),
		Logger: e.log.With("component", "portal")})
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("local portal", "err", err)
		}
	}()
	stop := func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		p.Close()
	}
	return base, stop, nil
}
