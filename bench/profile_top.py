"""Summarize a ``py-spy record --format raw`` file: the top frames, self and inclusive.

    python -m bench.profile_top bench/results/run-*/profile-raasel-1.txt [--top 25]

Each line of the raw (collapsed) format is ``frame;frame;...;frame COUNT``, outermost first,
a frame being ``function (file:line)``. "self" is the share of samples whose innermost frame
is that function; "inclusive" the share of samples with the function anywhere on the stack
(counted once per sample). ``--by module`` groups by the frame's file instead; ``--under``
keeps only the samples that pass through a function (``SocketApi.send``, say).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def label(frame: str, by: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    if by == "module":
        return file
    return f"{match['func']} ({file})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--by", choices=["function", "module"], default="function")
    parser.add_argument("--under", default="", help="only samples through this function")
    args = parser.parse_args()
    samples = parse(args.raw)
    if args.under:
        samples = [(s, c) for s, c in samples if any(args.under in f for f in s)]
    total = sum(c for _, c in samples) or 1
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for stack, count in samples:
        labels = [label(f, args.by) for f in stack]
        own[labels[-1]] += count
        for name in set(labels):
            anywhere[name] += count
    print(f"{total} samples{' through ' + args.under if args.under else ''}")
    print(f"\nself ({args.by}):")
    for name, count in own.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print(f"\ninclusive ({args.by}):")
    for name, count in anywhere.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
