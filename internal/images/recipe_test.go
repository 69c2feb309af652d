package images

import (
	"archive/tar"
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestMirrorFromDeb822(t *testing.T) {
	sources := `Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Types: deb
URIs: http://mirror.example/debian/ http://other.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`
	if got := mirrorFromDeb822(sources); got != "http://mirror.example/debian" {
		t.Errorf("mirror = %q", got)
	}
	if got := mirrorFromDeb822("Types: deb\nURIs: http://x/debian\nSuites: trixie\n"); got != "" {
		t.Errorf("other suite gave %q", got)
	}
}

func TestMirrorFromList(t *testing.T) {
	list := `# deb http://commented.example/debian bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian/ bookworm main contrib
`
	if got := mirrorFromList(list); got != "http://mirror.example/debian" {
		t.Errorf("mirror = %q", got)
	}
}

func TestDockerfilesBuildOnTheirBase(t *testing.T) {
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	for _, im := range all {
		if im.dir == "" {
			continue
		}
		b, err := dockerfiles.ReadFile("dockerfiles/" + im.dir + "/Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		m := from.FindAllStringSubmatch(string(b), -1)
		if len(m) != 1 || m[0][1] != im.base {
			t.Errorf("%s: FROM %v, want %s", im.ref, m, im.base)
		}
	}
}

func TestContextTarIsDeterministic(t *testing.T) {
	a, sumA, err := contextTar("nginx")
	if err != nil {
		t.Fatal(err)
	}
	b, sumB, _ := contextTar("nginx")
	if !bytes.Equal(a, b) || sumA != sumB {
		t.Error("two tars of the same context differ")
	}
	_, sumNode, _ := contextTar("node")
	if sumNode == sumA {
		t.Error("different contexts have the same recipe")
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
	if want := "Dockerfile default.conf nginx.conf"; strings.Join(names, " ") != want {
		t.Errorf("entries %q, want %q", strings.Join(names, " "), want)
	}
}
