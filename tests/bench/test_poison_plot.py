#!/usr/bin/python3
"""bench/poison/plot.py: the curves it draws come from the right rows, and it writes a PNG
(or one line naming the file and the cause, and no PNG)."""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

PLOT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "poison", "plot.py")
spec = importlib.util.spec_from_file_location("plot", PLOT)
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)


def probe_row(encoder, white_box, protection, after, rate, corruption):
    return {"encoder": encoder, "white_box": white_box, "protection": protection, "after": after, "rate": rate,
            "corruption": corruption, "hijack": 0.1, "generated_as_target": 0.0, "mean_shift": 0.0,
            "bystanders": 1.0, "butteraugli": 0.0 if protection == "unprotected" else 1.4}


def results():
    rows = [{"protection": "belladonna default", "butteraugli": 1.4, "detection_accuracy": 1.0}]
    for encoder, white_box in (("mnv2-backbone", True), ("squeezenet", False)):
        for rate in (1.0, 0.5, 0.25):
            rows.append(probe_row(encoder, white_box, "unprotected", "as written", rate, 0.1))
            # An unprotected row after JPEG is clean images re-saved: never P = 0's figure.
            rows.append(probe_row(encoder, white_box, "unprotected", "JPEG q75", rate, 0.3))
            rows.append(probe_row(encoder, white_box, "belladonna default", "as written", rate, rate))
            rows.append(probe_row(encoder, white_box, "belladonna default", "JPEG q75", rate, rate / 2))
    rows.append({"learner": "fine-tuned", "protection": "belladonna default", "after": "as written", "rate": 1.0,
                 "corruption": 0.9, "hijack": 0.0, "bystanders": 1.0, "butteraugli": 1.4})
    rows.append({"learner": "fine-tuned", "protection": "unprotected", "after": "as written", "rate": 1.0,
                 "corruption": 0.2, "hijack": 0.1, "bystanders": 1.0, "butteraugli": 0.0})
    return rows


class PoisonPlot(unittest.TestCase):
    def test_learners_white_box_first_then_never_seen_then_fine_tuned(self):
        titles = [t for t, _ in plot.learners(results())]
        self.assertEqual(len(titles), 3)
        self.assertIn("mnv2", titles[0])
        self.assertIn("white box", titles[0])
        self.assertIn("never seen", titles[1])
        self.assertIn("fine-tuned", titles[2])

    def test_curve_starts_at_clean_training_and_follows_the_rates(self):
        rows = plot.learners(results())[0][1]
        self.assertEqual(plot.curve(rows, "belladonna default", "as written", "corruption"),
                         [(0.0, 10.0), (25.0, 25.0), (50.0, 50.0), (100.0, 100.0)])
        # After JPEG, P = 0 is still clean training (10 %), not the re-saved control (30 %).
        self.assertEqual(plot.curve(rows, "belladonna default", "JPEG q75", "corruption"),
                         [(0.0, 10.0), (25.0, 12.5), (50.0, 25.0), (100.0, 50.0)])

    def test_a_figure_the_learner_has_not_gives_no_curve(self):
        rows = plot.learners(results())[2][1]
        self.assertEqual(plot.curve(rows, "belladonna default", "as written", "generated_as_target"), [])

    def test_writes_a_png(self):
        with tempfile.TemporaryDirectory() as d:
            source, out = os.path.join(d, "r.json"), os.path.join(d, "r.png")
            json.dump(results(), open(source, "w"))
            subprocess.run([sys.executable, PLOT, source, out, "--title", "test"], check=True)
            with open(out, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_bad_input_is_one_line_naming_the_file_and_no_png(self):
        with tempfile.TemporaryDirectory() as d:
            source, out = os.path.join(d, "broken.json"), os.path.join(d, "r.png")
            open(source, "w").write("{not json")
            run = subprocess.run([sys.executable, PLOT, source, out], capture_output=True, text=True)
            self.assertNotEqual(run.returncode, 0)
            self.assertEqual(len(run.stderr.strip().splitlines()), 1)
            self.assertIn("broken.json", run.stderr)
            self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
