// Package resolve carries the route resolver between processes: Handler
// serves a control plane's edge.Resolver on a private listener, and
// Client is the edge.Resolver a separate `berth edge` process asks.
//
// The protocol is small and private (never part of the public API):
//
//	GET /internal/v1/resolve?host=NAME  → an answer, JSON
//	GET /internal/v1/pages/{digest}     → a custom page template, text/html
//	GET /internal/v1/changes            → the changes, text/event-stream
//
// Every request carries "Authorization: Bearer <internal key>". The
// change stream starts with a change that invalidates everything (the
// client's cache may have missed changes while it was not watching), then
// sends every change as an event whose id is its version, and a comment
// every 15 s so that dead connections are noticed.
package resolve

import (
	"github.com/berth-dev/berth/internal/edge"
)

// Paths of the protocol.
const (
	ResolvePath = "/internal/v1/resolve"
	PagesPath   = "/internal/v1/pages/"
	ChangesPath = "/internal/v1/changes"
)

// answer is an edge.Answer on the wire.
type answer struct {
	Found    bool              `json:"found"`
	State    string            `json:"state,omitempty"`
	Upstream string            `json:"upstream,omitempty"`
	Brand    brand             `json:"brand"`
	Pages    map[string]string `json:"pages,omitempty"`
	Owners   []string          `json:"owners,omitempty"`
}

type brand struct {
	Name         string `json:"name,omitempty"`
	PrimaryColor string `json:"primary_color,omitempty"`
	AccentColor  string `json:"accent_color,omitempty"`
	LogoURL      string `json:"logo_url,omitempty"`
	SupportURL   string `json:"support_url,omitempty"`
	SupportEmail string `json:"support_email,omitempty"`
}

// change is an edge.Change on the wire.
type change struct {
	Version  uint64   `json:"version"`
	All      bool     `json:"all,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	Suffixes []string `json:"suffixes,omitempty"`
	Owners   []string `json:"owners,omitempty"`
}

func toWire(a edge.Answer) answer {
	w := answer{Found: a.Found, Brand: brandToWire(a.Brand), Pages: a.Pages, Owners: a.Owners}
	if a.Found {
		w.State, w.Upstream = a.Route.State.String(), a.Route.Upstream
	}
	return w
}

func fromWire(host string, w answer) edge.Answer {
	a := edge.Answer{Found: w.Found, Brand: brandFromWire(w.Brand), Pages: w.Pages, Owners: w.Owners}
	if w.Found {
		a.Route = edge.Route{Host: host, Upstream: w.Upstream, State: parseState(w.State), Brand: a.Brand}
	}
	return a
}

func parseState(s string) edge.State {
	switch s {
	case "ready":
		return edge.Ready
	case "deploying":
		return edge.Deploying
	}
	return edge.Down
}

func brandToWire(b edge.Brand) brand {
	return brand{Name: b.Name, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor, LogoURL: b.LogoURL,
		SupportURL: b.SupportURL, SupportEmail: b.SupportEmail}
}

func brandFromWire(b brand) edge.Brand {
	return edge.Brand{Name: b.Name, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor, LogoURL: b.LogoURL,
		SupportURL: b.SupportURL, SupportEmail: b.SupportEmail}
}

func changeToWire(c edge.Change) change {
	return change{Version: c.Version, All: c.All, Hosts: c.Hosts, Suffixes: c.Suffixes, Owners: c.Owners}
}

func changeFromWire(c change) edge.Change {
	return edge.Change{Version: c.Version, All: c.All, Hosts: c.Hosts, Suffixes: c.Suffixes, Owners: c.Owners}
}
