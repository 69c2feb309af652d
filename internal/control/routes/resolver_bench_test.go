package routes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/control"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/control/routes"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/sqlite"
	"github.com/berth-dev/berth/internal/templates"
)

// resolverWorld fills a real SQLite store with n deployments spread over
// 10 orgs of 10 workspaces, each org with a verified custom domain, and
// returns the resolver and every hostname that routes: the managed and
// the custom name of each deployment.
func resolverWorld(tb testing.TB, n int) (*routes.RouteResolver, []string) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(tb.TempDir()+"/berth.db", make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	var hosts []string
	err = st.InTx(ctx, func(tx store.Store) error {
		for o := range 10 {
			org := &store.Org{ID: fmt.Sprintf("org_%02d", o), Slug: fmt.Sprintf("org%d", o), Name: fmt.Sprintf("Org %d", o), CreatedAt: now}
			if err := tx.CreateOrg(ctx, org); err != nil {
				return err
			}
			if err := tx.PutBranding(ctx, &store.Branding{OwnerID: org.ID, OrgID: org.ID, ProductName: "Brand", PrimaryColor: "#0a7", UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateDomain(ctx, &store.Domain{ID: "dom_" + org.ID, Hostname: fmt.Sprintf("brand%d.example", o), OrgID: org.ID,
				Token: "t", Status: store.DomainVerified, VerifiedAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			for w := range 10 {
				if err := tx.CreateWorkspace(ctx, &store.Workspace{ID: fmt.Sprintf("ws_%02d_%02d", o, w), OrgID: org.ID,
					Slug: fmt.Sprintf("w%d", w), Name: "W", CreatedAt: now}); err != nil {
					return err
				}
			}
		}
		for i := range n / 2 {
			o, w := i%10, (i/10)%10
			p := &store.Project{ID: fmt.Sprintf("prj_%06d", i), OrgID: fmt.Sprintf("org_%02d", o), WorkspaceID: fmt.Sprintf("ws_%02d_%02d", o, w),
				Slug: fmt.Sprintf("app%d", i), Name: "App", CreatedAt: now}
			if err := tx.CreateProject(ctx, p); err != nil {
				return err
			}
			if err := tx.CreateDeployment(ctx, &store.Deployment{ID: fmt.Sprintf("dep_%06d", i), OrgID: p.OrgID, WorkspaceID: p.WorkspaceID,
				ProjectID: p.ID, Product: store.ProductStandard, Status: store.DeploymentReady, Upstream: "127.0.0.1:1000",
				CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			hosts = append(hosts, fmt.Sprintf("app%d.org%d.localhost", i, o), fmt.Sprintf("app%d.brand%d.example", i, o))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	c := control.New(control.Config{Store: st, Templates: templates.New(nil), Names: names.Names{Domain: "localhost"}, Brand: edge.Brand{Name: "Platform"}})
	return c.Routes.Resolver(), hosts
}

// BenchmarkResolve is the resolver's cost per hostname with 10 and with
// 10,000 names in the store: what an edge pays on a cache miss.
func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("hostnames=%d", n), func(b *testing.B) {
			r, hosts := resolverWorld(b, n)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a, err := r.Resolve(ctx, hosts[(i*7919)%len(hosts)])
				if err != nil || !a.Found || a.Route.Upstream == "" {
					b.Fatalf("%s: %+v %v", hosts[i%len(hosts)], a, err)
				}
				i++
			}
		})
	}
}

// TestResolveWorld checks the benchmark's world resolves as built.
func TestResolveWorld(t *testing.T) {
	r, hosts := resolverWorld(t, 200)
	for _, h := range hosts {
		a, err := r.Resolve(context.Background(), h)
		if err != nil || !a.Found || a.Brand.Name != "Brand" {
			t.Fatalf("%s: %+v %v", h, a, err)
		}
	}
	a, err := r.Resolve(context.Background(), "nope.brand3.example")
	if err != nil || a.Found || a.Brand.Name != "Brand" {
		t.Fatalf("unknown name under a custom domain: %+v %v", a, err)
	}
}
