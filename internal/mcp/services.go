package mcp

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/berth-dev/berth/client"
)

// Database is a managed data service without its credentials: a model
// links it rather than handling its password.
type Database struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	Name         string `json:"name"`
	Engine       string `json:"engine"`
	Status       string `json:"status" jsonschema:"provisioning, healthy (a real login worked), unhealthy or failed"`
	StatusReason string `json:"status_reason,omitempty"`
	// EnvNames are the variables a linked sandbox or deployment gets.
	EnvNames []string `json:"env_names,omitempty" jsonschema:"the variables link_database gives an app (DATABASE_URL and the like)"`
}

// Link is a data service or bucket linked to a sandbox or deployment.
type Link struct {
	DatabaseID   string   `json:"database_id,omitempty"`
	BucketID     string   `json:"bucket_id,omitempty"`
	SandboxID    string   `json:"sandbox_id,omitempty"`
	DeploymentID string   `json:"deployment_id,omitempty"`
	EnvNames     []string `json:"env_names" jsonschema:"the variables the target gets; it restarts with them"`
}

// Bucket is an S3 bucket without its keys.
type Bucket struct {
	ID        string   `json:"id"`
	ProjectID string   `json:"project_id"`
	Name      string   `json:"name"`
	S3Name    string   `json:"s3_name" jsonschema:"the bucket's name at the S3 endpoint (S3_BUCKET in a linked app)"`
	Endpoint  string   `json:"endpoint" jsonschema:"the S3 endpoint for browsers and scripts outside the platform"`
	Region    string   `json:"region"`
	EnvNames  []string `json:"env_names,omitempty" jsonschema:"the variables link_bucket gives an app (S3_ENDPOINT, S3_BUCKET, keys)"`
}

// CronJob is a scheduled job of a deployment.
type CronJob struct {
	ID           string     `json:"id"`
	ProjectID    string     `json:"project_id"`
	DeploymentID string     `json:"deployment_id"`
	Name         string     `json:"name"`
	Schedule     string     `json:"schedule"`
	Timezone     string     `json:"timezone"`
	Status       string     `json:"status" jsonschema:"active or paused"`
	StatusReason string     `json:"status_reason,omitempty"`
	NextRunAt    *time.Time `json:"next_run_at,omitempty"`
}

// Domain is a custom domain and what its owner must do at their DNS host.
type Domain struct {
	ID           string             `json:"id"`
	Hostname     string             `json:"hostname"`
	Level        string             `json:"level" jsonschema:"org, workspace or deployment"`
	Status       string             `json:"status" jsonschema:"pending_verification, verified, certificate_issued or failed"`
	StatusReason string             `json:"status_reason,omitempty"`
	Records      []client.DNSRecord `json:"records" jsonschema:"the DNS records to create: a TXT proving control, and where traffic goes"`
	URL          string             `json:"url,omitempty" jsonschema:"where the app answers once verified"`
}

func domainOf(d *client.Domain) Domain {
	return Domain{ID: d.ID, Hostname: d.Hostname, Level: d.Level, Status: d.Status, StatusReason: d.StatusReason, Records: d.Records, URL: d.URL}
}

type createDatabaseInput struct {
	ProjectID string `json:"project_id" jsonschema:"the project (prj_…)"`
	Name      string `json:"name" jsonschema:"unique in the project, e.g. main"`
	Engine    string `json:"engine,omitempty" jsonschema:"postgres (the default), mysql or redis"`
}

