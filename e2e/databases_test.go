package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/client"
	"github.com/berth-dev/berth/internal/docker"
	"github.com/berth-dev/berth/internal/images"
)

// TestDatabases runs managed Postgres, MySQL and Redis on the real engine,
// side by side: each is created, turns healthy only once its issued login
// works, is reached by a linked deployment (a Node app speaking the
// engine's protocol) and by the test itself with the revealed credentials,
// has its credentials rotated under load, survives a password changed by
// hand (a restart re-applies Berth's), and is deleted with and without its
// data. Postgres also runs the whole sandbox → preview → publish → deploy
// proof. No issued password reaches the platform's log or events.
func TestDatabases(t *testing.T) {
	requireDocker(t)
	ensureImages(t, images.Postgres, images.MariaDB, images.Redis, images.Node)
	lt := &logTB{TB: t}
	p := start(lt)
	_, ws, _ := p.tenant(t, "Data Co")

	var secrets sync.Map
	t.Cleanup(func() {
		// Every subtest has finished: nothing Berth logged names a password.
		log := lt.String()
		secrets.Range(func(k, _ any) bool {
			if strings.Contains(log, k.(string)) {
				t.Errorf("the platform's log holds an issued password")
			}
			return true
		})
	})
	for _, engine := range []string{"postgres", "mysql", "redis"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := &engineTest{t: t, p: p, engine: engine, ctx: context.Background(), secrets: &secrets}
			pr, err := p.api.CreateProject(e.ctx, client.CreateProject{WorkspaceID: ws.ID, Name: "Data " + engine})
			if err != nil {
				t.Fatal(err)
			}
			e.project = pr
			e.run()
		})
	}
}

// engineTest is one engine's run.
type engineTest struct {
	t       *testing.T
	p       *platform
	engine  string
	ctx     context.Context
	project *client.Project
	secrets *sync.Map
}

