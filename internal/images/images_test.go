package images_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
)

// tlog writes to the test log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// built returns a runtime on the real engine once every image exists.
func built(t *testing.T) *docker.Runtime {
	t.Helper()
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := rt.Ping(ctx); err != nil {
		t.Skipf("skipping: these tests need a running Docker engine, and it is unreachable: %v", err)
	}
	if err := images.Build(t.Context(), rt, tlog{t}, false); err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestBuildIsIdempotent(t *testing.T) {
	rt := built(t)
	for _, ref := range images.Refs() {
		if ok, err := rt.ImageExists(t.Context(), ref); !ok || err != nil {
			t.Errorf("%s: exists %v, %v", ref, ok, err)
		}
	}
	for _, ref := range []string{images.Nginx, images.Node} {
		_, labels, err := rt.InspectImage(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(labels[images.LabelRecipe]) != 64 || !strings.HasPrefix(labels[images.LabelBase], "sha256:") {
			t.Errorf("%s labels = %v", ref, labels)
		}
	}

	// Everything is current now: a second Build makes nothing.
	var log bytes.Buffer
	start := time.Now()
	if err := images.Build(t.Context(), rt, &log, false); err != nil {
		t.Fatal(err)
	}
	if log.Len() != 0 {
		t.Errorf("second Build did work:\n%s", log.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Build took %s", d)
	}
}

// serve runs image with the runtime's hardened settings, copies files into
// dir before it starts, and returns its published address for port.
func serve(t *testing.T, rt *docker.Runtime, spec agent.ContainerSpec, port int, dir string, files map[string]string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	spec.Name = "berthtest-images-" + hex.EncodeToString(b)
	spec.Ports = []int{port}
	id, err := rt.CreateContainer(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := rt.Logs(context.Background(), id, 50)
			t.Logf("container log:\n%s", logs)
		}
		rt.RemoveContainer(context.Background(), id)
	})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Now()})
		tw.Write([]byte(content))
	}
	tw.Close()
	if err := rt.CopyTo(t.Context(), id, dir, &buf); err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	info, err := rt.InspectContainer(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	addr := info.Ports[port]
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("port %d published at %q", port, addr)
	}
	return addr
}

// get retries until the server answers, then returns status and body.
func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				return resp, string(body)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNginxServesUnderHardening(t *testing.T) {
	rt := built(t)
	for _, user := range []string{"", "www-data", "10001:10001"} {
		t.Run("user="+user, func(t *testing.T) {
			big := strings.Repeat("<p>compressible</p>\n", 500)
			addr := serve(t, rt, agent.ContainerSpec{Image: images.Nginx, User: user}, 8080, "/usr/share/nginx/html", map[string]string{
				"index.html": "<h1>berth</h1>\n",
				"about.html": "about\n",
				"big.html":   big,
			})

			resp, body := get(t, "http://"+addr+"/", nil)
			if resp.StatusCode != http.StatusOK || body != "<h1>berth</h1>\n" {
				t.Errorf("GET /: %d %q", resp.StatusCode, body)
			}
			if s := resp.Header.Get("Server"); s != "nginx" {
				t.Errorf("Server header %q reveals a version", s)
			}
			if resp, body := get(t, "http://"+addr+"/about", nil); resp.StatusCode != http.StatusOK || body != "about\n" {
				t.Errorf("GET /about: %d %q", resp.StatusCode, body)
			}
			if resp, _ := get(t, "http://"+addr+"/missing", nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /missing: %d", resp.StatusCode)
			}

			resp, body = get(t, "http://"+addr+"/big.html", http.Header{"Accept-Encoding": {"gzip"}})
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("big.html not gzipped: %v", resp.Header)
			}
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if plain, _ := io.ReadAll(zr); string(plain) != big {
				t.Error("gzipped body differs")
			}
		})
	}
}

func TestNodeServesUnderHardening(t *testing.T) {
	rt := built(t)
	server := `require("http").createServer((req, res) => {
  res.end("hello from node " + process.version);
}).listen(3000);
`
	addr := serve(t, rt, agent.ContainerSpec{Image: images.Node, Cmd: []string{"node", "server.js"}, Init: true}, 3000, "/app", map[string]string{"server.js": server})
	resp, body := get(t, "http://"+addr+"/", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "hello from node v18.") {
		t.Errorf("GET /: %d %q", resp.StatusCode, body)
	}

	// The CA bundle is there for outbound TLS.
	var out bytes.Buffer
	b := make([]byte, 4)
	rand.Read(b)
	id := fmt.Sprintf("berthtest-images-%x", b)
	cid, err := rt.CreateContainer(t.Context(), agent.ContainerSpec{Name: id, Image: images.Node, Cmd: []string{"sh", "-c", "while :; do sleep 1; done"}, Init: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.RemoveContainer(context.Background(), cid) })
	if err := rt.StartContainer(t.Context(), cid); err != nil {
		t.Fatal(err)
	}
	code, err := rt.Exec(t.Context(), cid, agent.ExecSpec{Cmd: []string{"sh", "-c", "test -s /etc/ssl/certs/ca-certificates.crt && ! command -v npm && node -e 'console.log(1+1)'"}}, &out, nil)
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "2" {
		t.Errorf("exec: %d %v %q", code, err, out.String())
	}
}
