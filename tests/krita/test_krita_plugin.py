"""The Krita plug-in's logic against the real library, without Krita: a stand-in document
with the calls of Krita's Document/Node API that the plug-in uses.

Environment: BELLADONNA_LIBRARY (the built libbelladonna), BD_MAKE_TINY_MODEL (the
generator of a tiny random-weight model), PLUGIN_DIR (plugins/krita).
"""

import os
import subprocess
import sys
import tempfile
import unittest
from array import array

sys.path.insert(0, os.environ["PLUGIN_DIR"])
from belladonna_krita import capi  # noqa: E402
from belladonna_krita.capi import BelladonnaError, Context, load_library  # noqa: E402
from belladonna_krita.document import LAYER_NAME, protect_document  # noqa: E402

WIDTH, HEIGHT = 48, 40
OPTIONS = {"mode": "poison", "target": "cat", "intensity": "default", "quality": "fast",
           "seed": 3}
# The default intensity's per-sample bound, in 1/255 of full scale (see belladonna.h).
EPSILON = 8


def rgba_pattern(bits):
    """A smooth picture with an alpha ramp, R, G, B, A interleaved."""
    top = (1 << bits) - 1
    samples = array("H" if bits == 16 else "B")
    for y in range(HEIGHT):
        for x in range(WIDTH):
            samples.extend([top * x // WIDTH, top * y // HEIGHT, top * ((x + y) % 17) // 16,
                            top - (top // 2) * x // WIDTH])
    return bytearray(samples.tobytes())


def swapped(pixels, bits):
    copy = bytearray(pixels)
    samples = array("H" if bits == 16 else "B")
    samples.frombytes(bytes(copy))
    samples[0::4], samples[2::4] = samples[2::4], samples[0::4]
    return bytearray(samples.tobytes())


class FakeNode:
    def __init__(self, name, kind):
        self.name, self.kind, self.pixels, self.children = name, kind, None, []

    def setPixelData(self, data, x, y, w, h):
        assert (x, y, w, h) == (0, 0, WIDTH, HEIGHT)
        self.pixels = bytes(data)

    def childNodes(self):
        return list(self.children)

    def addChildNode(self, child, above):
        # Krita: `above` is the node the child goes above; None puts it at the bottom.
        index = self.children.index(above) + 1 if above is not None else 0
        self.children.insert(index, child)


class FakeDocument:
    """Krita's Document as the plug-in sees it: B, G, R, A samples of the composite."""

    def __init__(self, rgba, bits, model="RGBA"):
        self.bgra = swapped(rgba, bits)
        self.depth = "U16" if bits == 16 else "U8"
        self.model = model
        self.root = FakeNode("root", "grouplayer")
        self.root.children.append(FakeNode("Background", "paintlayer"))
        self.refreshed = 0

    def colorModel(self):
        return self.model

    def colorDepth(self):
        return self.depth

    def width(self):
        return WIDTH

    def height(self):
        return HEIGHT

    def pixelData(self, x, y, w, h):
        assert (x, y, w, h) == (0, 0, WIDTH, HEIGHT)
        return bytes(self.bgra)

    def createNode(self, name, kind):
        return FakeNode(name, kind)

    def rootNode(self):
        return self.root

    def refreshProjection(self):
        self.refreshed += 1


class KritaPluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        out = subprocess.run([os.environ["BD_MAKE_TINY_MODEL"], cls.tmp.name], check=True,
                             capture_output=True, text=True).stdout
        cls.model = out.strip().splitlines()[-1]
        cls.lib = load_library()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def protect(self, doc, progress=None):
        with Context(self.lib, self.model, "cpu") as context:
            return protect_document(doc, context, OPTIONS, progress)

    def check_protected(self, bits):
        rgba = rgba_pattern(bits)
        doc = FakeDocument(rgba, bits)
        fractions = []
        result = self.protect(doc, lambda f: fractions.append(f) or True)
        self.assertIsNotNone(result)

        # One new layer, on top of the artist's own, which is untouched.
        names = [n.name for n in doc.root.children]
        self.assertEqual(names, ["Background", LAYER_NAME])
        self.assertIsNone(doc.root.children[0].pixels)
        self.assertGreaterEqual(doc.refreshed, 1)
        layer = doc.root.children[-1].pixels

        # The layer is exactly what the C API makes of the same picture in R, G, B, A
        # order: the plug-in swapped Krita's B, G, R, A in and back out.
        direct = bytearray(rgba)
        with Context(self.lib, self.model, "cpu") as context:
            self.assertIsNotNone(context.protect(direct, WIDTH, HEIGHT, 4, bits, OPTIONS))
        self.assertEqual(layer, bytes(swapped(direct, bits)))

        # Changed, within the bound, alpha kept.
        typecode = "H" if bits == 16 else "B"
        before, after = array(typecode), array(typecode)
        before.frombytes(bytes(doc.bgra))
        after.frombytes(layer)
        scale = ((1 << bits) - 1) / 255.0
        diffs = [abs(a - b) for a, b in zip(before, after)]
        self.assertGreater(max(diffs), 0)
        self.assertLessEqual(max(diffs), EPSILON * scale + 1)
        self.assertEqual(before[3::4], after[3::4])

        # Progress went forward to the end; the verdicts are the library's words.
        self.assertTrue(fractions)
        self.assertEqual(fractions, sorted(fractions))
        self.assertAlmostEqual(fractions[-1], 1.0, places=3)
        self.assertIn(result.visibility, ("a person is unlikely to notice", "subtle", "visible",
                                          "not measured"))
        self.assertIn("To a person: " + result.visibility, result.summary())
        self.assertTrue(result.verdict)
        self.assertIn(result.verdict, result.summary())
        self.assertGreater(result.metrics.target_sim_after, result.metrics.target_sim_before)

    def test_protects_an_8_bit_document_as_a_new_top_layer(self):
        self.check_protected(8)

    def test_protects_a_16_bit_document(self):
        self.check_protected(16)

    def test_cancel_leaves_the_document_unchanged(self):
        doc = FakeDocument(rgba_pattern(8), 8)
        before = bytes(doc.bgra)
        self.assertIsNone(self.protect(doc, lambda f: False))
        self.assertEqual([n.name for n in doc.root.children], ["Background"])
        self.assertEqual(bytes(doc.bgra), before)

    def test_an_exception_in_the_progress_callback_cancels_and_is_raised(self):
        doc = FakeDocument(rgba_pattern(8), 8)

        def broken(fraction):
            raise RuntimeError("the progress dialog is gone")
        with self.assertRaisesRegex(RuntimeError, "progress dialog is gone"):
            self.protect(doc, broken)
        self.assertEqual(len(doc.root.children), 1)

    def test_other_colour_models_get_a_clear_message(self):
        doc = FakeDocument(rgba_pattern(8), 8, model="CMYKA")
        with self.assertRaisesRegex(BelladonnaError, "CMYKA U8.*Convert Image Color Space"):
            self.protect(doc)
        doc = FakeDocument(rgba_pattern(8), 8)
        doc.depth = "F32"
        with self.assertRaisesRegex(BelladonnaError, "RGBA F32"):
            self.protect(doc)

    def test_a_bad_model_or_target_is_a_one_line_error(self):
        with self.assertRaisesRegex(BelladonnaError, 'could not load the model "/no/such/model"'):
            Context(self.lib, "/no/such/model")
        doc = FakeDocument(rgba_pattern(8), 8)
        with Context(self.lib, self.model, "cpu") as context:
            with self.assertRaises(BelladonnaError) as caught:
                protect_document(doc, context, dict(OPTIONS, intensity="extreme"))
        self.assertNotIn("\n", str(caught.exception))
        self.assertIn("intensity", str(caught.exception))
        self.assertEqual(len(doc.root.children), 1)

    def test_a_missing_library_is_named(self):
        saved = os.environ["BELLADONNA_LIBRARY"]
        os.environ["BELLADONNA_LIBRARY"] = "/no/such/libbelladonna.so.0"
        try:
            with self.assertRaisesRegex(BelladonnaError, "libbelladonna could not be loaded"):
                load_library()
        finally:
            os.environ["BELLADONNA_LIBRARY"] = saved

    def test_the_structures_match_the_header(self):
        # Sizes on LP64 from include/belladonna.h; a changed header must change these too.
        import ctypes
        self.assertEqual(ctypes.sizeof(capi.Image), 32)
        self.assertEqual(ctypes.sizeof(capi.Metrics), 8 * (13 + 2 * capi.PURIFIERS))
        self.assertEqual(ctypes.sizeof(capi.Params), 104)


if __name__ == "__main__":
    unittest.main()
