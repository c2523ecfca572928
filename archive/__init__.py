"""The electronic archive: content-addressed storage, text extraction (OCR), scan
batches matched by barcode, the full-text index, the nomenclator and retention.

`load()` imports the modules that register background-job handlers and listen to
registry signals; every process that runs archive work calls it once at start.
"""
import importlib

# Modules with @handler job functions or signal receivers.
LISTENING_MODULES = ("archive.text_extraction", "archive.scanning", "archive.indexing",
                     "archive.nomenclator")


def load() -> None:
    for name in LISTENING_MODULES:
        importlib.import_module(name)
