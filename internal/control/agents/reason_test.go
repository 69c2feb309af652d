package agents

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/agent"
)

func TestReasonHidesHowHostsAreReached(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	transport := fmt.Errorf("reaching agent: %w", &net.OpError{Op: "dial", Net: "tcp",
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, Err: fmt.Errorf("connection refused")})
	engine := &agent.Error{Status: 500, Code: "runtime_error", Detail: `Post "http://%2Fvar%2Frun%2Fdocker.sock/v1.41/containers/create": EOF`}
	for _, err := range []error{transport, engine} {
		got := Reason(log, err)
		for _, secret := range []string{"127.0.0.1", "41234", "docker.sock", "agent"} {
			if strings.Contains(got, secret) {
				t.Errorf("reason %q reveals %q", got, secret)
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "41234") {
		t.Errorf("the operator's log lacks the cause: %q", lines)
	}
	build := &agent.Error{Status: 422, Code: "build_failed", Detail: "Step 2/3 : RUN npm ci\nnpm ERR! missing package-lock.json"}
	if got := Reason(log, fmt.Errorf("building: %w", build)); got != build.Detail {
		t.Errorf("reason of a failed build = %q, want the build's own words", got)
	}
}
