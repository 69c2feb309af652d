package portal

import (
	"cmp"
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/client"
)

// refreshSeconds is how often the overview reloads itself while a
// deployment is on its way, so a person sees it turn ready without JS.
const refreshSeconds = 10

type overviewData struct {
	Projects    []projectRow
	Ready       int
	InProgress  int
	Failed      int
	Unavailable bool // the API could not be read; nothing else is set
}

type projectRow struct {
	Name        string
	Slug        string
	Deployments []deploymentRow
}

type deploymentRow struct {
	State     string // "ready", "progress" or "failed": how it is drawn
	Status    string // what it says
	Reason    string // what a person can act on, for pending and failed ones
	Detail    string // the rest of a long reason, such as a build's output
	URL       string
	Release   string // the release serving now
	Target    string // the release on its way (or that failed), when another one
	Updated   time.Time
	Dedicated bool // runs on the workspace's own host
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	data, err := s.loadOverview(ctx)
	status := http.StatusOK
	if err != nil {
		s.log.Warn("loading the overview failed", "err", err)
		data, status = overviewData{Unavailable: true}, http.StatusBadGateway
	}
	p := s.page(r, sess, "Deployments")
	if data.InProgress > 0 {
		p.Refresh = refreshSeconds
	}
	p.Data = data
	s.renderPage(w, status, "overview", p)
}

func (s *Server) loadOverview(ctx context.Context) (overviewData, error) {
	projects, err := s.projects(ctx)
	if err != nil {
		return overviewData{}, err
	}
	s.reached.Store(true)
	rows := make([]projectRow, len(projects))
	errs := make([]error, len(projects))
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for i, p := range projects {
		rows[i] = projectRow{Name: p.Name, Slug: p.Slug}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			deps, err := s.deployments(ctx, p.ID)
			if err != nil {
				errs[i] = err
				return
			}
			for _, d := range deps {
				rows[i].Deployments = append(rows[i].Deployments, s.deploymentRow(d))
			}
			slices.SortStableFunc(rows[i].Deployments, func(a, b deploymentRow) int {
				return cmp.Compare(boolInt(a.Dedicated), boolInt(b.Dedicated))
			})
		})
	}
	wg.Wait()
	var data overviewData
	for _, err := range errs {
		if err != nil {
			return data, err
		}
	}
	slices.SortStableFunc(rows, func(a, b projectRow) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	data.Projects = rows
	for _, p := range rows {
		for _, d := range p.Deployments {
			switch d.State {
			case "ready":
				data.Ready++
			case "failed":
				data.Failed++
			default:
				data.InProgress++
			}
		}
	}
	return data, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) deploymentRow(d client.Deployment) deploymentRow {
	row := deploymentRow{
		Status: statusLabel(d.Status), URL: d.URL, Release: d.ServingReleaseID,
		Updated: d.UpdatedAt, Dedicated: d.DeploymentProduct == "docker_deploy",
	}
	switch d.Status {
	case "ready":
		row.State = "ready"
	case "failed":
		row.State = "failed"
	default:
		row.State = "progress"
	}
	if row.State != "ready" {
		row.Reason, row.Detail = summarize(s.scrub(d.StatusReason))
	}
	if d.ReleaseID != d.ServingReleaseID {
		row.Target = d.ReleaseID
	}
	if !strings.HasPrefix(row.URL, "http://") && !strings.HasPrefix(row.URL, "https://") {
		row.URL = ""
	}
	return row
}

func statusLabel(status string) string {
	if status == "" {
		return "Unknown"
	}
	return strings.ToUpper(status[:1]) + status[1:]
}

// platformWord finds words that name the platform underneath, such as
// its image names in a build's output: a white-labeled page shows none.
var platformWord = regexp.MustCompile(`(?i)[^\s'"]*berth[^\s'"]*`)

// scrub removes the API's address, the key and the platform's name from
// text that came from the API, such as a status reason with a build log.
func (s *Server) scrub(text string) string {
	for _, secret := range []string{s.api.Key, s.api.BaseURL, hostOf(s.api.BaseURL)} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "…")
		}
	}
	return platformWord.ReplaceAllString(text, "…")
}

// summaryMax is how long a reason may be before the page folds it.
const summaryMax = 160

// summarize splits a long reason into its first clause, shown, and the
// rest (a build's output, say), folded away.
func summarize(reason string) (summary, detail string) {
	reason = strings.TrimSpace(reason)
	if len(reason) <= summaryMax && !strings.Contains(reason, "\n") {
		return reason, ""
	}
	if i := strings.Index(reason, ": "); i > 0 && i <= summaryMax && !strings.Contains(reason[:i], "\n") {
		return reason[:i], strings.TrimSpace(reason[i+2:])
	}
	first, rest, _ := strings.Cut(reason, "\n")
	if len(first) > summaryMax {
		cut := strings.LastIndexByte(first[:summaryMax], ' ')
		if cut < summaryMax/2 {
			cut = summaryMax
		}
		first, rest = first[:cut]+"…", reason
	}
	return first, strings.TrimSpace(rest)
}

func hostOf(rawURL string) string {
	_, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}
