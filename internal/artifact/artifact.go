// Package artifact freezes files into a release artifact: a deterministic
// tar addressed by the sha256 of its bytes. The same tree always gives the
// same bytes, whatever order, timestamps or owners it arrived with, and a
// tree that could hurt whoever extracts it (paths or links that escape,
// device files, unbounded sizes) is refused with an *Error that says what
// to fix.
package artifact

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Limits bound what one artifact may hold. A zero field takes its value
// from DefaultLimits.
type Limits struct {
	MaxFileSize  int64 // bytes of one file
	MaxTotalSize int64 // bytes of all file contents together
	MaxEntries   int   // files, directories and links together
}

// DefaultLimits are the limits an artifact gets when Options leaves them
// zero.
var DefaultLimits = Limits{
	MaxFileSize:  100 << 20,
	MaxTotalSize: 1 << 30,
	MaxEntries:   50_000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultLimits.MaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits.MaxEntries
	}
	return l
}

// Options tune Normalize and FromDir. The zero value applies DefaultLimits
// and excludes nothing.
type Options struct {
	Limits

	// StripPrefix is removed from every entry name, and the entry named
	// by it is taken as the root. Docker's archive API names entries after
	// the copied directory, so a copy of /workspace needs "workspace/".
	// An entry outside the prefix is refused. FromDir ignores it.
	StripPrefix string

	// Exclude reports whether an entry is left out. It gets the cleaned
	// relative path (no trailing slash) and is asked about every ancestor
	// directory of an entry too, so excluding a directory excludes all
	// under it even when the input has no entry for the directory itself.
	Exclude func(path string, isDir bool) bool

	// TempDir is where file contents are spooled while the input is read;
	// empty means os.TempDir().
	TempDir string
}

// DefaultExclude leaves out .git and node_modules directories at any
// depth: they are rebuilt from the source, never shipped in it.
func DefaultExclude(p string, isDir bool) bool {
	if !isDir {
		return false
	}
	switch path.Base(p) {
	case ".git", "node_modules":
		return true
	}
	return false
}

// Info describes a produced artifact.
type Info struct {
	Digest string // "sha256:<hex>" of the tar bytes
	Size   int64  // bytes of the tar
	Files  []File // regular files, sorted by path
}

// File is one regular file of an artifact. A hard link in the input
// becomes a regular file with its target's contents.
type File struct {
	Path   string
	Size   int64
	Digest string // "sha256:<hex>" of the contents
}

// Lookup reports whether files, sorted by path as in Info, hold a regular
// file at p.
func Lookup(files []File, p string) bool {
	_, found := slices.BinarySearchFunc(files, p, func(f File, p string) int {
		return strings.Compare(f.Path, p)
	})
	return found
}

// Codes of the ways an input can be refused. They are stable: API
// responses carry them.
const (
	CodePathEscape     = "artifact_path_escape"
	CodeAbsolutePath   = "artifact_absolute_path"
	CodeDeviceFile     = "artifact_device_file"
	CodeLinkEscape     = "artifact_link_escape"
	CodeFileTooLarge   = "artifact_file_too_large"
	CodeTooLarge       = "artifact_too_large"
	CodeTooManyEntries = "artifact_too_many_entries"
	CodeDuplicatePath  = "artifact_duplicate_path"
	CodeInvalidTar     = "artifact_invalid_tar"
)

// Error is an input that cannot become an artifact. Message says what is
// wrong and what to do about it; Path names the offending entry when there
// is one.
type Error struct {
	Code    string
	Path    string
	Message string

	err error
}

// Error returns the message, which names the entry and the fix.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the tar decoding error behind an artifact_invalid_tar,
// if any.
func (e *Error) Unwrap() error { return e.err }

func refuse(code, p, format string, args ...any) *Error {
	return &Error{Code: code, Path: p, Message: fmt.Sprintf(format, args...)}
}
