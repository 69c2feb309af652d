package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/store"
)

// The domain and branding types live in client/domains.go, which the
// OpenAPI tests' type list does not cover: map their schemas here.
func init() {
	for name, typ := range map[string]reflect.Type{
		"Branding":      reflect.TypeFor[client.Branding](),
		"OwnerBranding": reflect.TypeFor[client.OwnerBranding](),
		"DNSRecord":     reflect.TypeFor[client.DNSRecord](),
		"Domain":        reflect.TypeFor[client.Domain](),
		"DomainList":    reflect.TypeFor[client.List[client.Domain]](),
		"CreateDomain":  reflect.TypeFor[client.CreateDomain](),
		"Page":          reflect.TypeFor[client.Page](),
		"RoutesResync":  reflect.TypeFor[client.RoutesResync](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["CreateDomain"] = []string{"hostname"}
	requestRequired["Branding"] = []string{}
}

// TestDomainsAPI checks who may see and change domains and branding, and
// the answers to bad input.
func TestDomainsAPI(t *testing.T) {
	h := newHarness(t)
	orgA := h.create("/orgs", client.CreateOrg{Name: "Clinic IQ"})
	wsA := h.create("/workspaces", client.CreateWorkspace{OrgID: orgA, Name: "Dr Smith"})
	orgB := h.create("/orgs", client.CreateOrg{Name: "Rival"})
	adminA := h.keyFor(orgA, "", "", store.RoleAdmin)
	viewerA := h.keyFor(orgA, "", "", store.RoleViewer)
	adminB := h.keyFor(orgB, "", "", store.RoleAdmin)

	expect := func(method, path string, body any, wantStatus int, wantCode string) []byte {
		t.Helper()
		status, code, b := h.do(method, path, body, nil)
		if status != wantStatus || code != wantCode {
			t.Errorf("%s %s: %d %q, want %d %q: %s", method, path, status, code, wantStatus, wantCode, b)
		}
		return b
	}

	var dom client.Domain
	h.as(adminA, func() {
		b := expect("POST", "/domains", client.CreateDomain{Hostname: "CLINICIQ.dev.", OrgID: orgA}, 201, "")
		json.Unmarshal(b, &dom)
		expect("POST", "/domains", client.CreateDomain{Hostname: "x.example"}, 422, "missing_owner")
		expect("POST", "/domains", client.CreateDomain{Hostname: "x.example", OrgID: orgA, WorkspaceID: wsA}, 422, "multiple_owners")
		expect("POST", "/domains", client.CreateDomain{Hostname: "*.x.example", OrgID: orgA}, 422, "invalid_hostname")
		expect("POST", "/domains", client.CreateDomain{Hostname: "x.example", DeploymentID: "dep_nope"}, 422, "owner_not_found")
		expect("PUT", "/orgs/"+orgA+"/branding", client.Branding{PrimaryColor: "red;}"}, 422, "invalid_color")
		expect("PUT", "/orgs/"+orgA+"/branding", client.Branding{ProductName: "ClinicIQ Care", SupportEmail: "help@cliniciq.dev"}, 200, "")
		expect("PUT", "/workspaces/"+wsA+"/branding", client.Branding{PrimaryColor: "#0a7"}, 200, "")
		var ob client.OwnerBranding
		json.Unmarshal(expect("GET", "/workspaces/"+wsA+"/branding", nil, 200, ""), &ob)
		want := client.Branding{ProductName: "ClinicIQ Care", PrimaryColor: "#0a7", SupportEmail: "help@cliniciq.dev"}
		if ob.OwnerID != wsA || ob.Set != (client.Branding{PrimaryColor: "#0a7"}) || ob.Effective != want {
			t.Errorf("workspace branding = %+v", ob)
		}
	})
	if dom.Hostname != "cliniciq.dev" || dom.Status != "pending_verification" || dom.Level != "org" || len(dom.Records) != 3 ||
		dom.Records[0] != (client.DNSRecord{Type: "TXT", Name: "_berth-challenge.cliniciq.dev", Value: dom.Records[0].Value}) ||
		!strings.HasPrefix(dom.Records[0].Value, "berth-verify=") {
		t.Errorf("created domain = %+v", dom)
	}

	// Another org's key learns nothing and changes nothing.
	h.as(adminB, func() {
		expect("GET", "/domains/"+dom.ID, nil, 404, "not_found")
		expect("POST", "/domains/"+dom.ID+"/verify", nil, 404, "not_found")
		expect("DELETE", "/domains/"+dom.ID, nil, 404, "not_found")
		expect("POST", "/domains", client.CreateDomain{Hostname: "y.example", OrgID: orgA}, 422, "owner_not_found")
		expect("PUT", "/orgs/"+orgA+"/branding", client.Branding{}, 404, "not_found")
		var l client.List[client.Domain]
		json.Unmarshal(expect("GET", "/domains", nil, 200, ""), &l)
		if len(l.Data) != 0 {
			t.Errorf("org B lists %d domains of org A", len(l.Data))
		}
	})
	// A viewer reads but does not change.
	h.as(viewerA, func() {
		expect("GET", "/domains/"+dom.ID, nil, 200, "")
		expect("GET", "/orgs/"+orgA+"/branding", nil, 200, "")
		expect("PUT", "/orgs/"+orgA+"/branding", client.Branding{}, 403, "forbidden")
		expect("DELETE", "/domains/"+dom.ID, nil, 403, "forbidden")
	})
	// Without a resolver nothing verifies; the problem names the record,
	// and the domain is unchanged.
	b := expect("POST", "/domains/"+dom.ID+"/verify", nil, 422, "dns_not_verified")
	if !strings.Contains(string(b), "_berth-challenge.cliniciq.dev") {
		t.Errorf("verify without DNS: %s", b)
	}
	var v client.Domain
	json.Unmarshal(expect("GET", "/domains/"+dom.ID, nil, 200, ""), &v)
	if v.Status != "pending_verification" || v.StatusReason != "" || !v.UpdatedAt.Equal(dom.UpdatedAt) {
		t.Errorf("after a failed verify = %+v", v)
	}
	expect("DELETE", "/domains/"+dom.ID, nil, 204, "")
	expect("GET", "/domains/"+dom.ID, nil, 404, "not_found")
}
