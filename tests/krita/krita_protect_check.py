"""Run inside Krita by kritarunner (see run_krita_test.sh): opens a PNG painting, protects it
with the plug-in's code through Krita's own Document API, exports the result, and writes
"ok" and the plug-in's verdict, or the failure, to RESULT.

    kritarunner -s krita_protect_check -f main IN.png OUT.png MODEL TARGET RESULT
"""

import traceback

from krita import InfoObject, Krita
from PyQt5.QtGui import QColor, QImage

from belladonna_krita.capi import Context, load_library
from belladonna_krita.document import LAYER_NAME, protect_document


def check_native_order(doc, source):
    """The plug-in swaps Krita's B, G, R, A samples: check that 8-bit RGBA comes that way."""
    expected = QColor(QImage(source).pixel(0, 0))
    first = bytes(doc.pixelData(0, 0, 1, 1).data())
    got = tuple(first[:3])
    want = (expected.blue(), expected.green(), expected.red())
    if got != want:
        raise AssertionError("Krita's first pixel is %s, expected B, G, R %s" % (got, want))


def protect(source, output, model, target):
    app = Krita.instance()
    doc = app.openDocument(source)
    if doc is None:
        raise AssertionError("Krita could not open " + source)
    doc.setBatchmode(True)
    doc.setColorSpace("RGBA", "U8", doc.colorProfile())
    doc.waitForDone()
    check_native_order(doc, source)

    fractions = []
    options = {"mode": "poison", "target": target, "intensity": "default", "quality": "fast",
               "seed": 6}
    with Context(load_library(), model, "cpu") as context:
        result = protect_document(doc, context, options, lambda f: fractions.append(f) or True)
    if result is None or not fractions:
        raise AssertionError("no protection ran (progress calls: %d)" % len(fractions))
    top = doc.rootNode().childNodes()[-1]
    if top.name() != LAYER_NAME:
        raise AssertionError("the top layer is %r, not the protected one" % top.name())
    doc.waitForDone()
    if not doc.exportImage(output, InfoObject()):
        raise AssertionError("Krita could not export " + output)
    doc.close()
    return result.summary()


def main(args):
    source, output, model, target, result_path = args
    try:
        text = "ok\n" + protect(source, output, model, target)
    except Exception:  # the shell script reads the reason
        text = traceback.format_exc()
    with open(result_path, "w") as f:
        f.write(text + "\n")
