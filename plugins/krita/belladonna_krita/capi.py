"""ctypes binding of libbelladonna's C API (include/belladonna.h), the part this plug-in uses.

Plain Python without Krita, so the plug-in's logic is tested headless against the real
library. The structures mirror the header of ABI version 4; the loaded library's
bd_abi_version() is checked before anything else is called.
"""

import ctypes
import math
import os
import sysconfig
from pathlib import Path

ABI_VERSION = 4
PURIFIERS = 5

BD_OK = 0
BD_CANCELLED = 1


class BelladonnaError(Exception):
    """A failed call of the library, with its one-line message."""


class Image(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("channels", ctypes.c_uint32), ("bits", ctypes.c_uint32),
                ("stride", ctypes.c_size_t), ("data", ctypes.c_void_p)]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_float, ctypes.c_void_p)


class Params(ctypes.Structure):
    _fields_ = [("mode", ctypes.c_char_p), ("target", ctypes.c_char_p),
                ("epsilon", ctypes.c_float), ("intensity", ctypes.c_char_p),
                ("quality", ctypes.c_char_p), ("steps", ctypes.c_int),
                ("seed", ctypes.c_uint64), ("progress", PROGRESS_FN),
                ("user_data", ctypes.c_void_p), ("visibility", ctypes.c_float),
                ("target_images", ctypes.POINTER(ctypes.c_char_p)),
                ("target_image_count", ctypes.c_size_t), ("vae_size", ctypes.c_int)]


class Metrics(ctypes.Structure):
    _fields_ = [(name, ctypes.c_double) for name in (
        "linf", "psnr", "ssim", "target_sim_before", "target_sim_after",
        "source_sim_before", "source_sim_after", "seconds", "butteraugli",
        "butteraugli_3norm", "target_distance_before", "target_distance_after",
        "clean_distance_after")] + [
        ("after_purifiers", ctypes.c_double * PURIFIERS),
        ("kept_after_purifiers", ctypes.c_double * PURIFIERS)]


def _library_candidates(plugin_dir):
    """Where libbelladonna may be: $BELLADONNA_LIBRARY alone when set; else beside the
    installation the plug-in belongs to (PREFIX/share/krita/pykrita/<plug-in>), then the
    dynamic loader's own search."""
    override = os.environ.get("BELLADONNA_LIBRARY")
    if override:
        return [override]
    prefix = Path(plugin_dir).resolve().parents[3]
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = [prefix / "lib" / multiarch, prefix / "lib", prefix / "lib64"]
    return [str(d / "libbelladonna.so.0") for d in dirs if (d / "libbelladonna.so.0").exists()] \
        + ["libbelladonna.so.0"]


def load_library(plugin_dir=Path(__file__).parent):
    # libgomp reads these once, when libtorch loads it; its default of spinning for
    # milliseconds starves the working threads on small machines. The CLI and the other
    # hosts restart themselves with them (bd_restart_with_tuned_runtime); Krita cannot be
    # restarted, so they are set before the library first loads, unless already set.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
    errors = []
    for candidate in _library_candidates(plugin_dir):
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise BelladonnaError("libbelladonna could not be loaded (is the belladonna package "
                              "installed?): " + "; ".join(errors))
    lib.bd_abi_version.restype = ctypes.c_uint32
    if lib.bd_abi_version() != ABI_VERSION:
        raise BelladonnaError("libbelladonna has ABI version %d; this plug-in needs %d"
                              % (lib.bd_abi_version(), ABI_VERSION))
    ctx_p = ctypes.c_void_p
    signatures = {
        "bd_default_params": (Params, []),
        "bd_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctx_p)]),
        "bd_close": (None, [ctx_p]),
        "bd_protect": (ctypes.c_int, [ctx_p, ctypes.POINTER(Params), ctypes.POINTER(Image)]),
        "bd_last_error": (ctypes.c_char_p, [ctx_p]),
        "bd_last_metrics": (ctypes.c_int, [ctx_p, ctypes.POINTER(Metrics)]),
        "bd_last_verdict": (ctypes.c_char_p, [ctx_p]),
        "bd_last_visibility": (ctypes.c_char_p, [ctx_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


class Result:
    """What one protection measured: the C API's metrics and its two verdicts."""

    def __init__(self, metrics, visibility, verdict):
        self.metrics = metrics
        self.visibility = visibility  # e.g. "a person is unlikely to notice"
        self.verdict = verdict        # e.g. "holds after a JPEG chain; weakened by ..."

    def summary(self):
        m = self.metrics
        lines = ["To a person: %s" % self.visibility]
        if math.isfinite(m.butteraugli):
            lines[0] += " (butteraugli %.2f; 1 or less is visually lossless)" % m.butteraugli
        if math.isfinite(m.target_sim_before) and math.isfinite(m.target_sim_after):
            lines.append("Encoder's reading of the target: %.2f -> %.2f"
                         % (m.target_sim_before, m.target_sim_after))
        if self.verdict:
            lines.append("After a scraper's clean-ups: %s" % self.verdict)
        return "\n".join(lines)


class Context:
    """One loaded model (bd_open); close() or a with-block frees it."""

    def __init__(self, lib, model, device="auto"):
        self._lib = lib
        self._ctx = ctypes.c_void_p()
        status = lib.bd_open(model.encode(), device.encode(), ctypes.byref(self._ctx))
        if status != BD_OK:
            raise BelladonnaError('could not load the model "%s": %s'
                                  % (model, _text(lib.bd_last_error(None))))

    def close(self):
        if self._ctx:
            self._lib.bd_close(self._ctx)
            self._ctx = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def protect(self, pixels, width, height, channels, bits, options, progress=None):
        """Protects interleaved samples in `pixels` (a writable buffer, RGB(A) order) in place.

        options: mode, target, intensity, quality, seed (as the GIMP plug-in offers them).
        progress(fraction) -> bool: False cancels. Returns a Result, or None when cancelled;
        on any failure the pixels are left as they were."""
        params = self._lib.bd_default_params()
        mode = options.get("mode", "poison")
        params.mode = mode.encode()
        target = options.get("target") or ""
        params.target = target.encode() if target and mode != "cloak" else None
        params.intensity = options.get("intensity", "default").encode()
        params.quality = options.get("quality", "default").encode()
        params.seed = int(options.get("seed", 0))

        raised = []

        def on_progress(fraction, _user_data):
            try:
                return 0 if progress is None or progress(float(fraction)) else 1
            except BaseException as e:  # never let an exception unwind through C
                raised.append(e)
                return 1

        callback = PROGRESS_FN(on_progress)  # kept alive for the call
        params.progress = callback
        buffer = (ctypes.c_char * len(pixels)).from_buffer(pixels)
        image = Image(width, height, channels, bits, width * channels * bits // 8,
                      ctypes.addressof(buffer))
        status = self._lib.bd_protect(self._ctx, ctypes.byref(params), ctypes.byref(image))
        del buffer
        if raised:
            raise raised[0]
        if status == BD_CANCELLED:
            return None
        if status != BD_OK:
            raise BelladonnaError(_text(self._lib.bd_last_error(self._ctx)))
        metrics = Metrics()
        self._lib.bd_last_metrics(self._ctx, ctypes.byref(metrics))
        return Result(metrics, _text(self._lib.bd_last_visibility(self._ctx)),
                      _text(self._lib.bd_last_verdict(self._ctx)))
