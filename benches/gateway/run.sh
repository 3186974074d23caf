#!/usr/bin/env bash
# Bounded load test of `clerk-verify serve`'s /auth on loopback (warm key cache), beside the same
# check through Clerk's JavaScript SDK (@clerk/backend verifyToken with a jwtKey) and an nginx
# baseline. Results and conditions: docs/benchmarks.md ("The gateway").
#
#   benches/gateway/run.sh                      # DURATION=10s CONNECTIONS=16 RUNS=2
#
# Needs wrk, nginx and curl (apt-get install wrk nginx curl); node and npm for the JavaScript
# column (skipped with a notice without them). Everything listens on 127.0.0.1 and is stopped
# at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
RUNS=${RUNS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release -q -p clerk-verify-cli
BIN=$CARGO_TARGET_DIR/release/clerk-verify
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on $1" >&2
    exit 1
}

"$BIN" dev keygen --out-dir "$WORK" >/dev/null
TOKEN=$("$BIN" dev mint --key "$WORK/dev-key.pem" --sub user_bench --ttl 3600)
AUTH="Authorization: Bearer $TOKEN"

# clerk-verify serve, with its default logging (one line per decision, to /dev/null here) and
# with logging off.
P_SERVE=$(free_port)
"$BIN" serve --listen "127.0.0.1:$P_SERVE" --pem "$WORK/dev-key.pub.pem" 2>/dev/null &
PIDS+=($!)
P_QUIET=$(free_port)
"$BIN" serve --listen "127.0.0.1:$P_QUIET" --pem "$WORK/dev-key.pub.pem" --log-level off &
PIDS+=($!)
# The verified-token cache is on by default, and wrk sends one token: the two above answer from
# it. This one verifies every request, as @clerk/backend's verifyToken does.
P_FULL=$(free_port)
CLERK_TOKEN_CACHE_SIZE=0 "$BIN" serve --listen "127.0.0.1:$P_FULL" --pem "$WORK/dev-key.pub.pem" --log-level off &
PIDS+=($!)

# Clerk's JavaScript SDK.
P_NODE=""
if command -v node >/dev/null && command -v npm >/dev/null; then
    mkdir "$WORK/node"
    cp benches/gateway/clerk-backend-server.mjs "$WORK/node/server.mjs"
    (cd "$WORK/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @clerk/backend@3 >/dev/null)
    P_NODE=$(free_port)
    (cd "$WORK/node" && PORT=$P_NODE JWT_KEY_FILE="$WORK/dev-key.pub.pem" exec node server.mjs 2>/dev/null) &
    PIDS+=($!)
else
    echo "!!! node/npm not found: no @clerk/backend column" >&2
fi

# nginx: a backend that answers 200, reached through a front without auth (the baseline) and
# through auth_request to clerk-verify serve (the gateway as deployed).
P_BACK=$(free_port)
P_NGINX=$(free_port)
mkdir "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
master_process off;
worker_processes 1;
error_log $WORK/nginx/error.log warn;
pid $WORK/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
    upstream backend { server 127.0.0.1:$P_BACK; keepalive 32; }
    upstream clerk { server 127.0.0.1:$P_QUIET; keepalive 32; }
    server { listen 127.0.0.1:$P_BACK; location / { return 200; } }
    server {
        listen 127.0.0.1:$P_NGINX;
        proxy_http_version 1.1;
        location = /_clerk/auth {
            internal;
            proxy_pass http://clerk/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Connection "";
            proxy_set_header X-Original-Method \$request_method;
            proxy_set_header X-Original-URI \$request_uri;
        }
        location /plain/ { proxy_set_header Connection ""; proxy_pass http://backend; }
        location /gated/ {
            auth_request /_clerk/auth;
            auth_request_set \$clerk_user_id \$upstream_http_x_clerk_user_id;
            proxy_set_header X-Clerk-User-Id \$clerk_user_id;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
    }
}
CONF
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

for p in "$P_SERVE" "$P_QUIET" "$P_FULL" "$P_BACK" "$P_NGINX" ${P_NODE:+"$P_NODE"}; do wait_port "$p"; done

# Each target must answer 200 to the token (and 401 without it, where it checks).
check() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$1")
    [ "$code" = 200 ] || { echo "$1 answered $code with the token" >&2; exit 1; }
}
check "http://127.0.0.1:$P_SERVE/auth"
check "http://127.0.0.1:$P_FULL/auth"
check "http://127.0.0.1:$P_NGINX/gated/x"
check "http://127.0.0.1:$P_NGINX/plain/x"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_SERVE/auth")" = 401 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_NGINX/gated/x")" = 401 ]
if [ -n "$P_NODE" ]; then
    check "http://127.0.0.1:$P_NODE/auth"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P_NODE/auth")" = 401 ]
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "versions: $("$BIN" --version), $(rustc --version), nginx $("$NGINX" -v 2>&1 | cut -d/ -f2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)${P_NODE:+, node $(node --version), @clerk/backend $(node -p "require('$WORK/node/node_modules/@clerk/backend/package.json').version")}"
echo "load: wrk -t1 -c$CONNECTIONS -d$DURATION --latency, $RUNS runs each, targets interleaved"
printf '\n%-44s %5s %12s %9s %9s  %s\n' target run "requests/s" p50 p99 "load average"

bench() {
    local name=$1 url=$2 out
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$AUTH" "$url")
    if echo "$out" | grep -q 'Non-2xx'; then
        echo "$name: non-2xx answers during the run" >&2
        echo "$out" >&2
        exit 1
    fi
    printf '%-44s %5s %12s %9s %9s  %s\n' "$name" "$3" \
        "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
        "$(echo "$out" | awk '$1 == "50%" {print $2}')" \
        "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
}

for run in $(seq "$RUNS"); do
    bench "clerk-verify serve /auth" "http://127.0.0.1:$P_SERVE/auth" "$run"
    bench "clerk-verify serve /auth, --log-level off" "http://127.0.0.1:$P_QUIET/auth" "$run"
    bench "serve, logs off, token cache off" "http://127.0.0.1:$P_FULL/auth" "$run"
    if [ -n "$P_NODE" ]; then
        bench "@clerk/backend verifyToken (node)" "http://127.0.0.1:$P_NODE/auth" "$run"
    fi
    bench "nginx proxy, no auth (baseline)" "http://127.0.0.1:$P_NGINX/plain/x" "$run"
    bench "nginx auth_request -> serve, then proxy" "http://127.0.0.1:$P_NGINX/gated/x" "$run"
done
