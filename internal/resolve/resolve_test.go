package resolve

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/logtest"
)

// feed is an edge.Resolver over a map with a change feed, served by the
// real Handler in the tests.
type feed struct {
	mu      sync.Mutex
	answers map[string]edge.Answer
	subs    []func(edge.Change)
}

func (f *feed) Resolve(_ context.Context, host string) (edge.Answer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if host == "broken.example" {
		return edge.Answer{}, errors.New("store at /var/lib/x is locked")
	}
	return f.answers[host], nil
}

func (f *feed) Page(_ context.Context, digest string) (string, error) {
	if digest == "sha256:1" {
		return "<p>{{.Heading}}</p>", nil
	}
	return "", errors.New("no such page")
}

func (f *feed) Watch(ctx context.Context, fn func(edge.Change)) error {
	f.mu.Lock()
	f.subs = append(f.subs, fn)
	fn(edge.Change{Version: 7, All: true})
	f.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

func (f *feed) publish(c edge.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fn := range f.subs {
		fn(c)
	}
}

func TestClientAndHandler(t *testing.T) {
	want := edge.Answer{Found: true, Route: edge.Route{Host: "shop.acme.example", Upstream: "127.0.0.1:4001", State: edge.Deploying,
		Brand: edge.Brand{Name: "Acme", PrimaryColor: "#0a7", AccentColor: "teal", LogoURL: "https://l.example/x.png",
			SupportURL: "https://help.example", SupportEmail: "h@acme.example"}},
		Brand: edge.Brand{Name: "Acme", PrimaryColor: "#0a7", AccentColor: "teal", LogoURL: "https://l.example/x.png",
			SupportURL: "https://help.example", SupportEmail: "h@acme.example"},
		Pages: map[string]string{"not-found": "sha256:1"}, Owners: []string{"org_1", "ws_1"}}
	f := &feed{answers: map[string]edge.Answer{"shop.acme.example": want}}
	srv := httptest.NewServer(Handler(f, "k3y", logtest.New(t)))
	defer srv.Close()
	ctx := context.Background()

	// Without the key nothing answers.
	for _, key := range []string{"", "wrong"} {
		if _, err := NewClient(srv.URL, key).Resolve(ctx, "shop.acme.example"); err == nil {
			t.Errorf("key %q was let in", key)
		}
	}
	res, _ := http.Get(srv.URL + ChangesPath)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("changes without a key: %d", res.StatusCode)
	}
	res.Body.Close()

	c := NewClient(srv.URL, "k3y")
	got, err := c.Resolve(ctx, "shop.acme.example")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %+v, %v; want %+v", got, err, want)
	}
	if got, err := c.Resolve(ctx, "nothing.example"); err != nil || got.Found {
		t.Errorf("an unknown host = %+v, %v", got, err)
	}
	// A resolver error reaches the client as an error, without its cause.
	if _, err := c.Resolve(ctx, "broken.example"); err == nil || strings.Contains(err.Error(), "/var/lib") {
		t.Errorf("a failing resolve: %v", err)
	}
	if src, err := c.Page(ctx, "sha256:1"); err != nil || src != "<p>{{.Heading}}</p>" {
		t.Errorf("Page = %q, %v", src, err)
	}
	if _, err := c.Page(ctx, "sha256:2"); err == nil {
		t.Error("a missing page was found")
	}

	// The stream: a full invalidation first, then every change in order.
	changes := make(chan edge.Change, 8)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Watch(wctx, func(ch edge.Change) { changes <- ch }) }()
	if first := <-changes; !first.All || first.Version != 7 {
		t.Fatalf("first change %+v, want all at version 7", first)
	}
	sent := edge.Change{Version: 8, Hosts: []string{"a.example"}, Suffixes: []string{"acme.example"}, Owners: []string{"ws_1"}}
	f.publish(sent)
	select {
	case ch := <-changes:
		if !reflect.DeepEqual(ch, sent) {
			t.Errorf("change %+v, want %+v", ch, sent)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the change did not arrive")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel: %v", err)
	}
}
