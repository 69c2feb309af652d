package agent

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// withFiles streams the artifact tar in and returns a build context with
// extra files added at its root, listed in the context's .dockerignore
// (created or extended): the engine then leaves the generated Dockerfile
// out of what `COPY . .` copies.
//
// A non-empty dir keeps only the artifact's entries under dir, named
// relative to it. A non-zero modTime is every entry's modification time,
// to the second.
func withFiles(artifact io.Reader, dir string, files map[string]string, modTime time.Time, ignore ...string) (io.Reader, error) {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(copyWithFiles(pw, artifact, dir, files, modTime.Truncate(time.Second), ignore))
	}()
	return pr, nil
}

// contextDir cleans a build context directory relative to the artifact's
// root: "" for the root itself, an error for one outside it.
func contextDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	d := path.Clean(strings.TrimPrefix(dir, "./"))
	if d == "." {
		return "", nil
	}
	if path.IsAbs(d) || d == ".." || strings.HasPrefix(d, "../") {
		return "", fmt.Errorf("the build context %q is outside the release's files", dir)
	}
	return d, nil
}

func copyWithFiles(w io.Writer, artifact io.Reader, dir string, files map[string]string, modTime time.Time, ignore []string) error {
	tr := tar.NewReader(artifact)
	tw := tar.NewWriter(w)
	dockerignore := ""
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading artifact: %w", err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if dir != "" {
			rest, ok := strings.CutPrefix(name, dir+"/")
			if !ok || rest == "" {
				continue
			}
			name = rest
			hdr.Name = name
			if hdr.Typeflag == tar.TypeLink {
				// A hard link to a file outside dir has nothing to point at.
				target, ok := strings.CutPrefix(strings.TrimPrefix(hdr.Linkname, "./"), dir+"/")
				if !ok {
					continue
				}
				hdr.Linkname = target
			}
		}
		if _, replaced := files[name]; replaced {
			continue
		}
		if name == ".dockerignore" {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return fmt.Errorf("reading .dockerignore: %w", err)
			}
			dockerignore = string(b)
			continue
		}
		if !modTime.IsZero() {
			hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = modTime, time.Time{}, time.Time{}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing context: %w", err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("writing context: %w", err)
		}
	}
	if dockerignore != "" && !strings.HasSuffix(dockerignore, "\n") {
		dockerignore += "\n"
	}
	for _, name := range ignore {
		dockerignore += name + "\n"
	}
	add := func(name, body string) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: modTime}); err != nil {
			return err
		}
		_, err := io.WriteString(tw, body)
		return err
	}
	for name, body := range files {
		if err := add(name, body); err != nil {
			return fmt.Errorf("adding %s: %w", name, err)
		}
	}
	if err := add(".dockerignore", dockerignore); err != nil {
		return fmt.Errorf("adding .dockerignore: %w", err)
	}
	return tw.Close()
}
