#!/usr/bin/env bash
# nonono against Postfix on this machine, side by side in one run:
#   - accept rate with 1, 8 and 32 sessions and 2 KB and 50 KB messages, measured by Postfix's
#     smtp-source for smtp-sink (the protocol ceiling, stores nothing), a stock Postfix
#     instance queueing durably, and nonono (250 after the group commit);
#   - accept latency (p50/p99 from `.` to `250`) with our load client, for all three;
#   - nonono's peak resident memory throughout;
#   - two soaks of SOAK seconds, every message from its own writer (so the pipeline does its
#     whole work: thread, forward, acknowledgement), sampling the backlog: one at full load
#     (flow control sets the pace), one at a steady rate (Postfix's durable rate in this run,
#     or STEADY messages a second).
#
#   bench/smtp.sh                  # the full run, ~20 min; report in $WORK/report.md
#   MSGS=2000 REPS=1 SOAK=60 bench/smtp.sh     # a quick look
#
# Needs root for the Postfix instance (installs the `postfix` package if it is missing) and
# the scripts in ../shared/bench (ANCHORS). Knobs: MSGS [5000] REPS [2] SOAK [300] STEADY WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
ANCHORS=${ANCHORS:-$REPO/../shared/bench}
ANCHORS=$(cd "$ANCHORS" && pwd)
WORK=${WORK:-$(mktemp -d -t nonono-bench.XXXXXX)}
MSGS=${MSGS:-5000}
REPS=${REPS:-2}
SOAK=${SOAK:-300}
SIZES=${SIZES:-"2048 51200"}
SESSIONS=${SESSIONS:-"1 8 32"}
NONONO_ADDR=127.0.0.1:2604
SINK_ADDR=127.0.0.1:2601
POSTFIX_ADDR=127.0.0.1:2603
RCPT=feedback@gw.example
mkdir -p "$WORK"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if ! command -v smtp-source >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
fi

log "building (release)"
cargo build --release --quiet --bin nonono
# Copies of the binaries: the run must not rebuild (or change) under a later edit.
cp target/release/nonono "$WORK/nonono-bin"
load_exe=$(cargo bench --bench smtp_load --no-run 2>&1 | grep -o 'target/release/deps/smtp_load-[0-9a-f]*' | tail -1)
cp "$load_exe" "$WORK/smtp_load"
load() { "$WORK/smtp_load" "$@" | tail -1; }

# nonono on its shipped defaults, except: the benchmark's domain, no abuse limits, 64 sessions
# from one address (the load generator is one host), own ports, and outbound mail to a smarthost
# (an smtp-sink standing in for the Postfix a deployment relays through) instead of files.
sed -e "s|^domain = .*|domain = \"gw.example\"|" \
    -e "s|^data_dir = .*|data_dir = \"$WORK/nonono\"|" \
    -e "s|listen = \"127.0.0.1:2525\"|listen = \"$NONONO_ADDR\"|" \
    -e "s|listen = \"127.0.0.1:8080\"|listen = \"127.0.0.1:2605\"|" \
    -e "s|_per_hour = [0-9]*|_per_hour = 0|; s|_per_day = [0-9]*|_per_day = 0|" \
    -e "s|max_sessions_per_client = [0-9]*|max_sessions_per_client = 64|" \
    -e "s|transport = \"file\"|transport = \"smtp\"|; s|smtp_port = 25|smtp_port = 2606|" \
    config/default.toml >"$WORK/nonono.toml"

