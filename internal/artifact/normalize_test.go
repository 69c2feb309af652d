package artifact

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// member is one entry of a tar built by a test.
type member struct {
	name   string
	typ    byte // tar.TypeReg when zero
	body   string
	link   string
	mode   int64
	mtime  time.Time
	uid    int
	uname  string
	format tar.Format
	pax    map[string]string
}

func buildTar(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		hdr := &tar.Header{
			Name: m.name, Typeflag: m.typ, Linkname: m.link, Mode: m.mode,
			ModTime: m.mtime, Uid: m.uid, Gid: m.uid, Uname: m.uname, Gname: m.uname,
			Format: m.format, PAXRecords: m.pax,
		}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing header %q: %v", m.name, err)
		}
		if _, err := io.WriteString(tw, m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func normalize(t testing.TB, in []byte, opt Options) ([]byte, Info) {
	t.Helper()
	var out bytes.Buffer
	info, err := Normalize(bytes.NewReader(in), &out, opt)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	sum := sha256.Sum256(out.Bytes())
	if want := "sha256:" + hex.EncodeToString(sum[:]); info.Digest != want {
		t.Fatalf("Info.Digest = %s, digest of the output is %s", info.Digest, want)
	}
	if info.Size != int64(out.Len()) {
		t.Fatalf("Info.Size = %d, output has %d bytes", info.Size, out.Len())
	}
	return out.Bytes(), info
}

// listing renders a tar one line per entry, as the golden file holds it.
func listing(t testing.TB, b []byte) string {
	t.Helper()
	var s strings.Builder
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return s.String()
		}
		if err != nil {
			t.Fatalf("reading output: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(&s, "%c %04o %d/%d %q/%q %d %s %q", hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid,
			hdr.Uname, hdr.Gname, hdr.ModTime.Unix(), hdr.Format, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			fmt.Fprintf(&s, " size=%d sha256=%x", hdr.Size, sum[:6])
		case tar.TypeSymlink, tar.TypeLink:
			fmt.Fprintf(&s, " -> %q", hdr.Linkname)
		}
		s.WriteString("\n")
	}
}

func TestNormalizeIsDeterministic(t *testing.T) {
	t1 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	t2 := time.Date(2025, 7, 9, 8, 30, 15, 0, time.FixedZone("X", 3600))
	a := buildTar(t,
		member{name: "./", typ: tar.TypeDir, mode: 0o700, mtime: t1},
		member{name: "./index.html", body: "<h1>hi</h1>", mtime: t1, uid: 1000, uname: "alice"},
		member{name: "./src/", typ: tar.TypeDir, mode: 0o750, mtime: t1},
		member{name: "./src/app.js", body: "console.log(1)", mode: 0o600, mtime: t1},
		member{name: "./bin/run", body: "#!/bin/sh\n", mode: 0o744, mtime: t1},
		member{name: "./latest", typ: tar.TypeSymlink, link: "src/app.js", mtime: t1},
		member{name: "./empty/", typ: tar.TypeDir, mtime: t1},
	)
	// The same tree: other order, no "./", parents left implicit, other
	// times, owners and modes, PAX and GNU headers with extra records.
	b := buildTar(t,
		member{name: "src/app.js", body: "console.log(1)", mode: 0o664, mtime: t2, uid: 501, uname: "bob", format: tar.FormatGNU},
		member{name: "latest", typ: tar.TypeSymlink, link: "src/app.js", mtime: t2, format: tar.FormatPAX,
			pax: map[string]string{"SCHILY.xattr.user.x": "1"}},
		member{name: "empty", typ: tar.TypeDir, mode: 0o777, mtime: t2},
		member{name: "bin//run", body: "#!/bin/sh\n", mode: 0o100, mtime: t2},
		member{name: "index.html", body: "<h1>hi</h1>", mtime: t2, format: tar.FormatPAX,
			pax: map[string]string{"comment": "made elsewhere"}},
	)
	outA, infoA := normalize(t, a, Options{})
	outB, infoB := normalize(t, b, Options{})
	if infoA.Digest != infoB.Digest || !bytes.Equal(outA, outB) {
		t.Fatalf("same tree, different artifacts:\n%s\nvs\n%s", listing(t, outA), listing(t, outB))
	}
	// Normalizing an artifact again changes nothing.
	outC, _ := normalize(t, outA, Options{})
	if !bytes.Equal(outA, outC) {
		t.Fatalf("normalizing an artifact changed it:\n%s\nvs\n%s", listing(t, outA), listing(t, outC))
	}

	want := []File{
		{Path: "bin/run", Size: 10},
		{Path: "index.html", Size: 11},
		{Path: "src/app.js", Size: 14},
	}
	if len(infoA.Files) != len(want) {
		t.Fatalf("Files = %+v, want %+v", infoA.Files, want)
	}
	for i, f := range infoA.Files {
		if f.Path != want[i].Path || f.Size != want[i].Size || !strings.HasPrefix(f.Digest, "sha256:") || len(f.Digest) != 71 {
			t.Errorf("Files[%d] = %+v, want path %q size %d", i, f, want[i].Path, want[i].Size)
		}
	}
	if sum := sha256.Sum256([]byte("<h1>hi</h1>")); infoA.Files[1].Digest != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("index.html digest = %s", infoA.Files[1].Digest)
	}
}

