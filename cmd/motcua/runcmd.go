package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/uplink"
)

// cmdRun starts the agent: the store, and the uplink that delivers the
// outbox. With no portal configured it starts a local reference portal, so
// a demo needs nothing else. Until the kiosk UI lands it runs headless.
func cmdRun(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("run", "[--portal URL] [--insecure]", slog.LevelInfo)
	portalURL := fs.String("portal", os.Getenv("MOTCUA_PORTAL"), "the portal's base URL ($MOTCUA_PORTAL); empty starts a local reference portal")
	insecure := fs.Bool("insecure", false, "allow plain http to a host other than this machine")
	budget := fs.String("daily-budget", "", "cap the upload bytes per day on a metered link, e.g. 50MB")
	localListen := fs.String("local-portal", "127.0.0.1:8787", "where the local reference portal listens when no portal is configured")
	if rc := e.parseNoArgs(fs, setup, args); rc >= 0 {
		return rc
	}
	var dailyBudget int64
	if *budget != "" {
		n, err := uplink.ParseSize(*budget)
		if err != nil {
			fmt.Fprintf(e.stderr, "motcua run: --daily-budget: %v\n", err)
			return exitUsage
		}
		dailyBudget = n
	}
	if *portalURL != "" {
		if _, err := uplink.CheckPortalURL(*portalURL, *insecure); err != nil {
			fmt.Fprintf(e.stderr, "motcua run: %v\n", err)
			return exitUsage
		}
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	cat, err := e.catalog(ctx, st)
	if err != nil {
		return e.fail("procedure catalog: %v", err)
	}
	if err := st.IntegrityCheck(ctx); err != nil {
		return e.fail("database: %v", err)
	}
	if *portalURL == "" {
		u, stop, err := startLocalPortal(ctx, e, *localListen)
		if err != nil {
			return e.fail("local reference portal: %v", err)
		}
		defer stop()
		*portalURL = u
		fmt.Fprintf(e.stdout, "No portal configured: started a local reference portal at %s\n", u)
	}
	queued, err := st.List(ctx, store.ListOptions{States: []application.State{application.Queued, application.Sending}})
	if err != nil {
		return e.fail("%v", err)
	}
	host, _ := os.Hostname()
	w, err := uplink.New(uplink.Config{Portal: *portalURL, Insecure: *insecure, Store: st, Logger: e.log, DeviceName: host,
		DailyBudget: dailyBudget})
	if err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintln(e.stdout, "motcua agent running HEADLESS: the kiosk window is not built yet (see the README).")
	fmt.Fprintf(e.stdout, "Data directory: %s\nCatalog %s: %d procedures. Waiting for delivery: %d application(s). Portal: %s\n",
		e.dataDir, cat.Version, len(cat.Procedures), len(queued), *portalURL)
	fmt.Fprintln(e.stdout, "Capture applications with 'motcua submit'; press Ctrl-C to stop.")
	e.log.Info("agent started", "data_dir", e.dataDir, "catalog", cat.Version, "queued", len(queued), "portal", *portalURL)
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
