#!/usr/bin/python3
"""Corruption and hijack against the share of poisons P, from a bench_poison --json file:
the picture a reader looks at first (docs/POISONING.md explains the figures).

    bench/poison/plot.py RESULTS.json OUT.png [--title TEXT]

One row of panels per learner: the linear probe on each encoder (white box first, then the
encoders never seen) and, where the run had it, the fine-tuned network. Columns: corruption
(clean source images the learner no longer calls the source), hijack (clean target images
it calls the source) and, for the probes, the share of the Gaussian learner's samples a
clean probe calls the target. One colour per protection, solid as written, dashed after a
JPEG q75 re-save. P = 0 is clean training, the unprotected row, the same at every P.
Needs Debian's python3-matplotlib.
"""
import argparse
import json
import sys

FIGURES = [("corruption", "corruption"), ("hijack", "hijack"), ("generated_as_target", "drawn as target")]
AFTER_STYLE = {"as written": "-", "JPEG q75": "--"}


def short(encoder):
    """An encoder's name as a panel can hold it: what its file was called, less its suffixes."""
    for suffix in ("-backbone", "_quant", "-deep-compression"):
        encoder = encoder.replace(suffix, "")
    return encoder


def learners(rows):
    """(title, rows of that learner) in the order the benchmark reports them."""
    probe = [r for r in rows if "rate" in r and "learner" not in r]
    out = []
    for white_box in (True, False):
        for encoder in dict.fromkeys(r["encoder"] for r in probe if r["white_box"] == white_box):
            kind = "white box" if white_box else "never seen"
            out.append((f"probe on {short(encoder)}\n({kind})", [r for r in probe if r["encoder"] == encoder]))
    tuned = [r for r in rows if r.get("learner") == "fine-tuned"]
    if tuned:
        out.append(("fine-tuned network\n(white box)", tuned))
    return out


def curve(rows, protection, after, key):
    """(P in %, figure in %) sorted by P, with P = 0 taken from clean training."""
    points = {}
    for r in rows:
        if key not in r:
            continue
        if r["protection"] == "unprotected" and r["after"] == "as written":
            points.setdefault(0.0, 100 * r[key])
        if r["protection"] == protection and r["after"] == after:
            points[100 * r["rate"]] = 100 * r[key]
    return sorted(points.items()) if len(points) > 1 else []


def label(rows, protection):
    visibility = next((r["butteraugli"] for r in rows if r.get("protection") == protection and "butteraugli" in r), None)
    return protection if visibility is None or protection == "unprotected" else f"{protection} (butteraugli {visibility:.2f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("out")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot.py: matplotlib is missing (Debian: apt-get install python3-matplotlib)")
    try:
        rows = json.load(open(args.results))
    except (OSError, ValueError) as e:
        sys.exit(f"plot.py: {args.results}: {e}")
    panels = learners(rows)
    if not panels:
        sys.exit(f"plot.py: {args.results}: no learner results (is it a bench_poison --json file?)")

    protections = list(dict.fromkeys(r["protection"] for r in rows if "rate" in r))
    colours = {p: plt.cm.tab10(i) for i, p in enumerate(protections)}
    fig, axes = plt.subplots(len(panels), len(FIGURES), figsize=(4.2 * len(FIGURES), 3.0 * len(panels)),
                             squeeze=False, sharex=True, sharey=True)
    for row, (title, learner_rows) in enumerate(panels):
        for col, (key, name) in enumerate(FIGURES):
            ax = axes[row][col]
            drawn = False
            for protection in protections:
                for after, style in AFTER_STYLE.items():
                    points = curve(learner_rows, protection, after, key)
                    if not points or (protection == "unprotected" and after != "as written"):
                        continue
                    ax.plot([p for p, _ in points], [v for _, v in points], style, marker="o", markersize=3,
                            color=colours[protection], label=label(rows, protection) if after == "as written" else None)
                    drawn = True
            if not drawn:
                ax.set_axis_off()
                continue
            ax.set_xlim(-3, 103)
            ax.set_ylim(-3, 103)
            ax.set_xticks([0, 10, 25, 50, 75, 100])
            ax.tick_params(labelsize=7, labelbottom=True)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"{name} (%)", fontsize=9)
            if col == 0:
                ax.set_ylabel(title, fontsize=8)
    fig.supxlabel("P: share of the source's training images replaced by poisons (%)", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="grey", linestyle="--"))
    labels.append("dashed: the poisons re-saved as JPEG q75 before training")
    # The legend and the title in a band above the panels, sized in inches: each legend row
    # takes about 0.2, the title 0.3.
    band = 0.2 * ((len(labels) + 1) // 2) + (0.3 if args.title else 0) + 0.1
    top = 1 - band / fig.get_figheight()
    fig.tight_layout(rect=(0, 0, 1, top))
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, top), ncol=2, fontsize=8, frameon=False)
    if args.title:
        fig.suptitle(args.title, y=1 - 0.05 / fig.get_figheight(), va="top", fontsize=10)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