func TestNormalizeGolden(t *testing.T) {
	split := strings.Repeat("a-fairly-long-directory/", 4) + "file-with-a-long-name.txt" // USTAR, split name
	long := "docs/" + strings.Repeat("long-", 25) + "name.md"                            // PAX: a 132-byte last element
	in := buildTar(t,
		member{name: "README.md", body: "# app\n"},
		member{name: "public/index.html", body: "<!doctype html>\n"},
		member{name: "public/café.txt", body: "non-ASCII name\n"},
		member{name: "scripts/start.sh", body: "#!/bin/sh\nexec node server.js\n", mode: 0o755},
		member{name: "current", typ: tar.TypeSymlink, link: "public"},
		member{name: "public/copy.html", typ: tar.TypeLink, link: "public/index.html"},
		member{name: "cache/", typ: tar.TypeDir},
		member{name: split, body: "x"},
		member{name: long, body: "y"},
	)
	out, info := normalize(t, in, Options{})
	got := info.Digest + "\n" + listing(t, out)

	golden := filepath.Join("testdata", "canonical.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("artifact differs from %s (run go test -update if the change is intended):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestNormalizeRefuses(t *testing.T) {
	small := Options{Limits: Limits{MaxFileSize: 10, MaxTotalSize: 15, MaxEntries: 4}}
	tests := []struct {
		name string
		in   []member
		opt  Options
		code string
		path string
	}{
		{"dotdot", []member{{name: "a/../../etc/passwd", body: "x"}}, Options{}, CodePathEscape, "a/../../etc/passwd"},
		{"dotdot only", []member{{name: "..", typ: tar.TypeDir}}, Options{}, CodePathEscape, ".."},
		{"absolute", []member{{name: "/etc/passwd", body: "x"}}, Options{}, CodeAbsolutePath, "/etc/passwd"},
		{"char device", []member{{name: "dev/null", typ: tar.TypeChar}}, Options{}, CodeDeviceFile, "dev/null"},
		{"block device", []member{{name: "sda", typ: tar.TypeBlock}}, Options{}, CodeDeviceFile, "sda"},
		{"fifo", []member{{name: "pipe", typ: tar.TypeFifo}}, Options{}, CodeDeviceFile, "pipe"},
		{"absolute symlink", []member{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, Options{}, CodeLinkEscape, "l"},
		{"climbing symlink", []member{{name: "a/b/l", typ: tar.TypeSymlink, link: "../../../x"}}, Options{}, CodeLinkEscape, "a/b/l"},
		{"symlink through symlink", []member{
			{name: "up", typ: tar.TypeSymlink, link: "."},
			{name: "x", typ: tar.TypeSymlink, link: "up/../secret"},
		}, Options{}, CodeLinkEscape, "x"},
		{"symlink loop", []member{
			{name: "a", typ: tar.TypeSymlink, link: "b"},
			{name: "b", typ: tar.TypeSymlink, link: "a"},
		}, Options{}, CodeLinkEscape, "a"},
		{"entry under symlink", []member{
			{name: "d", typ: tar.TypeSymlink, link: "."},
			{name: "d/f", body: "x"},
		}, Options{}, CodeLinkEscape, "d/f"},
		{"absolute hardlink", []member{{name: "h", typ: tar.TypeLink, link: "/etc/shadow"}}, Options{}, CodeLinkEscape, "h"},
		{"climbing hardlink", []member{{name: "h", typ: tar.TypeLink, link: "../x"}}, Options{}, CodeLinkEscape, "h"},
		{"hardlink to missing", []member{{name: "h", typ: tar.TypeLink, link: "nowhere"}}, Options{}, CodeInvalidTar, "h"},
		{"hardlink to excluded", []member{
			{name: "node_modules/x", body: "x"},
			{name: "h", typ: tar.TypeLink, link: "node_modules/x"},
		}, Options{Exclude: DefaultExclude}, CodeInvalidTar, "h"},
		{"file too large", []member{{name: "big", body: "0123456789X"}}, small, CodeFileTooLarge, "big"},
		{"total too large", []member{{name: "a", body: "0123456789"}, {name: "b", body: "012345"}}, small, CodeTooLarge, "b"},
		{"hardlinks count toward total", []member{{name: "a", body: "0123456789"}, {name: "b", typ: tar.TypeLink, link: "a"}}, small, CodeTooLarge, "b"},
		{"too many entries", []member{{name: "a"}, {name: "b"}, {name: "c"}, {name: "d"}, {name: "e"}}, small, CodeTooManyEntries, ""},
		{"implicit parents count", []member{{name: "a/b/c/d"}, {name: "e"}}, small, CodeTooManyEntries, ""},
		{"duplicate file", []member{{name: "a", body: "1"}, {name: "./a", body: "2"}}, Options{}, CodeDuplicatePath, "a"},
		{"file and dir", []member{{name: "a", typ: tar.TypeDir}, {name: "a", body: "2"}}, Options{}, CodeDuplicatePath, "a"},
		{"file as parent", []member{{name: "a", body: "1"}, {name: "a/b", body: "2"}}, Options{}, CodeDuplicatePath, "a/b"},
		{"outside prefix", []member{{name: "workspace/a"}, {name: "other/b"}}, Options{StripPrefix: "workspace/"}, CodeInvalidTar, "other/b"},
		{"root is a file", []member{{name: ".", typ: tar.TypeReg}}, Options{}, CodeInvalidTar, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := buildTar(t, tt.in...)
			var out bytes.Buffer
			_, err := Normalize(bytes.NewReader(in), &out, tt.opt)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize error = %v, want *Error %s", err, tt.code)
			}
			if e.Code != tt.code || e.Path != tt.path {
				t.Fatalf("error = {%s %q %q}, want code %s path %q", e.Code, e.Path, e.Message, tt.code, tt.path)
			}
			if e.Error() == "" || strings.HasPrefix(e.Error(), "failed") {
				t.Errorf("unhelpful message %q", e.Error())
			}
			if out.Len() != 0 {
				t.Errorf("refused input still wrote %d bytes", out.Len())
			}
		})
	}
}

func TestNormalizeRejectsGarbage(t *testing.T) {
	var out bytes.Buffer
	_, err := Normalize(strings.NewReader(strings.Repeat("not a tar ", 100)), &out, Options{})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidTar {
		t.Fatalf("error = %v, want %s", err, CodeInvalidTar)
	}

	// A truncated archive is invalid too.
	in := buildTar(t, member{name: "a", body: strings.Repeat("x", 2000)})
	_, err = Normalize(bytes.NewReader(in[:1024]), &out, Options{})
	if !errors.As(err, &e) || e.Code != CodeInvalidTar {
		t.Fatalf("truncated: error = %v, want %s", err, CodeInvalidTar)
	}

	// A broken input stream is an I/O error, not the caller's bad archive.
	broken := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(in[:1024]), &failingReader{err: broken})
	_, err = Normalize(r, &out, Options{})
	if errors.As(err, &e) || !errors.Is(err, broken) {
		t.Fatalf("broken stream: error = %v, want one wrapping %v", err, broken)
	}
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestNormalizeAllowsLinksInside(t *testing.T) {
	in := buildTar(t,
		member{name: "a/b/f", body: "x"},
		member{name: "a/b/up", typ: tar.TypeSymlink, link: "../../a/b/f"},
		member{name: "a/here", typ: tar.TypeSymlink, link: "."},
		member{name: "a/via", typ: tar.TypeSymlink, link: "here/b/../b/f"},
		member{name: "dangling", typ: tar.TypeSymlink, link: "not/there"},
		member{name: "a/h", typ: tar.TypeLink, link: "a/b/f"},
		member{name: "a/hh", typ: tar.TypeLink, link: "a/h"},
		member{name: "a", typ: tar.TypeDir},
		member{name: "./a/", typ: tar.TypeDir},
	)
	out, info := normalize(t, in, Options{})
	if !Lookup(info.Files, "a/h") || !Lookup(info.Files, "a/hh") || !Lookup(info.Files, "a/b/f") {
		t.Fatalf("hard links did not become files: %+v", info.Files)
	}
	if info.Files[0].Digest != info.Files[1].Digest {
		t.Errorf("hard link copy has another digest: %+v", info.Files)
	}
	l := listing(t, out)
	if strings.Count(l, "size=1 ") != 3 {
		t.Errorf("want three one-byte files:\n%s", l)
	}
}

func TestNormalizeStripPrefix(t *testing.T) {
	// Docker's archive API names entries after the directory it copied.
	docker := buildTar(t,
		member{name: "workspace", typ: tar.TypeDir},
		member{name: "workspace/index.html", body: "hi"},
		member{name: "workspace/assets", typ: tar.TypeDir},
		member{name: "workspace/assets/a.css", body: "p{}"},
		member{name: "workspace/assets/b.css", typ: tar.TypeLink, link: "workspace/assets/a.css"},
	)
	plain := buildTar(t,
		member{name: "index.html", body: "hi"},
		member{name: "assets/a.css", body: "p{}"},
		member{name: "assets/b.css", body: "p{}"},
	)
	for _, prefix := range []string{"workspace/", "workspace", "./workspace/", "/workspace"} {
		_, got := normalize(t, docker, Options{StripPrefix: prefix})
		_, want := normalize(t, plain, Options{})
		if got.Digest != want.Digest {
			t.Errorf("StripPrefix %q: digest %s, want %s", prefix, got.Digest, want.Digest)
		}
	}
}

func TestNormalizeExclude(t *testing.T) {
	in := buildTar(t,
		member{name: "index.js", body: "x"},
		member{name: ".git/HEAD", body: "ref"},
		member{name: "node_modules/", typ: tar.TypeDir},
		member{name: "node_modules/dev/null", typ: tar.TypeChar}, // excluded, so not refused
		member{name: "web/node_modules/react/index.js", body: "r"},
		member{name: "web/app.js", body: "a"},
		member{name: "web/.gitignore", body: "node_modules"},
		member{name: "tmp/x.log", body: "l"},
	)
	out, info := normalize(t, in, Options{Exclude: func(p string, isDir bool) bool {
		return DefaultExclude(p, isDir) || strings.HasSuffix(p, ".log")
	}})
	var got []string
	for _, f := range info.Files {
		got = append(got, f.Path)
	}
	if want := "index.js web/.gitignore web/app.js"; strings.Join(got, " ") != want {
		t.Fatalf("files = %v, want %s", got, want)
	}
	if l := listing(t, out); strings.Contains(l, "node_modules/") || strings.Contains(l, ".git/") {
		t.Fatalf("excluded directories written:\n%s", l)
	}
}

func TestLookup(t *testing.T) {
	files := []File{{Path: "a"}, {Path: "b/index.html"}, {Path: "index.html"}}
	for p, want := range map[string]bool{"index.html": true, "b/index.html": true, "a": true, "b": false, "": false, "z": false} {
		if got := Lookup(files, p); got != want {
			t.Errorf("Lookup(%q) = %v, want %v", p, got, want)
		}
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestNormalizeMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MiB through a temporary file; skipped in -short mode")
	}
	const size = 200 << 20
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Name: "big.bin", Typeflag: tar.TypeReg, Size: size, Mode: 0o644})
		if err == nil {
			_, err = io.CopyN(tw, zeros{}, size)
		}
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: "small.txt", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})
		}
		if err == nil {
			_, err = io.WriteString(tw, "ok")
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	// Sample the heap while the artifact is produced, to catch a peak
	// that is freed before Normalize returns.
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	info, err := Normalize(pr, io.Discard, Options{Limits: Limits{MaxFileSize: 256 << 20, MaxTotalSize: 512 << 20}, TempDir: t.TempDir()})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	if info.Files[0].Size != size || info.Size < size {
		t.Fatalf("info = %+v", info)
	}
	const bound = 16 << 20
	t.Logf("heap in use grew by at most %d bytes, %d bytes allocated", int64(peak)-int64(before.HeapInuse), after.TotalAlloc-before.TotalAlloc)
	if growth := int64(peak) - int64(before.HeapInuse); growth > bound {
		t.Errorf("heap in use grew by %d bytes while streaming %d", growth, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
		t.Errorf("allocated %d bytes in total while streaming %d", alloc, size)
	}
}

func TestReadFile(t *testing.T) {
	out, _ := normalize(t, buildTar(t,
		member{name: "web/.env.example", body: "NESTED=1\n"},
		member{name: ".env.example", body: "DATABASE_URL=\nSECRET_KEY=\n"},
		member{name: "big", body: strings.Repeat("x", 100)},
		member{name: "dir/", typ: tar.TypeDir},
	), Options{})
	got, err := ReadFile(bytes.NewReader(out), ".env.example", 1<<20)
	if err != nil || string(got) != "DATABASE_URL=\nSECRET_KEY=\n" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if _, err := ReadFile(bytes.NewReader(out), "missing", 1<<20); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile of a missing file = %v", err)
	}
	if _, err := ReadFile(bytes.NewReader(out), "dir", 1<<20); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile of a directory = %v", err)
	}
	if _, err := ReadFile(bytes.NewReader(out), "big", 99); err == nil {
		t.Fatal("ReadFile read past its bound")
	}
}

func TestNormalizeBoundsNameMemory(t *testing.T) {
	var ms []member
	long := strings.Repeat("n", 4000)
	for i := range 2100 { // 2100 × 8 KB of name and target: over 16 MiB
		ms = append(ms, member{name: fmt.Sprintf("%04d-%s", i, long), typ: tar.TypeSymlink, link: long})
	}
	_, err := Normalize(bytes.NewReader(buildTar(t, ms...)), io.Discard, Options{})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTooManyEntries {
		t.Fatalf("Normalize = %v, want %s", err, CodeTooManyEntries)
	}
}