func (e *engineTest) run() {
	t, p, ctx := e.t, e.p, e.ctx
	start := time.Now()
	name := map[string]string{"postgres": "main", "mysql": "shop-db", "redis": "cache"}[e.engine]
	urlVar := map[string]string{"postgres": "DATABASE_URL", "mysql": "MYSQL_URL", "redis": "REDIS_URL"}[e.engine]

	// Create: the answer carries the credentials, this once.
	db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: e.project.ID, Engine: e.engine, Name: name})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	cr := db.Credentials
	e.secret(cr.Password)
	if db.Status != "provisioning" || cr.Password == "" || cr.Host != name || cr.Env[urlVar] != cr.URL {
		t.Fatalf("created %+v", db)
	}
	if _, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: e.project.ID, Engine: "redis", Name: name}); problemCode(err) != "name_taken" {
		t.Errorf("a second service named %s: %v, want name_taken", name, err)
	}

	// Postgres runs the whole sandbox proof while it provisions; the
	// others deploy an uploaded release of the same app.
	var dep *client.Deployment
	var sbx *client.Sandbox
	if e.engine == "postgres" {
		db = e.waitStatus(db.ID, "healthy")
		sbx, dep = e.sandboxProof(db, cr)
	} else {
		rel, err := p.api.CreateRelease(ctx, dbAppTar(t), client.ReleaseOptions{ProjectID: e.project.ID, TemplateID: "express-api", Port: 3000})
		if err != nil {
			t.Fatalf("release: %v", err)
		}
		if dep, err = p.api.Deploy(ctx, client.CreateDeployment{ProjectID: e.project.ID, ReleaseID: rel.ID}); err != nil {
			t.Fatalf("deploy: %v", err)
		}
		db = e.waitStatus(db.ID, "healthy")
		dep = waitReady(t, p, dep.ID, rel.ID)
		if code, body, _ := p.get(t, dep.URL+"/db"); code != 503 || !strings.Contains(body, "no DATABASE_URL") {
			t.Fatalf("before the link the app answered %d %s", code, body)
		}
		// The test logs in with the revealed credentials and writes; the
		// linked app, restarted with the variables, reads it.
		if _, err := e.notes(e.reveal(db.ID).PublishedURL, "from-test"); err != nil {
			t.Fatalf("logging in with the revealed credentials: %v", err)
		}
		if _, err := p.api.LinkDatabase(ctx, db.ID, client.CreateDatabaseLink{DeploymentID: dep.ID}); err != nil {
			t.Fatalf("link: %v", err)
		}
		e.appSees(dep.URL, cr.Password, "from-test")
	}
	if db.Version == "" || db.SizeBytes <= 0 || !db.CredentialsApplied {
		t.Errorf("healthy service reports %+v", db)
	}
	t.Logf("%s: created, linked and verified in %s", e.engine, time.Since(start).Round(time.Millisecond))

	// Rotate under load: the old password stops working, the new one
	// works, and the deployment rolls to a container with it without a
	// failed request.
	stop, fails, last := loop(p, dep.URL+"/health")
	rot, err := p.api.RotateCredentials(ctx, db.ID)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	e.secret(rot.Credentials.Password)
	if !rot.CredentialsApplied || rot.Credentials.Password == cr.Password || rot.Credentials.Password == "" {
		t.Fatalf("rotated: %+v", rot)
	}
	published := e.reveal(db.ID).PublishedURL
	if _, err := e.notes(withPassword(published, cr.Password), ""); err == nil {
		t.Error("the old password still logs in after the rotation")
	}
	if _, err := e.notes(published, ""); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	e.appSees(dep.URL, rot.Credentials.Password, "from-test")
	time.Sleep(DrainMargin)
	if n := stop(); fails.Load() > 0 {
		t.Errorf("%d of %d requests failed while the deployment restarted with the new credentials; last: %v", fails.Load(), n, last.Load())
	}
	if sbx != nil {
		e.sandboxEnv(sbx.ID, "PGPASSWORD", rot.Credentials.Password)
	}
	cr = rot.Credentials
	t.Logf("%s: rotated in %s", e.engine, time.Since(start).Round(time.Millisecond))

	// A password changed by hand inside the server is reported, and a
	// restart of the container enforces Berth's again.
	container := "berth-" + db.ID
	dockerRun(t, e.handSet(container, cr.Password)...)
	if _, err := e.notes(published, ""); err == nil {
		t.Error("Berth's password still logs in after a change by hand")
	}
	bad := e.waitStatus(db.ID, "unhealthy")
	if !strings.Contains(bad.StatusReason, "login with the issued credentials failed") || strings.Contains(bad.StatusReason, cr.Password) {
		t.Errorf("unhealthy because %q", bad.StatusReason)
	}
	dockerRun(t, "restart", "-t", "10", container)
	var notes []string
	eventually(t, time.Minute, "Berth's password to log in again after a restart", func() bool {
		notes, err = e.notes(e.reveal(db.ID).PublishedURL, "")
		return err == nil
	})
	if !slices.Contains(notes, "from-test") {
		t.Errorf("after the restart the service holds %v, want from-test among them", notes)
	}
	if _, err := e.notes(withPassword(e.reveal(db.ID).PublishedURL, "hand-set-pw"), ""); err == nil {
		t.Error("the password set by hand survived the restart")
	}
	e.waitStatus(db.ID, "healthy")
	t.Logf("%s: re-applied after a restart in %s", e.engine, time.Since(start).Round(time.Millisecond))

	if e.engine == "redis" {
		// SIGKILL: the server comes back (its restart policy, or the
		// reconciler) with its append-only file.
		dockerRun(t, "kill", container)
		eventually(t, time.Minute, "Redis to come back after SIGKILL", func() bool {
			notes, err = e.notes(e.reveal(db.ID).PublishedURL, "")
			return err == nil && slices.Contains(notes, "from-test")
		})
		e.waitStatus(db.ID, "healthy")
	}

	// Nothing Berth recorded or the server printed names a password.
	evs, err := p.api.Events(ctx, db.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("docker", "logs", container).CombinedOutput()
	for _, ev := range evs {
		out = append(out, ev.Message...)
	}
	e.secrets.Range(func(k, _ any) bool {
		if strings.Contains(string(out), k.(string)) {
			t.Errorf("the events or the server's output hold an issued password")
		}
		return true
	})

	// Delete: refused while linked; the data stays without purge.
	if err := p.api.DeleteDatabase(ctx, db.ID, false); problemCode(err) != "database_linked" {
		t.Errorf("deleting a linked service: %v, want database_linked", err)
	}
	for _, target := range []string{dep.ID, idOf(sbx)} {
		if target != "" {
			if err := p.api.UnlinkDatabase(ctx, db.ID, target); err != nil {
				t.Fatalf("unlink %s: %v", target, err)
			}
		}
	}
	volume := "berth-" + strings.ReplaceAll(e.project.ID, "_", "-") + "-" + e.engine + "-" + name
	purge := e.engine != "mysql"
	if !purge {
		if err := p.api.DeleteDatabase(ctx, db.ID, false); err != nil {
			t.Fatalf("delete: %v", err)
		}
		e.gone(db.ID, container)
		if !volumeExists(volume) {
			t.Fatalf("delete without purge removed the volume %s", volume)
		}
		// A new service of the same engine and name starts on the kept data,
		// with new credentials that its boot enforces.
		again, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: e.project.ID, Engine: e.engine, Name: name})
		if err != nil {
			t.Fatalf("create again: %v", err)
		}
		e.secret(again.Credentials.Password)
		e.waitStatus(again.ID, "healthy")
		if notes, err := e.notes(e.reveal(again.ID).PublishedURL, ""); err != nil || !slices.Contains(notes, "from-test") {
			t.Errorf("the new service on the kept volume reads %v, %v", notes, err)
		}
		db = again
	}
	if err := p.api.DeleteDatabase(ctx, db.ID, true); err != nil {
		t.Fatalf("delete with purge: %v", err)
	}
	// Step 8: nothing the service made is left (its record, links,
	// container, volume, and the project's network once unused).
	e.cleanedUp(db.ID, volume)
	t.Logf("%s: done in %s", e.engine, time.Since(start).Round(time.Millisecond))
}

