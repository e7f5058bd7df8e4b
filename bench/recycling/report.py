#!/usr/bin/env python3
"""Tables and the "where recycling wins" plot of the Krylov-recycling benchmark (issue 5).

    python3 bench/recycling/report.py RAW.jsonl [RAW2.jsonl ...] [--out tables.md] [--plot map.png]

Input: the raw files of bench/recycling/run.sh (lines of `pdekit-bench recycling`, each driver
invocation preceded by a {"impl": "command"} line). One table per invocation (same systems, same
tolerance and preconditioner, configurations interleaved round by round): per configuration the
median total wall time over rounds (min–max in brackets), iterations, unconverged systems, the
largest true relative residual and the largest relative difference to the direct solve. Ratios
are formed inside one invocation only (time of X / time of the best recycling configuration,
> 1 = recycling faster). A configuration with unconverged systems has a time that is only a lower
bound of what converging would cost; its ratios are marked with ">=" (when it is the baseline)
and a recycling configuration with unconverged systems never counts as a win.

The summary table and the plot map every invocation that has both a recycling configuration (c,
c-rcg) and a best-baseline configuration (d-*): y = best d time / best c time. A configuration
that failed (a "failed" line: UMFPACK out of memory under `ulimit -v`, or killed by run.sh's
wall-time cap) is shown as FAILED with the seconds it ran before failing; when every (d)
configuration of an invocation failed, that time is a lower bound of (d)'s cost and the ratio is
printed as ">=" (the plot hatches such bars).
Standard library only, except the plot (matplotlib, from bench/.venv).
"""
import argparse
import json
import statistics
import sys

RECYCLING = ("c", "c1", "c-cgs2", "c-rcg")
BASELINE_A = ("a", "a-cg")
WARM_B = ("b", "b-cg")
BEST_D = ("d-direct", "d-zlu", "d-amg", "d-fixed", "d-bcg")
ORDER = ["a", "a-cg", "b", "b-cg", "c", "c1", "c-cgs2", "c-rcg", "d-direct", "d-zlu", "d-amg", "d-fixed", "d-bcg",
         "e-krypy-gmres",
         "e-krypy-cg"]
LABEL = {
    "a": "(a) GMRES(40), zero guess",
    "a-cg": "(a) CG, zero guess",
    "b": "(b) GMRES(40), warm start, greedy order",
    "b-cg": "(b) CG, warm start, greedy order",
    "c": "(c) GCRO-DR(40,20), warm, greedy",
    "c1": "(c) GCRO-DR(40,20), 1 Ritz update per solve, warm, greedy",
    "c-cgs2": "(c) GCRO-DR(40,20), CGS2 at every step (before DGKS), warm, greedy",
    "c-rcg": "(c) recycled CG(10), warm, greedy",
    "d-direct": "(d) CHOLMOD/UMFPACK, symbolic reuse",
    "d-zlu": "(d) complex UMFPACK (n×n complex), symbolic reuse",
    "d-amg": "(d) SA-AMG-CG, warm, greedy, AMG refreshed",
    "d-fixed": "(d) one factorization, block solve",
    "d-bcg": "(d) block CG(10) + SA-AMG",
    "e-krypy-gmres": "(e) KryPy RecyclingGmres(20), warm, greedy",
    "e-krypy-cg": "(e) KryPy RecyclingCg(10), warm, greedy",
}


def load(paths):
    """Groups the driver lines by invocation: [(command, setup line, {impl: [lines]})]."""
    groups = []
    for path in paths:
        with open(path) as f:
            for raw in f:
                raw = raw.strip()
                if not raw.startswith("{"):
                    continue
                d = json.loads(raw)
                impl = d.get("impl")
                if impl == "command" and d["cmd"].startswith("krypy_peer.py"):
                    continue  # the peer's lines join the driver invocation that exported its systems
                if impl == "command":
                    groups.append({"cmd": d["cmd"], "setup": None, "runs": {}})
                elif impl == "progress":
                    if groups:
                        groups[-1].setdefault("progress", {}).setdefault(d["config"], []).append(d)
                elif impl in ("meta", "meta-end"):
                    continue
                elif impl == "setup":
                    if not groups:
                        groups.append({"cmd": "?", "setup": None, "runs": {}})
                    groups[-1]["setup"] = d
                elif groups:
                    groups[-1]["runs"].setdefault(impl, []).append(d)
    groups = [g for g in groups if g["setup"] is not None and g["runs"]]
    for g in groups:  # an environment prefix (e.g. OPENBLAS_CORETYPE=SkylakeX) goes into the title
        env = g["cmd"].split("pdekit-bench")[0].strip()
        if env:
            g["setup"] = dict(g["setup"], env=env)
    return groups


