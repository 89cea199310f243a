"""Peak memory of the trainee's app with every bundled course loaded, against a hello-world Textual app.

Each app runs in its own fresh process (Pilot, 80x24): the trainee's app signs in and shows the catalog of all courses
(every course parsed, validated and held in memory); the peak resident set size (ru_maxrss) is read at the end.
Usage: python bench/bench_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HELLO = """
import asyncio, json, resource
from textual.app import App
from textual.widgets import Input, Static
class Hello(App):
    def compose(self):
        yield Static("Hello")
        yield Input()
async def main():
    async with Hello().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
asyncio.run(main())
print(json.dumps({"kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

TRAINER = """
import asyncio, json, resource, tempfile, os
from trainer.course.library import load_library
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
async def main(folder):
    library = load_library()
    store = Store.open("sqlite:///" + os.path.join(folder, "m.db"))
    app = TrainerApp(library, store, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"E1", "enter")
        await pilot.pause()
        await pilot.press(*"Mem", "enter", *"Bench", "enter")
        await pilot.pause()
    store.close()
    return len(library.courses)
with tempfile.TemporaryDirectory() as folder:
    n = asyncio.run(main(folder))
print(json.dumps({"kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "courses": n}))
"""


def peak(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    hello = peak(HELLO)
    ours = peak(TRAINER)
    print(f"peak memory (max RSS), 80x24 in Textual's Pilot, with all {ours['courses']} bundled courses loaded")
    print(f"  hello-world Textual app: {hello['kb'] / 1024:6.1f} MB")
    print(f"  trainer at the catalog:  {ours['kb'] / 1024:6.1f} MB")
    print(
        f"  ratio: {ours['kb'] / hello['kb']:.2f}x; the courses and the app cost {(ours['kb'] - hello['kb']) / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()
