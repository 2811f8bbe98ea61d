"""Protecting a Krita document: its composited image, protected, as a new top layer.

Why the composite and not the active layer: what gets posted is the exported, flattened
picture, and a change computed for one layer does not survive the layers above it. The
artist's own layers stay untouched; deleting the new layer undoes the protection.

Krita hands RGBA documents of 8 and 16 bits per channel over in its native B, G, R, A
order; the library reads R, G, B, A, so the samples are swapped on the way in and out.
Only the document-like calls Krita's API offers are used, so this runs headless in tests.
"""

from array import array

from .capi import BelladonnaError

LAYER_NAME = "Belladonna (protected)"
_BITS = {"U8": 8, "U16": 16}


def _swap_red_blue(pixels, bits):
    """B, G, R, A <-> R, G, B, A, in place (the swap is its own inverse)."""
    if bits == 8:
        pixels[0::4], pixels[2::4] = pixels[2::4], pixels[0::4]
        return
    samples = array("H")
    samples.frombytes(bytes(pixels))
    samples[0::4], samples[2::4] = samples[2::4], samples[0::4]
    pixels[:] = samples.tobytes()


def check_document(doc):
    """Bits per channel of a document the library can protect; BelladonnaError otherwise."""
    model, depth = doc.colorModel(), doc.colorDepth()
    if model != "RGBA" or depth not in _BITS:
        raise BelladonnaError(
            "Belladonna protects RGB/Alpha images of 8 or 16 bits per channel; this one is "
            "%s %s. Convert it with Image > Convert Image Color Space, then try again."
            % (model, depth))
    return _BITS[depth]


def protect_document(doc, context, options, progress=None):
    """Adds the protected composite of `doc` as a new top layer and returns the Result, or
    None when `progress` cancelled (the document is then left as it was)."""
    bits = check_document(doc)
    width, height = doc.width(), doc.height()
    data = doc.pixelData(0, 0, width, height)
    pixels = bytearray(data.data() if hasattr(data, "data") else data)
    if len(pixels) != width * height * 4 * bits // 8:
        raise BelladonnaError("Krita returned %d bytes for a %d x %d image"
                              % (len(pixels), width, height))
    _swap_red_blue(pixels, bits)
    result = context.protect(pixels, width, height, 4, bits, options, progress)
    if result is None:
        return None
    _swap_red_blue(pixels, bits)

    layer = doc.createNode(LAYER_NAME, "paintlayer")
    root = doc.rootNode()
    children = root.childNodes()
    root.addChildNode(layer, children[-1] if children else None)
    layer.setPixelData(bytes(pixels), 0, 0, width, height)
    doc.refreshProjection()
    return result
