package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/client"
)

// TestClientRetryCreatesOnce loses the answer to a create after the API
// acted on it, as a proxy cut off mid-answer would: the client sends the
// create again with the same Idempotency-Key, and the API answers with
// what it created the first time instead of creating a second project.
func TestClientRetryCreatesOnce(t *testing.T) {
	h := newHarness(t)
	org := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	ws := h.create("/workspaces", client.CreateWorkspace{OrgID: org, Name: "Dr Smith"})
	var lost atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !lost.Swap(true) {
			h.srv.ServeHTTP(httptest.NewRecorder(), r) // the API acts; its answer is lost
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		h.srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := client.New(ts.URL, h.key)
	p, err := c.CreateProject(t.Context(), client.CreateProject{WorkspaceID: ws, Name: "Site"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListProjects(t.Context(), client.ListOptions{WorkspaceID: ws})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != p.ID {
		t.Fatalf("after a retried create the workspace has %+v (%v), want only %s", page, err, p.ID)
	}
}

// TestClientIterators walks the real API's pages.
func TestClientIterators(t *testing.T) {
	h := newHarness(t)
	org := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	ws := h.create("/workspaces", client.CreateWorkspace{OrgID: org, Name: "Dr Smith"})
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	c := client.New(ts.URL, h.key)
	var want []string
	for i := range 5 {
		p, err := c.CreateProject(t.Context(), client.CreateProject{WorkspaceID: ws, Name: "Site " + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p.ID)
	}
	var got []string
	for p, err := range c.Projects(t.Context(), client.ListOptions{WorkspaceID: ws, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	// Lists are in id order, and ids made in the same millisecond sort by
	// their random part, not by when they were made.
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Projects yielded %v, want %v", got, want)
	}
	for _, err := range c.Projects(t.Context(), client.ListOptions{WorkspaceID: ws, Limit: 5000}) {
		if p, ok := err.(*client.Problem); !ok || p.Code != "invalid_limit" {
			t.Fatalf("a bad limit: %v", err)
		}
	}
}
