// Package id makes the prefixed, time-sortable identifiers every Berth
// resource carries (org_…, ws_…, prj_…).
package id

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"strings"
	"time"
)

// Prefixes of every resource kind.
const (
	Org        = "org"
	Workspace  = "ws"
	Project    = "prj"
	Sandbox    = "sbx"
	Release    = "rel"
	Deployment = "dep"
	Host       = "host"
	APIKey     = "key"
	Event      = "evt"
	Process    = "proc"
	Database   = "db"
	Bucket     = "bkt"
	Cron       = "cron"
	Domain     = "dom"
)

// alphabet is Crockford's base32 in lower case: sortable as bytes and free
// of letters that read like digits.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// New returns prefix_ followed by 26 characters: 48 bits of milliseconds
// since the epoch and 80 random bits, so ids sort by creation time.
func New(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on Linux.
	}
	return prefix + "_" + encode(b)
}

func encode(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// HasPrefix reports whether s looks like an id of the given kind.
func HasPrefix(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// Random returns n random characters of the id alphabet, for slugs and keys.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b)
}

// Alphanumeric is what issued passwords are made of: letters and digits,
// so that a secret needs no quoting in a shell, a config file or a URL,
// even where an app builds one by hand.
const Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Secret returns n characters drawn uniformly from alphabet by
// crypto/rand.
func Secret(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux.
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}
