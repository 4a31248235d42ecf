"""Run one command and print its wall time and peak resident memory (KiB) on the last line.

A fresh process for each measurement, so that RUSAGE_CHILDREN holds exactly one child's peak.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.perf_counter() - started
if done.returncode != 0:
    sys.stderr.write(done.stderr)
    sys.exit(done.returncode)
print(f"{seconds:.4f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
