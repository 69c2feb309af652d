# Sourced by the ensure scripts: apt_install installs Debian packages,
# as root, saying what and why; it does nothing when given none.
apt_install() {
  local why=$1
  shift
  [ "$#" -gt 0 ] || return 0
  echo "installing $why: $*"
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install $*: run as root or install them yourself" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}
