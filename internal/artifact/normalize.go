package artifact

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

const (
	// maxPathLen bounds entry names and link targets, as PATH_MAX bounds
	// them on Linux.
	maxPathLen = 4096
	// maxNameBytes bounds the names and link targets held in memory
	// together, which MaxEntries alone would let reach MaxEntries*2*4 KiB.
	maxNameBytes = 16 << 20
	// maxLinkHops is how many symlinks one lookup may follow, as on Linux.
	maxLinkHops = 40
	// linkWalkBudget bounds the bytes of paths looked up while checking
	// where symlinks lead, so that a crafted tree cannot make the check
	// itself expensive.
	linkWalkBudget = 1 << 28
)

// entry is one member of the artifact, held in memory while the input is
// read; file contents live in the spool file.
type entry struct {
	name   string // cleaned, relative, without trailing slash
	kind   byte   // tar.TypeReg, tar.TypeDir, tar.TypeSymlink or tar.TypeLink
	exec   bool
	size   int64
	offset int64 // of the contents in the spool
	digest string
	link   string // symlink target as given, or cleaned hard link target
}

// Normalize reads a tar stream and writes the canonical artifact tar to out:
//
//   - entries in byte order of their path, relative, cleaned, without "./";
//     directories end in "/", and every parent directory has an entry;
//   - modes 0755 for directories, 0644 for files (0755 when any execute
//     bit was set) and 0777 for symlinks; uid and gid 0, no user or group
//     names, mtime the Unix epoch, no access or change times;
//   - hard links become regular files holding their target's contents, so
//     that entry order never matters to an extractor;
//   - each header is USTAR when it fits and PAX otherwise (a long or
//     non-ASCII name), which is archive/tar's own order of preference;
//     input PAX records, GNU extensions and sparse maps are dropped.
//
// It refuses an input that escapes the root, holds device files, links out
// of the root, duplicate paths, or exceeds opt's limits, with an *Error and
// without writing to out. File contents are spooled to a temporary file
// while the input is read, so memory holds headers only.
func Normalize(in io.Reader, out io.Writer, opt Options) (Info, error) {
	spool, err := os.CreateTemp(opt.TempDir, "berth-artifact-*")
	if err != nil {
		return Info{}, fmt.Errorf("creating spool file: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()

	n := &normalizer{
		opt:     opt,
		limits:  opt.Limits.withDefaults(),
		prefix:  cleanPrefix(opt.StripPrefix),
		entries: make(map[string]*entry),
		spool:   &recordingWriter{w: spool},
	}
	if err := n.read(in); err != nil {
		return Info{}, err
	}
	sorted, err := n.finish()
	if err != nil {
		return Info{}, err
	}
	return write(out, spool, sorted)
}

type normalizer struct {
	opt     Options
	limits  Limits
	prefix  string
	entries map[string]*entry
	total   int64 // bytes of file contents
	names   int   // bytes of names and link targets held
	spool   *recordingWriter
	offset  int64 // end of the spool
}

func cleanPrefix(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

func (n *normalizer) read(in io.Reader) error {
	src := &recordingReader{r: in}
	tr := tar.NewReader(src)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if src.err != nil {
				return fmt.Errorf("reading archive: %w", src.err)
			}
			return &Error{Code: CodeInvalidTar, err: err,
				Message: fmt.Sprintf("the input is not a readable tar archive (%v); send an uncompressed tar stream", err)}
		}
		if err := n.add(hdr, tr, src); err != nil {
			return err
		}
	}
}

// Outcomes of cleaning a name.
const (
	nameOK = iota
	nameRoot
	nameAbsolute
	nameEscape
	nameOutside
	nameTooLong
)

func (n *normalizer) clean(raw string) (string, int) {
	if len(raw) > maxPathLen {
		return "", nameTooLong
	}
	if strings.HasPrefix(raw, "/") {
		return "", nameAbsolute
	}
	p := path.Clean(raw)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", nameEscape
	}
	if n.prefix != "" {
		if p == n.prefix {
			return "", nameRoot
		}
		rest, ok := strings.CutPrefix(p, n.prefix+"/")
		if !ok {
			return "", nameOutside
		}
		p = rest
	}
	if p == "." {
		return "", nameRoot
	}
	return p, nameOK
}

func (n *normalizer) excluded(name string, isDir bool) bool {
	if n.opt.Exclude == nil {
		return false
	}
	for i := range len(name) {
		if name[i] == '/' && n.opt.Exclude(name[:i], true) {
			return true
		}
	}
	return n.opt.Exclude(name, isDir)
}