type linkInput struct {
	SandboxID    string `json:"sandbox_id,omitempty" jsonschema:"link to this sandbox (sbx_…)"`
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"or to this deployment (dep_…)"`
}

type linkDatabaseInput struct {
	DatabaseID string `json:"database_id" jsonschema:"the database (db_…)"`
	linkInput
}

type createBucketInput struct {
	ProjectID string `json:"project_id" jsonschema:"the project (prj_…)"`
	Name      string `json:"name" jsonschema:"unique in the project, e.g. uploads"`
}

type linkBucketInput struct {
	BucketID string `json:"bucket_id" jsonschema:"the bucket (bkt_…)"`
	linkInput
}

type presignInput struct {
	BucketID    string `json:"bucket_id" jsonschema:"the bucket (bkt_…)"`
	Key         string `json:"key" jsonschema:"the object's key, e.g. avatars/1.png"`
	Method      string `json:"method" jsonschema:"GET to download, PUT to upload"`
	ExpiresIn   int    `json:"expires_in,omitempty" jsonschema:"seconds, 1 to 604800 (default 3600)"`
	ContentType string `json:"content_type,omitempty" jsonschema:"for a PUT: the Content-Type the upload must send"`
}

type createCronJobInput struct {
	DeploymentID string   `json:"deployment_id" jsonschema:"the deployment (dep_…) the job runs against"`
	Schedule     string   `json:"schedule" jsonschema:"5 cron fields, e.g. */15 * * * * or 0 9 * * 1-5"`
	Name         string   `json:"name,omitempty" jsonschema:"a name for people, e.g. nightly report"`
	Timezone     string   `json:"timezone,omitempty" jsonschema:"an IANA name, e.g. Europe/Paris (default UTC)"`
	Path         string   `json:"path,omitempty" jsonschema:"an HTTP target: the path requested at the deployment's URL, e.g. /tasks/cleanup"`
	Method       string   `json:"method,omitempty" jsonschema:"GET (the default) or POST, for an HTTP target"`
	Command      []string `json:"command,omitempty" jsonschema:"a command target instead: argv run in a one-off container of the serving release, e.g. [\"node\",\"jobs/report.js\"]"`
}

type addDomainInput struct {
	Hostname     string `json:"hostname" jsonschema:"e.g. www.example.com"`
	DeploymentID string `json:"deployment_id,omitempty" jsonschema:"serve this deployment at exactly this hostname"`
	WorkspaceID  string `json:"workspace_id,omitempty" jsonschema:"or make it the domain of a workspace's apps"`
	OrgID        string `json:"org_id,omitempty" jsonschema:"or of an org's apps"`
}

type domainInput struct {
	DomainID string `json:"domain_id" jsonschema:"the domain (dom_…)"`
}

func envNames(env map[string]string) []string {
	return slices.Sorted(maps.Keys(env))
}

func (t *toolset) services() {
	add(t, spec{name: "create_database",
		description: "Create a managed database (postgres, mysql or redis) for a project; link it to a sandbox or deployment with link_database to give the app its connection variables.",
		input:       enum("engine", "postgres", "mysql", "redis"),
	}, func(ctx context.Context, c *client.Client, in createDatabaseInput) (Database, error) {
		db, err := c.CreateDatabase(ctx, client.CreateDatabase{ProjectID: in.ProjectID, Name: in.Name, Engine: in.Engine})
		if err != nil {
			return Database{}, err
		}
		return Database{ID: db.ID, ProjectID: db.ProjectID, Name: db.Name, Engine: db.Engine, Status: db.Status,
			StatusReason: db.StatusReason, EnvNames: envNames(db.Credentials.Env)}, nil
	})

	add(t, spec{name: "link_database",
		description: "Give a sandbox or a deployment a database's connection variables (DATABASE_URL and the like); the target restarts with them.",
	}, func(ctx context.Context, c *client.Client, in linkDatabaseInput) (Link, error) {
		l, err := c.LinkDatabase(ctx, in.DatabaseID, client.CreateDatabaseLink{SandboxID: in.SandboxID, DeploymentID: in.DeploymentID})
		if err != nil {
			return Link{}, err
		}
		return Link{DatabaseID: l.DatabaseID, SandboxID: l.SandboxID, DeploymentID: l.DeploymentID, EnvNames: l.EnvNames}, nil
	})

	add(t, spec{name: "create_bucket",
		description: "Create an S3 bucket for a project; link it with link_bucket to give an app its S3 variables, or presign URLs for browsers.",
	}, func(ctx context.Context, c *client.Client, in createBucketInput) (Bucket, error) {
		b, err := c.CreateBucket(ctx, client.CreateBucket{ProjectID: in.ProjectID, Name: in.Name})
		if err != nil {
			return Bucket{}, err
		}
		out := Bucket{ID: b.ID, ProjectID: b.ProjectID, Name: b.Name, S3Name: b.S3Name, Endpoint: b.Endpoint, Region: b.Region}
		if b.Credentials != nil {
			out.EnvNames = envNames(b.Credentials.Env)
		}
		return out, nil
	})

	add(t, spec{name: "link_bucket",
		description: "Give a sandbox or a deployment a bucket's S3 variables (endpoint, bucket name, keys); the target restarts with them.",
	}, func(ctx context.Context, c *client.Client, in linkBucketInput) (Link, error) {
		l, err := c.LinkBucket(ctx, in.BucketID, client.CreateBucketLink{SandboxID: in.SandboxID, DeploymentID: in.DeploymentID})
		if err != nil {
			return Link{}, err
		}
		return Link{BucketID: l.BucketID, SandboxID: l.SandboxID, DeploymentID: l.DeploymentID, EnvNames: l.EnvNames}, nil
	})

	add(t, spec{name: "presign", readOnly: true,
		description: "Make a presigned URL to download (GET) or upload (PUT) one object of a bucket, for a browser or a script; send the headers it lists.",
		input:       tweaks(enum("method", "GET", "PUT"), between("expires_in", 0, 604800)),
	}, func(ctx context.Context, c *client.Client, in presignInput) (client.PresignedURL, error) {
		if in.ExpiresIn == 0 {
			in.ExpiresIn = 3600
		}
		u, err := c.PresignBucket(ctx, in.BucketID, client.PresignBucket{Key: in.Key, Method: in.Method, ExpiresIn: in.ExpiresIn, ContentType: in.ContentType})
		if err != nil {
			return client.PresignedURL{}, err
		}
		if u.Headers == nil {
			u.Headers = map[string]string{}
		}
		return *u, nil
	})

	add(t, spec{name: "create_cron_job",
		description: "Schedule a job against a deployment on a 5-field cron schedule: an HTTP request to a path of its URL, or a command in its serving release.",
		input:       enum("method", "GET", "POST"),
	}, func(ctx context.Context, c *client.Client, in createCronJobInput) (CronJob, error) {
		d, err := c.GetDeployment(ctx, in.DeploymentID)
		if err != nil {
			return CronJob{}, err
		}
		var target client.CronTarget
		if len(in.Command) > 0 {
			target.Command = in.Command
		}
		if in.Path != "" || in.Method != "" {
			target.HTTP = &client.CronHTTP{Method: in.Method, Path: in.Path}
		}
		j, err := c.CreateCronJob(ctx, client.CreateCronJob{ProjectID: d.ProjectID, DeploymentID: d.ID, Name: in.Name,
			Schedule: in.Schedule, Timezone: in.Timezone, Target: target})
		if err != nil {
			return CronJob{}, err
		}
		return CronJob{ID: j.ID, ProjectID: j.ProjectID, DeploymentID: j.DeploymentID, Name: j.Name, Schedule: j.Schedule,
			Timezone: j.Timezone, Status: j.Status, StatusReason: j.StatusReason, NextRunAt: j.NextRunAt}, nil
	})

	add(t, spec{name: "add_domain",
		description: "Add a custom domain to a deployment (an exact hostname), a workspace or an org; it returns the DNS records to create, then call verify_domain.",
	}, func(ctx context.Context, c *client.Client, in addDomainInput) (Domain, error) {
		d, err := c.CreateDomain(ctx, client.CreateDomain{Hostname: in.Hostname, DeploymentID: in.DeploymentID, WorkspaceID: in.WorkspaceID, OrgID: in.OrgID})
		if err != nil {
			return Domain{}, err
		}
		return domainOf(d), nil
	})

	add(t, spec{name: "verify_domain", idempotent: true,
		description: "Look up a custom domain's TXT record now and verify the domain when it is there; returns its status and, once verified, its URL.",
	}, func(ctx context.Context, c *client.Client, in domainInput) (Domain, error) {
		d, err := c.VerifyDomain(ctx, in.DomainID)
		if err != nil {
			return Domain{}, err
		}
		return domainOf(d), nil
	})
}
