#!/usr/bin/env bash
# Builds the pinned kube-apiserver and etcd used by the integration tests, once.
#
# Neither has a Debian package nor may be downloaded as a prebuilt binary here, so both are
# built from Go modules (the envtest approach): a throwaway wrapper module per binary under
# .cache/test-cluster/src/, binaries in .cache/test-cluster/bin/. A stamp file records the
# pins; when it matches, the script does nothing. Set TEST_CLUSTER_FORCE_BUILD=1 to rebuild.
#
# k8s.io/kubernetes cannot be built as a dependency as it stands: its go.mod points its
# staging modules (k8s.io/api, k8s.io/apiserver, ...) at local folders. The wrapper replaces
# each of them by the published module of the same release (v1.X.Y -> v0.X.Y).
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${TEST_CLUSTER_CACHE:-$root/.cache/test-cluster}"
bin="$cache/bin"
stamp="$bin/VERSION"
want="kube-apiserver=$KUBE_VERSION etcd=$ETCD_VERSION"

up_to_date() {
  [[ "${TEST_CLUSTER_FORCE_BUILD:-0}" != 1 && -x "$bin/kube-apiserver" && -x "$bin/etcd" \
     && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}
if up_to_date; then
  echo "test-cluster: binaries up to date ($want)"
  exit 0
fi

# One build at a time (a test run and a manual cluster may start together); the second
# waits, then finds the binaries built.
mkdir -p "$cache"
if command -v flock >/dev/null; then
  exec 9>"$cache/.build.lock"
  flock 9
  if up_to_date; then
    echo "test-cluster: binaries up to date ($want), built by another run"
    exit 0
  fi
fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "test-cluster: go not found (looked in PATH and /usr/local/go/bin)" >&2
  exit 2
fi

# Two shared cores: build at low priority and at most two packages at a time.
export GOFLAGS="-mod=mod -buildvcs=false -p=${TEST_CLUSTER_BUILD_JOBS:-2}"
export CGO_ENABLED=0
build=(nice -n 10 go build -trimpath)
started=$SECONDS
mkdir -p "$bin" "$cache/src"
rm -f "$stamp"

build_kube_apiserver() {
  local dir="$cache/src/kube-apiserver" minor="v0.${KUBE_VERSION#v1.}" upstream
  rm -rf "$dir" && mkdir -p "$dir"
  upstream="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -f "$upstream" ]] || { echo "test-cluster: no go.mod for k8s.io/kubernetes@$KUBE_VERSION" >&2; return 1; }

  {
    echo "module vmdhcp.local/kube-apiserver-build"
    echo
    grep -E '^go [0-9]' "$upstream"
    grep -E '^godebug ' "$upstream" || true
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Staging modules appear in the upstream replace block as `k8s.io/x => ./staging/src/k8s.io/x`.
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*$#\t\1 => \1 '"$minor"'#p' "$upstream"
    echo ")"
  } >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' \
    >"$dir/tools.go"

  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
  local major="${KUBE_VERSION#v}"; major="${major%%.*}"
  local minorNum="${KUBE_VERSION#v*.}"; minorNum="${minorNum%%.*}"
  local x="-X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minorNum"
  x="$x -X $pkg.gitTreeState=clean -X $cpkg.gitVersion=$KUBE_VERSION"
  x="$x -X $cpkg.gitMajor=$major -X $cpkg.gitMinor=$minorNum -X $cpkg.gitTreeState=clean"
  (cd "$dir" && go mod tidy \
    && "${build[@]}" -ldflags "-s -w $x" -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
}

build_etcd() {
  local dir="$cache/src/etcd"
  rm -rf "$dir" && mkdir -p "$dir"
  # The module go.etcd.io/etcd/server/v3 is itself the etcd main package.
  printf 'module vmdhcp.local/etcd-build\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$ETCD_VERSION" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
  (cd "$dir" && go mod tidy \
    && "${build[@]}" -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3)
}

echo "test-cluster: building etcd $ETCD_VERSION and kube-apiserver $KUBE_VERSION into $bin"
echo "test-cluster: (first build takes many minutes and a few GB of Go module cache)"
t=$SECONDS
build_etcd
echo "test-cluster: etcd built in $((SECONDS - t))s"
t=$SECONDS
build_kube_apiserver
echo "test-cluster: kube-apiserver built in $((SECONDS - t))s"

"$bin/etcd" --version | head -1
"$bin/kube-apiserver" --version
echo "$want" >"$stamp"
echo "test-cluster: build finished in $((SECONDS - started))s"
