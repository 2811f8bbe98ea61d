# Krita loads this package as the "belladonna_krita" Python plug-in (see
# kritapykrita_belladonna.desktop beside it); it adds Tools > Scripts > Protect with
# Belladonna. Outside Krita (tests, scripts) the package imports without registering.
try:
    from krita import Krita
except ImportError:
    Krita = None

if Krita is not None:
    from .extension import BelladonnaExtension

    Krita.instance().addExtension(BelladonnaExtension(Krita.instance()))