def summarize(lines):
    ok = [x for x in lines if "total_s" in x]
    if not ok:
        failed = [x for x in lines if "failed" in x]
        if failed:
            return {"failed": failed[0]["failed"], "after": max(x.get("failed_after_s", 0) for x in failed)}
        return {"skipped": lines[0].get("skipped", "no result")}
    t = [x["total_s"] for x in ok]
    return {
        "median": statistics.median(t),
        "min": min(t),
        "max": max(t),
        "rounds": len(t),
        "iterations": statistics.median([x["iterations"] for x in ok]),
        "unconverged": max(x["unconverged"] for x in ok),
        "residual": max(x["max_true_rel_residual"] for x in ok),
        "diff": max(x.get("max_rel_diff_direct", float("nan")) for x in ok),
        "checked": ok[0].get("direct_checked_systems", ok[0]["systems"]),
        "method": ok[0].get("method", ""),
    }


def title(s):
    fam = s["family"]
    size = f"{s['n']}^{s['dim']}".replace("^2", "²").replace("^3", "³")
    extra = f", frequency {s['frequency']:g}" if "frequency" in s else ""
    fixed = ", fixed matrix (only b varies)" if s["fixed_matrix"] else ""
    env = f", {s['env']}" if "env" in s else ""
    return (f"{fam} {s['dim']}D {size} ({s['unknowns']:,} unknowns{extra}{fixed}), {s['systems']} systems, "
            f"rtol {s['rtol']:g}, pc {s['pc']}{env}")


def best(summary, names):
    """(name, summary) of the fastest converged configuration among `names`, or None."""
    cands = [(n, summary[n]) for n in names if n in summary and "median" in summary[n]]
    conv = [c for c in cands if c[1]["unconverged"] == 0]
    pool = conv or cands
    return min(pool, key=lambda c: c[1]["median"]) if pool else None


def fmt_ratio(num, den):
    if num is None or den is None:
        return "—"
    r = num[1]["median"] / den[1]["median"]
    bound = ">=" if num[1]["unconverged"] > 0 and den[1]["unconverged"] == 0 else ""
    return f"{bound}{r:.2f}"


def pair(summary, num, den):
    """time(num) / time(den) from one invocation, '—' when either is missing."""
    if num not in summary or den not in summary or "median" not in summary[num] or "median" not in summary[den]:
        return "—"
    return fmt_ratio((num, summary[num]), (den, summary[den]))


def gm(summary, num):
    """num / GCRO-DR, for both GCRO-DR variants present ("c" every cycle, "c1" once per solve)."""
    parts = [(v, pair(summary, num, v)) for v in ("c", "c1") if v in summary]
    shown = [f"{r}" if v == "c" else f"{r} (c1)" for v, r in parts if r != "—"]
    return " / ".join(shown) or "—"


