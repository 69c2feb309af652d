package edge

import "testing"

func TestCanonicalHost(t *testing.T) {
	for in, want := range map[string]string{
		"app.example.com":        "app.example.com",
		"App.Example.COM":        "app.example.com",
		"app.example.com:8443":   "app.example.com",
		"app.example.com.":       "app.example.com",
		"APP.example.com.:80":    "app.example.com",
		"127.0.0.1:8080":         "127.0.0.1",
		"[::1]:8080":             "::1",
		"[::1]":                  "::1",
		"::1":                    "::1",
		"[2001:DB8::1]:443":      "2001:db8::1",
		"":                       "",
		"localhost:":             "localhost",
		"xn--bcher-kva.example.": "xn--bcher-kva.example",
	} {
		if got := canonicalHost(in); got != want {
			t.Errorf("canonicalHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableLookup(t *testing.T) {
	tbl := NewTable([]Route{
		{Host: "Shop.Acme.Example", Upstream: "127.0.0.1:1001"},
		{Host: "api.acme.example.", Upstream: "127.0.0.1:1002", State: Deploying},
		{Host: "dup.example", Upstream: "127.0.0.1:1"},
		{Host: "dup.example", Upstream: "127.0.0.1:2"},
		{Host: "", Upstream: "127.0.0.1:3"},
	}, nil)

	for host, want := range map[string]string{
		"shop.acme.example":       "127.0.0.1:1001",
		"SHOP.ACME.EXAMPLE:443":   "127.0.0.1:1001",
		"shop.acme.example.":      "127.0.0.1:1001",
		"api.acme.example":        "127.0.0.1:1002",
		"dup.example":             "127.0.0.1:2",
		"other.acme.example":      "",
		"acme.example":            "",
		"x.shop.acme.example":     "",
		"":                        "",
		"shop.acme.example.other": "",
	} {
		rt, ok := tbl.Lookup(host)
		if got := rt.Upstream; got != want || ok != (want != "") {
			t.Errorf("Lookup(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	if rt, _ := tbl.Lookup("Shop.Acme.Example"); rt.Host != "shop.acme.example" {
		t.Errorf("Lookup returned Host %q, want the normalized name", rt.Host)
	}

	var empty *Table
	if _, ok := empty.Lookup("shop.acme.example"); ok {
		t.Error("a nil table found a route")
	}
}

func TestTableZoneBrand(t *testing.T) {
	acme := Brand{Name: "Acme"}
	acmeEU := Brand{Name: "Acme EU"}
	tbl := NewTable(nil, []Zone{
		{Suffix: "acme.example", Brand: acme},
		{Suffix: "*.EU.acme.example.", Brand: acmeEU},
		{Suffix: "", Brand: Brand{Name: "everything"}},
	})
	for host, want := range map[string]string{
		"acme.example":          "Acme",
		"x.acme.example":        "Acme",
		"a.b.acme.example":      "Acme",
		"eu.acme.example":       "Acme EU",
		"shop.eu.acme.example":  "Acme EU",
		"shop.xeu.acme.example": "Acme",
		"notacme.example":       "",
		"example":               "",
		"":                      "",
	} {
		b, ok := tbl.zoneBrand(canonicalHost(host))
		if b.Name != want || ok != (want != "") {
			t.Errorf("zoneBrand(%q) = %q, %v; want %q", host, b.Name, ok, want)
		}
	}
}

func TestTableDoesNotRetainInput(t *testing.T) {
	routes := []Route{{Host: "a.example", Upstream: "127.0.0.1:1"}}
	tbl := NewTable(routes, nil)
	routes[0].Upstream = "127.0.0.1:2"
	if rt, _ := tbl.Lookup("a.example"); rt.Upstream != "127.0.0.1:1" {
		t.Errorf("the table changed with its input slice: %q", rt.Upstream)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Ready: "ready", Deploying: "deploying", Down: "down", State(42): "unknown"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
