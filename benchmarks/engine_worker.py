"""A timing worker: times whole runs of whichever ``sim`` comes first on ``sys.path``.

``run.py`` starts one worker per engine (this checkout, and a checkout of the previous
engine), each with its checkout on ``PYTHONPATH`` and the same interpreter, and asks them
for runs one at a time, so that the engines are timed seed by seed in one benchmark run,
interleaved with the timings made in ``run.py`` itself. The protocol is one JSON object
per line: the request ``{"workload": name, "seed": s}`` (a name of
``workloads.WORKLOADS``), the answer ``{"wall": s, "cpu": s, "check": value}``. The
timing is taken here, around the run alone (garbage collected beforehand, outside it), so
the pipe costs nothing. The first line out says which ``sim`` was imported.
"""

from __future__ import annotations

import gc
import json
import sys
import time


def main() -> int:
    channel = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not corrupt the protocol
    from workloads import WORKLOADS, Timed

    import sim  # the checkout first on PYTHONPATH

    channel.write(json.dumps({"sim": sim.__file__}) + "\n")
    channel.flush()
    loaded: dict[str, Timed] = {}
    for line in sys.stdin:
        request = json.loads(line)
        name, seed = request["workload"], int(request["seed"])
        if name not in loaded:
            loaded[name] = WORKLOADS[name]()
        fn = loaded[name]
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        check = fn(seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        channel.write(json.dumps({"wall": wall, "cpu": cpu, "check": check}) + "\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
