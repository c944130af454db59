package scantest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNoTesseract is returned by OCR when the tesseract command or its data
// for the requested language is missing.
var ErrNoTesseract = errors.New("scantest: tesseract or its language data not installed: install tesseract-ocr and tesseract-ocr-vie")

// psm is tesseract's page segmentation mode: 4, a single column of text of
// variable sizes. On the degraded test page (four seeds) modes 3 and 4 both
// read 99.76-99.94% of the characters and 6 up to 0.06 points less; 4 skips
// the column detection a one-column letter does not need.
const psm = 4

// OCR runs tesseract on img with language lang (for example "vie", or
// "vie+eng") at dpi and returns the recognised text. It returns an error
// wrapping ErrNoTesseract when tesseract or the language data is missing,
// and stops tesseract when ctx is done. Tesseract runs with --psm 4 and,
// unless OMP_THREAD_LIMIT is set, a single OpenMP thread.
func OCR(ctx context.Context, img image.Image, lang string, dpi int) (string, error) {
	return ocr(ctx, img, lang, dpi, psm)
}

// ocr is OCR with the page segmentation mode as a parameter.
func ocr(ctx context.Context, img image.Image, lang string, dpi, psm int) (string, error) {
	if err := checkLangs(ctx, lang); err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "scantest-*.png")
	if err != nil {
		return "", fmt.Errorf("scantest: ocr: %w", err)
	}
	defer os.Remove(f.Name())
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return "", fmt.Errorf("scantest: ocr: write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("scantest: ocr: write %s: %w", f.Name(), err)
	}

	cmd := exec.CommandContext(ctx, "tesseract", f.Name(), "stdout",
		"-l", lang, "--dpi", strconv.Itoa(dpi), "--psm", strconv.Itoa(psm))
	// Tesseract's OpenMP threads spin while they wait and make a page
	// several times slower on a busy or small machine; one thread is faster.
	if _, ok := os.LookupEnv("OMP_THREAD_LIMIT"); !ok {
		cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("scantest: tesseract: %w", ctx.Err())
		}
		return "", fmt.Errorf("scantest: tesseract: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// checkLangs returns an error wrapping ErrNoTesseract unless tesseract is
// on the PATH and has data for every language in lang ("vie+eng").
func checkLangs(ctx context.Context, lang string) error {
	if _, err := exec.LookPath("tesseract"); err != nil {
		return fmt.Errorf("%w: %w", ErrNoTesseract, err)
	}
	out, err := exec.CommandContext(ctx, "tesseract", "--list-langs").CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("scantest: tesseract --list-langs: %w", ctx.Err())
		}
		return fmt.Errorf("%w: tesseract --list-langs: %w: %s", ErrNoTesseract, err, strings.TrimSpace(string(out)))
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n")[1:] { // the first line is a header
		have[strings.TrimSpace(line)] = true
	}
	for _, l := range strings.Split(lang, "+") {
		if !have[l] {
			return fmt.Errorf("%w: no data for language %q", ErrNoTesseract, l)
		}
	}
	return nil
}
