#!/usr/bin/python3
"""The compact table of a bench_poison --json file: per encoder and protection, as written
and after a JPEG q75 re-save, the figures docs/POISONING.md's goals name.

    bench/poison/summary.py RESULTS.json
"""
import json
import sys


def main():
    rows = json.load(open(sys.argv[1]))
    probe = [r for r in rows if "rate" in r and "learner" not in r]
    tuned = [r for r in rows if r.get("learner") == "fine-tuned"]
    detect = {r["protection"]: r["detection_accuracy"] for r in rows if "detection_accuracy" in r}

    def pick(table, **want):
        return next((r for r in table if all(r.get(k) == v for k, v in want.items())), None)

    print("| encoder | protection (butteraugli) | after | P=100 %: corruption, shift | P=50 %: hijack |"
          " P=25 %: drawn as target, shift | fine-tuned P=100 %: corruption | detected |")
    print("|---|---|---|---|---|---|---|---|")
    for encoder in dict.fromkeys(r["encoder"] for r in probe):
        for protection in dict.fromkeys(r["protection"] for r in probe):
            for after in ("as written", "JPEG q75"):
                a = pick(probe, encoder=encoder, protection=protection, after=after, rate=1.0)
                b = pick(probe, encoder=encoder, protection=protection, after=after, rate=0.5)
                c = pick(probe, encoder=encoder, protection=protection, after=after, rate=0.25)
                if not (a and b and c):
                    continue
                f = pick(tuned, protection=protection, after=after, rate=1.0) if a["white_box"] else None
                name = f"{protection} ({a['butteraugli']:.2f})" if after == "as written" else ""
                kind = "white box" if a["white_box"] else "never seen"
                d = detect.get(protection)
                tuned_cell = "%.0f %%" % (100 * f["corruption"]) if f else ""
                detect_cell = "%.0f %%" % (100 * d) if d is not None and after == "as written" else ""
                print(f"| {encoder} ({kind}) | {name} | {after} | {100 * a['corruption']:.0f} %, {a['mean_shift']:+.2f} |"
                      f" {100 * b['hijack']:.0f} % | {100 * c['generated_as_target']:.0f} %, {c['mean_shift']:+.2f} |"
                      f" {tuned_cell} | {detect_cell} |")


if __name__ == "__main__":
    main()
