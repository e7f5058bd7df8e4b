#!/usr/bin/env python3
"""Combine one FNO benchmark run (bench/fno/run.sh) into a JSON summary and a markdown table.

    python3 bench/fno/report.py RUNDIR [--json bench/results/fno.json] [--md bench/results/fno.md]

RUNDIR (written by run.sh) holds:
  meta.json              run settings, machine, commands
  swift-train.jsonl      `pdekit train --log`: {"epoch","train_loss","test_l2","epoch_seconds","lr",...}
  swift-train-run.json   bench/fno/measure.py record of `pdekit train` (wall, peak RSS)
  swift-eval-K.out       stdout of `pdekit eval` (JSON with --json, else its text), K = 1..5
  peer.json              bench/fno/peer_train.py result
  peer-run.json          measure.py record of the peer process
Either side may be missing (its columns then read "n/a"). Stdlib only.

Goals (issue 8): PDEKit median epoch time <= 0.5x neuraloperator's, final test relative L2
<= 1.1x neuraloperator's, peak RSS <= 0.5x; inference ms/sample reported without a goal.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    except (OSError, ValueError):
        pass
    return rows


def parse_eval(path):
    """(relative L2 mean, inference ms/sample) from `pdekit eval` output (JSON or text)."""
    try:
        text = open(path).read()
    except OSError:
        return None, None
    try:
        obj = json.loads(text)
        l2 = obj.get("relative_l2")
        return (l2.get("mean") if isinstance(l2, dict) else l2), obj.get("inference_ms_per_sample")
    except ValueError:
        pass
    m = re.search(r"relative L2:\s*mean\s*([0-9.eE+-]+)", text) or re.search(r"relative L2[^0-9]*([0-9.eE+-]+)", text)
    ms = re.search(r"([0-9.eE+-]+)\s*ms/sample", text)
    return (float(m.group(1)) if m else None), (float(ms.group(1)) if ms else None)


def summarize(rundir):
    meta = load_json(os.path.join(rundir, "meta.json")) or {}
    swift_log = load_jsonl(os.path.join(rundir, "swift-train.jsonl"))
    swift_run = load_json(os.path.join(rundir, "swift-train-run.json"))
    evals = [parse_eval(p) for p in sorted(glob.glob(os.path.join(rundir, "swift-eval-*.out")))]
    peer = load_json(os.path.join(rundir, "peer.json"))
    peer_run = load_json(os.path.join(rundir, "peer-run.json"))

    swift = None
    if swift_log:
        eval_ms = [ms for _, ms in evals if ms is not None]
        eval_l2 = [l2 for l2, _ in evals if l2 is not None]
        swift = {
            "epochs": swift_log,
            "median_epoch_seconds": statistics.median(r["epoch_seconds"] for r in swift_log),
            "final_test_l2": swift_log[-1].get("test_l2"),
            "eval_test_l2": eval_l2[0] if eval_l2 else None,
            "peak_rss_mb": swift_run.get("peak_rss_mb") if swift_run else None,
            "train_wall_seconds": swift_run.get("wall_seconds") if swift_run else None,
            "inference_ms_per_sample": statistics.median(eval_ms) if eval_ms else None,
            "inference_runs": eval_ms,
        }
    peer_s = None
    if peer:
        peer_s = {k: peer.get(k) for k in (
            "epochs", "median_epoch_seconds", "final_test_l2", "peak_rss_mb", "rss_after_import_mb",
            "inference_ms_per_sample", "inference_cold_ms_per_sample", "versions", "config")}
        peer_s["train_wall_seconds"] = peer_run.get("wall_seconds") if peer_run else None

    def ratio(a, b):
        return a / b if a is not None and b not in (None, 0) else None

    goals = []
    if swift and peer_s:
        r_t = ratio(swift["median_epoch_seconds"], peer_s["median_epoch_seconds"])
        r_l2 = ratio(swift["final_test_l2"], peer_s["final_test_l2"])
        r_m = ratio(swift["peak_rss_mb"], peer_s["peak_rss_mb"])
        goals = [
            {"goal": "median epoch time <= 0.5x neuraloperator", "ratio": r_t, "pass": r_t is not None and r_t <= 0.5},
            {"goal": "final test rel. L2 <= 1.1x neuraloperator", "ratio": r_l2, "pass": r_l2 is not None and r_l2 <= 1.1},
            {"goal": "peak RSS <= 0.5x neuraloperator", "ratio": r_m, "pass": r_m is not None and r_m <= 0.5},
        ]
    return {"meta": meta, "pdekit": swift, "neuraloperator": peer_s, "goals": goals}


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def markdown(s):
    sw, pe, meta = s["pdekit"] or {}, s["neuraloperator"] or {}, s["meta"]
    out = ["## FNO training: PDEKit vs neuraloperator", ""]
    if meta:
        out.append(f"Data `{meta.get('data_name', meta.get('data', '?'))}` ({meta.get('samples', '?')} samples, "
                   f"grid {meta.get('resolution', '?')}, first {meta.get('train', '?')} train / next {meta.get('test', '?')} test); "
                   f"FNO {meta.get('modes', '?')} modes per axis, width {meta.get('width', '?')}, {meta.get('layers', '?')} layers; "
                   f"Adam lr {meta.get('lr', '?')}, batch {meta.get('batch_size', '?')}, {meta.get('epochs', '?')} epochs, "
                   f"seed {meta.get('seed', '?')}, {meta.get('threads', '?')} threads each; one run "
                   f"({meta.get('date', '?')}, {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, order: {meta.get('order', '?')}).")
        vers = (pe.get("versions") or {})
        out.append(f"Versions: PDEKit {meta.get('pdekit_version', '?')}; neuraloperator {vers.get('neuraloperator', '?')}, "
                   f"torch {vers.get('torch', '?')}, Python {vers.get('python', '?')}.")
        out.append("")
    out += ["| metric | PDEKit | neuraloperator | PDEKit / neuraloperator |", "|---|---|---|---|"]

    def row(name, a, b, spec):
        r = a / b if a is not None and b not in (None, 0) else None
        out.append(f"| {name} | {fmt(a, spec)} | {fmt(b, spec)} | {fmt(r, '.2f')} |")

    row("median epoch time (s, training steps only)", sw.get("median_epoch_seconds"), pe.get("median_epoch_seconds"), ".2f")
    row("final test relative L2", sw.get("final_test_l2"), pe.get("final_test_l2"), ".5f")
    row("peak RSS (MB)", sw.get("peak_rss_mb"), pe.get("peak_rss_mb"), ".0f")
    row("inference (ms/sample, batch 50)", sw.get("inference_ms_per_sample"), pe.get("inference_ms_per_sample"), ".3f")
    row("whole training process (s, wall)", sw.get("train_wall_seconds"), pe.get("train_wall_seconds"), ".1f")
    out.append("")
    notes = [
        "Epoch time: wall time of one epoch's training steps (batching, forward, backward, Adam step), "
        "test evaluation excluded, median over the epochs.",
        "Test relative L2: mean over the test samples of ‖decode(pred) − y‖/‖y‖ after the last epoch "
        "(PDEKit: the `test_l2` of its last log line" + (
            f"; `pdekit eval` gives {sw['eval_test_l2']:.5f}" if sw.get("eval_test_l2") is not None else "") + ").",
        "Peak RSS: getrusage maxrss of the whole process (PDEKit: `pdekit train`; neuraloperator: the Python "
        "process, which holds "
        + (f"{pe['rss_after_import_mb']:.0f} MB" if pe.get("rss_after_import_mb") else "a few hundred MB")
        + " after importing torch and neuraloperator, before any data).",
        "Whole process: `pdekit train` (data load, all epochs, per-epoch test evaluation, checkpoints) vs the peer's "
        "Python process (imports, data load, the same epochs and evaluations, 6 inference passes).",
        "Inference: PDEKit's figure is `pdekit eval`'s forward time per sample (encode + model + decode), "
        "median of " + str(len(sw.get("inference_runs") or [])) + " `pdekit eval` processes, each timing a second, "
        "warm pass over its first batch (FFT plans made; `inference_all_batches_ms_per_sample` in its JSON includes "
        "the planning); "
        "neuraloperator's is the median of 5 warm passes over the test set in one process"
        + (f" (first pass: {pe['inference_cold_ms_per_sample']:.3f} ms/sample)" if pe.get("inference_cold_ms_per_sample") else "")
        + ".",
    ]
    out += [f"- {n}" for n in notes]
    if s["goals"]:
        out += ["", "Goals:"]
        for g in s["goals"]:
            out.append(f"- {'PASS' if g['pass'] else 'MISS'}: {g['goal']} (ratio {fmt(g['ratio'], '.2f')})")
    ep_sw, ep_pe = sw.get("epochs") or [], pe.get("epochs") or []
    if ep_sw or ep_pe:
        out += ["", "| epoch | PDEKit train loss | neuralop train loss | PDEKit test L2 | neuralop test L2 | PDEKit s | neuralop s |",
                "|---|---|---|---|---|---|---|"]
        for i in range(max(len(ep_sw), len(ep_pe))):
            a = ep_sw[i] if i < len(ep_sw) else {}
            b = ep_pe[i] if i < len(ep_pe) else {}
            out.append(f"| {i + 1} | {fmt(a.get('train_loss'), '.5f')} | {fmt(b.get('train_loss'), '.5f')} | "
                       f"{fmt(a.get('test_l2'), '.5f')} | {fmt(b.get('test_l2'), '.5f')} | "
                       f"{fmt(a.get('epoch_seconds'), '.2f')} | {fmt(b.get('epoch_seconds'), '.2f')} |")
    if meta.get("commands"):
        out += ["", "Commands:", "", "```"] + meta["commands"] + ["```"]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rundir")
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--json", default=os.path.join(here, "..", "results", "fno.json"))
    p.add_argument("--md", default=os.path.join(here, "..", "results", "fno.md"))
    a = p.parse_args()
    s = summarize(a.rundir)
    if not s["pdekit"] and not s["neuraloperator"]:
        sys.exit(f"{a.rundir}: neither swift-train.jsonl nor peer.json found")
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    md = markdown(s)
    with open(a.md, "w") as f:
        f.write(md)
    print(md)
    print(f"wrote {a.json} and {a.md}", file=sys.stderr)


if __name__ == "__main__":
    main()
