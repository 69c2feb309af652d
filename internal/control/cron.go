package control

import "context"

// runScheduler starts due cron runs until ctx ends.
func (c *Control) runScheduler(ctx context.Context) {}
