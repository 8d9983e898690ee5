"""``python -m fakevk``: serve the fake VK API with the demo wall (or a synthetic one) by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from fakevk.api import API_VERSION, FakeVK
from fakevk.wall import FakeGroup, build_synthetic_wall, load_demo_groups


async def _serve(vk: FakeVK, group: FakeGroup, host: str, port: int) -> None:
    url = await vk.start(host, port)
    print(f"fake VK API (v{API_VERSION}) at {url}  rps={vk.rps}")
    print(f"community: {group.name} (id {group.id}, screen_name {group.screen_name})")
    print(
        f'try: curl -s "{url}/wall.get?owner_id=-{group.id}&count=2&access_token=demo'
        f'&v={API_VERSION}"'
    )
    try:
        await asyncio.Event().wait()  # until Ctrl+C
    finally:
        await vk.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m fakevk [--demo | --synthetic POSTS COMMENTS] [--port N]``."""
    parser = argparse.ArgumentParser(prog="python -m fakevk", description=__doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--demo", action="store_true", help="serve the demo wall (default)")
    source.add_argument(
        "--synthetic",
        nargs=2,
        type=int,
        metavar=("POSTS", "COMMENTS"),
        help="serve a synthetic wall (texts from the demo wall)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--rps", type=float, default=3.0, help="requests per second per token")
    parser.add_argument(
        "--fresh", action="store_true", help="shift demo dates so the newest item is now"
    )
    args = parser.parse_args(argv)
    groups = load_demo_groups(now=int(time.time()) if args.fresh else None)
    if args.synthetic:
        texts = [c.text for p in groups[0].posts for c in p.comments if c.text]
        posts, comments = args.synthetic
        groups = [build_synthetic_wall(1, "synthetic", posts, comments, texts=texts)]
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is the normal way to stop it
        asyncio.run(_serve(FakeVK(groups, rps=args.rps), groups[0], args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
