package artifact

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FromDir freezes the directory dir into an artifact written to out, with
// the rules of Normalize; a symlink to dir itself is followed, links inside
// it are not. Excluded directories are not read at all. Sockets, devices and
// fifos are refused with artifact_device_file. The same tree gives the same
// digest as a tar of it passed to Normalize, because FromDir is exactly
// that: it streams a tar of dir into Normalize.
func FromDir(dir string, out io.Writer, opt Options) (Info, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Info{}, fmt.Errorf("reading %s: %w", dir, err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return Info{}, fmt.Errorf("reading %s: %w", dir, err)
	}
	if !st.IsDir() {
		return Info{}, fmt.Errorf("reading %s: not a directory", dir)
	}
	opt.StripPrefix = ""

	pr, pw := io.Pipe()
	walked := make(chan error, 1)
	go func() {
		err := tarDir(pw, root, opt.Exclude)
		pw.CloseWithError(err)
		walked <- err
	}()
	info, err := Normalize(pr, out, opt)
	pr.Close() // stops the walk when Normalize refused early
	// A refusal found while walking (a device file) explains the broken
	// stream Normalize saw; anything else the walk met came after
	// Normalize had stopped reading.
	var refusal *Error
	if werr := <-walked; errors.As(werr, &refusal) {
		return Info{}, refusal
	}
	if err != nil {
		return Info{}, err
	}
	return info, nil
}

func tarDir(w io.Writer, root string, exclude func(string, bool) bool) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if exclude != nil && exclude(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		mode := fi.Mode()
		switch {
		case mode.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755})
		case mode.IsRegular():
			return tarFile(tw, p, rel, fi)
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: rel, Linkname: filepath.ToSlash(target), Mode: 0o777})
		default:
			return refuse(CodeDeviceFile, rel, "%q is a device, fifo or socket; remove it: an artifact holds only files, directories and links", rel)
		}
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func tarFile(tw *tar.Writer, p, rel string, fi fs.FileInfo) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Size: fi.Size(), Mode: int64(fi.Mode().Perm())}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// A file that grows while it is read is cut at the size announced in
	// its header; one that shrinks cannot be frozen.
	if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s changed while it was read", rel)
		}
		return err
	}
	return nil
}
