// Package edge is Berth's public HTTP entry: a host-routed reverse proxy
// whose route table is swapped atomically, with branded pages for the
// answers the edge gives itself.
package edge
