package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/store"
)

// putHTML sends a custom page with a key.
func (h *harness) putHTML(key, path, ctype, body string) (int, string, []byte) {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPut, apiPrefix+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	var p client.Problem
	if rec.Code >= 400 {
		json.Unmarshal(rec.Body.Bytes(), &p)
	}
	return rec.Code, p.Code, rec.Body.Bytes()
}

// TestCustomPagesAPI uploads, reads and removes custom pages, and checks
// that bad pages are refused with nothing written.
func TestCustomPagesAPI(t *testing.T) {
	h := newHarness(t)
	orgA := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	wsA := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "Dr Smith"})
	orgB := h.create("/orgs", client.CreateOrg{Name: "Rival"})
	adminA := h.keyFor(orgA, "", "", store.RoleAdmin)
	viewerA := h.keyFor(orgA, "", "", store.RoleViewer)
	adminB := h.keyFor(orgB, "", "", store.RoleAdmin)
	const good = `<!DOCTYPE html><html><head><style>h1{color:{{.Color}}}</style></head><body><h1>{{.Heading}}</h1><p>{{.Name}}</p></body></html>`
	path := "/orgs/" + orgA + "/pages/not-found"

	for _, tc := range []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"unknown kind", "/orgs/" + orgA + "/pages/teapot", "text/html", good, 404, "unknown_page_kind"},
		{"not html", path, "application/json", `{}`, 415, "unsupported_media_type"},
		{"empty", path, "text/html", "  ", 422, "invalid_page"},
		{"too large", path, "text/html", strings.Repeat("a", 64<<10+1), 413, "page_too_large"},
		{"script", path, "text/html", `<p>hi</p><script>fetch("/x")</script>`, 422, "unsafe_page"},
		{"event handler", path, "text/html", `<img src="x.png" onerror="alert(1)">`, 422, "unsafe_page"},
		{"javascript url", path, "text/html", `<a href=" javascript:alert(1)">x</a>`, 422, "unsafe_page"},
		{"iframe", path, "text/html", `<iframe src="https://x.example"></iframe>`, 422, "unsafe_page"},
		{"stylesheet link", path, "text/html", `<link rel="stylesheet" href="https://x.example/a.css">`, 422, "unsafe_page"},
		{"template syntax", path, "text/html", `<p>{{.Heading</p>`, 422, "invalid_page_template"},
		{"unknown field", path, "text/html", `<p>{{.Upstream}}</p>`, 422, "invalid_page_template"},
		{"other org", path, "text/html", good, 404, "not_found"},
		{"viewer", path, "text/html", good, 403, "forbidden"},
	} {
		key := adminA
		switch tc.name {
		case "other org":
			key = adminB
		case "viewer":
			key = viewerA
		}
		status, code, b := h.putHTML(key, tc.path, tc.ctype, tc.body)
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %q, want %d %q: %s", tc.name, status, code, tc.status, tc.code, b)
		}
	}
	if pages, err := h.st.ListPages(t.Context(), []string{orgA, wsA}); err != nil || len(pages) != 0 {
		t.Fatalf("bad uploads wrote %d pages (%v)", len(pages), err)
	}

	status, _, b := h.putHTML(adminA, path, "text/html; charset=utf-8", good)
	var pg client.Page
	json.Unmarshal(b, &pg)
	if status != 200 || pg.OwnerID != orgA || pg.Kind != "not-found" || !strings.HasPrefix(pg.Digest, "sha256:") || pg.Size != len(good) {
		t.Fatalf("put page: %d %s", status, b)
	}
	if status, _, _ := h.putHTML(adminA, "/workspaces/"+wsA+"/pages/loading", "text/html", good); status != 200 {
		t.Fatalf("put workspace page: %d", status)
	}
	h.as(viewerA, func() {
		status, _, body := h.do("GET", path, nil, nil)
		if status != 200 || string(body) != good {
			t.Errorf("get page: %d %q", status, body)
		}
	})
	h.as(adminB, func() {
		if status, code, _ := h.do("GET", path, nil, nil); status != 404 || code != "not_found" {
			t.Errorf("another org read the page: %d %s", status, code)
		}
	})
	if status, code, _ := h.do("GET", "/workspaces/"+wsA+"/pages/not-found", nil, nil); status != 404 || code != "page_not_found" {
		t.Errorf("a page never set: %d %s", status, code)
	}
	if status, _, _ := h.do("DELETE", path, nil, nil); status != 204 {
		t.Errorf("delete: %d", status)
	}
	if status, code, _ := h.do("DELETE", path, nil, nil); status != 404 || code != "page_not_found" {
		t.Errorf("delete twice: %d %s", status, code)
	}
}

func TestResyncRoutesNeedsPlatformKey(t *testing.T) {
	h := newHarness(t)
	org := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	admin := h.keyFor(org, "", "", store.RoleAdmin)
	h.as(admin, func() {
		if status, code, _ := h.do("POST", "/routes/resync", nil, nil); status != 403 || code != "forbidden" {
			t.Errorf("an org admin key resynced: %d %s", status, code)
		}
	})
	status, _, b := h.do("POST", "/routes/resync", nil, nil)
	var res client.RoutesResync
	json.Unmarshal(b, &res)
	if status != 200 || res.Version == 0 {
		t.Errorf("resync: %d %s", status, b)
	}
}
