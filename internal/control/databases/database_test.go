package databases

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/control/names"
	"github.com/berth-dev/berth/internal/id"
	"github.com/berth-dev/berth/internal/store"
)

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := newPassword()
		if len(p) != 32 || strings.Trim(p, id.Alphanumeric) != "" {
			t.Fatalf("password %q: want 32 letters and digits", p)
		}
		if seen[p] {
			t.Fatalf("password %q issued twice", p)
		}
		seen[p] = true
	}
}

// TestServiceURLsEncodePasswords checks that any password, even one Berth
// would not issue, survives the URLs and variables linked apps get.
func TestServiceURLsEncodePasswords(t *testing.T) {
	cr := dbCredentials{Username: "app", Password: `p@ss:w/rd?#%+ &'"\`, Database: "app"}
	for engine, want := range map[string]map[string]string{
		store.EnginePostgres: {"PGHOST": "main", "PGPORT": "5432", "PGUSER": "app", "PGPASSWORD": cr.Password, "PGDATABASE": "app"},
		store.EngineMySQL:    {"MYSQL_HOST": "main", "MYSQL_PORT": "3306", "MYSQL_USER": "app", "MYSQL_PASSWORD": cr.Password, "MYSQL_DATABASE": "app"},
		store.EngineRedis:    {"REDIS_HOST": "main", "REDIS_PORT": "6379", "REDIS_USER": "app", "REDIS_PASSWORD": cr.Password},
	} {
		env := engines[engine].env(cr, "main")
		urlVar := map[string]string{store.EnginePostgres: "DATABASE_URL", store.EngineMySQL: "MYSQL_URL", store.EngineRedis: "REDIS_URL"}[engine]
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s = %q, want %q", engine, k, env[k], v)
			}
		}
		raw := env[urlVar]
		if strings.Contains(raw, "p@ss") || strings.Contains(raw, " ") {
			t.Errorf("%s: %s = %q holds the password unencoded", engine, urlVar, raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %s = %q does not parse: %v", engine, urlVar, raw, err)
		}
		pw, _ := u.User.Password()
		if u.User.Username() != "app" || pw != cr.Password || u.Hostname() != "main" || u.Port() != strconv.Itoa(engines[engine].port()) {
			t.Errorf("%s: %s = %q parses to user %q password %q host %q port %q", engine, urlVar, raw, u.User.Username(), pw, u.Hostname(), u.Port())
		}
		if len(env) != len(want)+1 {
			t.Errorf("%s: env %v has names beyond %v and %s", engine, env, want, urlVar)
		}
	}
}

// TestBootFilesQuote checks that a password with quotes cannot end the SQL
// literal or the ACL rule it is written into.
func TestBootFilesQuote(t *testing.T) {
	cr := dbCredentials{Username: "app", Password: `a'b\c`, Database: "app"}
	pg := postgresEngine{}.bootFiles(cr)["enforce.sql"]
	if !strings.Contains(pg, `PASSWORD 'a''b\c';`) {
		t.Errorf("postgres enforce.sql:\n%s", pg)
	}
	my := mysqlEngine{}.bootFiles(cr)["enforce.sql"]
	if !strings.Contains(my, `IDENTIFIED BY 'a''b\\c'`) || strings.Count(my, `IDENTIFIED BY 'a''b\\c'`) != 2 {
		t.Errorf("mysql enforce.sql:\n%s", my)
	}
	for _, e := range []dbEngine{postgresEngine{}, mysqlEngine{}, redisEngine{}} {
		files := e.bootFiles(dbCredentials{Username: "app", Password: "pw1", Database: "app"})
		if !strings.HasPrefix(files["boot.sh"], "#!/bin/sh\n") || len(files) != 2 {
			t.Errorf("%T boot files: %v", e, files)
		}
	}
	rc := redisEngine{}.bootFiles(dbCredentials{Username: "app", Password: "pw1"})["redis.conf"]
	for _, line := range []string{"appendonly yes", "user default off resetpass resetkeys resetchannels -@all", "user app on resetpass >pw1 ~* &* +@all"} {
		if !strings.Contains(rc, "\n"+line+"\n") {
			t.Errorf("redis.conf lacks %q:\n%s", line, rc)
		}
	}
}

// TestChecksKeepPasswordsOffCommandLines checks that a login check and a
// rotation pass passwords in the environment or on stdin, never as
// arguments another process could read.
func TestChecksKeepPasswordsOffCommandLines(t *testing.T) {
	cur, next := dbCredentials{Username: "app", Password: "old-secret", Database: "app"}, dbCredentials{Username: "app", Password: "new-secret", Database: "app"}
	for name, e := range engines {
		for what, req := range map[string]agent.ExecRequest{"check": e.check(cur), "rotate": e.rotate(cur, next)} {
			args := strings.Join(req.Cmd, " ")
			if strings.Contains(args, "secret") {
				t.Errorf("%s %s: a password is on the command line: %s", name, what, args)
			}
		}
		if !strings.Contains(string(e.rotate(cur, next).Stdin), "new-secret") {
			t.Errorf("%s rotate: the new password is not on stdin", name)
		}
	}
}

func TestVersionFromCheck(t *testing.T) {
	for _, c := range []struct {
		e    dbEngine
		res  agent.ExecResult
		want string
		fail string
	}{
		{postgresEngine{}, agent.ExecResult{Stdout: "1\n15.18 (Debian 15.18-0+deb12u1)\n"}, "15.18", ""},
		{postgresEngine{}, agent.ExecResult{ExitCode: 2, Stderr: "psql: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password authentication failed for user \"app\"\n"}, "", "password authentication failed"},
		{mysqlEngine{}, agent.ExecResult{Stdout: "1\n10.11.18-MariaDB-0+deb12u1\n"}, "10.11.18-MariaDB-0+deb12u1", ""},
		{mysqlEngine{}, agent.ExecResult{ExitCode: 1, Stderr: "ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1' (using password: YES)\n"}, "", "Access denied"},
		{redisEngine{}, agent.ExecResult{Stdout: "PONG\n# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n"}, "7.0.15", ""},
		{redisEngine{}, agent.ExecResult{Stdout: "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\nNOAUTH Authentication required.\n"}, "", "WRONGPASS"},
	} {
		v, err := c.e.version(c.res)
		if c.fail == "" && (err != nil || v != c.want) {
			t.Errorf("%T %+v: %q %v, want %q", c.e, c.res, v, err, c.want)
		}
		if c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)) {
			t.Errorf("%T %+v: %v, want an error naming %q", c.e, c.res, err, c.fail)
		}
	}
}

