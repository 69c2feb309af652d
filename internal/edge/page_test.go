package edge

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenBrand exercises every brand field, and escaping in the name.
var goldenBrand = Brand{
	Name:         "Acme Clinic & <Co>",
	PrimaryColor: "#0a7cff",
	LogoURL:      "https://cdn.acme.example/logo.png?v=2&size=small",
	SupportURL:   "https://acme.example/help",
	AccentColor:  "#ff7a00",
	SupportEmail: "help@acme.example",
}

func TestPagesGolden(t *testing.T) {
	tmpl := parsePages()
	for _, kind := range PageKinds {
		name := kind.spec().name
		t.Run(name, func(t *testing.T) {
			got, err := renderPage(tmpl, kind, goldenBrand)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".html")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered page (run go test -update and review the diff):\n%s", path, got)
			}
		})
	}
}

// TestPagesAreNeverRevalidated: the edge's pages stand in for an app for a
// while (loading, bad gateway) and must not outlive that in a cache. They
// carry no validators and no-store, and a browser's validators (from the
// app's own pages) get the whole page, never a 304.
func TestPagesAreNeverRevalidated(t *testing.T) {
	e := New(Config{Brand: Brand{Name: "Acme"}})
	for _, kind := range PageKinds {
		r := httptest.NewRequest(http.MethodGet, "http://shop.acme.example/", nil)
		r.Header.Set("If-None-Match", `*`)
		r.Header.Set("If-Modified-Since", "Thu, 01 Jan 2099 00:00:00 GMT")
		w := httptest.NewRecorder()
		e.ServePage(w, r, kind)
		res := w.Result()
		if res.StatusCode != kind.Status() || w.Body.Len() == 0 {
			t.Errorf("%s: %d with %d bytes, want %d with the page", kind.Name(), res.StatusCode, w.Body.Len(), kind.Status())
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", kind.Name(), got)
		}
		for _, h := range []string{"ETag", "Last-Modified", "Expires"} {
			if v := res.Header.Get(h); v != "" {
				t.Errorf("%s: %s %q", kind.Name(), h, v)
			}
		}
	}
}

func TestPageEscapesBrand(t *testing.T) {
	tmpl := parsePages()
	hostile := Brand{
		Name:         `<script>alert(1)</script>`,
		PrimaryColor: `red}body{display:none`,
		LogoURL:      `javascript:alert(1)`,
		SupportURL:   `javascript:alert(2)`,
	}
	for _, kind := range PageKinds {
		page, err := renderPage(tmpl, kind, hostile)
		if err != nil {
			t.Fatal(err)
		}
		s := string(page)
		for _, bad := range []string{"<script>", "javascript:", "display:none", "<img"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s page contains %q:\n%s", kind.spec().name, bad, s)
			}
		}
		if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s page does not show the escaped brand name", kind.spec().name)
		}
		if !strings.Contains(s, "--brand:"+defaultColor) {
			t.Errorf("%s page does not fall back to the default colour", kind.spec().name)
		}
	}
}

func TestPageDataImageLogo(t *testing.T) {
	tmpl := parsePages()
	logo := "data:image/png;base64,iVBORw0KGgo="
	page, err := renderPage(tmpl, pageNotFound, Brand{Name: "Acme", LogoURL: logo})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `src="`+logo+`"`) {
		t.Errorf("data:image logo was not kept:\n%s", page)
	}
	page, err = renderPage(tmpl, pageNotFound, Brand{Name: "Acme", LogoURL: "data:text/html;base64,PHNjcmlwdD4="})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<img") {
		t.Errorf("a data:text/html logo was rendered:\n%s", page)
	}
}

func TestPageWithoutBrand(t *testing.T) {
	page, err := renderPage(parsePages(), pageBadGateway, Brand{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, absent := range []string{"<img", "<footer", "Contact support", " · "} {
		if strings.Contains(s, absent) {
			t.Errorf("page without a brand contains %q:\n%s", absent, s)
		}
	}
}

func TestBrandColor(t *testing.T) {
	for in, want := range map[string]string{
		"#abc":              "#abc",
		"#AABBCC":           "#AABBCC",
		"#aabbcc80":         "#aabbcc80",
		" teal ":            "teal",
		"":                  defaultColor,
		"#abcde":            defaultColor,
		"#ggg":              defaultColor,
		"rgb(1,2,3)":        defaultColor,
		"red;color:blue":    defaultColor,
		"expression(alert)": defaultColor,
	} {
		if got := brandColor(in); got != want {
			t.Errorf("brandColor(%q) = %q, want %q", in, got, want)
		}
	}
}

// customGolden is a custom page that uses every field a template sees.
const customGolden = `<!DOCTYPE html><html><head><title>{{.Title}} · {{.Name}}</title>
<style>body{background:{{.Color}};color:{{.Accent}}}</style>{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}</head>
<body class="{{.Kind}}"><h1>{{.Status}} {{.Heading}}</h1><p>{{.Message}}</p>{{with .LogoURL}}<img src="{{.}}">{{end}}
{{with .SupportURL}}<a href="{{.}}">help</a>{{end}} {{with .SupportEmail}}<a href="mailto:{{.}}">{{.}}</a>{{end}}{{if .Loading}}…{{end}}</body></html>
`

func TestCustomPagesGolden(t *testing.T) {
	tmpl, err := ParseCustomPage(customGolden)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range PageKinds {
		name := "custom-" + kind.Name()
		t.Run(name, func(t *testing.T) {
			got, err := renderPage(tmpl, kind, goldenBrand)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".html")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendered page (run go test -update and review the diff):\n%s", path, got)
			}
		})
	}
}

func TestParseCustomPageRefuses(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":        `<p>{{.Title</p>`,
		"unknown field": `<p>{{.Upstream}}</p>`,
		"too big":       strings.Repeat("a", MaxCustomPageBytes+1),
	} {
		if _, err := ParseCustomPage(src); err == nil {
			t.Errorf("%s: ParseCustomPage accepted it", name)
		}
	}
	if _, err := ParseCustomPage(`<p>{{.Heading}}</p>`); err != nil {
		t.Errorf("a plain template: %v", err)
	}
}

func TestSupportEmail(t *testing.T) {
	for in, want := range map[string]string{
		"help@acme.example":        "help@acme.example",
		" help@acme.example ":      "help@acme.example",
		"help":                     "",
		"@acme.example":            "",
		"a@b?subject=x":            "",
		`a"@b.example`:             "",
		"a@b.example<script>":      "",
		"javascript:alert(1)@x.io": "",
	} {
		if got := supportEmail(in); got != want {
			t.Errorf("supportEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
