package domains

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/dnsverify"
	"github.com/berth-dev/berth/internal/edge"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/problem"
	"github.com/berth-dev/berth/internal/store"
)

// TXTLookup finds the TXT records at a name; dnsverify.Resolver is the
// real one.
type TXTLookup interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Config configures custom domains.
type Config struct {
	// DNS answers the verification lookups (nil: nothing verifies).
	DNS TXTLookup
	// Target is the hostname a custom domain's CNAME points at for
	// traffic to reach the edge (empty: the platform domain).
	Target string
	// Recheck is how often a verified domain's TXT record is looked up
	// again (0: every hour).
	Recheck time.Duration
	// Grace is how long a verified domain's TXT record may be missing
	// before the domain fails (0: 24 hours); a record that comes back
	// within it changes nothing.
	Grace time.Duration
	// Names makes the platform's own names, which no custom domain may
	// take, and the domains' URLs.
	Names names.Names
	// Brand is the platform's default branding for edge pages.
	Brand edge.Brand
}

// ChallengePrefix is the label in front of a hostname where its TXT
// verification record lives.
const ChallengePrefix = "_berth-challenge."

// DomainRequest asks for a custom domain at one level: exactly one of
// OrgID, WorkspaceID and DeploymentID names the owner, already resolved
// (and authorized) by the caller into Org, Workspace and Deployment.
type DomainRequest struct {
	Hostname   string
	Org        *store.Org
	Workspace  *store.Workspace
	Deployment *store.Deployment
}

// DNSRecord is one record a domain's owner creates.
type DNSRecord struct {
	Type, Name, Value string
}

// DomainRecords are the records that verify d and send its traffic to
// the edge.
func (c *Service) DomainRecords(d *store.Domain) []DNSRecord {
	target := c.cfg.Target
	if target == "" {
		target = c.cfg.Names.Domain
	}
	recs := []DNSRecord{{Type: "TXT", Name: ChallengePrefix + d.Hostname, Value: d.Token}}
	recs = append(recs, DNSRecord{Type: "CNAME", Name: d.Hostname, Value: target})
	if d.DeploymentID == "" {
		// Org and workspace domains serve every name under them.
		recs = append(recs, DNSRecord{Type: "CNAME", Name: "*." + d.Hostname, Value: target})
	}
	return recs
}

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// idnaProfile turns an internationalized hostname into its ASCII (xn--)
// form and checks it by the IDNA 2008 rules for registering names, the
// label and name lengths of DNS included.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.VerifyDNSLength(true), idna.Transitional(false))

// NormalizeHostname checks a custom hostname and returns it in its
// canonical form: lowercase ASCII, international labels in their xn--
// form, without a trailing dot.
func NormalizeHostname(h string) (string, error) {
	h = strings.TrimSuffix(strings.TrimSpace(h), ".")
	bad := func(format string, args ...any) (string, error) {
		return "", problem.Unprocessable("invalid_hostname", format, args...)
	}
	switch {
	case h == "":
		return bad("give a hostname such as \"apps.example.com\"")
	case len(h) > 253:
		return bad("the hostname is %d characters; at most 253", len(h))
	case strings.HasPrefix(h, "*.") && !strings.Contains(h[2:], "*"):
		return bad("leave out the wildcard: an org or workspace domain already serves every name under it, so add %q", h[2:])
	case strings.Contains(h, "*"):
		return bad("%q has a * inside it: a wildcard can only be a whole first label, and is not needed here; give a plain hostname", h)
	case net.ParseIP(strings.Trim(h, "[]")) != nil:
		return bad("%q is an IP address; give a DNS name such as \"apps.example.com\"", h)
	}
	ascii, err := idnaProfile.ToASCII(h)
	if err != nil {
		return bad("%q is not a valid hostname (%v): labels are letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen", h, err)
	}
	if len(ascii) > 253 {
		return bad("the hostname is %d characters in its ASCII form; at most 253", len(ascii))
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return bad("%q is a single label; give a full hostname such as \"apps.example.com\"", h)
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return bad("%q has an invalid label %q: labels are 1 to 63 of a-z, 0-9 and -, not starting or ending with -", h, l)
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return bad("%q ends in an all-numeric label; give a DNS name", h)
	}
	return ascii, nil
}

