package domains

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// pageKindNames lists the kinds a custom page can replace, for messages.
func pageKindNames() string {
	names := make([]string, len(edge.PageKinds))
	for i, k := range edge.PageKinds {
		names[i] = k.Name()
	}
	return strings.Join(names, ", ")
}

// checkPageKind refuses a kind the edge has no page for.
func checkPageKind(kind string) error {
	if _, ok := edge.PageKindByName(kind); !ok {
		return problem.NotFound("unknown_page_kind", "there is no %q page; the pages are %s", kind, pageKindNames())
	}
	return nil
}

// refusedElements are elements a custom page may not have: an edge page
// is served on the app's own origin, where a script could read what the
// app keeps there, and frames, plugins, forms and a <base> would only
// serve to load or send something else. The edge's Content-Security-Policy
// blocks scripts as well; refusing them here says so at upload time.
var refusedElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true, "embed": true,
	"applet": true, "base": true, "form": true, "noscript": true,
}

// checkPageHTML refuses markup that would run script or load something
// other than images and inline styles.
func checkPageHTML(src string) error {
	bad := func(format string, args ...any) error {
		return problem.Unprocessable("unsafe_page", format+"; a custom page is HTML and inline CSS, with images", args...)
	}
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return problem.Unprocessable("invalid_page", "the page is not HTML: %v", z.Err())
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if refusedElements[t.Data] {
				return bad("the page has a <%s> element", t.Data)
			}
			for _, a := range t.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					return bad("<%s> has an event handler attribute %s", t.Data, a.Key)
				}
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text") {
					return bad("<%s %s> is a %s URL", t.Data, a.Key, v[:strings.IndexByte(v, ':')])
				}
				if t.Data == "link" && key == "rel" && !strings.Contains(v, "icon") {
					return bad("<link rel=%q> loads something; only icons may be linked", a.Val)
				}
			}
		}
	}
}

// PutPage validates and stores an owner's custom page of a kind, and
// tells the edges.
func (c *Service) PutPage(ctx context.Context, ownerID, orgID, kind, src string) (*store.Page, error) {
	if err := checkPageKind(kind); err != nil {
		return nil, err
	}
	switch {
	case len(src) > edge.MaxCustomPageBytes:
		return nil, problem.New(http.StatusRequestEntityTooLarge, "page_too_large", "the page is %d bytes; at most %d", len(src), edge.MaxCustomPageBytes)
	case strings.TrimSpace(src) == "":
		return nil, problem.Unprocessable("invalid_page", "the page is empty; send the HTML template as the body")
	case !utf8.ValidString(src):
		return nil, problem.Unprocessable("invalid_page", "the page is not UTF-8 text")
	}
	if err := checkPageHTML(src); err != nil {
		return nil, err
	}
	if _, err := edge.ParseCustomPage(src); err != nil {
		return nil, problem.Unprocessable("invalid_page_template", "the template does not render: %v; it may use the fields of docs/domains.md#custom-pages", err)
	}
	sum := sha256.Sum256([]byte(src))
	p := &store.Page{OwnerID: ownerID, OrgID: orgID, Kind: kind, Body: src, Digest: "sha256:" + hex.EncodeToString(sum[:]),
		UpdatedAt: time.Now().UTC()}
	if err := c.st.PutPage(ctx, p); err != nil {
		return nil, fmt.Errorf("putting page: %w", err)
	}
	c.routes.OwnerChanged(ownerID)
	return p, nil
}

// Page returns an owner's custom page of a kind.
func (c *Service) Page(ctx context.Context, ownerID, kind string) (*store.Page, error) {
	if err := checkPageKind(kind); err != nil {
		return nil, err
	}
	p, err := c.st.GetPage(ctx, ownerID, kind)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("page_not_found", "no custom %s page is set here; the edge serves its own", kind)
	}
	return p, err
}

// DeletePage removes an owner's custom page of a kind: the edge serves
// its own again (or the org's, for a workspace).
func (c *Service) DeletePage(ctx context.Context, ownerID, kind string) error {
	if err := checkPageKind(kind); err != nil {
		return err
	}
	err := c.st.DeletePage(ctx, ownerID, kind)
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("page_not_found", "no custom %s page is set here", kind)
	}
	if err != nil {
		return fmt.Errorf("deleting page: %w", err)
	}
	c.routes.OwnerChanged(ownerID)
	return nil
}
