package databases

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/agent"
	"github.com/berth-dev/berth/internal/store"
)

// bootDir holds, inside a data service's container, the boot script and
// what it enforces (readable by root only). Berth writes it before every
// start it makes and on every rotation.
const bootDir = "/berth"

// dbCredentials are what Berth issued for one data service.
type dbCredentials struct {
	Username string
	Password string
	Database string
}

// dbEngine is one data-service engine: how its container runs, how the
// boot script enforces the credentials Berth issued, how a login checks
// them, and what a linked app gets. An engine works on Berth's local
// images and on the official ones, which share a layout.
type dbEngine interface {
	// port is the server's TCP port inside the container.
	port() int
	// dataDir is where the data volume is mounted.
	dataDir() string
	// defaultImage is the image used unless one is configured.
	defaultImage() string
	// bootFiles are the files of bootDir: "boot.sh", run as root on every
	// start, and what it applies.
	bootFiles(cr dbCredentials) map[string]string
	// check logs in over TCP to 127.0.0.1 inside the container with cr
	// and prints the server's version; version reads it from the output,
	// or says why the login failed.
	check(cr dbCredentials) agent.ExecRequest
	version(res agent.ExecResult) (string, error)
	// rotate applies next to the running server, which enforces cur.
	rotate(cur, next dbCredentials) agent.ExecRequest
	// url is the service's connection URL at host:port.
	url(cr dbCredentials, host string, port int) string
	// env is what a linked app gets, reaching the service at host.
	env(cr dbCredentials, host string) map[string]string
}

// engines are the data-service engines by name.
var engines = map[string]dbEngine{
	store.EnginePostgres: postgresEngine{},
	store.EngineMySQL:    mysqlEngine{},
	store.EngineRedis:    redisEngine{},
}

// serviceURL is a connection URL with the username and password
// percent-encoded, so any password survives a URL parser.
func serviceURL(scheme string, cr dbCredentials, host string, port int, path string) string {
	u := url.URL{Scheme: scheme, User: url.UserPassword(cr.Username, cr.Password),
		Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + path}
	return u.String()
}

// sqlString is s as a single-quoted SQL literal. Backslashes are
// doubled too, which MySQL needs and PostgreSQL (with standard
// conforming strings) reads as two backslashes, so only MySQL gets it.
func sqlString(s string, backslashEscapes bool) string {
	s = strings.ReplaceAll(s, "'", "''")
	if backslashEscapes {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + s + "'"
}

// pgIdent is s as a quoted PostgreSQL identifier.
func pgIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// myIdent is s as a quoted MySQL identifier.
func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// failure is the first line of what a failed check printed, which names
// the cause (a refused password, a refused connection).
func failure(res agent.ExecResult) error {
	out := strings.TrimSpace(res.Stderr + "\n" + res.Stdout)
	for line := range strings.SplitSeq(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return fmt.Errorf("%s", line)
		}
	}
	return fmt.Errorf("the client exited with code %d", res.ExitCode)
}

// postgresEngine runs PostgreSQL: the official image's layout (PGDATA
// /var/lib/postgresql/data, the postgres user, the server binaries on
// PATH or under /usr/lib/postgresql/*/bin).
type postgresEngine struct{}

func (postgresEngine) port() int            { return 5432 }
func (postgresEngine) dataDir() string      { return "/var/lib/postgresql/data" }
func (postgresEngine) defaultImage() string { return "local/postgres:bookworm" }