smtp-sink -u nobody 127.0.0.1:2606 1024 >/dev/null 2>&1 &
SMARTHOST_PID=$!
NONONO_PID=
start_nonono() {
    RUST_LOG=warn "$WORK/nonono-bin" serve --config "$WORK/nonono.toml" 2>>"$WORK/nonono.log" &
    NONONO_PID=$!
    for _ in $(seq 100); do ss -ltn | grep -q "${NONONO_ADDR##*:} " && break; sleep 0.1; done
    # Peak resident memory, sampled every 200 ms for as long as the process lives.
    (while [ -d /proc/$NONONO_PID ]; do
        awk '/VmRSS/{print $2}' /proc/$NONONO_PID/status 2>/dev/null
        sleep 0.2
    done | sort -n | tail -1 >"$WORK/rss_kb") &
}
stop_nonono() { kill -TERM "$NONONO_PID"; wait "$NONONO_PID" || true; sleep 0.5; }
metric() { curl -s http://127.0.0.1:2605/metrics | awk -v m="$1" '$1==m{print $2}'; }

trap 'kill $NONONO_PID $SMARTHOST_PID 2>/dev/null || true; "$ANCHORS/postfix_instance.sh" stop "$WORK/postfix-lat" >/dev/null 2>&1 || true' EXIT

echo "target,sessions,bytes,sent,secs,rate,p50_ms,p99_ms,max_ms,errors" >"$WORK/latency.csv"
latency() { # NAME ADDR
    local s b line
    for b in $SIZES; do
        for s in $SESSIONS; do
            line=$(load "$2" "$s" "$b" "$((MSGS / 2))" "$RCPT")
            log "latency $1 s$s ${b}B: $line"
            echo "$1,$s,$b,$(echo "$line" | sed -E 's/[a-z0-9_]+=//g; s/ /,/g')" >>"$WORK/latency.csv"
        done
    done
}

start_nonono
configs=$(for s in $SESSIONS; do printf 's%s:reuse ' "$s"; done)
for b in $SIZES; do
    log "rates at $b bytes"
    for target in sink postfix nonono; do
        env WORK="$WORK/anchors" OUT="$WORK/rates-$b" MSGS="$MSGS" REPS="$REPS" LEN="$b" \
            CONFIGS="$configs" RCPT="$RCPT" SUBJECT="[Elisa] bench feedback" IDLE_MAX=40 \
            OURS_PIDS="$SMARTHOST_PID" \
            SINK_ADDR=$SINK_ADDR POSTFIX_ADDR=$POSTFIX_ADDR \
            bash "$ANCHORS/anchors.sh" \
            $([ $target = nonono ] && echo "measure nonono $NONONO_ADDR" || echo $target) ||
            # It ends with the status of the server it stopped (143 for smtp-sink's SIGTERM).
            true
    done
done

log "latency"
smtp-sink -u nobody "$SINK_ADDR" 1024 >/dev/null 2>&1 &
SINK_PID=$!
sleep 0.5
latency smtp-sink "$SINK_ADDR"
kill "$SINK_PID"
"$ANCHORS/postfix_instance.sh" setup "$WORK/postfix-lat" "$POSTFIX_ADDR" discard >/dev/null
"$ANCHORS/postfix_instance.sh" start "$WORK/postfix-lat" >/dev/null
sleep 1
latency postfix-discard "$POSTFIX_ADDR"
"$ANCHORS/postfix_instance.sh" stop "$WORK/postfix-lat" >/dev/null
latency nonono "$NONONO_ADDR"

# A soak: SOAK seconds of 8 sessions sending 2 KB mail, each message from its own writer,
# sampling the pipeline every 10 s; it starts with the pipeline caught up.
soak() { # NAME [--rate N]
    local name=$1 line waited=0
    shift
    until [ "$(metric nonono_pipeline_backlog)" = 0 ] && [ "$(metric nonono_outbox_pending)" = 0 ] ||
        [ $waited -ge 600 ]; do sleep 1; waited=$((waited + 1)); done
    log "soak $name: ${SOAK}s at 8 sessions, 2 KB $*"
    echo "t_s,accepted,pipeline_pending,pipeline_lag_s,outbox_pending,rss_kb" >"$WORK/soak-$name.csv"
    (
        t=0
        while [ $t -le "$SOAK" ]; do
            echo "$t,$(metric nonono_smtp_accepted_total),$(metric nonono_pipeline_backlog),$(metric nonono_pipeline_lag_seconds),$(metric nonono_outbox_pending),$(awk '/VmRSS/{print $2}' /proc/$NONONO_PID/status)" >>"$WORK/soak-$name.csv"
            sleep 10
            t=$((t + 10))
        done
    ) &
    local sampler=$!
    line=$(load "$NONONO_ADDR" 8 2048 "${SOAK}s" "$RCPT" "$@")
    log "soak $name: $line"
    # How long the backlog left at the end takes to work off.
    waited=0
    until [ "$(metric nonono_pipeline_backlog)" = 0 ] || [ $waited -ge 600 ]; do sleep 1; waited=$((waited + 1)); done
    echo "$line drain_s=$waited" >"$WORK/soak-$name.txt"
    wait "$sampler" || true
}

# Full load: as fast as the senders are answered (flow control sets the pace).
soak flood
# Steady traffic at the rate Postfix took durably at 8 sessions and 2 KB in this run
# (STEADY overrides): nonono doing its whole work for mail arriving as fast as Postfix
# only queues it.
STEADY=${STEADY:-$(python3 - "$WORK/rates-2048/results.csv" <<'PY'
import csv, statistics, sys
try:
    rates = [float(r["msgs_per_s"]) for r in csv.DictReader(open(sys.argv[1]))
             if r["target"] == "postfix-discard" and r["sessions"] == "8" and r["rc"] == "0"]
    print(round(statistics.median(rates)) if rates else 1000)
except OSError:
    print(1000)
PY
)}
soak steady --rate "$STEADY"
stop_nonono

python3 "$REPO/bench/report.py" "$WORK" | tee "$WORK/report.md"
log "report: $WORK/report.md"
