package speech

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// WAVInfo describes a PCM WAV file's sound.
type WAVInfo struct {
	SampleRate int
	Channels   int
	Bits       int
	DataBytes  int64
}

// Duration is how long the sound plays.
func (w WAVInfo) Duration() time.Duration {
	perSecond := int64(w.SampleRate) * int64(w.Channels) * int64(w.Bits/8)
	if perSecond == 0 {
		return 0
	}
	return time.Duration(w.DataBytes * int64(time.Second) / perSecond)
}

// ErrNotWAV is wrapped by ReadWAVInfo's error for a file that is not a PCM
// WAV.
var ErrNotWAV = errors.New("not a PCM WAV file")

// ReadWAVInfo reads a WAV header: RIFF, WAVE, a PCM fmt chunk and the data
// chunk's size. A data size of 0 or 0xFFFFFFFF (a stream whose length was
// unknown when the header was written, as espeak-ng writes to a pipe)
// counts the bytes that follow instead.
func ReadWAVInfo(r io.Reader) (WAVInfo, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return WAVInfo{}, fmt.Errorf("%w: %v", ErrNotWAV, err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return WAVInfo{}, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var info WAVInfo
	sawFmt := false
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return WAVInfo{}, fmt.Errorf("%w: no data chunk: %v", ErrNotWAV, err)
		}
		size := int64(binary.LittleEndian.Uint32(hdr[4:8]))
		switch string(hdr[0:4]) {
		case "fmt ":
			if size < 16 {
				return WAVInfo{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			f := make([]byte, size)
			if _, err := io.ReadFull(r, f); err != nil {
				return WAVInfo{}, fmt.Errorf("%w: %v", ErrNotWAV, err)
			}
			if format := binary.LittleEndian.Uint16(f[0:2]); format != 1 {
				return WAVInfo{}, fmt.Errorf("%w: format %d, want 1 (PCM)", ErrNotWAV, format)
			}
			info.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(f[4:8]))
			info.Bits = int(binary.LittleEndian.Uint16(f[14:16]))
			sawFmt = true
		case "data":
			if !sawFmt {
				return WAVInfo{}, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			if size == 0 || size == 0xFFFFFFFF {
				n, err := io.Copy(io.Discard, r)
				if err != nil {
					return WAVInfo{}, fmt.Errorf("%w: %v", ErrNotWAV, err)
				}
				size = n
			}
			info.DataBytes = size
			return info, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return WAVInfo{}, fmt.Errorf("%w: %v", ErrNotWAV, err)
			}
		}
	}
}