// sandboxProof is the whole loop with Postgres: a sandbox linked at
// boot authenticates with DATABASE_URL, migrates and queries; its preview
// reads and writes; its release deploys and the deployment reads what the
// preview wrote and writes what the sandbox then reads.
func (e *engineTest) sandboxProof(db *client.Database, cr client.DatabaseCredentials) (*client.Sandbox, *client.Deployment) {
	t, p, ctx := e.t, e.p, e.ctx
	if _, err := e.notes(e.reveal(db.ID).PublishedURL, "from-test"); err != nil {
		t.Fatalf("logging in with the revealed credentials: %v", err)
	}
	sb, err := p.api.CreateSandbox(ctx, client.CreateSandbox{ProjectID: e.project.ID, TemplateID: "express-api"})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	app, err := os.ReadFile(filepath.Join("testdata", "dbapp", "server.js"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.api.WriteFile(ctx, sb.ID, "server.js", app); err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, err := p.api.LinkDatabase(ctx, db.ID, client.CreateDatabaseLink{SandboxID: sb.ID}); err != nil {
		t.Fatalf("link sandbox: %v", err)
	}
	e.sandboxEnv(sb.ID, "PGPASSWORD", cr.Password)
	res, err := p.api.Exec(ctx, sb.ID, client.Exec{Command: `echo "$PGHOST $PGPORT $PGUSER $PGDATABASE $DATABASE_URL"`})
	if err != nil || strings.TrimSpace(res.Stdout) != "main 5432 app app "+cr.URL {
		t.Fatalf("sandbox env: %+v, %v", res, err)
	}
	// From inside the sandbox: the dev server (restarted with the link)
	// migrates and queries through DATABASE_URL.
	fetch := `node -e "require('http').get('http://127.0.0.1:3000' + process.argv[1], r => { let b = ''; r.on('data', d => b += d); r.on('end', () => console.log(b)) }).on('error', e => console.log(e.message))" `
	eventually(t, 30*time.Second, "the sandbox's app to answer from inside", func() bool {
		res, err = p.api.Exec(ctx, sb.ID, client.Exec{Command: fetch + "'/db?write=from-sandbox'"})
		return err == nil && strings.Contains(res.Stdout, `"ok":true`)
	})
	// The preview reads and writes through the same URL.
	prev, err := p.api.Preview(ctx, sb.ID, 3000)
	if err != nil || !prev.Ready {
		t.Fatalf("preview: %+v, %v", prev, err)
	}
	if code, body, _ := p.get(t, prev.URL+"/db?write=from-preview"); code != 200 || !strings.Contains(body, `"notes":["from-test","from-sandbox","from-preview"]`) {
		t.Fatalf("preview answered %d %s", code, body)
	}
	rel, err := p.api.Publish(ctx, sb.ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	dep, err := p.api.Deploy(ctx, client.CreateDeployment{ProjectID: e.project.ID, ReleaseID: rel.ID})
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	dep = waitReady(t, p, dep.ID, rel.ID)
	if _, err := p.api.LinkDatabase(ctx, db.ID, client.CreateDatabaseLink{DeploymentID: dep.ID}); err != nil {
		t.Fatalf("link deployment: %v", err)
	}
	e.appSees(dep.URL, cr.Password, "from-preview")
	if code, body, _ := p.get(t, dep.URL+"/db?write=from-deployment"); code != 200 || !strings.Contains(body, `"from-preview","from-deployment"]`) {
		t.Fatalf("deployment answered %d %s", code, body)
	}
	res, err = p.api.Exec(ctx, sb.ID, client.Exec{Command: fetch + "/db"})
	if err != nil || !strings.Contains(res.Stdout, `"from-deployment"`) {
		t.Fatalf("the sandbox does not read what the deployment wrote: %+v, %v", res, err)
	}
	return sb, dep
}

// sandboxEnv waits until the sandbox (recreated after a link or a
// rotation) runs with name=value.
func (e *engineTest) sandboxEnv(sbxID, name, value string) {
	eventually(e.t, time.Minute, "the sandbox to restart with "+name, func() bool {
		res, err := e.p.api.Exec(e.ctx, sbxID, client.Exec{Command: "printenv " + name})
		return err == nil && strings.TrimSpace(res.Stdout) == value
	})
}

// appSees waits until the deployed app logs in with password and reads
// note.
func (e *engineTest) appSees(depURL, password, note string) {
	want := sha(password)
	var body string
	eventually(e.t, 90*time.Second, "the deployed app to log in with the linked credentials", func() bool {
		resp, err := e.p.web.Get(depURL + "/db")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		var out struct {
			OK    bool     `json:"ok"`
			PW    string   `json:"pw"`
			Notes []string `json:"notes"`
		}
		json.Unmarshal(b, &out)
		return resp.StatusCode == 200 && out.OK && out.PW == want && slices.Contains(out.Notes, note)
	})
	if strings.Contains(body, password) {
		e.t.Error("the app's answer holds the password")
	}
}

func (e *engineTest) reveal(id string) *client.DatabaseCredentials {
	cr, err := e.p.api.RevealCredentials(e.ctx, id)
	if err != nil {
		e.t.Fatalf("reveal: %v", err)
	}
	return cr
}

func (e *engineTest) secret(pw string) { e.secrets.Store(pw, true) }

// waitStatus waits until the service reports status.
func (e *engineTest) waitStatus(id, status string) *client.Database {
	var db *client.Database
	eventually(e.t, 2*time.Minute, "the service to be "+status, func() bool {
		var err error
		if db, err = e.p.api.GetDatabase(e.ctx, id); err != nil {
			e.t.Fatalf("get: %v", err)
		}
		if db.Status == "failed" && status != "failed" {
			e.t.Fatalf("the service failed: %s", db.StatusReason)
		}
		return db.Status == status
	})
	return db
}

// gone checks that a deleted service's record and container are gone.
func (e *engineTest) gone(id, container string) {
	if _, err := e.p.api.GetDatabase(e.ctx, id); problemCode(err) != "not_found" {
		e.t.Errorf("the deleted service answers %v", err)
	}
	if err := exec.Command("docker", "inspect", container).Run(); err == nil {
		e.t.Errorf("the deleted service's container %s is still there", container)
	}
}

// handSet is the docker command that changes the issued user's password
// by hand, inside the server, to hand-set-pw.
func (e *engineTest) handSet(container, current string) []string {
	switch e.engine {
	case "postgres":
		return []string{"exec", "-u", "postgres", container, "psql", "-X", "-h", "/var/run/postgresql", "-c", "ALTER ROLE app PASSWORD 'hand-set-pw'"}
	case "mysql":
		return []string{"exec", container, "mariadb", "-e", "ALTER USER 'app'@'%' IDENTIFIED BY 'hand-set-pw'"}
	}
	return []string{"exec", "-e", "REDISCLI_AUTH=" + current, container, "redis-cli", "--no-auth-warning", "--user", "app",
		"ACL", "SETUSER", "app", "resetpass", ">hand-set-pw"}
}

// notes logs in to the service at rawURL as a client of the engine would,
// appends write (unless empty) and returns every note: the same table (or
// list) the app uses.
func (e *engineTest) notes(rawURL, write string) ([]string, error) {
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	pw, _ := u.User.Password()
	switch e.engine {
	case "postgres":
		c, err := pgx.Connect(ctx, rawURL+"?sslmode=disable")
		if err != nil {
			return nil, err
		}
		defer c.Close(ctx)
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			return nil, fmt.Errorf("SELECT 1: %d, %v", one, err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)"); err != nil {
			return nil, err
		}
		if write != "" {
			if _, err := c.Exec(ctx, "INSERT INTO notes (body) VALUES ($1)", write); err != nil {
				return nil, err
			}
		}
		rows, err := c.Query(ctx, "SELECT body FROM notes ORDER BY id")
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	case "mysql":
		db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)%s?timeout=5s", u.User.Username(), pw, u.Host, u.Path))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			return nil, fmt.Errorf("SELECT 1: %d, %v", one, err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL)"); err != nil {
			return nil, err
		}
		if write != "" {
			if _, err := db.ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", write); err != nil {
				return nil, err
			}
		}
		rows, err := db.QueryContext(ctx, "SELECT body FROM notes ORDER BY id")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	return redisNotes(ctx, u.Host, u.User.Username(), pw, write)
}

