package names

import "testing"

func TestNames(t *testing.T) {
	cases := []struct {
		n    Names
		host string
		want string
	}{
		{Names{Domain: "localhost", Port: 7780}, "App.Acme.localhost", "http://app.acme.localhost:7780"},
		{Names{Domain: "example.com", Scheme: "https", Port: 443}, "app.acme.example.com", "https://app.acme.example.com"},
		{Names{Domain: "example.com", Scheme: "http", Port: 80}, "x.example.com", "http://x.example.com"},
		{Names{Domain: "example.com", Scheme: "https", Port: 8443}, "x.example.com", "https://x.example.com:8443"},
	}
	for _, c := range cases {
		if got := c.n.URL(c.host); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.host, got, c.want)
		}
	}
	n := Names{Domain: "localhost"}
	if got := n.DeploymentHost("acme", "site"); got != "site.acme.localhost" {
		t.Errorf("DeploymentHost = %q", got)
	}
	if got := n.SandboxHost("acme", "site-x1"); got != "site-x1.sandbox.acme.localhost" {
		t.Errorf("SandboxHost = %q", got)
	}
}
