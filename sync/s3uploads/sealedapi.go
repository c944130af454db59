package s3uploads

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/tus/tusd/v2/pkg/s3store"

	"github.com/motcua/motcua/agent/seal"
)

// What tusd's s3store writes to the bucket goes through sealedAPI, which
// seals it, and what it reads comes back opened, so that s3store's offset
// arithmetic stays in clear bytes while the bucket holds none:
//
//   - UPLOADID.info, the upload's FileInfo, is sealed whole;
//   - each part of the multipart upload UPLOADID is one segment (a 4-byte
//     big-endian length, then the sealed bytes) bound to the upload and its
//     part number, so the finished object is the concatenated segments,
//     opened in order on GetObject;
//   - UPLOADID.part, the bytes not yet a whole part, is one segment bound
//     to the upload;
//   - the sizes ListParts and HeadObject answer are those of the clear
//     bytes.
//
// CreateMultipartUpload goes without the upload's metadata, which the
// sealed .info holds.

// segmentOverhead is what sealing adds to a segment's clear bytes.
const segmentOverhead = 4 + seal.Overhead

// Object name suffixes next to an upload's own object.
const (
	suffixInfo    = ".info"
	suffixPart    = ".part"
	suffixTouched = ".touched"
)

func infoPlace(id string) []string        { return []string{"s3 upload info", id} }
func partPlace(id string, n int) []string { return []string{"s3 upload", id, "part", strconv.Itoa(n)} }
func incompletePlace(id string) []string  { return []string{"s3 upload", id, "incomplete part"} }

// errClearWrite is returned for a write of s3store's that sealedAPI does
// not know how to seal: refused rather than stored in clear.
var errClearWrite = errors.New("s3uploads: refused to write an object it does not seal")

// sealedAPI is s3store.S3API over an S3 client, sealing and opening.
type sealedAPI struct {
	*s3.Client
	sealer Sealer
}

var _ s3store.S3API = (*sealedAPI)(nil)

// objectKind splits an object key into the upload id and the suffix.
func objectKind(key string) (id, suffix string) {
	for _, s := range []string{suffixInfo, suffixPart, suffixTouched} {
		if id, ok := strings.CutSuffix(key, s); ok {
			return id, s
		}
	}
	return key, ""
}

// appendSegment appends plain sealed at place as a segment.
func (a *sealedAPI) appendSegment(dst, plain []byte, place ...string) []byte {
	at := len(dst) + 4
	dst = a.sealer.SealAppend(append(dst, 0, 0, 0, 0), plain, place...)
	binary.BigEndian.PutUint32(dst[at-4:], uint32(len(dst)-at))
	return dst
}

// Parts larger than smallPart (those of uploads over minPartSize) are read
// and sealed in buffers kept from part to part (a sync.Pool would lose
// them to each collection), at most bigPartsAtOnce at a time, so that a
// 50 MB upload does not take 50 MB of memory twice over. Smaller parts
// (most uploads' only part) are read into buffers of their size.
const (
	smallPart      = 1 << 20
	bigPartsAtOnce = 2
)

var (
	bigParts    = make(chan struct{}, bigPartsAtOnce)
	partBuffers = make(chan *[]byte, 2*bigPartsAtOnce)
)

// getBuffer returns a kept part buffer, or a new one.
func getBuffer() *[]byte {
	select {
	case b := <-partBuffers:
		return b
	default:
		b := make([]byte, 0, partSize+segmentOverhead)
		return &b
	}
}

// putBuffer keeps b for the next part.
func putBuffer(b *[]byte) {
	select {
	case partBuffers <- b:
	default:
	}
}

// bodySize returns how many bytes are left in body, -1 if it cannot tell.
func bodySize(body io.Reader) int64 {
	sk, ok := body.(io.Seeker)
	if !ok {
		return -1
	}
	at, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return -1
	}
	if _, err := sk.Seek(at, io.SeekStart); err != nil {
		return -1
	}
	return end - at
}

// openSegment opens one segment that must be all of b.
func (a *sealedAPI) openSegment(b []byte, place ...string) ([]byte, error) {
	if len(b) < 4 || int(binary.BigEndian.Uint32(b)) != len(b)-4 {
		return nil, fmt.Errorf("%w: a segment of %d bytes is cut short", ErrSealed, len(b))
	}
	plain, err := a.sealer.Open(b[4:], place...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealed, err)
	}
	return plain, nil
}

// sealObject returns the finished object of upload id holding plain, in
// segments of at most segment clear bytes, one per part.
func (a *sealedAPI) sealObject(id string, plain []byte, segment int) []byte {
	out := make([]byte, 0, len(plain)+(len(plain)/segment+1)*segmentOverhead)
	n := 1
	for start := 0; start < len(plain) || n == 1; start += segment {
		end := min(start+segment, len(plain))
		out = a.appendSegment(out, plain[start:end], partPlace(id, n)...)
		n++
	}
	return out
}

func (a *sealedAPI) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	id, suffix := objectKind(aws.ToString(in.Key))
	var place []string
	switch suffix {
	case suffixInfo:
		place = infoPlace(id)
	case suffixPart:
		place = incompletePlace(id)
	default:
		return nil, fmt.Errorf("%w: %s", errClearWrite, aws.ToString(in.Key))
	}
	plain, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	var body []byte
	if suffix == suffixInfo {
		body = a.sealer.SealAppend(nil, plain, place...)
	} else {
		body = a.appendSegment(nil, plain, place...)
	}
	cp := *in
	cp.Body = bytes.NewReader(body)
	cp.ContentLength = aws.Int64(int64(len(body)))
	return a.Client.PutObject(ctx, &cp, opt...)
}