// redisNotes speaks RESP: AUTH as the ACL user, PING, RPUSH, LRANGE.
func redisNotes(ctx context.Context, addr, user, pw, write string) ([]string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	do := func(args ...string) (any, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			return nil, err
		}
		return readRESP(r)
	}
	if _, err := do("AUTH", user, pw); err != nil {
		return nil, err
	}
	if v, err := do("PING"); err != nil || v != "PONG" {
		return nil, fmt.Errorf("PING: %v, %v", v, err)
	}
	if write != "" {
		if _, err := do("RPUSH", "notes", write); err != nil {
			return nil, err
		}
	}
	v, err := do("LRANGE", "notes", "0", "-1")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range v.([]any) {
		out = append(out, it.(string))
	}
	return out, nil
}

func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := readRESP(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}

// withPassword is rawURL with another password.
func withPassword(rawURL, pw string) string {
	u, _ := url.Parse(rawURL)
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

func idOf(s *client.Sandbox) string {
	if s == nil {
		return ""
	}
	return s.ID
}

// dbAppTar is a release of testdata/dbapp.
func dbAppTar(t *testing.T) io.Reader {
	t.Helper()
	var entries []tarEntry
	for _, n := range []string{"package.json", "server.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "dbapp", n))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, file(n, string(b)))
	}
	return makeTar(entries...)
}

// dockerRun runs a docker command that must succeed.
func dockerRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", args[0], err, out)
	}
}

