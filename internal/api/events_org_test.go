package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// TestOrgEvents: an org's events (the certificates of its managed names)
// are read by the platform key and the org's own keys, not by another
// org's nor by a key of one workspace; an unknown org is 404.
func TestOrgEvents(t *testing.T) {
	h := newHarness(t)
	orgA := h.create("/orgs", client.CreateOrg{Name: "Acme"})
	orgB := h.create("/orgs", client.CreateOrg{Name: "Other"})
	wsA := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "Team"})
	err := h.st.AppendEvent(context.Background(), &store.Event{ID: id.New(id.Event), ResourceID: orgA, Type: "org.certificate_issued",
		Message: "certificate issued for *.acme.apps.example", CreatedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	read := func(key string, want int) {
		t.Helper()
		h.as(key, func() {
			status, code, b := h.do(http.MethodGet, "/events?resource_id="+orgA, nil, nil)
			if status != want {
				t.Errorf("events of the org: %d %s, want %d", status, code, want)
				return
			}
			if want != 200 {
				return
			}
			var l client.List[client.Event]
			if err := json.Unmarshal(b, &l); err != nil || len(l.Data) != 1 || l.Data[0].Type != "org.certificate_issued" {
				t.Errorf("events of the org: %s", b)
			}
		})
	}
	read(h.key, 200)
	read(h.keyFor(orgA, "", "", store.RoleViewer), 200)
	read(h.keyFor(orgB, "", "", store.RoleAdmin), 404)
	read(h.keyFor(orgA, wsA, "", store.RoleAdmin), 404)
	if status, code, _ := h.do(http.MethodGet, "/events?resource_id="+id.New(id.Org), nil, nil); status != 404 {
		t.Errorf("events of an unknown org: %d %s", status, code)
	}
}
