#!/usr/bin/env bash
# Builds the pinned helm used by the chart tests and the demo, once.
#
# Debian has no helm package and prebuilt binaries cannot be downloaded here, so helm is
# built from its Go module (helm.sh/helm/v3 has no replace directives, so `go install
# module@version` builds it without a wrapper module). The binary goes next to the test
# cluster's, in .cache/test-cluster/bin/helm; a stamp file records the pin, and when it
# matches the script does nothing. Set HELM_FORCE_BUILD=1 to rebuild.
#
# Exit codes: 0 built or up to date; 2 no Go toolchain (callers skip with that reason).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"

root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${TEST_CLUSTER_CACHE:-$root/.cache/test-cluster}"
bin="$cache/bin"
stamp="$bin/HELM_VERSION"
# The recipe is part of the stamp, so a change to the ldflags below rebuilds.
want="helm=$HELM_VERSION recipe=2"

up_to_date() {
  [[ "${HELM_FORCE_BUILD:-0}" != 1 && -x "$bin/helm" && -f "$stamp" \
     && "$(cat "$stamp")" == "$want" ]]
}
if up_to_date; then
  echo "helm: up to date ($HELM_VERSION)"
  exit 0
fi

# The same lock as build.sh: on two shared cores, two Go builds at once only slow both down.
mkdir -p "$cache"
if command -v flock >/dev/null; then
  exec 9>"$cache/.build.lock"
  flock 9
  if up_to_date; then
    echo "helm: up to date ($HELM_VERSION), built by another run"
    exit 0
  fi
fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "helm: go not found (looked in PATH and /usr/local/go/bin)" >&2
  exit 2
fi

export GOFLAGS="-mod=mod -buildvcs=false -p=${TEST_CLUSTER_BUILD_JOBS:-2}"
export CGO_ENABLED=0
started=$SECONDS
mkdir -p "$bin"
rm -f "$stamp"

echo "helm: building helm $HELM_VERSION into $bin (takes a few minutes the first time)"
# helm's Makefile stamps the Kubernetes version its client libraries speak (client-go
# v0.X.Y means Kubernetes 1.X); without it `helm template` assumes Kubernetes 1.20 and
# rejects charts that need a newer one.
gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
k8s_minor="$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod")"
[[ -n "$k8s_minor" ]] || { echo "helm: no k8s.io/client-go in $gomod" >&2; exit 1; }
v=helm.sh/helm/v3/internal/version
ldflags="-s -w -X $v.version=$HELM_VERSION -X $v.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags="$ldflags -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
done
GOBIN="$bin" nice -n 10 go install -trimpath -ldflags "$ldflags" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

"$bin/helm" version --short
echo "$want" >"$stamp"
echo "helm: built in $((SECONDS - started))s"