func volumeExists(name string) bool {
	return exec.Command("docker", "volume", "inspect", name).Run() == nil
}

// ensureImages makes the local images the test runs, when missing.
func ensureImages(t testing.TB, refs ...string) {
	t.Helper()
	rt, err := docker.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := images.Ensure(t.Context(), rt, io.Discard, false, refs...); err != nil {
		t.Fatalf("making images: %v", err)
	}
}

// logTB is a testing.TB whose Logf, which `berth up` logs through, also
// keeps what it was given.
type logTB struct {
	testing.TB
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logTB) Logf(format string, args ...any) {
	l.mu.Lock()
	fmt.Fprintf(&l.buf, format+"\n", args...)
	l.mu.Unlock()
	l.TB.Helper()
	l.TB.Logf(format, args...)
}

func (l *logTB) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// BenchmarkDatabaseHealthy: POST /databases → healthy (a login with the
// issued credentials verified by Berth), per engine, images present.
func BenchmarkDatabaseHealthy(b *testing.B) {
	requireDocker(b)
	ensureImages(b, images.Postgres, images.MariaDB, images.Redis)
	p, pr := benchPlatform(b)
	ctx := context.Background()
	for _, engine := range []string{"postgres", "mysql", "redis"} {
		b.Run(engine, func(b *testing.B) {
			var d []time.Duration
			i := 0
			for b.Loop() {
				i++
				t0 := time.Now()
				db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: engine, Name: fmt.Sprintf("%s-%d", engine, i)})
				if err != nil {
					b.Fatal(err)
				}
				for db.Status != "healthy" {
					if db.Status == "failed" {
						b.Fatalf("failed: %s", db.StatusReason)
					}
					time.Sleep(10 * time.Millisecond)
					if db, err = p.api.GetDatabase(ctx, db.ID); err != nil {
						b.Fatal(err)
					}
				}
				d = append(d, time.Since(t0))
				if err := p.api.DeleteDatabase(ctx, db.ID, true); err != nil {
					b.Fatal(err)
				}
			}
			reportMedian(b, d)
		})
	}
}

