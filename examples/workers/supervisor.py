#!/usr/bin/env python3
"""A small supervisor (standard library only): N workers and rolling restarts.

    python examples/workers/supervisor.py --workers 3
    kill -HUP <supervisor pid>    # rolling restart, one worker at a time
    kill <supervisor pid>         # stop: every worker drains, then exits

Each worker is worker.py beside this file, or the command after ``--``; it
inherits the environment (SIGNALWIRE_*).  A rolling restart sends one worker
SIGTERM -- its client.run() stops taking calls (it unsubscribes its contexts and
passes back, with calling.pass, any call still offered to it), lets its calls
finish within its shutdown_grace and exits -- then starts its replacement, waits
until that one is connected (its "connected to" log line) and moves on to the
next worker, so that all workers but one take calls at any time.  A worker that
dies on its own is replaced after a second.
"""

import argparse
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# What relaykit logs once a worker's session is ready (worker.py's log format).
READY = "relaykit.client INFO connected to "
output_lock = threading.Lock()


def say(text):
    with output_lock:
        print(f"supervisor: {text}", flush=True)


class Stopping(Exception):
    """SIGTERM or Ctrl+C reached the supervisor."""


class Worker:
    """One worker process; a thread copies its output and reports readiness and exit."""

    def __init__(self, slot, command, events):
        self.slot = slot
        self.ready = False
        self.exited = False
        self.retiring = False  # stopped on purpose (restart or shutdown)
        # Its own session: a Ctrl+C in the terminal reaches the supervisor only.
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.pid = self.process.pid
        threading.Thread(target=self._read, args=(events,), daemon=True).start()

    def _read(self, events):
        for line in self.process.stdout:
            with output_lock:
                sys.stdout.write(f"[worker {self.slot}] {line}")
                sys.stdout.flush()
            if not self.ready and READY in line:
                events.put(("ready", self))
        self.process.wait()
        events.put(("exited", self))

    def stop(self):
        if not self.retiring and not self.exited:
            self.process.send_signal(signal.SIGTERM)
        self.retiring = True


class Supervisor:
    def __init__(self, command, count, ready_timeout, stop_timeout):
        self.command = command
        self.count = count
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        # SimpleQueue.put is safe in a signal handler; threads and handlers feed it.
        self.events = queue.SimpleQueue()
        self.workers = {}
        self.crashed = []
        self.restart_requested = False
        self.stopping = False

    def on_signal(self, signum, frame):
        self.events.put(("signal", signum))

    def start(self, slot):
        worker = self.workers[slot] = Worker(slot, self.command, self.events)
        say(f"started worker {slot} pid={worker.pid}")
        return worker

    def handle(self, kind, item):
        if kind == "signal":
            if item == signal.SIGHUP:
                say("SIGHUP: rolling restart requested")
                self.restart_requested = True
            else:
                say(f"{signal.Signals(item).name}: stopping")
                self.stopping = True
        elif kind == "ready":
            item.ready = True
            say(f"worker {item.slot} pid={item.pid} ready")
        elif kind == "exited":
            item.exited = True
            say(f"worker {item.slot} pid={item.pid} exited with status {item.process.returncode}")
            if not item.retiring and self.workers.get(item.slot) is item:
                self.crashed.append(item.slot)

    def pump(self, done, timeout=None, interruptible=True):
        """Handle events until done() is true (True) or *timeout* seconds pass (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done():
            if interruptible and self.stopping:
                raise Stopping
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                kind, item = self.events.get(timeout=remaining)
            except queue.Empty:
                return False
            self.handle(kind, item)
        return True

    def retire(self, worker):
        """SIGTERM *worker* and wait for it to exit (SIGKILL after stop_timeout)."""
        worker.stop()
        if not self.pump(lambda: worker.exited, self.stop_timeout):
            say(f"worker {worker.slot} pid={worker.pid} did not exit in time: killing it")
            worker.process.kill()
            self.pump(lambda: worker.exited)

    def replace(self, slot):
        """Start a worker for *slot* and wait until it is connected; False if it is not."""
        worker = self.start(slot)
        if self.pump(lambda: worker.ready or worker.exited, self.ready_timeout) and worker.ready:
            return True
        say(f"worker {slot} pid={worker.pid} did not become ready")
        return False

    def rolling_restart(self):
        for slot in sorted(self.workers):
            old = self.workers[slot]
            say(f"restarting worker {slot}: SIGTERM to pid={old.pid}")
            self.retire(old)
            if not self.replace(slot):
                say("rolling restart stopped")
                return
        say("rolling restart done")

    def run(self):
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)
        try:
            for slot in range(self.count):
                self.start(slot)
            workers = self.workers.values()
            if not self.pump(lambda: all(w.ready for w in workers), self.ready_timeout):
                say("the workers did not all become ready")
                self.stopping = True
                raise Stopping
            say(f"{self.count} workers ready")
            while True:
                self.pump(lambda: self.restart_requested or self.crashed)
                while self.crashed:
                    slot = self.crashed.pop(0)
                    self.pump(lambda: False, timeout=1.0)  # a second between restarts
                    self.replace(slot)
                if self.restart_requested:
                    self.restart_requested = False
                    self.rolling_restart()
        except Stopping:
            pass
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + self.stop_timeout
        for worker in self.workers.values():
            left = max(0.0, deadline - time.monotonic())
            if not self.pump(lambda w=worker: w.exited, left, interruptible=False):
                say(f"worker {worker.slot} pid={worker.pid} did not exit in time: killing it")
                worker.process.kill()
                self.pump(lambda w=worker: w.exited, interruptible=False)
        failed = [w for w in self.workers.values() if w.process.returncode != 0]
        say("stopped" if not failed else f"stopped; {len(failed)} worker(s) failed")
        return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3, help="how many workers (3)")
    parser.add_argument(
        "--ready-timeout", type=float, default=60.0, help="seconds a worker has to connect (60)"
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=50.0,
        help="seconds a worker has to drain and exit before SIGKILL (50; > shutdown_grace + 18)",
    )
    parser.add_argument("command", nargs="*", help="the worker command (after --)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    command = args.command or [sys.executable, str(Path(__file__).with_name("worker.py"))]
    supervisor = Supervisor(command, args.workers, args.ready_timeout, args.stop_timeout)
    sys.exit(supervisor.run())


if __name__ == "__main__":
    main()
