package store

// GetID returns the org's id; list paging uses it as the cursor.
func (o *Org) GetID() string { return o.ID }

// GetID returns the workspace's id.
func (w *Workspace) GetID() string { return w.ID }

// GetID returns the project's id.
func (p *Project) GetID() string { return p.ID }

// GetID returns the sandbox's id.
func (s *Sandbox) GetID() string { return s.ID }

// GetID returns the release's id.
func (r *Release) GetID() string { return r.ID }

// GetID returns the deployment's id.
func (d *Deployment) GetID() string { return d.ID }
