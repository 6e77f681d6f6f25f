"""The floor, in its own process: ADK's Runner + InMemorySessionService called in-process (no server,
no persistence), measured with the same workload as the servers.

    python -m bench.floor --plan '{"levels": [1, 10]}' --fake-url http://127.0.0.1:9100 --out floor.json

The model and tool settings come from the environment, like a server's (see bench.run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


async def _main(args: argparse.Namespace) -> dict:
    from bench.drivers import FloorDriver
    from bench.workload import Contender

    plan = json.loads(args.plan)
    contender = Contender(
        FloorDriver(), plan, os.getpid(), args.fake_url, fake_pid=args.fake_pid,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    return await contender.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--plan", required=True, help="JSON plan (see bench.run)")
    parser.add_argument("--fake-url", required=True)
    parser.add_argument("--fake-pid", type=int, default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop  # the servers run on uvloop too (uvicorn's default when it is installed)
    except ImportError:
        uvloop = None
    result = uvloop.run(_main(args)) if uvloop else asyncio.run(_main(args))
    with open(args.out, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