// CreateDomain records a custom domain, pending verification.
func (c *Service) CreateDomain(ctx context.Context, req DomainRequest) (*store.Domain, error) {
	host, err := NormalizeHostname(req.Hostname)
	if err != nil {
		return nil, err
	}
	if err := c.checkPlatformName(ctx, host, req.Org); err != nil {
		return nil, err
	}
	all, err := store.ListAll(ctx, c.st.ListDomains)
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	for _, d := range all {
		if d.Hostname != host {
			continue
		}
		if d.OrgID != req.Org.ID && d.Verified() {
			return nil, problem.Conflict("domain_taken", "%s is verified by another org", host)
		}
		if d.OrgID == req.Org.ID {
			return nil, problem.Conflict("domain_exists", "%s is already added (%s); verify or remove that one", host, d.ID)
		}
	}
	token := make([]byte, 16)
	rand.Read(token)
	now := time.Now().UTC()
	d := &store.Domain{ID: id.New(id.Domain), Hostname: host, OrgID: req.Org.ID, Token: "berth-verify=" + hex.EncodeToString(token),
		Status: store.DomainPending, CreatedAt: now, UpdatedAt: now}
	if req.Workspace != nil {
		d.WorkspaceID = req.Workspace.ID
	}
	if req.Deployment != nil {
		d.WorkspaceID, d.DeploymentID = req.Deployment.WorkspaceID, req.Deployment.ID
	}
	if err := c.st.CreateDomain(ctx, d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("domain_exists", "%s is already added", host)
		}
		return nil, fmt.Errorf("creating domain: %w", err)
	}
	return d, nil
}

// checkPlatformName refuses the platform domain itself and names under
// any org's managed domain: those belong to the platform.
func (c *Service) checkPlatformName(ctx context.Context, host string, claimant *store.Org) error {
	p := c.cfg.Names.Domain
	if host == p {
		return problem.Unprocessable("platform_domain", "%s is the platform domain", host)
	}
	rest, ok := strings.CutSuffix(host, "."+p)
	if !ok {
		return nil
	}
	orgLabel := rest[strings.LastIndexByte(rest, '.')+1:]
	orgs, err := store.ListAll(ctx, c.st.ListOrgs)
	if err != nil {
		return fmt.Errorf("listing orgs: %w", err)
	}
	for _, o := range orgs {
		if o.Slug != orgLabel {
			continue
		}
		if o.ID == claimant.ID {
			return problem.Unprocessable("platform_domain", "%s is under your managed domain %s, which already serves your apps", host, c.cfg.Names.OrgDomain(o.Slug))
		}
		return problem.Unprocessable("platform_domain", "%s is under another org's managed domain", host)
	}
	return nil
}

// VerifyDomain looks up the domain's TXT record. When it holds the token
// the domain turns verified (a failed one too, once its record is back);
// otherwise nothing changes and the answer is a 422 that says which
// record was expected and what DNS answered.
func (c *Service) VerifyDomain(ctx context.Context, d *store.Domain) (*store.Domain, error) {
	switch {
	case d.Status == store.DomainVerified || d.Status == store.DomainCertificateIssued:
		return d, nil
	case d.Verified():
		// DNS verified it before and its certificate failed since: verifying
		// again retries the certificate at once.
		return c.certs.Retry(ctx, d)
	}
	if reason, ok, _ := c.lookupTXT(ctx, d); !ok {
		return nil, problem.Unprocessable("dns_not_verified", "%s; create the record and verify again", reason)
	}
	d.Status, d.StatusReason, d.VerifiedAt = store.DomainVerified, "", time.Now().UTC()
	if err := c.st.UpdateDomain(ctx, d); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("domain_taken", "%s is verified by another org", d.Hostname)
		}
		return nil, fmt.Errorf("updating domain: %w", err)
	}
	if err := c.st.PutDomainCheck(ctx, &store.DomainCheck{DomainID: d.ID, CheckedAt: d.VerifiedAt, Found: fmt.Sprintf("%q", d.Token)}); err != nil {
		c.log.Warn("recording domain check failed", "domain", d.ID, "err", err)
	}
	c.events.Record(ctx, d.ID, "domain.verified", "%s is verified", d.Hostname)
	c.routes.DomainChanged(d.Hostname)
	c.certs.Order(ctx, d, true)
	return d, nil
}

