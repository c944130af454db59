package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"strings"

	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/devices/printer"
	"github.com/motcua/motcua/internal/config"
	"github.com/motcua/motcua/sync/portalapi"
	"github.com/motcua/motcua/sync/uplink"
)

const receiptSynopsis = "ID [--printer PORT | --png FILE] [--portal URL] [--config FILE]"

// cmdReceipt prints an application's receipt on a printer, or saves it as
// a PNG. The printer, its paper and the portal default to the
// configuration file's.
func cmdReceipt(ctx context.Context, e *env, args []string) int {
	fs, setup := e.flags("receipt", receiptSynopsis, slog.LevelWarn)
	cfgPath := addConfigFlag(fs)
	port := fs.String("printer", "", "serial port of the ESC/POS receipt printer (default: [printer] port in the config file)")
	pngPath := fs.String("png", "", "save the receipt as this PNG instead of printing it")
	portalURL := fs.String("portal", os.Getenv("MOTCUA_PORTAL"), "the portal whose tracking page the QR code opens (default $MOTCUA_PORTAL, else [portal] url in the config file)")
	width := fs.Int("width", 0, "paper width in dots: 576 for 80 mm, 384 for 58 mm (default: [printer] paper_width_mm in the config file)")
	pos, rc := e.parse(fs, setup, args)
	if rc >= 0 {
		return rc
	}
	cfg, _, ok := e.loadConfig(*cfgPath)
	if !ok {
		return exitFail
	}
	set := setFlags(fs)
	if !set["printer"] && !set["png"] {
		*port = cfg.Printer.Port
	}
	if !set["width"] {
		*width = paperDots(cfg.Printer.PaperWidth)
	}
	if !set["portal"] && *portalURL == "" {
		*portalURL = string(cfg.Portal.URL)
	}
	if len(pos) != 1 || (*port == "") == (*pngPath == "") {
		fmt.Fprintln(e.stderr, "motcua receipt: usage: motcua receipt "+receiptSynopsis)
		if len(pos) == 1 && *port == "" && *pngPath == "" {
			fmt.Fprintln(e.stderr, "motcua receipt: no printer: pass --printer PORT or --png FILE, or set port under [printer] in the config file")
		}
		return exitUsage
	}
	id, ok := e.parseAppID("receipt", pos[0])
	if !ok {
		return exitUsage
	}
	st, cat, err := e.readWithCatalog(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	defer st.Close()
	a, err := st.Get(ctx, id)
	if err != nil {
		return e.fail("%v", err)
	}
	if *portalURL == "" {
		// A kiosk enrolled with motcua enroll: that portal's page.
		if *portalURL, err = uplink.EnrolledPortal(ctx, st); err != nil {
			return e.fail("%v", err)
		}
	}
	var device string
	if *portalURL != "" {
		if device, err = uplink.EnrolledDevice(ctx, st, *portalURL); err != nil {
			return e.fail("%v", err)
		}
	}
	svc := kiosk.New(kiosk.Config{Store: st, Catalog: cat, Now: e.now, Logger: e.log, Actor: "cli",
		TrackURL: trackURL(*portalURL, device)})
	r, err := svc.Receipt(ctx, a.ID)
	if err != nil {
		return e.fail("%v", err)
	}
	if *pngPath != "" {
		img, err := printer.Render(r, *width)
		if err != nil {
			return e.fail("%v", err)
		}
		f, err := createRegularFile(*pngPath)
		if err != nil {
			if x := explainOutput(err, *pngPath); x != err {
				return e.fail("--png %s: %v", *pngPath, x)
			}
			return e.fail("--png %s: %v", *pngPath, withoutPath(err))
		}
		err = png.Encode(f, img)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			// A receipt cut short is no receipt.
			os.Remove(*pngPath)
			return e.fail("--png %s: %v", *pngPath, explainOutput(err, *pngPath))
		}
		return exitOK
	}
	// The printer is asked its status first: out of paper, cover open or
	// offline, nothing is sent and the message says what to do. A printer
	// that stops taking data blocks the write, so a signal is not left
	// waiting for it.
	type printed struct {
		after *printer.Status
		err   error
	}
	done := make(chan printed, 1)
	go func() {
		after, err := printer.New(printer.Config{Port: *port, Baud: int(cfg.Printer.Baud), Width: *width}).PrintStatus(ctx, r)
		done <- printed{after, err}
	}()
	var res printed
	select {
	case res = <-done:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		return e.fail("receipt interrupted (%v): the receipt may be cut short; print it again", context.Cause(ctx))
	}
	after, err := res.after, res.err
	var ie *i18n.Error
	switch {
	case errors.As(err, &ie):
		fmt.Fprintf(e.stderr, "motcua receipt: %s\n  %v\n", ie.Msg.VI, err)
		return exitFail
	case err != nil:
		return e.fail("%v", err)
	case after != nil && after.PaperNearEnd:
		fmt.Fprintf(e.stderr, "motcua receipt: %s\n  printed; %s\n", printer.WarnPaperNearEnd.VI, printer.WarnPaperNearEnd.EN)
	}
	return exitOK
}

// paperDots is a paper width in printer dots at 203 dpi.
func paperDots(w config.PaperWidth) int {
	if w == 58 {
		return printer.Width58mm
	}
	return printer.Width80mm
}

// trackURL makes the receipt's QR link: the portal's tracking page by the
// kiosk's device id there and the idempotency key (a key is unique only per
// device), before and after the portal has the file. The key is the secret
// that opens the page: the portal shows nothing for a file code alone,
// which anyone could guess. A kiosk not yet enrolled (device "") knows no
// such link and prints no QR code; the file code stays printed on the
// receipt, for the kiosk's Track my file.
func trackURL(portal, device string) func(fileCode, key string) string {
	portal = strings.TrimSuffix(portal, "/")
	return func(_, key string) string {
		if portal != "" && device != "" {
			return portal + portalapi.TrackPath(device, key)
		}
		return ""
	}
}
