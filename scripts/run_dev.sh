#!/usr/bin/env bash
# Serve the platform with a Celery worker and Celery Beat; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
mkdir -p var/celery var/log
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN/celery" -A config worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
pids+=($!)
"$BIN/celery" -A config beat --loglevel=INFO >var/log/beat.log 2>&1 &
pids+=($!)
echo "Worker and Beat are running (logs in var/log/). Serving http://127.0.0.1:8000/"
"$BIN/python" manage.py runserver 127.0.0.1:8000
