#!/usr/bin/env bash
# Installs the Debian packages the test suite and the benchmarks need, when any is missing:
# PostgreSQL (catalog tests), ZooKeeper (discovery tests), Prometheus/promtool (side-by-side
# answers and the ingest benchmark). Idempotent; needs root (as CI and dev machines run).
set -euo pipefail

need=()
command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /usr/lib/postgresql ] || need+=(postgresql)
[ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing ${need[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts services on install where it can; the tests start their own on other ports.
for cluster in $(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" && $2 == "main" {print $1}'); do
  pg_ctlcluster "$cluster" main stop || true
done
