#!/usr/bin/env bash
# Builds the real Pulumi engine from published Go modules and caches it, so the engine test suite runs `pulumi up` /
# `destroy` for real with nothing downloaded at run time:
#   - pulumi                   the CLI, module github.com/pulumi/pulumi/pkg/v3 at the version of our @pulumi/pulumi
#   - pulumi-resource-command  the command provider, module github.com/pulumi/pulumi-command/provider (= v1.2.1)
#   - pulumi-language-nodejs   the Node.js language host (platform-team path: `pulumi up` on Pulumi.yaml)
# Each binary lives in ~/.cache/megaraptor/engines/<name>-<version>/ and is reused while it reports its version; the
# CLI as <root>/bin/pulumi, the layout the Automation API's PulumiCommand.get({ root }) expects.
# Writes engines/env.sh (PATH, PULUMI_HOME, offline switches) and engines/status.json (one entry per binary: its
# path, or why it is missing); engines/FAILED holds the reason when the CLI itself is missing, so the engine suite
# skips with it. Exits non-zero when any binary is missing; .ci/run carries on and the tests say why they skip.
set -Eeuo pipefail

ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${MEGARAPTOR_CACHE:-$HOME/.cache/megaraptor}"
ENGINES="$CACHE/engines"
# One folder for everything Go downloads or compiles, so CI caches one path.
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
# The throw-away build modules have no go.sum of their own: -mod=mod lets the go command record what it resolves.
export GOFLAGS="-mod=mod -buildvcs=false"
# The plugin cache and CLI state: never the user's ~/.pulumi.
PULUMI_HOME_DIR="$ENGINES/pulumi-home"
export PULUMI_HOME="$PULUMI_HOME_DIR" PULUMI_SKIP_UPDATE_CHECK=true

COMMAND_COMMIT="7f3eb6f3b77c" # pulumi/pulumi-command release v1.2.1; the provider/ module has no tags of its own
COMMAND_VERSION="1.2.1"       # must equal @pulumi/command's version: the SDK asks the engine for exactly this plugin
# The commit tagged v<version> in pulumi/pulumi, for when the module proxy's answer has no Origin (it has none here).
# The language host module is untagged, so only a pseudo-version of that commit names it.
declare -A PULUMI_TAG_COMMIT=([3.248.0]=a88168d865b7fd428e5a929cc54aeceaf72d203f)

mkdir -p "$ENGINES" "$GOMODCACHE" "$GOCACHE" "$PULUMI_HOME_DIR/plugins"
exec 9>"$ENGINES/.lock"
flock 9 # two callers at once would build into the same work folders

log() { echo "engines: $*" >&2; }

# Whatever stops the script leaves the reason where the engine suite reads it, not a stale status from an older run.
give_up() {
  log "FAILED: $1"
  echo "$1" >"$ENGINES/FAILED"
  rm -f "$ENGINES/status.json"
  exit 1
}
trap 'give_up "scripts/engines.sh stopped at line $LINENO running: $BASH_COMMAND"' ERR

command -v go >/dev/null 2>&1 || give_up "no Go toolchain on PATH (the engine is built from Go modules: install Go >= 1.25)"
command -v node >/dev/null 2>&1 || give_up "no node on PATH (needed to read the @pulumi/pulumi version to build)"

# The CLI must match the Node SDK the programs run with (the Automation API and the engine speak one protocol).
pulumi_version() {
  if [ -n "${MEGARAPTOR_PULUMI_VERSION:-}" ]; then echo "$MEGARAPTOR_PULUMI_VERSION"; return; fi
  local pkg="$ROOT_DIR/node_modules/@pulumi/pulumi/package.json"
  if [ -f "$pkg" ]; then node -p "require(process.argv[1]).version" "$pkg"; return; fi
  node -p "require(process.argv[1]).packages['node_modules/@pulumi/pulumi'].version" "$ROOT_DIR/package-lock.json"
}

# The first lines of a go command's output that are not progress, joined into one line for a reason file.
first_error() {
  grep -v -E '^go: (downloading|added|upgraded|finding|extracting|creating|to add module)|^\s*$' "$1" | head -3 | tr '\n' ' ' | cut -c1-400
}

# What the module proxy said when it refused a version: status and server response, e.g.
# "403 Forbidden: This module version is not available."
proxy_refusal() {
  local status said
  status="$(printf '%s\n' "$1" | grep -o -m1 '[0-9][0-9][0-9] [A-Z][A-Za-z ]*$' || true)"
  said="$(printf '%s\n' "$1" | sed -n 's/^[[:space:]]*server response: //p' | head -1)"
  if [ -n "$status$said" ]; then echo "${status:-refused}${said:+: $said}"; else first_error <(printf '%s\n' "$1"); fi
}

json_escape() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; printf '%s' "$s" | tr -d '\000-\037'; }

declare -A STATE REASON PATHS VERSIONS
record_ok() { STATE[$1]=ok; PATHS[$1]=$2; VERSIONS[$1]=$3; }
record_missing() { STATE[$1]=missing; REASON[$1]=$2; VERSIONS[$1]=$3; }

