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

	"github.com/motcua/motcua/internal/pgdb"
	"github.com/motcua/motcua/internal/termtext"
	"github.com/motcua/motcua/sync/portal"
	"github.com/motcua/motcua/sync/portalapi"
	"github.com/motcua/motcua/sync/s3uploads"
)

// defaultPortalDir is where `motcua portal` keeps its records by default.
func defaultPortalDir() string {
	return filepath.Join(filepath.Dir(defaultDataDir()), "motcua-portal")
}

const portalSynopsis = "[--db postgres://...] [--listen ADDR] [--uploads s3://BUCKET?endpoint=URL&region=REGION] [--metrics-listen ADDR] [--public-url URL] [--tls-cert FILE --tls-key FILE] [--open-enrollment] | list [--json] | advance FILECODE STATE [--note TEXT] [--officer NAME] [--office NAME] | enroll-code [--agency CODE] [--ttl DURATION] | devices [--json] | revoke DEVICE"

// cmdPortal runs the reference portal, or lists and advances its files.
func cmdPortal(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("portal", portalSynopsis, slog.LevelInfo)
	fs.Lookup("data-dir").DefValue = defaultPortalDir()
	fs.Set("data-dir", defaultPortalDir())
	listen := fs.String("listen", "127.0.0.1:8787", "address to serve on")
	metricsListen := fs.String("metrics-listen", "", "serve Prometheus metrics at /metrics on this address, apart from the portal (e.g. 127.0.0.1:9787); they reveal operational data, so keep it off the kiosks' network (default: not served)")
	agency := fs.String("agency", portal.DefaultAgencyCode, "receiving agency code, the first part of file codes; with enroll-code, the agency of the device that enrolls with the code")
	tlsCert := fs.String("tls-cert", "", "serve TLS with this certificate (PEM, the chain first); needs --tls-key")
	tlsKey := fs.String("tls-key", "", "the TLS certificate's private key (PEM)")
	openEnrollment := fs.Bool("open-enrollment", false, "let kiosks on this machine (loopback) enroll without a code, for tests and demos; refused unless --listen is a loopback address")
	ttl := fs.Duration("ttl", portal.DefaultEnrollCodeTTL, "with enroll-code: how long the code is valid")
	publicURL := fs.String("public-url", "", "the portal's URL as kiosks reach it, e.g. https://portal.example.vn behind a TLS proxy; upload URLs are built from it (default: from each request's Host)")
	uploads := fs.String("uploads", "", "keep the uploads in an S3-compatible bucket, sealed: s3://BUCKET?endpoint=http://HOST:8333&region=REGION (endpoint and region optional); credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the AWS configuration files, never from the URL (default: in DATADIR/uploads)")
	expiry := fs.Duration("upload-expiry", portal.DefaultUploadExpiry, "remove an upload no filed application uses after this long without bytes (0: never)")
	maxConns := fs.Int("max-conns", portal.DefaultMaxConns, "connections open at once, in all")
	maxConnsPerAddr := fs.Int("max-conns-per-addr", portal.DefaultMaxConnsPerAddr, "connections open at once from one IP address (0: no cap, e.g. behind a proxy)")
	dbURL := fs.String("db", "", "keep the records in PostgreSQL at this URL (postgres://user@host:5432/db?sslmode=verify-full), shared by several portal processes; the password is best left to PGPASSWORD or ~/.pgpass (default: DATA-DIR/portal.db, SQLite)")
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
	if *uploads != "" {
		if _, err := s3uploads.ParseURL(*uploads); err != nil {
			fmt.Fprintf(e.stderr, "motcua portal: --uploads: %v\n", err)
			return exitUsage
		}
	}
	if *expiry < 0 || *maxConns <= 0 || *maxConnsPerAddr < 0 {
		fmt.Fprintln(e.stderr, "motcua portal: --upload-expiry and --max-conns-per-addr cannot be negative, --max-conns must be positive")
		return exitUsage
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(e.stderr, "motcua portal: --tls-cert and --tls-key go together")
		return exitUsage
	}
	if *openEnrollment && !loopbackListen(*listen) {
		fmt.Fprintf(e.stderr, "motcua portal: --open-enrollment lets anyone who reaches the portal enroll a kiosk: it is for a portal on this machine only, and --listen %s is not a loopback address\n", *listen)
		return exitUsage
	}
	if *dbURL != "" && !pgdb.IsURL(*dbURL) {
		fmt.Fprintf(e.stderr, "motcua portal: --db %q is not a PostgreSQL URL: it starts with postgres:// or postgresql://\n", pgdb.Redact(*dbURL))
		return exitUsage
	}
	if *ttl <= 0 {
		fmt.Fprintln(e.stderr, "motcua portal: --ttl must be positive")
		return exitUsage
	}
	cfg := portal.Config{DataDir: e.dataDir, DatabaseURL: *dbURL, UploadsURL: *uploads, AgencyCode: *agency, Logger: e.log, BaseURL: *publicURL,
		UploadExpiry: *expiry, MaxConns: *maxConns, MaxConnsPerAddr: *maxConnsPerAddr,
		OpenEnrollment: *openEnrollment, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey}
	if *expiry == 0 {
		cfg.UploadExpiry = -1
	}
	if *maxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = -1
	}
	if len(pos) == 0 {
		return servePortal(ctx, e, cfg, *listen, *metricsListen)
	}
	// The records only: the certificate is the server's.
	cfg.TLSCertFile, cfg.TLSKeyFile = "", ""
	p, err := portal.Open(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer p.Close()
	switch {
	case pos[0] == "enroll-code" && len(pos) == 1:
		code, expires, err := p.CreateEnrollCode(ctx, *agency, *ttl)
		if err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "%s\nOne-time enrollment code for agency %s, valid until %s. On the kiosk:\n  motcua enroll --portal URL --code %s\n",
			code, *agency, expires.Local().Format("2006-01-02 15:04:05 MST"), code)
		return exitOK
	case pos[0] == "revoke" && len(pos) == 2:
		if err := p.Revoke(ctx, pos[1]); err != nil {
			return e.fail("%v", err)
		}
		fmt.Fprintf(e.stdout, "device %s is revoked: its token, key and manifests are refused\n", termtext.Escape(pos[1]))
		return exitOK
	case pos[0] == "devices" && len(pos) == 1:
		devs, err := p.Devices(ctx)
		if err != nil {
			return e.fail("%v", err)
		}
		if devs == nil {
			devs = []portal.Device{}
		}
		if *asJSON {
			return e.printJSON(devs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DEVICE\tNAME\tAGENCY\tENROLLED\tKEY\tREVOKED")
		for _, d := range devs {
			revoked := "-"
			if !d.Revoked.IsZero() {
				revoked = d.Revoked.Local().Format("2006-01-02 15:04")
			}
			// A device names itself: its name may carry anything.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", termtext.Escape(d.ID), termtext.Escape(d.Name), termtext.Escape(dash(d.Agency)),
				d.Enrolled.Local().Format("2006-01-02 15:04"), dash(d.Key), revoked)
		}
		tw.Flush()
		return exitOK
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
	fmt.Fprintln(e.stderr, "motcua portal: usage: motcua portal "+portalSynopsis)
	return exitUsage
}

func servePortal(ctx context.Context, e *env, cfg portal.Config, listen, metricsListen string) int {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return e.fail("listen on %s: %v", listen, err)
	}
	// Upload URLs are built from --public-url or else from each request's
	// Host, so kiosks that reach the portal through a proxy get URLs
	// through that proxy.
	base := "http://" + ln.Addr().String()
	if cfg.TLSCertFile != "" {
		base = "https://" + ln.Addr().String()
	}
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
	records := cfg.DataDir
	if cfg.DatabaseURL != "" {
		records = "PostgreSQL " + pgdb.Redact(cfg.DatabaseURL) + ", keys in " + cfg.DataDir
	}
	fmt.Fprintf(e.stdout, "Reference portal listening on %s (records in %s)\nTrack a file at %s%sDEVICEID/KEY (the receipt's QR code)\n",
		base, records, public, portalapi.PathTrack)
	if cfg.UploadsURL != "" {
		// The URL holds no secret: ParseURL refuses credentials in it.
		fmt.Fprintf(e.stdout, "Uploads in %s\n", cfg.UploadsURL)
	}
	if cfg.OpenEnrollment {
		fmt.Fprintln(e.stdout, "Open enrollment: kiosks on this machine enroll without a code")
	}
	if metricsListen != "" {
		mln, err := net.Listen("tcp", metricsListen)
		if err != nil {
			ln.Close()
			return e.fail("listen for metrics on %s: %v", metricsListen, err)
		}
		fmt.Fprintf(e.stdout, "Metrics at http://%s/metrics\n", mln.Addr())
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		metricsDone := make(chan error, 1)
		go func() { metricsDone <- p.ServeMetrics(ctx, mln) }()
		defer func() {
			cancel()
			if err := <-metricsDone; err != nil {
				e.log.Error("metrics", "err", err)
			}
		}()
	}
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

// loopbackListen reports whether a listen address is on loopback only.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
