"""The demo's tables for people, built once for the terminal and Markdown (and `explainer streamline`).

Rules: a column with no data is left out; no placeholder number stands for "identical" (it is said in
words); '-0.00' is shown as '0.00'; times are medians of repeats with their spread, and where the
spread is as large as the differences the table says "differences below timing noise" instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.demo.result import STAGE_NAMES, DemoResult, number

NOISE = "differences below timing noise"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)  # said under the table

    def without_empty_columns(self, empty: tuple[str, ...] = ("—", "")) -> Table:
        """The table without the columns whose every cell is empty (the first column always stays)."""
        keep = [0] + [i for i in range(1, len(self.headers)) if any(r[i] not in empty for r in self.rows)]
        return Table(
            self.title, [self.headers[i] for i in keep], [[r[i] for i in keep] for r in self.rows], self.notes
        )


def below_noise(values: list[float], spreads: list[float]) -> bool:
    """True when no two values differ by more than the largest spread (max − min over repeats)."""
    if len(values) < 2:
        return False
    return max(values) - min(values) <= max(spreads, default=0.0)


def seconds(value: float, spread: float) -> str:
    return f"{value:.3f} ± {spread / 2:.3f}" if spread > 0 else f"{value:.3f}"


def metrics_table(demo: DemoResult) -> Table:
    rows = [[m.name, m.before_text, m.after_text, m.note] for m in demo.metrics]
    return Table("Measurements", ["Metric", demo.before_label, demo.after_label, "Note"], rows)


def energy_table(demo: DemoResult) -> Table | None:
    d = demo.detail
    if d is None or d.input_energy is None:
        return None

    def sci(v: float | None) -> str:
        return f"{v:.3e}" if v is not None else "—"

    rows = [["mean power per pixel", sci(d.input_energy), sci(d.output_energy), sci(d.reference_energy)]]
    if d.recovered_share is not None:
        rows.append(["share of the lost energy brought back", "", f"{100 * d.recovered_share:.1f}%", ""])
    headers = [
        "High-frequency energy (above 0.25 × Nyquist)",
        demo.before_label,
        "MSSNet output",
        "Reference",
    ]
    return Table("Fine detail", headers, rows).without_empty_columns()


def early_exit_table(demo: DemoResult) -> Table | None:
    rows = demo.early_exit
    if not rows:
        return None
    timing = demo.stage_timing
    stage_times = [timing.median.get(f"stage_{r.stage}", 0.0) for r in rows] if timing else []
    stage_spreads = [timing.spread.get(f"stage_{r.stage}", 0.0) for r in rows] if timing else []
    noisy = (
        not timing
        or below_noise(stage_times, stage_spreads)
        and all(t <= s for t, s in zip(stage_times, stage_spreads))
        # a time whose spread between runs is larger than itself ("0.030 ± 0.350") is noise too
        or any(r.spread / 2 >= r.seconds for r in rows)
    )
    notes = []
    if timing:
        w, h = timing.crop or (0, 0)
        notes.append(
            f"Times: median of {timing.repeats} runs after a warm-up run, on a {w}×{h} region of the picture "
            "(± half the spread between runs)."
        )
    if noisy:
        notes.append(f"Stage times: {NOISE} on this machine, so no share of the time is given.")
    table = Table(
        "Early exit: stop after k of the six stages",
        ["Stop after", "Stage", "Cumulative time (s)", "Share of the time", "PSNR (dB)"],
        [
            [
                str(r.stage),
                STAGE_NAMES[r.stage - 1],
                "" if noisy else seconds(r.seconds, r.spread),
                "" if noisy else f"{r.time_share:.0%}",
                number(r.psnr, 2),
            ]
            for r in rows
        ],
        notes,
    )
    return table.without_empty_columns()


def streamline_sites_table(result: Any, shown: int = 10) -> Table:
    sites = result.sites
    ranked = list(enumerate(sites[:shown], 1)) + ([(len(sites), sites[-1])] if len(sites) > shown else [])
    return Table(
        f"EASIER: PReLU sites by on/off entropy (lowest first, of {len(sites)})",
        ["Rank", "Site (ResBlock)", "Channels", "Entropy (bits)", "On share", "Always on", "Always off"],
        [
            [
                str(rank),
                s.name,
                str(s.channels),
                f"{s.mean_entropy:.3f}",
                f"{s.on_share:.2f}",
                str(s.always_on),
                str(s.always_off),
            ]
            for rank, s in ranked
        ],
    )


def streamline_sweep_table(result: Any) -> Table:
    """Linearise the k lowest sites: PSNR (with a reference), the change from k = 0, and the time."""
    sweep = result.sweep
    base = sweep[0] if sweep and sweep[0].k == 0 else None
    noisy = below_noise([r.seconds for r in sweep], [r.spread for r in sweep])
    notes = []
    if noisy:
        notes.append(f"Forward times: {NOISE} (median of {result.repeats} runs each).")
    rows = []
    for r in sweep:
        if base is not None and base.psnr is not None and r.psnr is not None:
            change = number(r.psnr - base.psnr, 2)
        else:
            change = "identical" if r.psnr_vs_full is None else f"{r.psnr_vs_full:.1f}"
        rows.append([str(r.k), number(r.psnr, 2), change, "" if noisy else seconds(r.seconds, r.spread)])
    scored = base is not None and base.psnr is not None
    return Table(
        "Linearise the k lowest-entropy sites (no fine-tuning)",
        [
            "Sites linearised",
            "PSNR (dB)",
            "Change vs k = 0 (dB)" if scored else "Output vs the unchanged network's (PSNR dB)",
            "Time (s)",
        ],
        rows,
        notes,
    ).without_empty_columns()


def demo_tables(demo: DemoResult) -> list[Table]:
    """Every table of a demo, in the order they are shown."""
    tables = [metrics_table(demo), energy_table(demo), early_exit_table(demo)]
    if demo.streamline is not None and demo.streamline.sites:
        tables += [streamline_sites_table(demo.streamline), streamline_sweep_table(demo.streamline)]
    return [t for t in tables if t is not None]


def markdown_table(table: Table, escape) -> str:
    """A Markdown table; `escape` neutralises Markdown in cells (only where Markdown needs it)."""
    lines = [
        "| " + " | ".join(escape(h) for h in table.headers) + " |",
        "|" + "---|" * len(table.headers),
    ]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "".join(f"\n\n{escape(n)}" for n in table.notes)