func (a *sealedAPI) UploadPart(ctx context.Context, in *s3.UploadPartInput, opt ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	place := partPlace(aws.ToString(in.Key), int(aws.ToInt32(in.PartNumber)))
	var body []byte
	size := bodySize(in.Body)
	switch {
	case size < 0:
		plain, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, err
		}
		body = a.appendSegment(nil, plain, place...)
	case size <= smallPart:
		plain := make([]byte, size)
		if _, err := io.ReadFull(in.Body, plain); err != nil {
			return nil, err
		}
		body = a.appendSegment(make([]byte, 0, size+segmentOverhead), plain, place...)
	default:
		select {
		case bigParts <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-bigParts }()
		plain, sealed := getBuffer(), getBuffer()
		defer putBuffer(plain)
		defer putBuffer(sealed)
		if int64(cap(*plain)) < size {
			*plain = make([]byte, 0, size)
		}
		*plain = (*plain)[:size]
		if _, err := io.ReadFull(in.Body, *plain); err != nil {
			return nil, err
		}
		*sealed = a.appendSegment((*sealed)[:0], *plain, place...)
		body = *sealed
	}
	cp := *in
	cp.Body = bytes.NewReader(body)
	cp.ContentLength = aws.Int64(int64(len(body)))
	return a.Client.UploadPart(ctx, &cp, opt...)
}

func (a *sealedAPI) UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	return nil, fmt.Errorf("%w: UploadPartCopy (concatenation is off)", errClearWrite)
}

func (a *sealedAPI) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opt ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	cp := *in
	cp.Metadata = nil // in the sealed .info
	cp.ContentType = nil
	return a.Client.CreateMultipartUpload(ctx, &cp, opt...)
}

func (a *sealedAPI) ListParts(ctx context.Context, in *s3.ListPartsInput, opt ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	out, err := a.Client.ListParts(ctx, in, opt...)
	if err != nil {
		return out, err
	}
	cp := *out
	cp.Parts = make([]types.Part, len(out.Parts))
	for i, p := range out.Parts {
		p.Size = aws.Int64(max(aws.ToInt64(p.Size)-segmentOverhead, 0))
		cp.Parts[i] = p
	}
	return &cp, nil
}

func (a *sealedAPI) HeadObject(ctx context.Context, in *s3.HeadObjectInput, opt ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	out, err := a.Client.HeadObject(ctx, in, opt...)
	if err != nil {
		return out, err
	}
	if _, suffix := objectKind(aws.ToString(in.Key)); suffix == suffixPart {
		cp := *out
		cp.ContentLength = aws.Int64(max(aws.ToInt64(out.ContentLength)-segmentOverhead, 0))
		return &cp, nil
	}
	return out, nil
}

func (a *sealedAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, opt ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := a.Client.GetObject(ctx, in, opt...)
	if err != nil {
		return out, err
	}
	key := aws.ToString(in.Key)
	id, suffix := objectKind(key)
	cp := *out
	if suffix == "" {
		cp.Body = &segmentReader{body: out.Body, api: a, id: id, next: 1}
		cp.ContentLength = nil
		return &cp, nil
	}
	raw, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var plain []byte
	switch suffix {
	case suffixInfo:
		plain, err = a.sealer.Open(raw, infoPlace(id)...)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrSealed, err)
		}
	case suffixPart:
		plain, err = a.openSegment(raw, incompletePlace(id)...)
	default:
		plain = raw
	}
	if err != nil {
		return nil, fmt.Errorf("upload %s, object %s: %w", id, key, err)
	}
	cp.Body = io.NopCloser(bytes.NewReader(plain))
	cp.ContentLength = aws.Int64(int64(len(plain)))
	return &cp, nil
}

// segmentReader opens a finished object's segments in turn, each bound to
// its part number, so a segment changed, moved or missing does not open.
type segmentReader struct {
	body  io.ReadCloser
	api   *sealedAPI
	id    string
	next  int // part number of the next segment
	at    int64
	plain []byte
	err   error
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		var hdr [4]byte
		if _, err := io.ReadFull(r.body, hdr[:]); err == io.EOF {
			r.err = io.EOF
			continue
		} else if err != nil {
			r.err = fmt.Errorf("upload %s, bytes from %d: %w: %w", r.id, r.at, ErrSealed, err)
			continue
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n < seal.Overhead || n > maxSegment {
			r.err = fmt.Errorf("upload %s, bytes from %d: %w: a segment of %d bytes", r.id, r.at, ErrSealed, n)
			continue
		}
		sealed := make([]byte, n)
		if _, err := io.ReadFull(r.body, sealed); err != nil {
			r.err = fmt.Errorf("upload %s, bytes from %d: %w: a segment is cut short", r.id, r.at, ErrSealed)
			continue
		}
		plain, err := r.api.sealer.Open(sealed, partPlace(r.id, r.next)...)
		if err != nil {
			r.err = fmt.Errorf("upload %s, bytes from %d: %w: %w", r.id, r.at, ErrSealed, err)
			continue
		}
		r.next++
		r.plain = plain
	}
	k := copy(p, r.plain)
	r.plain = r.plain[k:]
	r.at += int64(k)
	return k, nil
}

func (r *segmentReader) Close() error { return r.body.Close() }