func (n *normalizer) add(hdr *tar.Header, body io.Reader, src *recordingReader) error {
	name, outcome := n.clean(hdr.Name)
	switch outcome {
	case nameTooLong:
		return refuse(CodeInvalidTar, hdr.Name[:64]+"…", "an entry name is longer than %d bytes; shorten it", maxPathLen)
	case nameAbsolute:
		return refuse(CodeAbsolutePath, hdr.Name, "%q is an absolute path; archive entries must be relative to the project root", hdr.Name)
	case nameEscape:
		return refuse(CodePathEscape, hdr.Name, "%q climbs out of the archive root with \"..\"; keep every file inside the project directory", hdr.Name)
	case nameOutside:
		return refuse(CodeInvalidTar, hdr.Name, "%q is outside %q, the directory the archive was expected to hold", hdr.Name, n.prefix+"/")
	case nameRoot:
		if hdr.Typeflag != tar.TypeDir {
			return refuse(CodeInvalidTar, hdr.Name, "the archive root %q is not a directory; archive a directory", hdr.Name)
		}
		return nil
	}
	if n.excluded(name, hdr.Typeflag == tar.TypeDir) {
		return nil
	}

	e := &entry{name: name}
	switch hdr.Typeflag {
	case tar.TypeDir:
		e.kind = tar.TypeDir
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		e.kind = tar.TypeReg
		e.exec = hdr.Mode&0o111 != 0
	case tar.TypeSymlink:
		e.kind = tar.TypeSymlink
		switch {
		case hdr.Linkname == "":
			return refuse(CodeInvalidTar, name, "symlink %q has no target; remove it", name)
		case len(hdr.Linkname) > maxPathLen:
			return refuse(CodeInvalidTar, name, "symlink %q has a target longer than %d bytes; remove it", name, maxPathLen)
		case strings.HasPrefix(hdr.Linkname, "/"):
			return refuse(CodeLinkEscape, name, "symlink %q points to the absolute path %q; make it a relative link to a file inside the project, or remove it", name, hdr.Linkname)
		}
		e.link = hdr.Linkname
	case tar.TypeLink:
		e.kind = tar.TypeLink
		target, outcome := n.clean(hdr.Linkname)
		switch outcome {
		case nameOK:
		case nameTooLong:
			return refuse(CodeInvalidTar, name, "hard link %q has a target longer than %d bytes; remove it", name, maxPathLen)
		case nameRoot:
			return refuse(CodeInvalidTar, name, "hard link %q points to the archive root, which is not a regular file; remove the link", name)
		default:
			return refuse(CodeLinkEscape, name, "hard link %q points to %q, outside the archive root; replace it with a copy of a file inside the project, or remove it", name, hdr.Linkname)
		}
		e.link = target
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return refuse(CodeDeviceFile, name, "%q is a device or fifo; remove it: an artifact holds only files, directories and links", name)
	default:
		return refuse(CodeInvalidTar, name, "%q has unsupported tar entry type %q; archive only files, directories and links", name, hdr.Typeflag)
	}

	if old, ok := n.entries[name]; ok {
		if old.kind == tar.TypeDir && e.kind == tar.TypeDir {
			return nil // the same directory twice says nothing new
		}
		return refuse(CodeDuplicatePath, name, "%q appears twice in the archive; keep one", name)
	}
	if len(n.entries) >= n.limits.MaxEntries {
		return n.tooMany()
	}
	if n.names += len(name) + len(e.link); n.names > maxNameBytes {
		return refuse(CodeTooManyEntries, name, "the archive's paths add up to more than %s; exclude generated directories or shorten deep paths", bytesize(maxNameBytes))
	}
	if e.kind == tar.TypeReg {
		if err := n.spoolFile(e, hdr.Size, body, src); err != nil {
			return err
		}
	}
	n.entries[name] = e
	return nil
}

func (n *normalizer) tooMany() error {
	return refuse(CodeTooManyEntries, "", "the archive has more than %d entries; exclude generated directories such as node_modules, .git or build output", n.limits.MaxEntries)
}

func (n *normalizer) spoolFile(e *entry, size int64, body io.Reader, src *recordingReader) error {
	if size > n.limits.MaxFileSize {
		return refuse(CodeFileTooLarge, e.name, "%q is %s, over the %s limit for one file; remove it or keep large data in a bucket", e.name, bytesize(size), bytesize(n.limits.MaxFileSize))
	}
	if err := n.addTotal(e.name, size); err != nil {
		return err
	}
	h := sha256.New()
	written, err := io.Copy(io.MultiWriter(n.spool, h), body)
	switch {
	case src.err != nil:
		return fmt.Errorf("reading archive: %w", src.err)
	case n.spool.err != nil:
		return fmt.Errorf("spooling %s: %w", e.name, n.spool.err)
	case err != nil:
		return &Error{Code: CodeInvalidTar, Path: e.name, err: err,
			Message: fmt.Sprintf("the archive ends inside %q (%v); send the whole archive", e.name, err)}
	}
	e.size, e.offset, e.digest = written, n.offset, digest(h)
	n.offset += written
	return nil
}

func (n *normalizer) addTotal(name string, size int64) error {
	n.total += size
	if n.total > n.limits.MaxTotalSize {
		return refuse(CodeTooLarge, name, "the files add up to more than %s (reached at %q); remove large files or produce them during the image build", bytesize(n.limits.MaxTotalSize), name)
	}
	return nil
}

