package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/store"
)

// TestSelfAPIKey checks that any key can read its own role and scope, and
// never its secret.
func TestSelfAPIKey(t *testing.T) {
	h := newHarness(t)
	org := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	ws := h.create("/workspaces", client.CreateWorkspace{OrgID: org, Name: "Dr Smith"})
	prj := h.create("/projects", client.CreateProject{WorkspaceID: ws, Name: "Site"})

	self := func() client.APIKey {
		t.Helper()
		status, code, b := h.do(http.MethodGet, "/api-keys/self", nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /api-keys/self: %d %s %s", status, code, b)
		}
		if strings.Contains(string(b), h.key) || strings.Contains(string(b), `"secret"`) {
			t.Fatalf("the answer carries the secret: %s", b)
		}
		var k client.APIKey
		json.Unmarshal(b, &k)
		return k
	}
	if k := self(); k.OrgID != "" || k.Role != store.RoleAdmin || !strings.HasPrefix(k.ID, "key_") {
		t.Errorf("platform key: %+v", k)
	}
	h.as(h.keyFor(org, "", prj, store.RoleViewer), func() {
		if k := self(); k.OrgID != org || k.WorkspaceID != ws || k.ProjectID != prj || k.Role != store.RoleViewer {
			t.Errorf("project viewer key: %+v", k)
		}
	})
	h.as("sk_nosuchkey", func() {
		if status, code, _ := h.do(http.MethodGet, "/api-keys/self", nil, nil); status != 401 || code != "unauthorized" {
			t.Errorf("unknown key: %d %s", status, code)
		}
	})
}
