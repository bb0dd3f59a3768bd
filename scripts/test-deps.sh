#!/usr/bin/env bash
# Installs what the tests need beyond npm: Debian's chromium (page tests), openssh-server (SSH tests) and openssl
# (`hwledger certs` and the mutual-TLS tests).
# Runs before `npm test` (npm's pretest hook), so a fresh clone needs nothing else. Offline except apt.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-deps: installing ${need[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
