package edge

import "strings"

// Brand is how the owner of a hostname presents itself on the pages the
// edge serves on its behalf.
type Brand struct {
	// Name is shown as the page's signature and in its title.
	Name string
	// PrimaryColor is a CSS colour: "#rgb", "#rrggbb", "#rrggbbaa" or a
	// colour keyword such as "teal". Anything else falls back to a neutral
	// colour, so a bad value can never inject CSS.
	PrimaryColor string
	// LogoURL is the one thing a page may load: an http(s) URL, or a
	// data:image URL for a fully self-contained page. Other schemes are
	// dropped.
	LogoURL string
	// SupportURL, when set, is linked from every page as the place to ask
	// for help: an http(s) or mailto URL.
	SupportURL string
	// AccentColor colours the pages' links, with the same rules as
	// PrimaryColor; empty uses PrimaryColor.
	AccentColor string
	// SupportEmail, when set, is shown on every page as a mailto link.
	SupportEmail string
}

// State says whether a route's app can take traffic.
type State int

const (
	// Ready routes are proxied to their upstream.
	Ready State = iota
	// Deploying routes answer with a loading page that refreshes itself
	// (503 with Retry-After) while the app is being built or started.
	Deploying
	// Down routes answer with a 502 page: the app is not running.
	Down
)

// String returns the state's lowercase name.
func (s State) String() string {
	switch s {
	case Ready:
		return "ready"
	case Deploying:
		return "deploying"
	case Down:
		return "down"
	}
	return "unknown"
}

// Route sends the requests for one hostname to one upstream.
type Route struct {
	// Host is the exact hostname served, such as "shop.acme.example".
	Host string
	// Upstream is the app's address as host:port, usually on loopback
	// ("127.0.0.1:49153"). It is never shown to clients.
	Upstream string
	// Via, when set, names the way to the upstream that Config.DialVia
	// takes (e.g. the host whose agent tunnels to it); empty: the edge
	// dials Upstream itself. Never shown to clients.
	Via string
	// State decides whether requests are proxied or answered by the edge.
	State State
	// Brand is used on the pages the edge serves for this host. When it is
	// the zero Brand, the zone's brand or the default brand is used.
	Brand Brand
}

// Zone brands the hosts under a domain suffix that have no route, so that
// a mistyped name under an org's domain still gets that org's 404 page.
type Zone struct {
	// Suffix is a domain such as "acme.example". It matches the domain
	// itself and every name under it, on label boundaries: "acme.example"
	// matches "x.acme.example" but not "notacme.example". A leading "." or
	// "*." is ignored.
	Suffix string
	// Brand is used on the 404 page of the hosts the zone matches.
	Brand Brand
}

// Table is an immutable route table. Build a new one with NewTable and
// install it with Edge.SetTable; a nil *Table is an empty table.
type Table struct {
	routes map[string]Route
	zones  map[string]Brand
	// cache, when set, answers instead of routes and zones: the table of
	// an edge that asks a Resolver.
	cache *cache
}

// NewTable builds a table from routes and zones. Hostnames and suffixes are
// normalized the way Lookup normalizes requests (lowercase, no port, no
// trailing dot); when two routes or zones normalize to the same name, the
// later one wins. Entries with an empty name are ignored. The slices are
// not retained.
func NewTable(routes []Route, zones []Zone) *Table {
	t := &Table{
		routes: make(map[string]Route, len(routes)),
		zones:  make(map[string]Brand, len(zones)),
	}
	for _, r := range routes {
		r.Host = canonicalHost(r.Host)
		if r.Host == "" {
			continue
		}
		t.routes[r.Host] = r
	}
	for _, z := range zones {
		s := strings.TrimPrefix(z.Suffix, "*")
		s = canonicalHost(strings.TrimPrefix(s, "."))
		if s == "" {
			continue
		}
		t.zones[s] = z.Brand
	}
	return t
}

// Lookup returns the route for host, which may be a Host header: it is
// matched case-insensitively, without its port and without a trailing dot.
// The returned route's Host is the normalized name.
func (t *Table) Lookup(host string) (Route, bool) {
	return t.lookup(canonicalHost(host))
}

// lookup is Lookup for a host already in canonical form.
func (t *Table) lookup(host string) (Route, bool) {
	if t == nil {
		return Route{}, false
	}
	if t.cache != nil {
		a := t.cache.answer(host)
		return a.Route, a.Found
	}
	r, ok := t.routes[host]
	return r, ok
}

// zoneBrand returns the brand of the longest zone suffix that matches the
// canonical host. Walking the host's labels from the left tries the longest
// suffix first and costs one map probe per label, however many zones exist.
func (t *Table) zoneBrand(host string) (Brand, bool) {
	if t == nil {
		return Brand{}, false
	}
	if t.cache != nil {
		b := t.cache.answer(host).Brand
		return b, b != (Brand{})
	}
	for h := host; h != ""; {
		if b, ok := t.zones[h]; ok {
			return b, true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	return Brand{}, false
}

// canonicalHost lowercases a Host header value and strips its port, the
// brackets of an IPv6 literal and a trailing dot. It does not allocate
// unless the name has uppercase letters; net.SplitHostPort would allocate
// an error for every portless Host header, which is the common case.
func canonicalHost(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		// "name:port" and "[v6]:port" lose the port; a bare IPv6 literal
		// such as "::1" has other colons and no brackets, and is kept.
		if strings.HasPrefix(h, "[") || strings.IndexByte(h[:i], ':') < 0 {
			h = h[:i]
		}
	}
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}
