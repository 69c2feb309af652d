package certs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/berth-dev/berth/internal/store"
)

// Objects is the part of the store the certificate storage needs;
// store.Store has it.
type Objects interface {
	PutCertObject(ctx context.Context, o *store.CertObject) error
	GetCertObject(ctx context.Context, key string) (*store.CertObject, error)
	DeleteCertObjects(ctx context.Context, key string) error
	ListCertKeys(ctx context.Context, prefix string) ([]string, error)
	TryLockCert(ctx context.Context, name, owner string, expires time.Time) (bool, error)
	UnlockCert(ctx context.Context, name, owner string) error
}

// Lock timing. A held lock is extended every lockRefresh; an edge that
// dies lets its locks lapse after lockTTL, and a waiter looks again every
// lockPoll.
const (
	lockTTL     = 30 * time.Second
	lockRefresh = 10 * time.Second
	lockPoll    = 250 * time.Millisecond
)

// Storage is certmagic's storage on the Berth store, so that every edge
// using one store shares certificates, ACME accounts and HTTP-01
// challenge answers, and only one of them orders a given certificate.
type Storage struct {
	objs Objects
	mu   sync.Mutex
	held map[string]heldLock // by lock name
}

type heldLock struct {
	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

// NewStorage returns a Storage on objs.
func NewStorage(objs Objects) *Storage {
	return &Storage{objs: objs, held: map[string]heldLock{}}
}

// Store puts value at key.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	return s.objs.PutCertObject(ctx, &store.CertObject{Key: key, Value: value, UpdatedAt: time.Now().UTC()})
}

// Load returns the value at key, or an error wrapping fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	o, err := s.objs.GetCertObject(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("loading %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	return o.Value, nil
}

// Delete deletes key and everything under it.
func (s *Storage) Delete(ctx context.Context, key string) error {
	return s.objs.DeleteCertObjects(ctx, key)
}

// Exists reports whether key is a value or a folder of values.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	if _, err := s.objs.GetCertObject(ctx, key); err == nil {
		return true
	}
	keys, err := s.objs.ListCertKeys(ctx, key)
	return err == nil && len(keys) > 0
}

// List returns the keys under path: every one when recursive (folders
// included), else its direct children. A path with nothing under it is
// fs.ErrNotExist, as for a missing folder.
func (s *Storage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	path = strings.TrimSuffix(path, "/")
	keys, err := s.objs.ListCertKeys(ctx, path)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("listing %s: %w", path, fs.ErrNotExist)
	}
	base := path + "/"
	if path == "" {
		base = ""
	}
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		parts := strings.Split(strings.TrimPrefix(k, base), "/")
		n := len(parts)
		if !recursive {
			n = 1
		}
		for i := 1; i <= n; i++ {
			if p := base + strings.Join(parts[:i], "/"); !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Stat describes key: a value, or a folder of values.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	o, err := s.objs.GetCertObject(ctx, key)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Modified: o.UpdatedAt, Size: int64(len(o.Value)), IsTerminal: true}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return certmagic.KeyInfo{}, err
	}
	if keys, err := s.objs.ListCertKeys(ctx, key); err == nil && len(keys) > 0 {
		return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
	}
	return certmagic.KeyInfo{}, fmt.Errorf("stat %s: %w", key, fs.ErrNotExist)
}

// Lock takes the named lock, waiting while another holder (in this
// process or on another edge) has it. The lock is kept fresh until
// Unlock; if this process dies it lapses after lockTTL.
func (s *Storage) Lock(ctx context.Context, name string) error {
	for {
		ok, err := s.TryLock(ctx, name)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lock %s: %w", name, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// TryLock takes the named lock if it is free and reports whether it did.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	s.mu.Lock()
	_, mine := s.held[name]
	s.mu.Unlock()
	if mine {
		return false, nil // held by another caller in this process
	}
	owner := newOwner()
	ok, err := s.objs.TryLockCert(ctx, name, owner, time.Now().Add(lockTTL))
	if err != nil || !ok {
		return false, err
	}
	refresh, stop := context.WithCancel(context.Background())
	h := heldLock{owner: owner, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	go func() {
		defer close(h.done)
		t := time.NewTicker(lockRefresh)
		defer t.Stop()
		for {
			select {
			case <-refresh.Done():
				return
			case <-t.C:
				s.objs.TryLockCert(refresh, name, owner, time.Now().Add(lockTTL))
			}
		}
	}()
	return true, nil
}

// Unlock releases a lock Lock or TryLock took.
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h, ok := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unlocking %s: this process does not hold it", name)
	}
	h.stop()
	<-h.done
	if err := s.objs.UnlockCert(ctx, name, h.owner); err != nil {
		return fmt.Errorf("unlocking %s: %w", name, err)
	}
	return nil
}

// newOwner names one holding of a lock, unique across edges.
func newOwner() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Interface guards.
var (
	_ certmagic.Storage   = (*Storage)(nil)
	_ certmagic.TryLocker = (*Storage)(nil)
)