// postgresBoot initialises the data directory on first start and, on
// every start: clears inherited PG* variables, fixes ownership, writes a
// pg_hba.conf outside the data directory that allows only scram-sha-256
// logins over the network (never the superuser's), re-applies the
// issued role, its password and its database's ownership on a server
// that listens on no TCP port, and only then starts the real server.
const postgresBoot = `#!/bin/sh
# Written by Berth: PostgreSQL's boot, run as root on every start.
set -eu
umask 077
for v in $(env | sed -n 's/^\(PG[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
PGDATA=/var/lib/postgresql/data
export PGDATA
if ! command -v postgres >/dev/null 2>&1; then
	for d in /usr/lib/postgresql/*/bin; do PATH="$d:$PATH"; done
fi
if command -v gosu >/dev/null 2>&1; then
	as_postgres="gosu postgres"
else
	as_postgres="setpriv --reuid=postgres --regid=postgres --init-groups"
fi
mkdir -p "$PGDATA" /var/run/postgresql /etc/berth
chmod 755 /etc/berth
find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres {} +
chmod 700 "$PGDATA"
chmod 2775 /var/run/postgresql
# The container just started: no server of this data directory runs.
rm -f "$PGDATA/postmaster.pid"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	echo "berth: initialising the data directory"
	$as_postgres initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi
cat > /etc/berth/pg_hba.conf <<'HBA'
# Written by Berth on every start; edits are lost.
local all postgres peer
local all all reject
host all postgres all reject
host all all all scram-sha-256
HBA
chown root:postgres /etc/berth/pg_hba.conf
chmod 640 /etc/berth/pg_hba.conf
set -- -c hba_file=/etc/berth/pg_hba.conf -c password_encryption=scram-sha-256
$as_postgres pg_ctl -D "$PGDATA" -w -t 300 -s -o "-c listen_addresses= $*" start
$as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres -f - < /berth/enforce.sql
$as_postgres pg_ctl -D "$PGDATA" -w -t 300 -s -m fast stop
echo "berth: the issued credentials are applied; starting PostgreSQL"
$as_postgres postgres -D "$PGDATA" -c "listen_addresses=*" "$@" &
pid=$!
# SIGINT is PostgreSQL's fast shutdown, whatever signal stops the container.
trap 'kill -INT "$pid" 2>/dev/null' INT TERM
st=0
wait "$pid" || st=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || st=$?; done
exit "$st"
`

func (e postgresEngine) bootFiles(cr dbCredentials) map[string]string {
	role, db := pgIdent(cr.Username), pgIdent(cr.Database)
	sql := fmt.Sprintf(`SET password_encryption = 'scram-sha-256';
SELECT 'CREATE ROLE %[1]s' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %[3]s)\gexec
ALTER ROLE %[1]s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 VALID UNTIL 'infinity' PASSWORD %[5]s;
SELECT 'CREATE DATABASE %[2]s OWNER %[1]s' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %[4]s)\gexec
ALTER DATABASE %[2]s OWNER TO %[1]s;
\connect %[2]s
ALTER SCHEMA public OWNER TO %[1]s;
`, role, db, sqlString(cr.Username, false), sqlString(cr.Database, false), sqlString(cr.Password, false))
	return map[string]string{"boot.sh": postgresBoot, "enforce.sql": sql}
}

func (e postgresEngine) check(cr dbCredentials) agent.ExecRequest {
	return agent.ExecRequest{
		Cmd: []string{"psql", "-X", "-w", "-A", "-t", "-h", "127.0.0.1", "-p", strconv.Itoa(e.port()),
			"-U", cr.Username, "-d", cr.Database, "-c", "SELECT 1", "-c", "SHOW server_version"},
		Env: []string{"PGPASSWORD=" + cr.Password, "PGCONNECT_TIMEOUT=5", "PGSSLMODE=disable", "PGOPTIONS="},
	}
}

func (postgresEngine) version(res agent.ExecResult) (string, error) {
	lines := strings.Fields(res.Stdout)
	if res.ExitCode != 0 || len(lines) < 2 || lines[0] != "1" {
		return "", failure(res)
	}
	return lines[1], nil
}

func (e postgresEngine) rotate(cur, next dbCredentials) agent.ExecRequest {
	sql := fmt.Sprintf("SET password_encryption = 'scram-sha-256';\nALTER ROLE %s WITH LOGIN PASSWORD %s;\n",
		pgIdent(next.Username), sqlString(next.Password, false))
	return agent.ExecRequest{
		User:  "postgres",
		Cmd:   []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-f", "-"},
		Env:   []string{"PGOPTIONS="},
		Stdin: []byte(sql),
	}
}

func (postgresEngine) url(cr dbCredentials, host string, port int) string {
	return serviceURL("postgres", cr, host, port, cr.Database)
}

func (e postgresEngine) env(cr dbCredentials, host string) map[string]string {
	p := strconv.Itoa(e.port())
	return map[string]string{
		"DATABASE_URL": e.url(cr, host, e.port()),
		"PGHOST":       host, "PGPORT": p, "PGUSER": cr.Username, "PGPASSWORD": cr.Password, "PGDATABASE": cr.Database,
	}
}

// mysqlEngine runs MySQL or MariaDB: the official images' layout (data
// in /var/lib/mysql, the mysql user, mysqld or mariadbd and the client
// on PATH).
type mysqlEngine struct{}

func (mysqlEngine) port() int            { return 3306 }
func (mysqlEngine) dataDir() string      { return "/var/lib/mysql" }
func (mysqlEngine) defaultImage() string { return "local/mariadb:bookworm" }

