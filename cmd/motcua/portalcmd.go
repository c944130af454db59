package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"text/tabwriter"

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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.FileCode, s.ProcedureID, s.State, len(s.Attachments),
				s.ReceivedAt.Local().Format("2006-01-02 15:04"), dash(s.Note))
		}
		tw.Flush()
		return exitOK
	case pos[0] == "advance" && len(pos) == 3:
		if err := p.Advance(ctx, pos[1], portalapi.State(pos[2]), *note); err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "%s is now %s\n", pos[1], pos[2])
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
	fmt.Fprintf(e.stdout, "Reference portal listening on %s (records in %s)\nTrack a file at %s%sFILECODE\n",
		base, cfg.DataDir, base, portalapi.PathTrack)
	if err := p.Serve(ctx, ln); err != nil {
		return e.fail("%v", err)
	}
	return exitOK
}
