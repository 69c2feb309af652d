package client

import (
	"context"
	"net/http"
	"net/url"
)

// PauseDeployment stops a deployment's containers; its URL answers an
// unavailable page and its cron jobs are held until it resumes.
func (c *Client) PauseDeployment(ctx context.Context, id string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodPost, "/deployments/"+url.PathEscape(id)+"/pause", nil, &out)
}

// ResumeDeployment starts a paused deployment again from its current
// release, without a build, and releases its cron jobs.
func (c *Client) ResumeDeployment(ctx context.Context, id string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodPost, "/deployments/"+url.PathEscape(id)+"/resume", nil, &out)
}

// DeleteDeployment removes a deployment's containers and route; its
// releases and history are kept and its cron jobs held.
func (c *Client) DeleteDeployment(ctx context.Context, id string) (*Deployment, error) {
	var out Deployment
	return &out, c.json(ctx, http.MethodDelete, "/deployments/"+url.PathEscape(id), nil, &out)
}