// mysqlBoot initialises the data directory on first start and, on every
// start: fixes ownership, starts the server without networking and
// without grant checks (so whatever was done to root, Berth gets in),
// re-applies the issued user, its password and grants, drops remote
// root and anonymous users, and only then starts the real server.
const mysqlBoot = `#!/bin/sh
# Written by Berth: MySQL's boot, run as root on every start.
set -eu
umask 077
datadir=/var/lib/mysql
mysqld=$(command -v mariadbd || command -v mysqld)
client=$(command -v mariadb || command -v mysql)
mkdir -p "$datadir" /run/mysqld
find "$datadir" /run/mysqld \! -user mysql -exec chown mysql:mysql {} +
chmod 755 /run/mysqld
# The container just started: no server of this data directory runs.
rm -f /run/mysqld/*.pid /run/mysqld/*.sock /run/mysqld/*.sock.lock
if [ ! -d "$datadir/mysql" ]; then
	echo "berth: initialising the data directory"
	if command -v mariadb-install-db >/dev/null 2>&1; then
		mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
			--auth-root-authentication-method=socket >/dev/null
	else
		"$mysqld" --initialize-insecure --user=mysql --datadir="$datadir"
	fi
fi
"$mysqld" --user=mysql --datadir="$datadir" --skip-networking --skip-grant-tables \
	--socket=/run/mysqld/boot.sock --pid-file=/run/mysqld/boot.pid &
pid=$!
i=0
until "$client" --protocol=socket --socket=/run/mysqld/boot.sock -uroot -e 'SELECT 1' >/dev/null 2>&1; do
	kill -0 "$pid" 2>/dev/null || { echo "berth: the server stopped while starting"; exit 1; }
	i=$((i + 1))
	[ "$i" -lt 3000 ] || { echo "berth: the server did not start in 300s"; exit 1; }
	sleep 0.1
done
"$client" --protocol=socket --socket=/run/mysqld/boot.sock -uroot < /berth/enforce.sql
kill -TERM "$pid"
wait "$pid" || true
echo "berth: the issued credentials are applied; starting the server"
exec "$mysqld" --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 --port=3306 --skip-name-resolve \
	--socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid
`

func (e mysqlEngine) bootFiles(cr dbCredentials) map[string]string {
	user, pw := sqlString(cr.Username, true), sqlString(cr.Password, true)
	sql := fmt.Sprintf(`FLUSH PRIVILEGES;
CREATE USER IF NOT EXISTS %[1]s@'%%' IDENTIFIED BY %[2]s;
ALTER USER %[1]s@'%%' IDENTIFIED BY %[2]s ACCOUNT UNLOCK;
CREATE DATABASE IF NOT EXISTS %[3]s;
GRANT ALL PRIVILEGES ON %[3]s.* TO %[1]s@'%%';
SET @users = (SELECT GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host)) SEPARATOR ', ') FROM mysql.user
	WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1', '::1')) OR (User = %[1]s AND Host <> '%%'));
SET @drop = IF(@users IS NULL, 'DO 0', CONCAT('DROP USER ', @users));
PREPARE drop_users FROM @drop;
EXECUTE drop_users;
DEALLOCATE PREPARE drop_users;
FLUSH PRIVILEGES;
`, user, pw, myIdent(cr.Database))
	return map[string]string{"boot.sh": mysqlBoot, "enforce.sql": sql}
}

// mysqlClient runs the MariaDB or MySQL client, whichever the image has.
const mysqlClient = `exec "$(command -v mariadb || command -v mysql)" "$@"`

func (e mysqlEngine) check(cr dbCredentials) agent.ExecRequest {
	return agent.ExecRequest{
		Cmd: []string{"sh", "-c", mysqlClient, "mysql", "--protocol=TCP", "-h", "127.0.0.1", "-P", strconv.Itoa(e.port()),
			"--connect-timeout=5", "-u", cr.Username, "-D", cr.Database, "-N", "-B", "-e", "SELECT 1; SELECT VERSION()"},
		Env: []string{"MYSQL_PWD=" + cr.Password},
	}
}

func (mysqlEngine) version(res agent.ExecResult) (string, error) {
	lines := strings.Fields(res.Stdout)
	if res.ExitCode != 0 || len(lines) < 2 || lines[0] != "1" {
		return "", failure(res)
	}
	return lines[1], nil
}

