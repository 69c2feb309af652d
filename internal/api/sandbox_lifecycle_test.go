package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
)

// TestSandboxLifecycle checks the answers of the lifecycle calls against
// the spec, on a sandbox no host runs: a transition its status does not
// allow is a 409 invalid_state that changes nothing, and deleting twice
// answers the same.
func TestSandboxLifecycle(t *testing.T) {
	f := newDBFixture(t)
	sbx := func() client.Sandbox {
		t.Helper()
		_, _, b := f.h.do(http.MethodGet, "/sandboxes/"+f.sbx, nil, nil)
		var s client.Sandbox
		json.Unmarshal(b, &s)
		return s
	}
	call := func(action string, want int, wantCode string) {
		t.Helper()
		status, code, b := f.h.do(http.MethodPost, "/sandboxes/"+f.sbx+"/"+action, nil, nil)
		if status != want || code != wantCode {
			t.Fatalf("%s: %d %s %s; want %d %q", action, status, code, b, want, wantCode)
		}
		if want == http.StatusConflict && !strings.Contains(string(b), "/sandboxes/") && !strings.Contains(string(b), "new sandbox") {
			t.Errorf("%s: the problem does not say what to do: %s", action, b)
		}
	}

	call("stop", 200, "")
	call("stop", 200, "") // again: the same answer
	if s := sbx(); s.Status != "stopped" || s.StatusReason == "" {
		t.Fatalf("stopped: %+v", s)
	}
	call("resume", 409, "invalid_state")
	call("pause", 409, "invalid_state")
	if s := sbx(); s.Status != "stopped" {
		t.Fatalf("a refused transition changed the sandbox: %+v", s)
	}

	for range 2 {
		if status, code, b := f.h.do(http.MethodDelete, "/sandboxes/"+f.sbx, nil, nil); status != http.StatusNoContent {
			t.Fatalf("delete: %d %s %s", status, code, b)
		}
	}
	if s := sbx(); s.Status != "deleted" {
		t.Fatalf("deleted: %+v", s)
	}
	for _, action := range []string{"start", "stop", "pause", "resume", "restart"} {
		call(action, 409, "invalid_state")
	}
	_, _, b := f.h.do(http.MethodGet, "/sandboxes?project_id="+f.prj, nil, nil)
	var list client.List[client.Sandbox]
	json.Unmarshal(b, &list)
	if len(list.Data) != 0 {
		t.Fatalf("a deleted sandbox is listed: %s", b)
	}
	if status, code, _ := f.h.do(http.MethodDelete, "/sandboxes/sbx_01m000000000000000000000x0", nil, nil); status != 404 || code != "not_found" {
		t.Fatalf("delete of a missing sandbox: %d %s", status, code)
	}
}
