// Package edge is Berth's public HTTP entry: a host-routed reverse proxy
// whose route table is swapped atomically, with branded pages for the
// answers the edge gives itself.
//
// The edge asks a Resolver (UseResolver, Follow) which app serves each
// hostname and whose brand its pages carry: the control plane's own, in
// process, or one over the network (package resolve). Answers are cached
// on first use and dropped when the resolver's change stream says they are
// stale; a fixed Table can be installed with SetTable instead, for tests
// and benchmarks. The edge never reads a database or talks to a container
// runtime. Each request is routed by its Host header through the table it
// started with: a Ready route is proxied to its upstream (websockets and
// streamed responses included), a Deploying route gets a loading page
// that refreshes itself (503 with Retry-After), and a Down route, an
// unreachable upstream or an unknown host get a 502 or 404 page in the
// owner's brand.
//
// Every page the edge produces carries an X-Edge-Page header (not-found,
// bad-gateway, loading, tls-pending or rate-limited), a
// Content-Security-Policy that lets no script run, and Cache-Control:
// no-store, so a readiness
// probe can tell it from an app's own answer. Pages and headers never name
// an upstream address, the software behind the edge or its version; those
// go to Config.Log only.
package edge
