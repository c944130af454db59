package speech

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// wavBytes builds a 16-bit mono PCM WAV of n samples at rate, with an
// extra LIST chunk before the data as some writers put.
func wavBytes(rate, n int, dataSize uint32) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(rate))
	le(uint32(rate * 2))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("LIST")
	le(uint32(3))
	b.WriteString("abc\x00")
	b.WriteString("data")
	le(dataSize)
	b.Write(make([]byte, 2*n))
	return b.Bytes()
}

func TestReadWAVInfo(t *testing.T) {
	for _, size := range []uint32{2 * 22050 * 3 / 2, 0xFFFFFFFF} {
		info, err := ReadWAVInfo(bytes.NewReader(wavBytes(22050, 22050*3/2, size)))
		if err != nil {
			t.Fatal(err)
		}
		if info.SampleRate != 22050 || info.Channels != 1 || info.Bits != 16 || info.Duration() != 1500*time.Millisecond {
			t.Errorf("data size %#x: %+v, %v; want 22050 Hz mono 16-bit, 1.5s", size, info, info.Duration())
		}
	}
	if _, err := ReadWAVInfo(bytes.NewReader([]byte("ID3\x04 not a wav at all"))); !errors.Is(err, ErrNotWAV) {
		t.Errorf("an MP3: %v, want ErrNotWAV", err)
	}
}
