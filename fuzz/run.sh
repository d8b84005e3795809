#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, seeded from the fixtures and the shared corpora.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]      (default 60)
#
# A crash leaves its input in fuzz/artifacts/TARGET/ and makes this script fail; replay it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -O --sanitizer none TARGET fuzz/artifacts/TARGET/crash-...`,
# fix it, and keep the input in fuzz/regressions/TARGET/ (the unit tests parse every one).
set -euo pipefail
seconds="${1:-60}"
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo fuzz passes nightly-only flags; this machine has a stable toolchain only.
export RUSTC_BOOTSTRAP=1

corpus=fuzz/corpus
mkdir -p "$corpus/mail" "$corpus/address" "$corpus/text"
# Every real message we have: our fixtures and the third-party corpora beside the repository.
find fixtures ../shared/corpora -name '*.eml' -type f 2>/dev/null | while read -r f; do
    cp "$f" "$corpus/mail/$(sha1sum "$f" | cut -c1-16)"
done
cp fuzz/seeds/address/* "$corpus/address/"
# HTML and reply bodies: the fixtures' bodies as they are, and the hostile shapes' seeds.
find fixtures -name '*.eml' -type f | while read -r f; do
    cp "$f" "$corpus/text/$(sha1sum "$f" | cut -c1-16)"
done
cp fuzz/seeds/text/* "$corpus/text/"

for target in mail address text; do
    echo "fuzzing $target for ${seconds}s"
    # -O: optimised without debug assertions, as the service is built; --sanitizer none: the
    # code is safe Rust, and what we look for is panics, hangs and runaway memory.
    cargo fuzz run -O --sanitizer none "$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 -max_len=262144
done
