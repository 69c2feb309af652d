package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/berth-dev/berth/client"
)

// maxPages bounds a list walk, so a cursor that never ends cannot hold a
// page request forever.
const maxPages = 20

func (s *Server) workspace(ctx context.Context) (*client.Workspace, error) {
	var ws client.Workspace
	if err := s.api.Do(ctx, http.MethodGet, "/workspaces/"+url.PathEscape(s.workspaceID), nil, "", &ws); err != nil {
		return nil, fmt.Errorf("reading workspace %s: %w", s.workspaceID, err)
	}
	return &ws, nil
}

func (s *Server) org(ctx context.Context, id string) (*client.Org, error) {
	var o client.Org
	if err := s.api.Do(ctx, http.MethodGet, "/orgs/"+url.PathEscape(id), nil, "", &o); err != nil {
		return nil, fmt.Errorf("reading org %s: %w", id, err)
	}
	return &o, nil
}

func (s *Server) projects(ctx context.Context) ([]client.Project, error) {
	return listAll[client.Project](ctx, s.api, "/projects", url.Values{"workspace_id": {s.workspaceID}})
}

func (s *Server) deployments(ctx context.Context, projectID string) ([]client.Deployment, error) {
	return listAll[client.Deployment](ctx, s.api, "/deployments", url.Values{"project_id": {projectID}})
}

// listAll follows a list endpoint's cursor to the end.
func listAll[T any](ctx context.Context, c *client.Client, path string, q url.Values) ([]T, error) {
	var all []T
	q.Set("limit", "1000")
	for range maxPages {
		var page client.List[T]
		if err := c.Do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, "", &page); err != nil {
			return nil, fmt.Errorf("listing %s: %w", path, err)
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all, nil
		}
		q.Set("cursor", page.NextCursor)
	}
	return all, nil
}
