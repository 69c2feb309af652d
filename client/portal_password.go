package client

import (
	"context"
	"net/http"
	"net/url"
)

// PortalPassword is the sign-in password of a host's portal.
type PortalPassword struct {
	// Password is the password to set; empty in a request makes the
	// platform generate one, which the answer carries once.
	Password string `json:"password,omitempty"`
}

// SetPortalPassword sets the sign-in password of a host's portal (an
// admin's call), or generates one when password is empty, and returns
// the password in effect.
func (c *Client) SetPortalPassword(ctx context.Context, hostID, password string) (string, error) {
	var out PortalPassword
	err := c.json(ctx, http.MethodPost, "/docker-deploy/hosts/"+url.PathEscape(hostID)+"/portal-password", PortalPassword{Password: password}, &out)
	return out.Password, err
}
