package domains

import (
	"context"
	"errors"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Re-verification defaults.
const (
	defaultRecheck = time.Hour
	defaultGrace   = 24 * time.Hour
)

func (c *Service) recheckInterval() time.Duration {
	if c.cfg.Recheck > 0 {
		return c.cfg.Recheck
	}
	return defaultRecheck
}

func (c *Service) recheckGrace() time.Duration {
	if c.cfg.Grace > 0 {
		return c.cfg.Grace
	}
	return defaultGrace
}

// Watch re-verifies the verified domains until ctx ends: each one's
// TXT record is looked up again every recheck interval, and a domain
// whose record has been missing for longer than the grace period fails.
func (c *Service) Watch(ctx context.Context) {
	every := min(max(c.recheckInterval()/4, 50*time.Millisecond), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		domains, err := store.ListAll(ctx, c.st.ListDomains)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("listing domains to re-verify failed", "err", err)
			}
			continue
		}
		for _, d := range domains {
			if !d.Verified() {
				continue
			}
			if err := c.recheckDomain(ctx, d, time.Now().UTC()); err != nil && ctx.Err() == nil {
				c.log.Warn("re-verifying domain failed", "domain", d.ID, "err", err)
			}
		}
	}
}

// recheckDomain looks up a verified domain's TXT record again when its
// last check is older than the interval, and records what it found.
func (c *Service) recheckDomain(ctx context.Context, d *store.Domain, now time.Time) error {
	check, err := c.st.GetDomainCheck(ctx, d.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		check = &store.DomainCheck{DomainID: d.ID, CheckedAt: d.VerifiedAt}
	case err != nil:
		return err
	}
	if now.Sub(check.CheckedAt) < c.recheckInterval() {
		return nil
	}
	reason, ok, answered := c.lookupTXT(ctx, d)
	check.CheckedAt = now
	switch {
	case ok:
		if !check.MissingSince.IsZero() {
			c.events.Record(ctx, d.ID, "domain.record_restored", "the TXT record %s%s is back", ChallengePrefix, d.Hostname)
		}
		check.MissingSince, check.Found = time.Time{}, ""
		return c.st.PutDomainCheck(ctx, check)
	case !answered:
		// DNS did not answer: that says nothing about the record, so the
		// grace period neither starts nor runs out on it.
		return c.st.PutDomainCheck(ctx, check)
	}
	check.Found = reason
	if check.MissingSince.IsZero() {
		check.MissingSince = now
		c.events.Record(ctx, d.ID, "domain.record_missing", "%s; the domain fails at %s unless the record is back by then",
			reason, now.Add(c.recheckGrace()).Format(time.RFC3339))
	}
	if err := c.st.PutDomainCheck(ctx, check); err != nil {
		return err
	}
	if now.Sub(check.MissingSince) < c.recheckGrace() {
		return nil
	}
	// DNS no longer shows the token: the domain stops being verified, so it
	// stops routing and another org may claim it.
	d.Status, d.VerifiedAt = store.DomainFailed, time.Time{}
	d.StatusReason = "re-verification failed: " + reason + " (missing since " + check.MissingSince.Format(time.RFC3339) +
		"); restore the record and verify again"
	if err := c.st.UpdateDomain(ctx, d); err != nil {
		return err
	}
	c.events.Record(ctx, d.ID, "domain.failed", "%s", d.StatusReason)
	c.routes.DomainChanged(d.Hostname)
	return nil
}
