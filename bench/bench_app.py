"""The terminal app's speed as a trainee feels it.

1. Start to the first interactive screen (sign-in, badge field focused) in Textual's Pilot, against a hello-world Textual
   app started the same way in the same process: goal <= 1.5x.
2. Keypress to repaint in the player: from the key being posted to the first frame Textual hands to the terminal driver
   (App._display with a compositor update) after it, p50 and p95, for toggling the map (pure redraw) and for choosing an
   action (engine + durable commit in a worker thread + redraw): goal p95 < 16 ms for the redraw; the action also pays
   the database commit (see bench_durability).
Usage: python bench/bench_app.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from trainer.course.library import load_library
from trainer.store.store import Store
from trainer.tui.app import TrainerApp


class Hello(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("Hello")
        yield Input()

    def on_mount(self) -> None:
        self.query_one(Input).focus()


async def start_time(make) -> float:
    started = time.perf_counter()
    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        while not isinstance(app.focused, Input):
            await pilot.pause(0.001)
        elapsed = time.perf_counter() - started
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def keypress_times(db: Path, library) -> tuple[list[float], list[float]]:
    store = Store.open(f"sqlite:///{db}")
    app = TrainerApp(library, store, lang="en", seed=lambda: 1)
    redraw: list[float] = []
    action: list[float] = []
    painted: list[float] = []
    display = app._display

    def timed_display(screen, renderable) -> None:
        if renderable is not None:
            painted.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display  # type: ignore[method-assign]

    async def key_to_paint(key: str, *, wait_busy: bool = False) -> float:
        await pilot.pause()
        painted.clear()
        started = time.perf_counter()
        await pilot.press(key)
        while wait_busy and app.screen.busy:
            await pilot.pause(0.0005)
        if wait_busy:
            painted.clear()  # the "saving" status frame does not count: the answer's frame does
        for _ in range(2000):
            if painted:
                break
            await asyncio.sleep(0.0005)
        return painted[0] - started

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"B1", "enter")
        await pilot.pause()
        await pilot.press(*"Bench", "enter", *"Bench", "enter")
        await pilot.pause()
        await pilot.press(*"press-loto", "enter")
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(200):
            await pilot.pause(0.01)
            if getattr(app.screen, "durable", None) is not None:
                break
        for _ in range(40):
            redraw.append(await key_to_paint("m"))
        expert = ["review_energy", "notify_affected", "normal_stop", "isolate_electrical", "isolate_hydraulic",
                  "isolate_air", "lock_electrical", "lock_hydraulic", "lock_air", "bleed_energy"]  # fmt: skip
        for step in expert:
            options = app.screen.query_one("#actions")
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            action.append(await key_to_paint(str(ids.index(step) + 1)))
    store.close()
    return redraw, action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    library = load_library()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'start.db'}")

        async def both() -> tuple[list[float], list[float]]:
            hello, ours = [], []
            for _ in range(args.runs):  # interleaved, so both see the same machine load
                hello.append(await start_time(Hello))
                ours.append(await start_time(lambda: TrainerApp(library, store, lang="en")))
            return hello, ours

        hello, ours = asyncio.run(both())
        store.close()
        redraw, action = asyncio.run(keypress_times(Path(tmp) / "keys.db", library))
    h, o = statistics.median(hello), statistics.median(ours)
    print(f"app start to the first interactive screen (Pilot, 80x24), median of {args.runs}")
    print(f"  hello-world Textual app: {h * 1000:7.1f} ms")
    print(f"  trainer sign-in screen:  {o * 1000:7.1f} ms")
    print(f"  ratio: {o / h:.2f}x (goal <= 1.5x)")
    print("keypress to first painted frame in the player")
    print(
        f"  redraw (m, map toggle): p50 {percentile(redraw, 50) * 1000:5.1f} ms  p95 {percentile(redraw, 95) * 1000:5.1f} ms (goal p95 < 16 ms)"
    )
    print(
        f"  action (commit+redraw): p50 {percentile(action, 50) * 1000:5.1f} ms  p95 {percentile(action, 95) * 1000:5.1f} ms"
    )


if __name__ == "__main__":
    main()
