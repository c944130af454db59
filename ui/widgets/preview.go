package widgets

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"regexp"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/ccitt"
)

// previewHeight is the height of a page's thumbnail.
const previewHeight = 180

// NewDocPreview shows every page of a scanned document side by side, each
// with its number, so the citizen can see that the scan is readable before
// keeping it. pdf is the document as the kiosk's scanner writes it (one
// grey image per page); a page that cannot be drawn shows as its number.
func NewDocPreview(pdf []byte, pages int, lang string) fyne.CanvasObject {
	imgs := PageImages(pdf)
	n := max(pages, len(imgs))
	row := container.NewHBox()
	for i := 0; i < n; i++ {
		label := widget.NewLabel(fmt.Sprintf("%s %d", tr(lang, "Trang", "Page"), i+1))
		label.Alignment = fyne.TextAlignCenter
		var thumb fyne.CanvasObject
		if i < len(imgs) && imgs[i] != nil {
			b := imgs[i].Bounds()
			img := canvas.NewImageFromImage(imgs[i])
			img.FillMode = canvas.ImageFillContain
			img.ScaleMode = canvas.ImageScaleSmooth
			w := float32(previewHeight) * float32(b.Dx()) / float32(max(b.Dy(), 1))
			img.SetMinSize(fyne.NewSize(w, previewHeight))
			thumb = img
		} else {
			r := canvas.NewRectangle(nil)
			r.StrokeWidth = 2
			r.SetMinSize(fyne.NewSize(previewHeight*0.7, previewHeight))
			thumb = r
		}
		row.Add(container.NewVBox(thumb, label))
	}
	return container.NewHScroll(row)
}

var (
	dictInt  = func(name string) *regexp.Regexp { return regexp.MustCompile(`/` + name + ` (\d+)`) }
	reWidth  = dictInt("Width")
	reHeight = dictInt("Height")
	reBPC    = dictInt("BitsPerComponent")
	reLength = dictInt("Length")
	rePred   = dictInt("Predictor")
	reFilter = regexp.MustCompile(`/Filter /(\w+)`)
)

// PageImages decodes the page images of a PDF written by the kiosk's
// scanner: one grey image XObject per page, JPEG, CCITT Group 4 or Flate.
// A page it cannot decode is nil; a PDF it cannot read gives none.
func PageImages(pdf []byte) []image.Image {
	var out []image.Image
	marker := []byte("/Subtype /Image")
	for at := 0; ; {
		i := bytes.Index(pdf[at:], marker)
		if i < 0 {
			break
		}
		i += at
		at = i + len(marker)
		// The image's dictionary runs from its "obj" to its "stream".
		from := bytes.LastIndex(pdf[:i], []byte(" obj"))
		to := bytes.Index(pdf[i:], []byte("stream"))
		if from < 0 || to < 0 {
			out = append(out, nil)
			continue
		}
		to += i
		dict := pdf[from:to]
		start := to + len("stream")
		if start < len(pdf) && pdf[start] == '\r' {
			start++
		}
		if start < len(pdf) && pdf[start] == '\n' {
			start++
		}
		num := func(re *regexp.Regexp) int {
			s := re.FindSubmatch(dict)
			if s == nil {
				return 0
			}
			n, _ := strconv.Atoi(string(s[1]))
			return n
		}
		w, h, length := num(reWidth), num(reHeight), num(reLength)
		if w <= 0 || h <= 0 || length <= 0 || start+length > len(pdf) || w*h > 64<<20 {
			out = append(out, nil)
			continue
		}
		data := pdf[start : start+length]
		filter := ""
		if f := reFilter.FindSubmatch(dict); f != nil {
			filter = string(f[1])
		}
		img, err := decodePage(filter, data, w, h, num(reBPC), num(rePred))
		if err != nil {
			img = nil
		}
		out = append(out, img)
	}
	return out
}

func decodePage(filter string, data []byte, w, h, bpc, predictor int) (image.Image, error) {
	switch filter {
	case "DCTDecode":
		return jpeg.Decode(bytes.NewReader(data))
	case "CCITTFaxDecode":
		img := image.NewGray(image.Rect(0, 0, w, h))
		err := ccitt.DecodeIntoGray(img, bytes.NewReader(data), ccitt.MSB, ccitt.Group4, nil)
		return img, err
	case "FlateDecode":
	default:
		return nil, fmt.Errorf("filter %q", filter)
	}
	if bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 {
		return nil, fmt.Errorf("%d bits per pixel", bpc)
	}
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	stride := (w*bpc + 7) / 8
	lead := 0
	if predictor >= 10 {
		lead = 1
	}
	if len(raw) != (stride+lead)*h {
		return nil, fmt.Errorf("%d bytes for %dx%d", len(raw), w, h)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	prev := make([]byte, stride)
	perByte, top := 8/bpc, (1<<bpc)-1
	for y := 0; y < h; y++ {
		row := raw[y*(stride+lead)+lead : (y+1)*(stride+lead)]
		if lead == 1 {
			switch raw[y*(stride+1)] {
			case 0:
			case 2: // Up
				for i := range row {
					row[i] += prev[i]
				}
			default:
				return nil, fmt.Errorf("row %d: PNG filter %d", y, raw[y*(stride+1)])
			}
		}
		for x := 0; x < w; x++ {
			q := int(row[x/perByte]>>(8-bpc-(x%perByte)*bpc)) & top
			img.Pix[y*img.Stride+x] = uint8(q * 255 / top)
		}
		copy(prev, row)
	}
	return img, nil
}
