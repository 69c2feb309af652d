package agents

import (
	"errors"
	"log/slog"

	"github.com/berth-dev/berth/internal/agent"
)

// Reason turns an error met while driving a host into words a user may
// see in a status reason: what the app, its build or the engine said
// about the request (the agent's 4xx answers), never how Berth reached the
// host. Anything else goes to the operator's log.
func Reason(log *slog.Logger, err error) string {
	var ae *agent.Error
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return ae.Detail
	}
	log.Error("host error", "err", err)
	return "the host could not do it; the operator's log has the cause, and the next deploy retries"
}
