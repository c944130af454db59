// Command shots shows the citizen kiosk window with simulated devices and
// walks it through the screens packaging/screenshots-access.sh
// photographs: at each, it prints "shot NAME" and waits for a line on
// stdin (the photograph taken) before it goes on. It is a tool for
// screenshots, not part of the agent.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/identity"
	"github.com/motcua/motcua/agent/kiosk"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/status"
	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/devices/scanner"
	"github.com/motcua/motcua/ui"
	"github.com/motcua/motcua/ui/widgets"
)

// later moves the screens' clock on, to show the idle question.
var later atomic.Int64

// card is devices/sim's synthetic card of a mother registering a birth.
const card = "092190005678||Phạm Thị Dung|09071990|Nữ|Ấp Thới Bình, Xã Thới An, Quận Ô Môn, Cần Thơ|12082021"

// pages is a scanner that gives two grey pages.
type pages struct{}

func (pages) ScanDocument(ctx context.Context) (device.Document, error) {
	var enc []scanner.Encoded
	for i := range 2 {
		img := image.NewGray(image.Rect(0, 0, 120, 170))
		for y := range 170 {
			for x := range 120 {
				img.SetGray(x, y, color.Gray{Y: uint8(255 - (x+y+40*i)%90)})
			}
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
			return device.Document{}, err
		}
		enc = append(enc, scanner.Encoded{Width: 120, Height: 170, DPI: 20, Filter: "DCTDecode", BitsPerComponent: 8, Data: b.Bytes()})
	}
	var pdf bytes.Buffer
	if err := scanner.WritePDF(&pdf, enc); err != nil {
		return device.Document{}, err
	}
	return device.Document{PDF: pdf.Bytes(), Pages: 2}, nil
}

type paper struct{}

func (paper) Print(context.Context, device.Receipt) error { return nil }

func main() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "motcua-shots")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// The screens' clock: 30 November 2026, 09:00 in Vietnam, for the
	// dates picked.
	now := func() time.Time {
		return time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC).Add(time.Duration(later.Load()))
	}
	st, err := store.Open(ctx, filepath.Join(dir, store.FileName), store.Options{Now: now})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	cat, err := procedure.Embedded()
	if err != nil {
		log.Fatal(err)
	}
	hub := status.NewHub()
	svc := kiosk.New(kiosk.Config{Store: st, Catalog: cat, Scanner: pages{}, Printer: paper{}, Status: hub, Actor: "kiosk", Now: now,
		TrackURL: func(fileCode, key string) string { return "https://portal.example.vn/track/dev-1/" + key }})
	a := app.NewWithID("vn.motcua.shots")
	u := ui.New(a, svc, hub, ui.Options{Now: now})
	defer u.Close()
	w := u.Window()
	// Full screen, as a kiosk runs: a window that is not grows to what
	// its content asks for, and a wrapped label asks for its whole line
	// before it has its width.
	w.SetFullScreen(true)
	u.ShowCitizen()
	go drive(u)
	w.ShowAndRun()
}

// drive walks the screens at the smallest and the largest text size, in
// each theme.
func drive(u *ui.UI) {
	in := bufio.NewScanner(os.Stdin)
	shot := func(name string) {
		time.Sleep(700 * time.Millisecond)
		fyne.DoAndWait(func() {
			log.Printf("%s: window %v, content needs %v", name, u.Window().Canvas().Size(), u.Window().Content().MinSize())
		})
		fmt.Println("shot " + name)
		if !in.Scan() {
			os.Exit(0)
		}
	}
	do := func(f func()) { fyne.DoAndWait(f); time.Sleep(150 * time.Millisecond) }
	// fail photographs the screen that went wrong, then stops.
	fail := func(format string, args ...any) {
		log.Printf(format, args...)
		shot("failed")
		os.Exit(1)
	}
	tap := func(id string) {
		var o fyne.Tappable
		var screen string
		do(func() { o, _ = u.Object(id).(fyne.Tappable); screen = u.Screen() })
		if o == nil {
			fail("screen %s has no %s", screen, id)
		}
		do(func() { o.Tapped(&fyne.PointEvent{}) })
	}
	field := func(key string) (f *widgets.Field) {
		do(func() { f, _ = u.Object("field:" + key).(*widgets.Field) })
		if f == nil {
			fail("no field %s", key)
		}
		return f
	}
	tapObj := func(o fyne.Tappable) { do(func() { o.Tapped(&fyne.PointEvent{}) }) }
	keys := func(s string) {
		for _, r := range s {
			id := string(r)
			if r == ' ' {
				id = "space"
			}
			do(func() { u.Keyboard().Key(id).Tapped(&fyne.PointEvent{}) })
		}
	}
	c, err := identity.ParseCard([]byte(card))
	if err != nil {
		log.Fatal(err)
	}
	for _, size := range []int{0, len(ui.TextSizes) - 1} {
		for _, contrast := range []bool{false, true} {
			name := fmt.Sprintf("size%d", size)
			if contrast {
				name += "-contrast"
			}
			do(u.ShowCitizen)
			if size > 0 {
				tap(fmt.Sprintf("size:%d", size))
			}
			if contrast {
				tap("contrast")
			}
			shot("attract-" + name)
			do(func() { u.Frame(device.CardEvent{Card: c, Raw: []byte(card), At: time.Now()}) })
			tap("lang:vi")
			tap("card:confirm")
			tap("proc:birth-registration")
			tapObj(field("requester_relationship").ChoicesOf().Tile("mother"))
			keys("0912345678")
			tap("next")
			tapObj(field("child_full_name").Suggestion("Họ Phạm …"))
			keys("minh an")
			shot("form-" + name)
			tapObj(field("child_date_of_birth").DateOf().Day(20))
			tapObj(field("child_sex").ChoicesOf().Tile("female"))
			tapObj(field("child_place_of_birth").Suggestion("Giống: Nơi cư trú của người yêu cầu"))
			tapObj(field("child_hometown").Suggestion("Cần Thơ"))
			tap("next")
			tap("same:mother")
			tap("next")
			tap("next")
			tap("scan:birth_certificate")
			time.Sleep(time.Second)
			tap("next")
			shot("review-" + name)
		}
	}
	// Left alone for 2 minutes, at the largest size in high contrast.
	later.Add(int64(ui.DefaultIdleTimeout + 5*time.Second))
	time.Sleep(2500 * time.Millisecond) // the idle check runs every second
	shot("idle-size3-contrast")
	fmt.Println("done")
	fyne.Do(func() { fyne.CurrentApp().Quit() })
}
