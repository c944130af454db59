package portal

import (
	"context"
	"io"
)

// uploadBytes returns the bytes upload id holds, opened.
func (s *Server) uploadBytes(id string) ([]byte, error) {
	up, err := s.getUpload(context.Background(), id)
	if err != nil {
		return nil, err
	}
	rd, err := up.GetReader(context.Background())
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
