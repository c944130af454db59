package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"

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
	fs, setup := e.flags("portal", "[--listen ADDR] [--public-url URL] | list [--json] | advance FILECODE STATE [--note TEXT] [--officer NAME] [--office NAME]", slog.LevelInfo)
	fs.Lookup("data-dir").DefValue = defaultPortalDir()
	fs.Set("data-dir", defaultPortalDir())
	listen := fs.String("listen", "127.0.0.1:8787", "address to serve on")
	agency := fs.String("agency", portal.DefaultAgencyCode, "receiving agency code, the first part of file codes")
	publicURL := fs.String("public-url", "", "the portal's URL as kiosks reach it, e.g. https://portal.example.vn behind a TLS proxy; upload URLs are built from it (default: from each request's Host)")
	expiry := fs.Duration("upload-expiry", portal.DefaultUploadExpiry, "remove an upload no filed application uses after this long without bytes (0: never)")
	maxConns := fs.Int("max-conns", portal.DefaultMaxConns, "connections open at once, in all")
	maxConnsPerAddr := fs.Int("max-conns-per-addr", portal.DefaultMaxConnsPerAddr, "connections open at once from one IP address (0: no cap, e.g. behind a proxy)")
	asJSON := fs.Bool("json", false, "with list: print JSON")
	note := fs.String("note", "", "with advance: the officer's note to the citizen")
	officer := fs.String("officer", "", "with advance: the officer who makes the change, shown on the tracking page (default: this system user)")
	office := fs.String("office", "", "with advance: the officer's agency or office, e.g. \"UBND xã Yên Thường\" (default: the agency code)")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	if *publicURL != "" {
		if u, err := url.Parse(*publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(e.stderr, "motcua portal: --public-url %q is not an http or https URL\n", *publicURL)
			return exitUsage
		}
	}
	if *expiry < 0 || *maxConns <= 0 || *maxConnsPerAddr < 0 {
		fmt.Fprintln(e.stderr, "motcua portal: --upload-expiry and --max-conns-per-addr cannot be negative, --max-conns must be positive")
		return exitUsage
	}
	cfg := portal.Config{DataDir: e.dataDir, AgencyCode: *agency, Logger: e.log, BaseURL: *publicURL,
		UploadExpiry: *expiry, MaxConns: *maxConns, MaxConnsPerAddr: *maxConnsPerAddr}
	if *expiry == 0 {
		cfg.UploadExpiry = -1
	}
	if *maxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = -1
	}
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
		by := portal.Handler{Officer: *officer, Agency: *office}
		if by.Officer == "" {
			by.Officer = systemUser()
		}
		if by.Agency == "" {
			by.Agency = *agency
		}
		if err := p.AdvanceBy(ctx, pos[1], portalapi.State(pos[2]), *note, by); err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "%s is now %s\n", termtext.Escape(pos[1]), termtext.Escape(pos[2]))
		return exitOK
	}
	fmt.Fprintln(e.stderr, "motcua portal: usage: motcua portal [--listen ADDR] [--public-url URL] | list [--json] | advance FILECODE STATE [--note TEXT] [--officer NAME] [--office NAME]")
	return exitUsage
}

func servePortal(ctx context.Context, e *env, cfg portal.Config, listen string) int {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return e.fail("listen on %s: %v", listen, err)
	}
	// Upload URLs are built from --public-url or else from each request's
	// Host, so kiosks that reach the portal through a proxy get URLs
	// through that proxy.
	base := "http://" + ln.Addr().String()
	public := base
	if cfg.BaseURL != "" {
		public = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	p, err := portal.Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return e.fail("%v", err)
	}
	defer p.Close()
	fmt.Fprintf(e.stdout, "Reference portal listening on %s (records in %s)\nTrack a file at %s%sFILECODE\n",
		base, cfg.DataDir, public, portalapi.PathTrack)
	if err := p.Serve(ctx, ln); err != nil {
		return e.fail("%v", err)
	}
	return exitOK
}

// systemUser is the name of the user running the command, for the record
// of who advanced a file when --officer is not given.
func systemUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
