#!/usr/bin/env bash
# Builds (once) and imports the Docker image of a real Debian bookworm host for the SSH deployment tests:
# systemd as PID 1, sshd, Debian's Node.js (for the Velociraptor stand-in), curl, sudo. The root filesystem is
# made with debootstrap from Debian's packages (no image can be pulled here), tarred and cached under
# ~/.cache/megaraptor/host/, keyed by the package list, the customisation steps and HOST_IMAGE_VERSION, then
# `docker import`ed as megaraptor/test-host:<key>. A second run reuses the tarball and the image.
#
#   scripts/host-image.sh               build if needed, import if needed, print the image name last
#   scripts/host-image.sh --image-name  print the image name this script builds, change nothing
#
# On failure the reason is written to ~/.cache/megaraptor/host/status so the tests can print why they skip.
set -euo pipefail

SUITE=bookworm
MIRROR="${MEGARAPTOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=(systemd systemd-sysv dbus openssh-server nodejs curl ca-certificates sudo procps iproute2)
# Docker ignores STOPSIGNAL in `import --change`: the test helper passes --stop-signal at run time instead.
IMPORT_CHANGES=('ENV container=docker' 'CMD ["/sbin/init"]')
# Bump to force a rebuild that nothing below would show (a new point release of the suite, say).
HOST_IMAGE_VERSION=1

# Turns a fresh debootstrap tree into a host that boots systemd inside a container with sshd as its service.
customise() {
  local root="$1"
  # Units that need real hardware, a console or kernel mounts a container does not give: masked so the system
  # reaches `running` (or at worst `degraded` for reasons the tests print) instead of hanging on them.
  local masked=(
    getty@tty1.service serial-getty@.service console-getty.service getty.target
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-udev-trigger.service
    systemd-udev-settle.service systemd-modules-load.service systemd-remount-fs.service systemd-firstboot.service
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount
    dev-hugepages.mount dev-mqueue.mount proc-sys-fs-binfmt_misc.automount systemd-binfmt.service
    systemd-sysctl.service systemd-hwdb-update.service systemd-journald-audit.socket systemd-pstore.service
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
  )
  for u in "${masked[@]}"; do ln -sf /dev/null "$root/etc/systemd/system/$u"; done
  chroot "$root" systemctl enable ssh.service >/dev/null 2>&1 || fail "systemctl enable ssh failed in the chroot"
  chroot "$root" systemctl set-default multi-user.target >/dev/null 2>&1

  # Host keys are made at first boot, not baked into the tarball: every container is its own host.
  rm -f "$root"/etc/ssh/ssh_host_*
  mkdir -p "$root/etc/systemd/system/ssh.service.d"
  cat >"$root/etc/systemd/system/ssh.service.d/host-keys.conf" <<'EOF'
# The image ships without host keys so that no two containers share one; make them before sshd's own check.
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
  cat >"$root/etc/ssh/sshd_config.d/megaraptor-test-host.conf" <<'EOF'
# Key logins only; root's authorized_keys is written at run time by the test helper, never at build time.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
EOF
  install -d -m 0700 "$root/root/.ssh"
  rm -f "$root/root/.ssh/authorized_keys"

  # An empty machine-id makes systemd create a fresh one per container instead of all sharing the build's.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  # Journald keeps logs in memory: the container is thrown away after each test run.
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/volatile.conf"

  chroot "$root" node --version >/dev/null || fail "Debian's nodejs does not run in the new root filesystem"
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/tmp/* "$root"/var/tmp/*
  # Manuals and translations are a quarter of the tree and nothing in a test reads them; licences stay.
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
}

# The cache key: the package list, this version, and the customisation's code as bash prints it back (comments
# dropped), so a changed step rebuilds the tarball and a reworded comment does not.
KEY="$(
  { printf '%s\n' "$HOST_IMAGE_VERSION" "$SUITE" "$(dpkg --print-architecture 2>/dev/null || uname -m)" "${PACKAGES[@]}" "${IMPORT_CHANGES[@]}"
    declare -f customise; } | sha256sum | cut -c1-12
)"
CACHE="${MEGARAPTOR_CACHE:-$HOME/.cache/megaraptor}/host"
TARBALL="$CACHE/debian-$SUITE-$KEY.tar"
IMAGE="megaraptor/test-host:$KEY"
STATUS="$CACHE/status"

if [ "${1:-}" = "--image-name" ]; then echo "$IMAGE"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
log() { echo "host-image: $*" >&2; }
mkdir -p "$CACHE"
fail() { log "$*"; printf 'failed: %s\n' "$*" >"$STATUS"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
started="$(now)"

# debootstrap, chroot and dockerd all need root; CI and the developers' machines run as root.
[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap, chroot and dockerd need it)"

# One build at a time: CI and a developer's test run may start this together.
exec 9>"$CACHE/.lock"
flock 9

need=()
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=300 update -qq || log "apt-get update failed; trying the install anyway"
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || fail "apt-get install ${need[*]} failed"
fi
PATH="$PATH:/usr/sbin:/sbin"

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  (dockerd --host=unix:///var/run/docker.sock >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start (see /tmp/dockerd.log: $(tail -3 /tmp/dockerd.log 2>/dev/null | tr '\n' ' '))"
fi

if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null 2>&1 || fail "debootstrap is not installed"
  root="$CACHE/rootfs-$KEY"
  # An interrupted debootstrap can leave /proc and /sys mounted in the tree: unmount before deleting it.
  findmnt -rn -o TARGET | grep -F "$root/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$root" "$TARBALL.part"
  log "debootstrap $SUITE (minbase + ${PACKAGES[*]}) from $MIRROR into $root"
  include="$(IFS=,; echo "${PACKAGES[*]}")"
  if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    fail "debootstrap failed: $(tail -3 "$CACHE/debootstrap.log" | tr '\n' ' ') (full log: $CACHE/debootstrap.log)"
  fi
  log "debootstrap took $(since "$started")s"
  customise "$root"
  tar --numeric-owner -C "$root" -cf "$TARBALL.part" . || fail "tar of $root failed"
  mv "$TARBALL.part" "$TARBALL"
  rm -rf "$root"
  log "cold build took $(since "$started")s; tarball $(du -h "$TARBALL" | cut -f1) at $TARBALL"
else
  log "reusing $TARBALL ($(du -h "$TARBALL" | cut -f1))"
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "docker import $TARBALL as $IMAGE"
  changes=()
  for c in "${IMPORT_CHANGES[@]}"; do changes+=(--change "$c"); done
  docker import "${changes[@]}" "$TARBALL" "$IMAGE" >/dev/null || fail "docker import of $TARBALL failed"
fi
# Earlier keys' tarballs and images are dead weight (a quarter of a gigabyte each); an image still used by a
# container is kept by docker and removed on a later run.
find "$CACHE" -maxdepth 1 -name "debian-$SUITE-*.tar" ! -name "$(basename "$TARBALL")" -delete
docker images --format '{{.Repository}}:{{.Tag}}' megaraptor/test-host | grep -vxF "$IMAGE" | xargs -r docker rmi >/dev/null 2>&1 || true

printf 'ok %s\n' "$IMAGE" >"$STATUS"
log "ready in $(since "$started")s: $IMAGE"
echo "$IMAGE"