// lookupTXT looks up a domain's TXT record: ok when it holds the token,
// else the reason, naming the record and value expected and what was
// found. answered is false when DNS did not answer at all, which says
// nothing about the record.
func (c *Service) lookupTXT(ctx context.Context, d *store.Domain) (reason string, ok, answered bool) {
	name := ChallengePrefix + d.Hostname
	var found []string
	var lookupErr error
	if c.cfg.DNS == nil {
		lookupErr = errors.New("no DNS resolver is configured")
	} else {
		found, lookupErr = c.cfg.DNS.LookupTXT(ctx, name)
	}
	expected := fmt.Sprintf("expected a TXT record %s with value %q", name, d.Token)
	switch {
	case slices.Contains(found, d.Token):
		return "", true, true
	case errors.Is(lookupErr, dnsverify.ErrNoRecord):
		return expected + "; DNS has no TXT record at that name", false, true
	case lookupErr != nil:
		// The lookup's own error names the resolver's address: it goes to
		// the operator's log, not to the client.
		c.log.Warn("looking up the TXT record failed", "domain", d.ID, "err", lookupErr)
		return expected + "; DNS did not answer the lookup, try again later", false, false
	}
	return fmt.Sprintf("%s; found %q", expected, found), false, true
}

// DeleteDomain removes a domain; its names stop answering at once.
func (c *Service) DeleteDomain(ctx context.Context, d *store.Domain) error {
	if err := c.st.DeleteDomain(ctx, d.ID); err != nil {
		return fmt.Errorf("deleting domain: %w", err)
	}
	c.routes.DomainChanged(d.Hostname)
	return nil
}

// BrandingFields are what an org or workspace sets of its branding.
type BrandingFields struct {
	ProductName, LogoURL, PrimaryColor, AccentColor, SupportURL, SupportEmail string
}

var colorRE = regexp.MustCompile(`^(#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|[a-z]{3,20})$`)

// validate checks every set field.
func (f BrandingFields) validate() error {
	if len(f.ProductName) > 100 {
		return problem.Unprocessable("invalid_branding", "product_name is at most 100 characters")
	}
	for name, v := range map[string]string{"primary_color": f.PrimaryColor, "accent_color": f.AccentColor} {
		if v != "" && !colorRE.MatchString(v) {
			return problem.Unprocessable("invalid_color", "%s %q is not a colour: give #rgb, #rrggbb, #rrggbbaa or a CSS keyword", name, v)
		}
	}
	for name, v := range map[string]string{"logo_url": f.LogoURL, "support_url": f.SupportURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return problem.Unprocessable("invalid_url", "%s %q is not an http(s) URL", name, v)
		}
	}
	if f.SupportEmail != "" {
		if a, err := mail.ParseAddress(f.SupportEmail); err != nil || a.Address != f.SupportEmail {
			return problem.Unprocessable("invalid_email", "support_email %q is not an email address", f.SupportEmail)
		}
	}
	return nil
}

