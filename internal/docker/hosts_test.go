package docker

import "testing"

// TestExtraHosts checks that a spec adds names with addresses to a
// container's hosts file and nothing else.
func TestExtraHosts(t *testing.T) {
	if got, err := extraHosts([]string{"s3.berth.internal:172.17.0.1", "v6.internal:fd00::1"}); err != nil || len(got) != 2 {
		t.Fatalf("valid entries: %v, %v", got, err)
	}
	for _, bad := range []string{"s3.berth.internal", "s3.berth.internal:host-gateway", "two words:1.2.3.4", ":1.2.3.4", "x:1.2.3.4\nevil"} {
		if _, err := extraHosts([]string{bad}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
