package artifact

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// ReadFile returns the contents of the regular file at name in an artifact
// tar, reading the stream up to it. A missing file is an error wrapping
// fs.ErrNotExist; one larger than max bytes is refused unread, so that a
// caller peeking at a small file (.env.example) never holds a large one.
func ReadFile(artifact io.Reader, name string, max int64) ([]byte, error) {
	name = path.Clean(name)
	tr := tar.NewReader(artifact)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading %s from artifact: %w", name, fs.ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s from artifact: %w", name, err)
		}
		if path.Clean(strings.TrimPrefix(hdr.Name, "./")) != name || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if hdr.Size > max {
			return nil, fmt.Errorf("reading %s from artifact: %d bytes, more than the %d expected", name, hdr.Size, max)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("reading %s from artifact: %w", name, err)
		}
		return b, nil
	}
}