// finish checks what needs the whole tree (links, parents) and returns the
// entries in output order.
func (n *normalizer) finish() ([]*entry, error) {
	sorted := n.sorted()

	// Hard links take their final target's contents.
	for _, e := range sorted {
		if e.kind != tar.TypeLink {
			continue
		}
		t := n.entries[e.link]
		for hops := 0; t != nil && t.kind == tar.TypeLink && hops < len(n.entries); hops++ {
			t = n.entries[t.link]
		}
		if t == nil || t.kind == tar.TypeLink {
			return nil, refuse(CodeInvalidTar, e.name, "hard link %q points to %q, which is not in the archive (missing or excluded); replace the link with a copy of the file", e.name, e.link)
		}
		if t.kind != tar.TypeReg {
			return nil, refuse(CodeInvalidTar, e.name, "hard link %q points to %q, which is not a regular file; remove the link", e.name, e.link)
		}
		if err := n.addTotal(e.name, t.size); err != nil {
			return nil, err
		}
		e.kind, e.exec, e.size, e.offset, e.digest, e.link = tar.TypeReg, t.exec, t.size, t.offset, t.digest, ""
	}

	// Every parent is a directory, given an entry when the input had none;
	// nothing lives under a symlink, where an extractor would write
	// through the link.
	for _, e := range sorted {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			p, ok := n.entries[dir]
			switch {
			case !ok:
				if len(n.entries) >= n.limits.MaxEntries {
					return nil, n.tooMany()
				}
				n.entries[dir] = &entry{name: dir, kind: tar.TypeDir}
				continue
			case p.kind == tar.TypeSymlink:
				return nil, refuse(CodeLinkEscape, e.name, "%q lies under the symlink %q, which an extractor would follow; make %q a directory or drop the entries under it", e.name, dir, dir)
			case p.kind != tar.TypeDir:
				return nil, refuse(CodeDuplicatePath, e.name, "%q is a file and also the directory of %q; keep one", dir, e.name)
			}
			break
		}
	}
	if len(n.entries) != len(sorted) {
		sorted = n.sorted()
	}

	budget := linkWalkBudget
	for _, e := range sorted {
		if e.kind != tar.TypeSymlink {
			continue
		}
		if msg := n.linkEscapes(e, &budget); msg != "" {
			return nil, refuse(CodeLinkEscape, e.name, "symlink %q points to %q, %s; make it a relative link to a file inside the project, or remove it", e.name, e.link, msg)
		}
	}
	return sorted, nil
}

func (n *normalizer) sorted() []*entry {
	s := make([]*entry, 0, len(n.entries))
	for _, e := range n.entries {
		s = append(s, e)
	}
	slices.SortFunc(s, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	return s
}

// linkEscapes follows the symlink as the kernel would after extraction,
// through every other symlink of the tree, and says how it leaves the root,
// or returns "". A purely lexical check would miss a link through another
// link that points upwards ("up -> ." then "x -> up/../..").
func (n *normalizer) linkEscapes(e *entry, budget *int) string {
	cur := path.Dir(e.name)
	if cur == "." {
		cur = ""
	}
	pending := strings.Split(e.link, "/")
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if cur == "" {
				return "outside the archive root"
			}
			cur = cur[:max(strings.LastIndexByte(cur, '/'), 0)]
			continue
		}
		if cur == "" {
			cur = c
		} else {
			cur += "/" + c
		}
		if *budget -= len(cur); *budget < 0 {
			return "through more symlinks than can be checked"
		}
		l, ok := n.entries[cur]
		if !ok || l.kind != tar.TypeSymlink {
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Sprintf("through more than %d symlinks (a loop?)", maxLinkHops)
		}
		cur = cur[:max(strings.LastIndexByte(cur, '/'), 0)]
		pending = append(strings.Split(l.link, "/"), pending...)
	}
	return ""
}

func write(out io.Writer, spool *os.File, sorted []*entry) (Info, error) {
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(out, h)}
	tw := tar.NewWriter(cw)
	var files []File
	for _, e := range sorted {
		hdr := &tar.Header{Typeflag: e.kind, Name: e.name, ModTime: time.Unix(0, 0)}
		switch e.kind {
		case tar.TypeDir:
			hdr.Name += "/"
			hdr.Mode = 0o755
		case tar.TypeReg:
			hdr.Mode = 0o644
			if e.exec {
				hdr.Mode = 0o755
			}
			hdr.Size = e.size
			files = append(files, File{Path: e.name, Size: e.size, Digest: e.digest})
		case tar.TypeSymlink:
			hdr.Mode = 0o777
			hdr.Linkname = e.link
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return Info{}, fmt.Errorf("writing artifact: %w", err)
		}
		if e.kind == tar.TypeReg {
			if _, err := io.Copy(tw, io.NewSectionReader(spool, e.offset, e.size)); err != nil {
				return Info{}, fmt.Errorf("writing artifact: %w", err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return Info{}, fmt.Errorf("writing artifact: %w", err)
	}
	return Info{Digest: digest(h), Size: cw.n, Files: files}, nil
}

func digest(h hash.Hash) string {
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// bytesize says n in the largest binary unit that divides it.
func bytesize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// recordingReader remembers its reader's first error other than io.EOF, so
// that a broken input stream is told apart from a malformed archive.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

// recordingWriter remembers its writer's first error.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}
