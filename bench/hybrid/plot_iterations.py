"""Iterations per sample along a `pdekit-bench hybrid` run (issue 14), one line per configuration.

Reads the JSON lines the driver prints (one per configuration, each with the solver iterations of
every sample in order and, for warm starts, the retraining round of the model that started each
sample) and draws the iterations against the sample index: faint dots per sample, a line for the
running mean over a window, the end of the bootstrap and every retraining as vertical lines. The
AMG-CG family (about 9 iterations) and the IC(0) recycling family (about 100) get their own panels;
CHOLMOD (0 iterations) is left out and named in the title.

    /work/main/bench/.venv/bin/python bench/hybrid/plot_iterations.py \
        bench/hybrid/raw/hybrid-128-1000.jsonl bench/hybrid/iterations_128.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def running_mean(values, window):
    v = np.asarray(values, dtype=float)
    kernel = np.ones(window) / window
    # 'valid' part only: every point is a mean of `window` real samples.
    return np.arange(window - 1, len(v)), np.convolve(v, kernel, mode="valid")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: plot_iterations.py RUN.jsonl OUT.png [WINDOW]")
    source, target = sys.argv[1], sys.argv[2]
    window = int(sys.argv[3]) if len(sys.argv) == 4 else 50
    runs = []
    with open(source) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                record = json.loads(line)
                if "iterations" in record:
                    runs.append(record)
    if not runs:
        sys.exit(f"{source} holds no JSON line with per-sample iterations (pdekit-bench hybrid output)")
    direct = [r["impl"] for r in runs if max(r["iterations"]) == 0]
    families = [("AMG-CG", [r for r in runs if r["impl"].startswith("amg-cg")]),
                ("deflated CG + IC(0), greedy order", [r for r in runs if r["impl"].startswith("recycled-cg")])]
    others = [r for r in runs if r["impl"] not in direct and not r["impl"].startswith(("amg-cg", "recycled-cg"))]
    if others:
        families.append(("other", others))
    families = [(name, rs) for name, rs in families if rs]
    fig, axes = plt.subplots(len(families), 1, figsize=(7.5, 2.6 * len(families)), sharex=True, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (name, rs) in zip(axes[:, 0], families):
        marks = set()
        for k, r in enumerate(rs):
            its = r["iterations"]
            color = colors[k % len(colors)]
            ax.plot(np.arange(len(its)), its, ".", ms=1.5, alpha=0.25, color=color)
            x, m = running_mean(its, window)
            # Dashed for retraining: until the first retraining it coincides with the plain warm start.
            style = "--" if "retrain" in r["impl"] else "-"
            ax.plot(x, m, style, lw=1.4, color=color, label=r["impl"])
            rounds = r.get("warm_start_rounds") or []
            for i in range(1, len(rounds)):
                if rounds[i] != rounds[i - 1]:
                    marks.add((i, "bootstrap end" if rounds[i - 1] < 0 else "retraining"))
        for i, kind in sorted(marks):
            ax.axvline(i, color="0.5", lw=0.8, ls="-." if kind == "retraining" else ":")
        ax.set_ylabel("iterations")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7, loc="upper right", ncol=2)
        ax.grid(alpha=0.3)
    first = runs[0]
    axes[-1, 0].set_xlabel(
        f"sample index (lines: running mean over {window}; dotted: end of the bootstrap; dash-dot: retraining)")
    title = f"{first['bench']}: iterations per sample, rtol {first['rtol']:g}"
    if direct:
        title += f" ({', '.join(direct)}: direct, 0 iterations)"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
