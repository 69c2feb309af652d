package buckets

import (
	"context"
	"errors"
	"maps"

	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

// bucketReach is how the containers of one sandbox or deployment reach
// the S3 endpoint: the S3_ENDPOINT they get and the hosts entries
// ("name:ip") that name needs.
type bucketReach struct {
	endpoint string
	hosts    []string
}

// reachOf says how the containers of targetID reach the S3 endpoint.
//
// Containers beside the embedded server (on this machine's engine) reach
// it on the Docker bridge, as s3.berth.internal. A deployment on a Docker
// Deploy host of another machine (reached through its agent's tunnel)
// cannot: the bridge is this machine's. Its apps use the endpoint
// browsers use, s3.{D} at the edge, which they reach as any client on
// the network does; where that name is not in their DNS (a private
// network), Buckets.RemoteEdgeIP puts it in their hosts file. An
// external endpoint is the same for every container.
func (c *Service) reachOf(ctx context.Context, orgID, targetID string) bucketReach {
	local := bucketReach{endpoint: c.cfg.AppEndpoint, hosts: c.cfg.AppHosts}
	if c.cfg.Upstream == "" || !id.HasPrefix(targetID, id.Deployment) {
		return local
	}
	d, err := c.st.GetDeployment(ctx, targetID)
	if err != nil || d.HostID == "" {
		return local
	}
	h, err := c.st.GetHost(ctx, d.HostID)
	if err != nil || !c.tunnels.ViaAgent(h) {
		return local
	}
	host := c.BucketHost(ctx, &store.Bucket{OrgID: orgID})
	r := bucketReach{endpoint: c.cfg.Names.URL(host)}
	if ip := c.cfg.RemoteEdgeIP; ip != "" {
		r.hosts = []string{host + ":" + ip}
	}
	return r
}

// LinkedBuckets returns the variables the buckets linked to targetID (of
// the project) give its containers, and the hosts entries those need;
// nothing when no bucket is linked.
func (c *Service) LinkedBuckets(ctx context.Context, projectID, targetID string) (map[string]string, []string, error) {
	links, err := c.st.ListBucketLinks(ctx, store.BucketLinkFilter{TargetID: targetID})
	if err != nil {
		return nil, nil, err
	}
	env := map[string]string{}
	var reach *bucketReach
	for _, l := range links {
		b, err := c.st.GetBucket(ctx, l.BucketID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if b.ProjectID != projectID {
			continue
		}
		if reach == nil {
			r := c.reachOf(ctx, b.OrgID, targetID)
			reach = &r
		}
		maps.Copy(env, c.bucketEnvAt(b, reach.endpoint))
	}
	if reach == nil {
		return env, nil, nil
	}
	return env, reach.hosts, nil
}

// bucketEnvAt is BucketEnv with the endpoint the app reaches.
func (c *Service) bucketEnvAt(b *store.Bucket, endpoint string) map[string]string {
	env := c.BucketEnv(b)
	env["S3_ENDPOINT"], env["AWS_ENDPOINT_URL_S3"] = endpoint, endpoint
	return env
}