// BenchmarkDatabaseKill: SIGKILL of a healthy service → a login with the
// issued credentials works again, per engine, two ways: the server's
// process killed on the host (as the OOM killer does: the container's
// restart policy brings it back), and `docker kill` (which the engine
// takes for a stop by hand: Berth's reconciler starts it again).
func BenchmarkDatabaseKill(b *testing.B) {
	requireDocker(b)
	ensureImages(b, images.Postgres, images.MariaDB, images.Redis)
	p, pr := benchPlatform(b)
	ctx := context.Background()
	kills := map[string]func(container string) error{
		"process": func(container string) error {
			out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", container).Output()
			if err != nil {
				return err
			}
			return exec.Command("kill", "-9", strings.TrimSpace(string(out))).Run()
		},
		"docker-kill": func(container string) error { return exec.Command("docker", "kill", container).Run() },
	}
	for _, engine := range []string{"postgres", "mysql", "redis"} {
		db, err := p.api.CreateDatabase(ctx, client.CreateDatabase{ProjectID: pr.ID, Engine: engine, Name: "kill-" + engine})
		if err != nil {
			b.Fatal(err)
		}
		e := &engineTest{engine: engine, ctx: ctx}
		cr, err := p.api.RevealCredentials(ctx, db.ID)
		if err != nil {
			b.Fatal(err)
		}
		// A restart publishes the port anew, and Berth learns the new one
		// at its next check: ask the engine, as apps on the project's
		// network need not.
		login := func() bool {
			out, err := exec.Command("docker", "port", "berth-"+db.ID, strconv.Itoa(db.Port)).Output()
			if err != nil {
				return false
			}
			addr := strings.TrimSpace(strings.Split(string(out), "\n")[0])
			u, _ := url.Parse(cr.URL)
			u.Host = addr
			_, err = e.notes(u.String(), "")
			return err == nil
		}
		for _, how := range []string{"process", "docker-kill"} {
			b.Run(engine+"/"+how, func(b *testing.B) {
				for !login() {
					time.Sleep(50 * time.Millisecond)
				}
				var d []time.Duration
				for b.Loop() {
					t0 := time.Now()
					if err := kills[how]("berth-" + db.ID); err != nil {
						b.Fatalf("killing: %v", err)
					}
					time.Sleep(100 * time.Millisecond) // let the kill land
					for !login() {
						if time.Since(t0) > 2*time.Minute {
							b.Fatal("the service did not come back in 2 minutes")
						}
						time.Sleep(20 * time.Millisecond)
					}
					d = append(d, time.Since(t0))
				}
				reportMedian(b, d)
			})
		}
	}
}
