// Package blob is a content-addressed blob store on disk with resumable
// uploads in the shape of the OCI distribution blob-upload protocol: start
// an upload, append chunks at the offset the store has, ask how much
// arrived after a break, and commit with the expected sha256. Handler
// serves a Store over HTTP and Uploader pushes to one. The control plane
// keeps release artifacts in a Store; an agent receives them into its own.
package blob

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Errors a Store returns, wrapped with detail; test them with errors.Is.
var (
	ErrInvalidDigest  = errors.New("invalid digest")
	ErrNotFound       = errors.New("blob not found")
	ErrUploadNotFound = errors.New("upload not found")
	ErrRangeMismatch  = errors.New("chunk does not start where the upload ends")
	ErrDigestMismatch = errors.New("digest mismatch")
)

// Store keeps blobs at dir/sha256/<hex> and uploads in progress at
// dir/uploads/<uuid>. One process owns a directory; within it, a Store is
// safe for concurrent use.
type Store struct {
	dir string

	mu    sync.Mutex
	locks map[string]*uploadLock // by upload id, while in use
}

type uploadLock struct {
	sync.Mutex
	refs int
}

// Open opens the store in dir, creating the directories it needs.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "uploads")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("opening blob store: %w", err)
		}
	}
	return &Store{dir: dir, locks: make(map[string]*uploadLock)}, nil
}

// ParseDigest returns the hex part of a digest of the form
// "sha256:<64 lowercase hex digits>", or an error wrapping
// ErrInvalidDigest.
func ParseDigest(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %q is not sha256:<64 lowercase hex digits>", ErrInvalidDigest, digest)
	}
	return h, nil
}

// Path returns where the blob with digest is or would be stored, or ""
// when digest is invalid.
func (s *Store) Path(digest string) string {
	h, err := ParseDigest(digest)
	if err != nil {
		return ""
	}
	return filepath.Join(s.dir, "sha256", h)
}

// Has reports whether the store holds the blob.
func (s *Store) Has(digest string) bool {
	p := s.Path(digest)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Open opens a stored blob for reading.
func (s *Store) Open(digest string) (*os.File, error) {
	p := s.Path(digest)
	if p == "" {
		_, err := ParseDigest(digest)
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, fmt.Errorf("opening blob: %w", err)
	}
	return f, nil
}

// Put stores what r yields and returns its digest and size. The bytes are
// hashed while they are written to a temporary file, which is then renamed
// into place, so a reader never sees a partial blob.
func (s *Store) Put(r io.Reader) (digest string, size int64, err error) {
	f, err := os.CreateTemp(s.uploadsDir(), "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("storing blob: %w", err)
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("storing blob: %w", err)
	}
	digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err := s.place(f, digest); err != nil {
		return "", 0, err
	}
	return digest, size, nil
}

// place makes the written file f the blob digest.
func (s *Store) place(f *os.File, digest string) error {
	// Synced before the rename: after a crash a blob's name must never
	// stand for bytes that did not reach the disk.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storing blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("storing blob: %w", err)
	}
	if err := os.Rename(f.Name(), s.Path(digest)); err != nil {
		return fmt.Errorf("storing blob: %w", err)
	}
	return nil
}

// Delete removes a blob; removing a missing blob is not an error.
func (s *Store) Delete(digest string) error {
	p := s.Path(digest)
	if p == "" {
		_, err := ParseDigest(digest)
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting blob: %w", err)
	}
	return nil
}

// StartUpload begins an empty upload and returns its id, a random UUID.
func (s *Store) StartUpload() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("starting upload: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	f, err := os.OpenFile(filepath.Join(s.uploadsDir(), id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("starting upload: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("starting upload: %w", err)
	}
	return id, nil
}

// validUploadID reports whether id is a lower-case UUID, the only names
// StartUpload makes, so that an id can never name another file.
func validUploadID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

func (s *Store) uploadsDir() string { return filepath.Join(s.dir, "uploads") }

func (s *Store) uploadPath(id string) (string, error) {
	if !validUploadID(id) {
		return "", fmt.Errorf("%w: %q is not an upload id", ErrUploadNotFound, id)
	}
	return filepath.Join(s.uploadsDir(), id), nil
}

// lock serializes the writers of one upload; it returns the unlock.
func (s *Store) lock(id string) func() {
	s.mu.Lock()
	l := s.locks[id]
	if l == nil {
		l = &uploadLock{}
		s.locks[id] = l
	}
	l.refs++
	s.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		s.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

// UploadSize returns how many bytes an upload holds: where the next chunk
// must start.
func (s *Store) UploadSize(id string) (int64, error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrUploadNotFound, id)
	}
	if err != nil {
		return 0, fmt.Errorf("reading upload: %w", err)
	}
	return fi.Size(), nil
}

// Append adds what r yields to an upload. offset must equal the upload's
// current size, else the error wraps ErrRangeMismatch and nothing is
// written. Bytes that arrive before r fails are kept, and newSize counts
// them, so that a client can resume after a break from what arrived.
func (s *Store) Append(id string, offset int64, r io.Reader) (newSize int64, err error) {
	p, err := s.uploadPath(id)
	if err != nil {
		return 0, err
	}
	defer s.lock(id)()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrUploadNotFound, id)
	}
	if err != nil {
		return 0, fmt.Errorf("appending to upload: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("appending to upload: %w", err)
	}
	if offset != size {
		return size, fmt.Errorf("%w: upload %s holds %d bytes, chunk starts at %d", ErrRangeMismatch, id, size, offset)
	}
	n, err := io.Copy(f, r)
	if err != nil {
		return size + n, fmt.Errorf("appending to upload: %w", err)
	}
	return size + n, nil
}

// Commit ends an upload: its bytes become the blob digest when they hash to
// it. When they do not, the upload is removed and the error wraps
// ErrDigestMismatch. Committing a digest the store already holds only
// removes the upload, so a commit retried after a lost answer succeeds.
func (s *Store) Commit(id, digest string) error {
	if _, err := ParseDigest(digest); err != nil {
		return err
	}
	p, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	defer s.lock(id)()
	if s.Has(digest) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing upload: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrUploadNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("committing upload: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("committing upload: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("%w: upload %s hashes to %s, not %s", ErrDigestMismatch, id, got, digest)
	}
	return s.place(f, digest)
}

// CancelUpload removes an upload and what it holds.
func (s *Store) CancelUpload(id string) error {
	p, err := s.uploadPath(id)
	if err != nil {
		return err
	}
	defer s.lock(id)()
	err = os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrUploadNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("cancelling upload: %w", err)
	}
	return nil
}

// PruneUploads removes uploads, and the temporary files of interrupted
// Puts, that nothing has written to for longer than age: their clients
// are gone.
func (s *Store) PruneUploads(age time.Duration) error {
	entries, err := os.ReadDir(s.uploadsDir())
	if err != nil {
		return fmt.Errorf("pruning uploads: %w", err)
	}
	cutoff := time.Now().Add(-age)
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pruning uploads: %w", err)
		}
		if fi.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(s.uploadsDir(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pruning uploads: %w", err)
		}
	}
	return nil
}