human_size() { numfmt --to=iec-i --suffix=B "$(stat -c %s "$1")"; }

# build_binary NAME VERSION OUT_DIR MAIN_PACKAGE LDFLAGS MODULE@VERSION...
# Builds MAIN_PACKAGE from a throw-away module that requires the given module versions. Building inside a module of
# our own (instead of `go install module@version`) is what the CLI needs: pkg/v3's go.mod has `replace` lines, which
# `go install` refuses and a consumer module ignores. None is copied: `sdk/v3 => ../sdk` is what pinning sdk/v3 to
# the same version stands for, and `atotto/clipboard => tgummerer/clipboard` is a Windows DLL-loading fix (pulumi
# #17410), nothing on Linux. Returns non-zero with the go output in $ENGINES/NAME-VERSION.log.
build_binary() {
  local name=$1 version=$2 out_dir=$3 main_pkg=$4 ldflags=$5
  shift 5
  local work="$ENGINES/.work/$name-$version" logf="$ENGINES/$name-$version.log" start=$SECONDS
  rm -rf "$work" && mkdir -p "$work" && : >"$logf"
  # Chained with &&: errexit does not apply inside a subshell whose status is tested.
  (
    cd "$work" &&
      go mod init megaraptor.local/engine-build/"$name" &&
      go get "$@" &&
      go build -trimpath -o "$work/$name" -ldflags "$ldflags" "$main_pkg"
  ) >>"$logf" 2>&1 || return 1
  mkdir -p "$out_dir"
  mv "$work/$name" "$out_dir/$name"
  rm -rf "$work"
  log "$name $version built in $((SECONDS - start)) s, $(human_size "$out_dir/$name")"
}

PULUMI_VERSION="$(pulumi_version)"
CLI_ROOT="$ENGINES/pulumi-$PULUMI_VERSION"
CLI_DIR="$CLI_ROOT/bin"

build_cli() {
  local v=$PULUMI_VERSION bin="$CLI_DIR/pulumi"
  # The version stamp is what the Automation API reads from `pulumi version`; an unstamped CLI fails every operation.
  if [ -x "$bin" ] && [ "$("$bin" version 2>/dev/null)" = "v$v" ]; then
    log "pulumi $v cached ($(human_size "$bin"))"
    record_ok pulumi "$bin" "$v"
    return
  fi
  log "building pulumi $v from github.com/pulumi/pulumi/pkg/v3@v$v (minutes on 2 cores when the Go caches are cold)"
  if build_binary pulumi "$v" "$CLI_DIR" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
    "github.com/pulumi/pulumi/pkg/v3@v$v" "github.com/pulumi/pulumi/sdk/v3@v$v"; then
    local said
    said="$("$bin" version 2>&1 || true)"
    if [ "$said" = "v$v" ]; then record_ok pulumi "$bin" "$v"; else record_missing pulumi "the built CLI says '$said' to \`pulumi version\`, expected v$v" "$v"; fi
  else
    record_missing pulumi "go build of github.com/pulumi/pulumi/pkg/v3@v$v failed: $(first_error "$ENGINES/pulumi-$v.log") (full log: $ENGINES/pulumi-$v.log)" "$v"
  fi
}

# The command provider goes into the plugin cache under PULUMI_HOME, where the CLI looks up a versioned plugin by the
# folder name resource-command-v<version> (sdk/go/common/workspace/plugins.go at v3.248.0: PluginDescriptor.Dir
# l.1318-1325, GetPluginsFromDir l.1986-2016 skips a folder with a sibling .partial). Not on PATH: an ambient plugin
# wins over any version and prints a warning on every run (GetPluginPath l.2136-2207).
build_command() {
  local v=$COMMAND_VERSION mod=github.com/pulumi/pulumi-command/provider
  local dir="$ENGINES/pulumi-resource-command-$v" bin="$ENGINES/pulumi-resource-command-$v/pulumi-resource-command"
  local plugin_dir="$PULUMI_HOME_DIR/plugins/resource-command-v$v"
  if [ ! -x "$bin" ]; then
    local info pseudo
    if ! info="$(go list -m -json "$mod@$COMMAND_COMMIT" 2>&1)"; then
      record_missing pulumi-resource-command "the Go module proxy does not serve $mod@$COMMAND_COMMIT (release v$v): $(proxy_refusal "$info")" "$v"
      return
    fi
    pseudo="$(printf '%s' "$info" | sed -n 's/^\t"Version": "\(.*\)",$/\1/p' | head -1)"
    log "building pulumi-resource-command $v from $mod@$pseudo"
    if ! build_binary pulumi-resource-command "$v" "$dir" "$mod/cmd/pulumi-resource-command" \
      "-s -w -X $mod/pkg/version.Version=$v" "$mod@$pseudo"; then
      record_missing pulumi-resource-command "go build of $mod@$pseudo failed: $(first_error "$ENGINES/pulumi-resource-command-$v.log")" "$v"
      return
    fi
  else
    log "pulumi-resource-command $v cached ($(human_size "$bin"))"
  fi
  # Installed like `pulumi plugin install` does: .partial while copying, removed once the folder is whole.
  if ! cmp -s "$bin" "$plugin_dir/pulumi-resource-command"; then
    touch "$plugin_dir.partial"
    rm -rf "$plugin_dir" && mkdir -p "$plugin_dir"
    cp "$bin" "$plugin_dir/pulumi-resource-command"
    rm -f "$plugin_dir.partial"
  fi
  record_ok pulumi-resource-command "$plugin_dir/pulumi-resource-command" "$v"
}