func (e mysqlEngine) rotate(cur, next dbCredentials) agent.ExecRequest {
	sql := fmt.Sprintf("ALTER USER %s@'%%' IDENTIFIED BY %s;\nFLUSH PRIVILEGES;\n",
		sqlString(next.Username, true), sqlString(next.Password, true))
	return agent.ExecRequest{
		Cmd:   []string{"sh", "-c", mysqlClient, "mysql", "--protocol=socket", "--socket=/run/mysqld/mysqld.sock", "-uroot"},
		Stdin: []byte(sql),
	}
}

func (mysqlEngine) url(cr dbCredentials, host string, port int) string {
	return serviceURL("mysql", cr, host, port, cr.Database)
}

func (e mysqlEngine) env(cr dbCredentials, host string) map[string]string {
	return map[string]string{
		"MYSQL_URL":  e.url(cr, host, e.port()),
		"MYSQL_HOST": host, "MYSQL_PORT": strconv.Itoa(e.port()), "MYSQL_USER": cr.Username,
		"MYSQL_PASSWORD": cr.Password, "MYSQL_DATABASE": cr.Database,
	}
}

// redisEngine runs Redis: the official image's layout (data in /data,
// the redis user, redis-server and redis-cli on PATH).
type redisEngine struct{}

func (redisEngine) port() int            { return 6379 }
func (redisEngine) dataDir() string      { return "/data" }
func (redisEngine) defaultImage() string { return "local/redis:bookworm" }

// redisBoot fixes ownership and starts the server on the configuration
// Berth wrote: the issued ACL user, the default user off, AOF on.
const redisBoot = `#!/bin/sh
# Written by Berth: Redis's boot, run as root on every start.
set -eu
umask 077
mkdir -p /data /etc/berth
chmod 755 /etc/berth
find /data \! -user redis -exec chown redis:redis {} +
install -o redis -g redis -m 600 /berth/redis.conf /etc/berth/redis.conf
echo "berth: starting Redis with the issued ACL user"
if command -v gosu >/dev/null 2>&1; then
	exec gosu redis redis-server /etc/berth/redis.conf
fi
exec setpriv --reuid=redis --regid=redis --init-groups redis-server /etc/berth/redis.conf
`

func (e redisEngine) bootFiles(cr dbCredentials) map[string]string {
	conf := fmt.Sprintf(`# Written by Berth on every start; edits are lost.
bind * -::*
port %d
protected-mode no
daemonize no
dir /data
appendonly yes
appendfsync everysec
user default off resetpass resetkeys resetchannels -@all
user %s on resetpass >%s ~* &* +@all
`, e.port(), cr.Username, cr.Password)
	return map[string]string{"boot.sh": redisBoot, "redis.conf": conf}
}

// redisCLI runs redis-cli as user $1 against the server, the password in
// REDISCLI_AUTH.
const redisCLI = `u=$1; shift; exec redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 --user "$u" "$@"`

func (e redisEngine) check(cr dbCredentials) agent.ExecRequest {
	script := `u=$1; c="redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 --user $u"; $c PING && $c INFO server`
	return agent.ExecRequest{Cmd: []string{"sh", "-c", script, "redis", cr.Username}, Env: []string{"REDISCLI_AUTH=" + cr.Password}}
}

func (redisEngine) version(res agent.ExecResult) (string, error) {
	first, rest, _ := strings.Cut(strings.ReplaceAll(res.Stdout, "\r", ""), "\n")
	if res.ExitCode != 0 || strings.TrimSpace(first) != "PONG" {
		return "", failure(res)
	}
	for line := range strings.SplitSeq(rest, "\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", nil
}

func (e redisEngine) rotate(cur, next dbCredentials) agent.ExecRequest {
	// -x reads the last argument from stdin, so the new password is
	// never on a command line.
	return agent.ExecRequest{
		Cmd:   []string{"sh", "-c", redisCLI, "redis", cur.Username, "-x", "ACL", "SETUSER", next.Username, "resetpass"},
		Env:   []string{"REDISCLI_AUTH=" + cur.Password},
		Stdin: []byte(">" + next.Password),
	}
}

// url names database 0, the one apps use.
func (redisEngine) url(cr dbCredentials, host string, port int) string {
	return serviceURL("redis", cr, host, port, "0")
}

func (e redisEngine) env(cr dbCredentials, host string) map[string]string {
	return map[string]string{
		"REDIS_URL":  e.url(cr, host, e.port()),
		"REDIS_HOST": host, "REDIS_PORT": strconv.Itoa(e.port()), "REDIS_USER": cr.Username, "REDIS_PASSWORD": cr.Password,
	}
}
