package images

// The managed data services' local images: Debian's packages laid out as
// the official postgres, mysql/mariadb and redis images are, so the boot
// script Berth runs in a data service's container works on either.
const (
	// Postgres is Debian's PostgreSQL 15.
	Postgres = "berth/postgres:bookworm"
	// MariaDB is Debian's MariaDB 10.11, Berth's MySQL.
	MariaDB = "berth/mariadb:bookworm"
	// Redis is Debian's Redis 7.0.
	Redis = "berth/redis:bookworm"
)

// dataImages are the managed data services' images, in dependency order.
var dataImages = []image{
	{ref: Postgres, base: Debian, dir: "postgres"},
	{ref: MariaDB, base: Debian, dir: "mariadb"},
	{ref: Redis, base: Debian, dir: "redis"},
}