def report(groups):
    out = []
    rows = []
    for g in groups:
        s = g["setup"]
        summary = {k: summarize(v) for k, v in g["runs"].items()}
        c = best(summary, RECYCLING)
        out.append(f"#### {title(s)}\n")
        out.append(f"`{g['cmd']}` — reference {s['reference']} on {s.get('direct_checked_systems', s['systems'])} "
                   f"systems ({s['reference_direct_s']:.2f} s)\n")
        out.append("| configuration | method | total s (median) | [min–max], rounds | iterations | unconverged "
                   "| max ‖b−Ax‖/‖b‖ | max rel. diff. to direct | time / best (c) |")
        out.append("|---|---|---:|---|---:|---:|---:|---:|---:|")
        for name in sorted(summary, key=lambda k: ORDER.index(k) if k in ORDER else 99):
            x = summary[name]
            if "skipped" in x:
                out.append(f"| {LABEL.get(name, name)} | skipped: {x['skipped']} | | | | | | | |")
                continue
            if "failed" in x:
                done = g.get("progress", {}).get(name, [])
                note = ""
                if done:
                    f = [p["factor_s"] for p in done]
                    note = (f"; {len(done)} of {s['systems']} systems factored before that, factorization "
                            f"median {statistics.median(f):.1f} s, peak {max(p['peak_memory_gb'] for p in done):.2f} GB")
                out.append(f"| {LABEL.get(name, name)} | **FAILED**: {x['failed']}{note} | >= {x['after']:.1f} "
                           f"(ran before failing) | | | | | | |")
                continue
            ratio = fmt_ratio((name, x), c) if c else "—"
            unconv = f"**{x['unconverged']}**" if x["unconverged"] else "0"
            out.append(
                f"| {LABEL.get(name, name)} | {x['method']} | {x['median']:.3f} | [{x['min']:.3f}–{x['max']:.3f}], "
                f"{x['rounds']} | {x['iterations']:.0f} | {unconv} | {x['residual']:.1e} | {x['diff']:.1e} "
                f"| {ratio} |")
        out.append("")
        a, b, d = best(summary, BASELINE_A), best(summary, WARM_B), best(summary, BEST_D)
        failed_d = [(n, summary[n]) for n in BEST_D if n in summary and "failed" in summary[n]]
        rows.append({"setup": s, "a": a, "b": b, "c": c, "d": d, "cmd": g["cmd"], "summary": summary,
                     "failed_d": failed_d})
    # Summary: SKR's pairing (same Krylov method without and with recycling) and the map.
    summ = ["| case | (a)/(c) GMRES(40) / GCRO-DR | (b)/(c) warm GMRES / GCRO-DR | (a)/(c) CG / recycled CG "
            "| (b)/(c) warm CG / recycled CG | (e)/(c) KryPy / PDEKit | best (c) | best (d) | (d)/(c) "
            "| recycling beats best baseline? |",
            "|---|---:|---:|---:|---:|---|---|---|---:|---|"]
    for r in rows:
        s, c, d, sm = r["setup"], r["c"], r["d"], r["summary"]
        if c is None:
            continue
        win = "—"
        d_text, d_ratio = "—", fmt_ratio(d, c)
        if d is not None:
            d_text = d[0] + " " + format(d[1]["median"], ".2f") + " s"
            if c[1]["unconverged"] > 0:
                win = "no (recycling did not converge)"
            else:
                win = "**yes**" if c[1]["median"] < d[1]["median"] else "no"
        elif r["failed_d"]:
            # Every (d) configuration failed: the time it ran before failing bounds its cost below.
            name, x = max(r["failed_d"], key=lambda f: f[1]["after"])
            d_text = f"{name} FAILED after {x['after']:.0f} s ({x['failed']})"
            bound = x["after"] / c[1]["median"]
            d_ratio = f">={bound:.2f}"
            if c[1]["unconverged"]:
                win = "no (recycling did not converge)"
            elif bound >= 1:
                win = "**yes** ((d) failed, ratio a lower bound)"
            else:
                win = "undetermined ((d) failed before (c)'s time)"
        peer = ", ".join(f"{n[8:]}: {pair(sm, n, m)}" for n, m in (("e-krypy-gmres", "c"), ("e-krypy-cg", "c-rcg"))
                         if n in sm and m in sm) or "—"
        unc = f" ({c[1]['unconverged']} unconv.)" if c[1]["unconverged"] else ""
        summ.append(
            f"| {title(s)} | {gm(sm, 'a')} | {gm(sm, 'b')} | {pair(sm, 'a-cg', 'c-rcg')} "
            f"| {pair(sm, 'b-cg', 'c-rcg')} | {peer} | {c[0]} {c[1]['median']:.2f} s{unc} | "
            f"{d_text} | {d_ratio} | {win} |")
    return "\n".join(out), "\n".join(summ), rows


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [r for r in rows if r["c"] is not None and (r["d"] is not None or r["failed_d"])]
    if not pts:
        print("report.py: no invocation has both (c) and (d); no plot", file=sys.stderr)
        return
    labels, ratios, colors, hatches = [], [], [], []
    for r in pts:
        s = r["setup"]
        if r["d"] is not None:
            name, dtime, bound = r["d"][0], r["d"][1]["median"], False
        else:  # every (d) failed: the time before failing is a lower bound
            name, x = max(r["failed_d"], key=lambda f: f[1]["after"])
            name, dtime, bound = name + " FAILED", x["after"], True
        ratio = dtime / r["c"][1]["median"]
        ok = r["c"][1]["unconverged"] == 0
        env = "\n" + s["env"].replace("OPENBLAS_CORETYPE=", "") if "env" in s else ""
        labels.append(f"{s['family']} {s['dim']}D {s['unknowns'] // 1000}k\nrtol {s['rtol']:g}, {s['pc']}"
                      f"\n{r['c'][0]} vs {name}{env}")
        ratios.append(ratio)
        colors.append("tab:green" if ok and ratio > 1 else "tab:red")
        hatches.append("//" if bound else "")
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(pts)), 4.2), dpi=80)
    bars = ax.bar(range(len(pts)), ratios, color=colors)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    ax.axhline(1, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(pts)))
    ax.set_xticklabels(labels, fontsize=6)
    ax.set_ylabel("best baseline (d) time / recycling (c) time\n> 1: recycling faster; hatched: (d) failed, >=")
    ax.set_title("Where Krylov recycling beats the best honest baseline (same run, medians)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    print(f"report.py: wrote {path}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("raw", nargs="+", help="raw JSONL files of bench/recycling/run.sh")
    p.add_argument("--out", help="write the markdown tables here as well as to stdout")
    p.add_argument("--plot", help="write the (d)/(c) bar chart here (PNG)")
    a = p.parse_args()
    groups = load(a.raw)
    if not groups:
        sys.exit(f"report.py: no pdekit-bench recycling results in {', '.join(a.raw)}")
    tables, summary, rows = report(groups)
    text = "### Summary: (c) against (a), (b), (d)\n\n" + summary + "\n\n### Per invocation\n\n" + tables + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if a.plot:
        plot(rows, a.plot)


if __name__ == "__main__":
    main()
