"""`crafting verify` (and `crafting export`) over N events on PostgreSQL: events per
second, beside the raw read-and-decode rate of the same events in the same run, and
peak memory of export as the event count grows (it must stay flat).

    python -m bench.verify_throughput --events 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Seeding 1,000,000 events takes long: `--keep KEYFILE` keeps the schema and writes the
signing key to KEYFILE; `--schema NAME --keep KEYFILE` then measures that schema again
(raw read, verify, export) without seeding or sealing it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.rebuild_throughput import fresh_schema, measure_raw, vacuum
from bench.seeding import seed_store
from infra import audit, migrations
from infra.bootstrap import bootstrap
from infra.settings import Settings
from infra.signing import public_key_b64, tag_key


def _export_peak_rss_mib(database_url: str, path: str) -> float:
    """Peak RSS of `crafting export` in a fresh process (MiB), that process's own:
    `RUSAGE_CHILDREN` would report the largest child so far (the seeding producer's)."""
    env = {**os.environ, "CRAFTING_DATABASE_URL": database_url}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "export", "-o", path],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"crafting export failed: {errors.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024


@contextlib.contextmanager
def _schema(database_url: str, name: str | None, keep: bool) -> Iterator[str]:
    """A fresh schema (dropped at the end unless kept), or the one named (left as it is)."""
    if name is None:
        with fresh_schema(database_url, keep=keep) as url:
            yield url
    else:
        yield f"{database_url.split('?')[0]}?schema={name}"


def main() -> None:
    """Seed, then time raw decode, checkpoint sealing, verify and export."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--keep",
        metavar="KEYFILE",
        help="keep the schema; the signing key is written to (with --schema: read from) KEYFILE",
    )
    parser.add_argument("--schema", help="a schema kept by --keep: measured again, not seeded")
    args = parser.parse_args()
    if args.schema is not None and args.keep is None:
        parser.error("--schema needs --keep KEYFILE (the key its checkpoint was signed with)")
    seal_seconds: float | None = None
    with _schema(args.database_url, args.schema, args.keep is not None) as url:
        container = bootstrap(Settings(database_url=url))
        if args.schema is None:
            key = Ed25519PrivateKey.generate()
            if args.keep is not None:
                with open(args.keep, "w") as out:
                    out.write(key.private_bytes_raw().hex())
        else:
            with open(args.keep) as kept:
                key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(kept.read().strip()))
        events_key = tag_key(key, "events")
        if args.schema is None:
            migrations.upgrade(container.engines.writer)
            started = time.perf_counter()
            # Tagged as the service tags what it writes: untagged events stop a checkpoint
            # at the first one, and verify would then check no root and no signature.
            seeded = seed_store(container, args.events, tag=events_key)
            print(f"seeded {seeded} events in {time.perf_counter() - started:.0f} s")
            vacuum(container)
        raw, _ = measure_raw(container, 5000)
        if args.schema is None:
            began = time.perf_counter()
            checkpoint = audit.sign_checkpoint(container.store, key)
            seal_seconds = time.perf_counter() - began
            assert checkpoint is not None, "no checkpoint: the seeded events were not tagged"
            assert checkpoint.position == seeded, checkpoint
        load_before = os.getloadavg()
        began, cpu_began = time.perf_counter(), time.process_time()
        # As `crafting verify` runs with the signing key: every event's tag checked too.
        result = audit.verify_store(container.store, public_key_b64(key), events_key=events_key)
        verify_seconds = time.perf_counter() - began
        verify_cpu = time.process_time() - cpu_began
        load_after = os.getloadavg()
        assert result.first_break is None, result.first_break
        assert result.checkpoints, "verify checked no checkpoint"
        with tempfile.TemporaryDirectory() as directory:
            path = f"{directory}/export.jsonl"
            began = time.perf_counter()
            rss = _export_peak_rss_mib(url, path)
            export_seconds = time.perf_counter() - began
            size_mib = os.path.getsize(path) / 2**20
        container.close()
    raw_rate = raw.events / raw.seconds
    verify_rate = result.events / verify_seconds
    print(f"\nIntegrity over {result.events} events ({len(result.heads)} streams):")
    print(f"  raw read + decode            {raw_rate:10,.0f} events/s")
    print(
        f"  crafting verify              {verify_rate:10,.0f} events/s "
        f"({verify_rate / raw_rate:.2f}x raw)"
    )
    # CPU seconds of this process: the ratio a loaded machine leaves alone.
    raw_cpu_rate, verify_cpu_rate = raw.events / raw.cpu, result.events / verify_cpu
    print(
        f"  per CPU second: raw {raw_cpu_rate:,.0f}, verify {verify_cpu_rate:,.0f} "
        f"({verify_cpu_rate / raw_cpu_rate:.2f}x raw)"
    )
    # The machine is shared: a wall ratio means little without the load it ran under.
    print(
        "  load average (1, 5, 15 min) before verify "
        + "/".join(f"{x:.1f}" for x in load_before)
        + ", after "
        + "/".join(f"{x:.1f}" for x in load_after)
    )
    if seal_seconds is not None:
        print(f"  first checkpoint (seal)      {result.events / seal_seconds:10,.0f} events/s")
    print(
        f"  crafting export              {result.events / export_seconds:10,.0f} events/s, "
        f"{size_mib:.0f} MiB written, peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