func TestDatabaseNames(t *testing.T) {
	if got := names.ProjectNetwork("prj_01abc"); got != "berth-prj-01abc" {
		t.Errorf("network = %q", got)
	}
	if got := dbVolume("prj_01abc", "postgres", "main"); got != "berth-prj-01abc-postgres-main" {
		t.Errorf("volume = %q", got)
	}
	for _, ok := range []string{"a", "main", "cache-2", "x1"} {
		if !dbName.MatchString(ok) {
			t.Errorf("name %q refused", ok)
		}
	}
	for _, bad := range []string{"", "Main", "1db", "db-", "a_b", "a.b", strings.Repeat("a", 33)} {
		if dbName.MatchString(bad) {
			t.Errorf("name %q accepted", bad)
		}
	}
	if got := redact("login failed for s3cret", "s3cret"); got != "login failed for [redacted]" {
		t.Errorf("redact = %q", got)
	}
}

// TestWentDown pins when a healthy service's server counts as gone down
// since it was last seen healthy: what makes the watcher report it at
// once instead of at the next failed login.
func TestWentDown(t *testing.T) {
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db := &store.Database{UpdatedAt: seen}
	for _, tc := range []struct {
		info agent.ContainerInfo
		want bool
	}{
		{agent.ContainerInfo{State: "running", Running: true, StartedAt: seen.Add(-time.Minute)}, false},
		{agent.ContainerInfo{State: "running", Running: true, StartedAt: seen.Add(time.Second)}, true},
		{agent.ContainerInfo{State: "restarting", Running: true, StartedAt: seen.Add(-time.Minute)}, true},
		{agent.ContainerInfo{State: "exited", ExitCode: 137, StartedAt: seen.Add(-time.Minute)}, true},
	} {
		if got := wentDown(tc.info, db); got != tc.want {
			t.Errorf("wentDown(%+v) = %v, want %v", tc.info, got, tc.want)
		}
	}
}