// SetBranding replaces the branding an org or workspace sets; empty
// fields of a workspace inherit the org's.
func (c *Service) SetBranding(ctx context.Context, ownerID, orgID string, f BrandingFields) (*store.Branding, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	b := &store.Branding{OwnerID: ownerID, OrgID: orgID, ProductName: f.ProductName, LogoURL: f.LogoURL,
		PrimaryColor: f.PrimaryColor, AccentColor: f.AccentColor, SupportURL: f.SupportURL,
		SupportEmail: f.SupportEmail, UpdatedAt: time.Now().UTC()}
	if err := c.st.PutBranding(ctx, b); err != nil {
		return nil, fmt.Errorf("putting branding: %w", err)
	}
	c.routes.OwnerChanged(ownerID)
	return b, nil
}

// Branding returns what an owner sets (zero when nothing) and the
// effective branding: for a workspace, its fields over its org's, over
// the org's name.
func (c *Service) Branding(ctx context.Context, org *store.Org, ws *store.Workspace) (set, effective BrandingFields, err error) {
	own := func(ownerID string) (BrandingFields, error) {
		b, err := c.st.GetBranding(ctx, ownerID)
		if errors.Is(err, store.ErrNotFound) {
			return BrandingFields{}, nil
		}
		if err != nil {
			return BrandingFields{}, fmt.Errorf("getting branding: %w", err)
		}
		return fieldsOf(b), nil
	}
	orgSet, err := own(org.ID)
	if err != nil {
		return set, effective, err
	}
	effective = mergeBranding(BrandingFields{ProductName: org.Name}, orgSet)
	set = orgSet
	if ws != nil {
		if set, err = own(ws.ID); err != nil {
			return set, effective, err
		}
		effective = mergeBranding(effective, set)
	}
	return set, effective, nil
}

func fieldsOf(b *store.Branding) BrandingFields {
	if b == nil {
		return BrandingFields{}
	}
	return BrandingFields{ProductName: b.ProductName, LogoURL: b.LogoURL, PrimaryColor: b.PrimaryColor,
		AccentColor: b.AccentColor, SupportURL: b.SupportURL, SupportEmail: b.SupportEmail}
}

// mergeBranding returns base with the fields over sets.
func mergeBranding(base, over BrandingFields) BrandingFields {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return BrandingFields{
		ProductName: pick(base.ProductName, over.ProductName), LogoURL: pick(base.LogoURL, over.LogoURL),
		PrimaryColor: pick(base.PrimaryColor, over.PrimaryColor), AccentColor: pick(base.AccentColor, over.AccentColor),
		SupportURL: pick(base.SupportURL, over.SupportURL), SupportEmail: pick(base.SupportEmail, over.SupportEmail),
	}
}

// edgeBrand is the platform's default brand with f's fields over it.
func (c *Service) edgeBrand(f BrandingFields) edge.Brand {
	b := c.cfg.Brand
	if f.ProductName != "" {
		b.Name = f.ProductName
	}
	if f.PrimaryColor != "" {
		b.PrimaryColor = f.PrimaryColor
	}
	if f.LogoURL != "" {
		b.LogoURL = f.LogoURL
	}
	if f.AccentColor != "" {
		b.AccentColor = f.AccentColor
	}
	if f.SupportURL != "" {
		b.SupportURL = f.SupportURL
	}
	if f.SupportEmail != "" {
		b.SupportEmail = f.SupportEmail
	}
	return b
}

// DomainURL is where a deployment domain's app answers, https once the
// edge has its certificate; empty for a domain not verified and for an
// org or workspace domain, which serves many names.
func (c *Service) DomainURL(d *store.Domain) string {
	if d.DeploymentID == "" || !d.Verified() {
		return ""
	}
	return c.cfg.Names.URL(d.Hostname)
}

// EdgeBrand is the branding the edge shows for an owner (ws may be nil):
// the workspace's fields over its org's over the platform's.
func (c *Service) EdgeBrand(ctx context.Context, o *store.Org, ws *store.Workspace) (edge.Brand, error) {
	_, eff, err := c.Branding(ctx, o, ws)
	if err != nil {
		return edge.Brand{}, err
	}
	return c.edgeBrand(eff), nil
}