# The language host is found next to the CLI (a bundled plugin: IsPluginBundled, GetPluginPath l.2148-2175), so it is
# copied into the CLI's folder once built.
build_language_nodejs() {
  local v=$PULUMI_VERSION mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
  local dir="$ENGINES/pulumi-language-nodejs-$v" bin="$ENGINES/pulumi-language-nodejs-$v/pulumi-language-nodejs"
  if [ ! -x "$bin" ]; then
    local commit info pseudo
    commit="$(go list -m -json "github.com/pulumi/pulumi/sdk/v3@v$v" 2>/dev/null | sed -n 's/^\t\t"Hash": "\(.*\)",\{0,1\}$/\1/p' | head -1 || true)"
    commit="${commit:-${PULUMI_TAG_COMMIT[$v]:-}}"
    if [ -z "$commit" ]; then
      record_missing pulumi-language-nodejs "no commit known for the tag v$v (the module proxy gave no Origin and scripts/engines.sh lists none)" "$v"
      return
    fi
    if ! info="$(go list -m -json "$mod@$commit" 2>&1)"; then
      record_missing pulumi-language-nodejs "the Go module proxy does not serve $mod at commit ${commit:0:12} (tag v$v): $(proxy_refusal "$info")" "$v"
      return
    fi
    pseudo="$(printf '%s' "$info" | sed -n 's/^\t"Version": "\(.*\)",$/\1/p' | head -1)"
    log "building pulumi-language-nodejs $v from $mod@$pseudo"
    if ! build_binary pulumi-language-nodejs "$v" "$dir" "$mod" \
      "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v" \
      "$mod@$pseudo" "github.com/pulumi/pulumi/pkg/v3@v$v" "github.com/pulumi/pulumi/sdk/v3@v$v"; then
      record_missing pulumi-language-nodejs "go build of $mod@$pseudo failed: $(first_error "$ENGINES/pulumi-language-nodejs-$v.log")" "$v"
      return
    fi
  else
    log "pulumi-language-nodejs $v cached ($(human_size "$bin"))"
  fi
  if [ -d "$CLI_DIR" ] && ! cmp -s "$bin" "$CLI_DIR/pulumi-language-nodejs"; then cp "$bin" "$CLI_DIR/pulumi-language-nodejs"; fi
  record_ok pulumi-language-nodejs "$bin" "$v"
}

build_cli
build_command
build_language_nodejs

{
  echo "# Written by scripts/engines.sh: the locally built Pulumi engine, used offline."
  echo "export PATH=\"$CLI_DIR:\$PATH\""
  echo "export PULUMI_HOME=\"$PULUMI_HOME_DIR\""
  echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
  echo "export PULUMI_SKIP_UPDATE_CHECK=true"
} >"$ENGINES/env.sh.tmp"
mv "$ENGINES/env.sh.tmp" "$ENGINES/env.sh"

{
  echo "{"
  echo "  \"cliRoot\": \"$(json_escape "$CLI_ROOT")\", \"pulumiHome\": \"$(json_escape "$PULUMI_HOME_DIR")\","
  echo "  \"components\": {"
  sep=""
  for name in pulumi pulumi-resource-command pulumi-language-nodejs; do
    if [ "${STATE[$name]}" = ok ]; then
      printf '%s    "%s": { "ok": true, "version": "%s", "path": "%s" }' "$sep" "$name" "${VERSIONS[$name]}" "$(json_escape "${PATHS[$name]}")"
    else
      printf '%s    "%s": { "ok": false, "version": "%s", "reason": "%s" }' "$sep" "$name" "${VERSIONS[$name]}" "$(json_escape "${REASON[$name]}")"
    fi
    sep=$',\n'
  done
  printf '\n  }\n}\n'
} >"$ENGINES/status.json.tmp"
mv "$ENGINES/status.json.tmp" "$ENGINES/status.json"

if [ "${STATE[pulumi]}" = ok ]; then rm -f "$ENGINES/FAILED"; else echo "${REASON[pulumi]}" >"$ENGINES/FAILED"; fi

missing=0
for name in pulumi pulumi-resource-command pulumi-language-nodejs; do
  if [ "${STATE[$name]}" = ok ]; then log "ok      $name ${VERSIONS[$name]}: ${PATHS[$name]}"; else log "MISSING $name ${VERSIONS[$name]}: ${REASON[$name]}"; missing=1; fi
done
log "env: $ENGINES/env.sh, status: $ENGINES/status.json"
exit $missing
