package e2e

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/templates"
)

// TestValidators is issue 18: a browser that revalidates its copy of a
// static site's page gets the page that serves now, after a deploy of a
// page of the same size and after a rollback, and a 304 only for the page
// it holds. Every shape nginx serves is tried: the two static templates
// and a release's own Dockerfile on the platform's nginx image. HTML is
// revalidated on every load, Vite's fingerprinted files are immutable.
func TestValidators(t *testing.T) {
	ensureTemplateImages(t)
	p := start(t, withBuildCA(t))
	cat := templates.New(nil)
	starter := func(t *testing.T, id, name string) string {
		tpl, _ := cat.Get(id)
		files, err := cat.Starter(tpl)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	cases := []struct {
		name string
		// template is the release's template, "" for its own Dockerfile.
		template string
		// files are the release's files of version ("v1", "v2"); nonce
		// keeps them apart from another run's, which the engine's layer
		// cache would serve with that run's time.
		files func(t *testing.T, version, nonce string) *bytes.Buffer
		// other is a file beside the page, revalidated as well.
		other string
		// asset finds a fingerprinted file in the page, "" when none.
		asset    string
		patience time.Duration
	}{
		{
			name: "static-html", template: "static-html", other: "/style.css", patience: 3 * time.Minute,
			files: func(t *testing.T, version, nonce string) *bytes.Buffer {
				return starterTar(t, "static-html", map[string]string{"index.html": "<h1>" + version + "</h1><!-- " + nonce + " -->"})
			},
		},
		{
			name: "vite-react-spa", template: "vite-react-spa", other: "/favicon.svg", asset: `/assets/index-[^"]+\.js`,
			patience: 6 * time.Minute,
			files: func(t *testing.T, version, nonce string) *bytes.Buffer {
				app := strings.Replace(starter(t, "vite-react-spa", "src/App.jsx"), "It works.", "It works, "+version+" "+nonce+".", 1)
				return starterTar(t, "vite-react-spa", map[string]string{"src/App.jsx": app})
			},
		},
		{
			name: "own-dockerfile", other: "/about.html", patience: 3 * time.Minute,
			files: func(t *testing.T, version, nonce string) *bytes.Buffer {
				return makeTar(
					file("Dockerfile", "FROM "+images.Nginx+"\nCOPY index.html about.html /usr/share/nginx/html/\nEXPOSE 8080\n"),
					file("index.html", "<h1>"+version+"</h1><!-- "+nonce+" -->"),
					file("about.html", "<p>about</p>"))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, _, pr := p.tenant(t, "Validators "+c.name)
			// Both releases are made at once: the second is still dated a
			// second later, or HTTP's dates could not tell them apart.
			var rels []*client.Release
			for _, v := range []string{"v1", "v2"} {
				rel, err := p.api.CreateRelease(ctx, c.files(t, v, pr.ID), client.ReleaseOptions{ProjectID: pr.ID, TemplateID: c.template})
				if err != nil {
					t.Fatalf("release %s: %v", v, err)
				}
				rels = append(rels, rel)
			}
			r1, r2 := rels[0], rels[1]
			if r2.CreatedAt.Unix() <= r1.CreatedAt.Unix() {
				t.Fatalf("releases made at %v and %v: the same second", r1.CreatedAt, r2.CreatedAt)
			}

			deploy := func(rel *client.Release) *client.Deployment {
				t.Helper()
				d, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: pr.ID, ReleaseID: rel.ID})
				if err != nil {
					t.Fatalf("deploy %s: %v", rel.ID, err)
				}
				return waitReadyFor(t, p, d.ID, rel.ID, c.patience)
			}
			// load is a fresh client's visit: the page and the files
			// beside it, each with the Cache-Control it must have.
			load := func(d *client.Deployment, rel *client.Release) answer {
				t.Helper()
				a := revalidate(t, p, d.URL+"/", nil)
				if a.status != http.StatusOK || a.etag == "" {
					t.Fatalf("GET /: %d, ETag %q", a.status, a.etag)
				}
				if want := rel.CreatedAt.UTC().Truncate(time.Second); !a.modified.Equal(want) {
					t.Errorf("Last-Modified %v, want the release's time %v", a.modified, want)
				}
				if a.cacheControl != "no-cache" {
					t.Errorf("GET /: Cache-Control %q, want no-cache", a.cacheControl)
				}
				if o := revalidate(t, p, d.URL+c.other, nil); o.status != http.StatusOK || o.cacheControl != "no-cache" || !o.modified.Equal(a.modified) {
					t.Errorf("GET %s: %d, Cache-Control %q, Last-Modified %v", c.other, o.status, o.cacheControl, o.modified)
				}
				if c.asset != "" {
					path := regexp.MustCompile(c.asset).FindString(a.body)
					if path == "" {
						t.Fatalf("no %s in the page %q", c.asset, a.body)
					}
					if o := revalidate(t, p, d.URL+path, nil); o.status != http.StatusOK || o.cacheControl != "public, max-age=31536000, immutable" {
						t.Errorf("GET %s: %d, Cache-Control %q", path, o.status, o.cacheControl)
					}
				}
				return a
			}

			d := deploy(r1)
			v1 := load(d, r1)
			d = deploy(r2)
			v2 := load(d, r2)
			if len(v1.body) != len(v2.body) || v1.body == v2.body {
				t.Fatalf("the pages must differ with one size: %q, %q", v1.body, v2.body)
			}
			if v1.etag == v2.etag || v1.modified.Equal(v2.modified) {
				t.Fatalf("v1 and v2 share validators: %+v, %+v", v1, v2)
			}

			// serves checks that every way of revalidating held's copy gets
			// cur, in full or as a 304 when they are the same page.
			serves := func(when string, d *client.Deployment, held, cur answer) {
				t.Helper()
				for _, h := range []map[string]string{
					{"If-None-Match": held.etag},
					{"If-Modified-Since": held.lastModified},
					{"If-None-Match": held.etag, "If-Modified-Since": held.lastModified},
				} {
					a := revalidate(t, p, d.URL+"/", h)
					switch {
					case held.body == cur.body && a.status != http.StatusNotModified:
						t.Errorf("%s, revalidating the page served with %v: %d, want 304", when, h, a.status)
					case held.body != cur.body && (a.status != http.StatusOK || a.body != cur.body):
						t.Errorf("%s, revalidating %v: %d %q, want 200 with %q", when, h, a.status, a.body, cur.body)
					}
					// A gzipped answer's ETag is weak; a 304 is not gzipped.
					if strings.TrimPrefix(a.etag, "W/") != strings.TrimPrefix(cur.etag, "W/") || a.lastModified != cur.lastModified {
						t.Errorf("%s, revalidating %v: validators %q, %q, want %q, %q", when, h, a.etag, a.lastModified, cur.etag, cur.lastModified)
					}
				}
			}
			serves("after the deploy of v2", d, v1, v2)
			serves("after the deploy of v2", d, v2, v2)

			if _, err := p.api.Rollback(ctx, d.ID, r1.ID); err != nil {
				t.Fatalf("rollback: %v", err)
			}
			d = waitReadyFor(t, p, d.ID, r1.ID, c.patience)
			serves("after the rollback to v1", d, v2, v1)
			serves("after the rollback to v1", d, v1, v1)
		})
	}
}

// answer is what a GET got, with its validators.
type answer struct {
	status       int
	body         string
	etag         string
	lastModified string
	modified     time.Time
	cacheControl string
}

// revalidate GETs url through the edge with the request headers h, as a
// browser revalidating its copy does.
func revalidate(t testing.TB, p *platform, url string, h map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := p.web.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	a := answer{status: res.StatusCode, body: string(b), etag: res.Header.Get("ETag"),
		lastModified: res.Header.Get("Last-Modified"), cacheControl: res.Header.Get("Cache-Control")}
	if a.lastModified != "" {
		if a.modified, err = http.ParseTime(a.lastModified); err != nil {
			t.Fatalf("GET %s: Last-Modified %q: %v", url, a.lastModified, err)
		}
	}
	return a
}
