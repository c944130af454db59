package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/motcua/motcua/internal/termtext"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
)

// defaultPortalDir is where `motcua portal` keeps its records by default.
func defaultPortalDir() string {
	return filepath.Join(filepath.Dir(defaultDataDir()), "motcua-portal")
}

// cmdPortal runs the reference portal, or lists and advances its files.
func cmdPortal(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("portal", "[--listen ADDR] | list [--json] | advance FILECODE STATE [--note TEXT]", slog.LevelInfo)
	fs.Lookup("data-dir").DefValue = defaultPortalDir()
	fs.Set("data-dir", defaultPortalDir())
	listen := fs.String("listen", "127.0.0.1:8787", "address to serve on")
	agency := fs.String("agency", portal.DefaultAgencyCode, "receiving agency code, the first part of file codes")
	asJSON := fs.Bool("json", false, "with list: print JSON")
	note := fs.String("note", "", "with advance: the officer's note to the citizen")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	cfg := portal.Config{DataDir: e.dataDir, AgencyCode: *agency, Logger: e.log}
	if len(pos) == 0 {
		return servePortal(ctx, e, cfg, *listen)
	}
	p, err := portal.Open(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer p.Close()
	switch {
	case pos[0] == "list" && len(pos) == 1:
		subs, err := p.List(ctx)
		if err != nil {
			return e.fail("%v", err)
		}
		if subs == nil {
			subs = []portal.Submission{}
		}
		if *asJSON {
			return e.printJSON(subs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE CODE\tPROCEDURE\tSTATE\tATTACHMENTS\tRECEIVED\tNOTE")
		for _, s := range subs {
			// Every field may carry what a kiosk or an officer typed.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", termtext.Escape(s.FileCode), termtext.Escape(s.ProcedureID),
				termtext.Escape(string(s.State)), len(s.Attachments), s.ReceivedAt.Local().Format("2006-01-02 15:04"),
				termtext.Escape(dash(s.Note)))
		}
		tw.Flush()
		return exitOK
	case pos[0] == "advance" && len(pos) == 3:
		if err := p.Advance(ctx, pos[1], portalapi.State(pos[2]), *note); err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "%s is now %s\n", termtext.Escape(pos[1]), termtext.Escape(pos[2]))
		return exitOK
	}
	fmt.Fprintln(e.stderr, "motcua portal: usage: motcua portal [--listen ADDR] | list [--json] | advance FILECODE STATE [--note TEXT]")
	return exitUsage
}

func servePortal(ctx context.Context, e *env, cfg portal.Config, listen string) int {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return e.fail("listen on %s: %v", listen, err)
	}
	// Upload URLs are built from each request's Host, so kiosks that reach
	// the portal through a proxy get URLs through that proxy.
	base := "http://" + ln.Addr().String()
	p, err := portal.Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return e.fail("%v", err)
	}
	defer p.Close()
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 30 * time.Second}
	fmt.Fprintf(e.stdout, "Reference portal listening on %s (records in %s)\nTrack a file at %s%sFILECODE\n",
		base, cfg.DataDir, base, portalapi.PathTrack)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return e.fail("serve: %v", err)
	}
	return exitOK
}
